//! The JSON form of a model file (docs/model-format.md, docs/model-format-v2.md): what the
//! exporter and `classify train` write. Its binary twin is `binary.rs`; both end in
//! `Model::from_file`, which validates every part.

use super::format::{ModelFile, FORMAT_NAME, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
use super::Model;
use crate::error::ModelError;

/// Parses and validates a JSON-form model; its checksum is the file's bytes'.
pub(crate) fn read(bytes: &[u8]) -> Result<Model, ModelError> {
    let file: ModelFile = match serde_json::from_slice(bytes) {
        Ok(file) => file,
        // Explain a file that is not a model, or of another version, before serde's field error.
        Err(error) => return Err(parse_error(bytes, error)),
    };
    check_format(&file.format, file.format_version)?;
    let mut model = Model::from_file(file)?;
    model.checksum = xxhash_rust::xxh3::xxh3_64(bytes);
    Ok(model)
}

/// Refuses files of another kind or version.
fn check_format(format: &str, version: u64) -> Result<(), ModelError> {
    if format != FORMAT_NAME {
        return Err(ModelError::NotAModel {
            reason: format!("field `format` is {format:?}, expected {FORMAT_NAME:?}"),
        });
    }
    if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(ModelError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    Ok(())
}

/// Turns a failed parse into the most useful message: not JSON at all, not a model, another
/// version, or a field error with its position.
fn parse_error(bytes: &[u8], error: serde_json::Error) -> ModelError {
    #[derive(serde::Deserialize)]
    struct Header {
        format: Option<String>,
        format_version: Option<u64>,
    }
    match serde_json::from_slice::<Header>(bytes) {
        Ok(Header { format: None, .. }) => ModelError::NotAModel {
            reason: format!("field `format` is missing (expected {FORMAT_NAME:?})"),
        },
        Ok(Header { format: Some(format), format_version }) => {
            match check_format(&format, format_version.unwrap_or(0)) {
                Err(mismatch) if format_version.is_some() || format != FORMAT_NAME => mismatch,
                _ => {
                    ModelError::Syntax(format!("{error} (see docs/model-format.md for the fields)"))
                }
            }
        }
        Err(_) if error.is_syntax() || error.is_eof() => {
            ModelError::Syntax(format!("JSON {error}"))
        }
        Err(_) => ModelError::NotAModel { reason: format!("{error}") },
    }
}
