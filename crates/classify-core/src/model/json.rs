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
    if let Some(kind) = python_file_kind(bytes) {
        return ModelError::NotAModel {
            reason: format!(
                "this is {kind}, which the server never loads (it could run code); export the \
                 fitted estimator to a model file with `classify-export` (pip install ./python \
                 into the Python that fitted it) or scripts/export_sklearn.py"
            ),
        };
    }
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

/// What a file that people save sklearn estimators in is, told by its first bytes: a pickle
/// (protocol 2 and later start with PROTO 0x80 and the protocol number), joblib's compressed
/// pickles, or a skops archive (a zip file).
fn python_file_kind(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x80, 2..=5, ..] => Some("a Python pickle (pickle or joblib.dump)"),
        [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..] => Some("a zlib-compressed joblib pickle"),
        [0x1f, 0x8b, ..] => Some("a gzip-compressed joblib pickle"),
        [0x42, 0x5a, 0x68, ..] => Some("a bz2-compressed joblib pickle"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some("an xz-compressed joblib pickle"),
        [b'P', b'K', 0x03, 0x04, ..] => Some("a zip archive (a .skops file?)"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(bytes: &[u8]) -> String {
        match read(bytes) {
            Ok(_) => panic!("accepted {bytes:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn pickles_and_skops_files_are_named_and_the_exporter_suggested() {
        let pickle = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x08sklearn";
        let message = refusal(pickle);
        assert!(message.contains("this is a Python pickle"), "{message}");
        assert!(message.contains("classify-export"), "{message}");
        assert!(refusal(b"x\x9c\x01\x02").contains("zlib-compressed joblib"));
        assert!(refusal(b"PK\x03\x04rest").contains(".skops"));
    }

    #[test]
    fn other_garbage_is_still_a_json_error() {
        assert!(refusal(b"\x00\x9f\x13garbage").starts_with("corrupt model: JSON"));
    }
}
