//! Errors raised while reading or validating a model file. Each message names the field at fault and,
//! where it helps, the value found and the value expected, so an operator can fix the file.

use std::path::PathBuf;

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The cause is part of the message (not a `source`), so every consumer prints it once; the
    /// caller names the path, as it does for every other error.
    #[error("cannot read the file: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("not a mod_classify model: {reason}")]
    NotAModel { reason: String },
    #[error(
        "model format version {found} is not supported (this build reads versions 1 to {supported}); \
         re-export the model with a matching scripts/export_sklearn.py"
    )]
    UnsupportedVersion { found: u64, supported: u64 },
    #[error("corrupt model: {0}")]
    Syntax(String),
    #[error("invalid model field `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

impl ModelError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ModelError::Invalid { field: field.into(), reason: reason.into() }
    }

    /// The same error for a part read under another name: a field starting with `from` is
    /// renamed to start with `to` (a member's `classifier.coef` is `classifier.estimators[1].coef`).
    pub(crate) fn renamed(self, from: &str, to: &str) -> Self {
        match self {
            ModelError::Invalid { field, reason } => match field.strip_prefix(from) {
                Some(rest) => ModelError::Invalid { field: format!("{to}{rest}"), reason },
                None => ModelError::Invalid { field, reason },
            },
            other => other,
        }
    }
}
