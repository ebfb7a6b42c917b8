//! The binary form of model format v1: the same content as the JSON form, laid out so that loading
//! is a bounds check, a checksum and a few bulk copies, with no per-feature parsing. `classify
//! convert` writes it; `Model::load` reads either form. Layout (all integers little-endian):
//!
//! ```text
//! header   0  magic "MCLSMODL"
//!          8  u32 format version (1)
//!         12  u32 number of sections
//!         16  u64 XXH3-64 of every byte after the header
//!         24  u64 total file length
//! table   32  per section: [u8; 4] tag, u32 reserved (0), u64 offset, u64 length
//! sections, each at an 8-byte aligned offset:
//!   META  JSON: the JSON form without vocabulary, tfidf.idf, classifier.coef,
//!         classifier.support_vectors' arrays and classifier.dual_coef
//!   VTXT  vocabulary terms' UTF-8 bytes, concatenated in feature-index order  (count only)
//!   VEND  u32 per term: byte offset in VTXT where the term ends                (count only)
//!   IDF_  f64 per feature                                                     (when use_idf)
//!   COEF  f64 weights, feature-major: weight of feature f in row r at f * rows + r  (linear)
//!   SVPT  u64 per support vector + 1: CSR indptr of support_vectors           (svc)
//!   SVIX  u32 per stored value: CSR feature indices                           (svc)
//!   SVVL  f64 per stored value: CSR values                                    (svc)
//!   DUAL  f64 dual_coef, row-major: (classes - 1) rows of one per support vector (svc)
//! ```
//!
//! The small per-pair arrays of a kernel SVM (intercept, prob_a, prob_b) and n_support stay in
//! META: JSON floats round-trip bit-exactly (serde_json's `float_roundtrip`).

use crate::error::ModelError;
use crate::featurize::vocabulary::Vocabulary;
use crate::featurize::{Featurizer, FittedArrays};
use crate::model::format::{ClassifierSpec, CsrSpec, ModelFile, FORMAT_VERSION};
use crate::model::kernel::SupportVectors;
use crate::model::linear::{LinearClassifier, Shape};
use crate::model::{kernel_classifier, Classifier, Model};

/// The first bytes of every binary model file.
pub const MAGIC: &[u8; 8] = b"MCLSMODL";
const HEADER_LEN: usize = 32;
const ENTRY_LEN: usize = 24;
const MAX_SECTIONS: usize = 64;

/// Whether `bytes` start like a binary model file.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Serializes a model into the binary form.
pub fn write(model: &Model) -> Vec<u8> {
    let mut sections: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    let meta = serde_json::to_vec(model.settings()).unwrap_or_default();
    sections.push((*b"META", meta));
    if let Some(vocabulary) = model.featurizer().vocabulary() {
        let (text, ends) = vocabulary.parts();
        sections.push((*b"VTXT", text.as_bytes().to_vec()));
        sections.push((*b"VEND", ends.iter().flat_map(|e| e.to_le_bytes()).collect()));
    }
    if let Some(idf) = model.featurizer().idf() {
        sections.push((*b"IDF_", f64_bytes(idf)));
    }
    match model.classifier() {
        Classifier::Linear(linear) => sections.push((*b"COEF", f64_bytes(linear.weights()))),
        Classifier::Kernel(kernel) => {
            let parts = kernel.parts();
            let sv = &parts.support_vectors;
            sections.push((*b"SVPT", sv.indptr.iter().flat_map(|v| v.to_le_bytes()).collect()));
            sections.push((*b"SVIX", sv.indices.iter().flat_map(|v| v.to_le_bytes()).collect()));
            sections.push((*b"SVVL", f64_bytes(&sv.data)));
            sections.push((*b"DUAL", f64_bytes(&parts.dual_coef)));
        }
    }

    let mut offset = align8(HEADER_LEN + ENTRY_LEN * sections.len());
    let mut table = Vec::new();
    for (tag, content) in &sections {
        table.extend_from_slice(tag);
        table.extend_from_slice(&0u32.to_le_bytes());
        table.extend_from_slice(&(offset as u64).to_le_bytes());
        table.extend_from_slice(&(content.len() as u64).to_le_bytes());
        offset = align8(offset + content.len());
    }
    let mut body = table;
    for (_, content) in &sections {
        body.resize(align8(HEADER_LEN + body.len()) - HEADER_LEN, 0);
        body.extend_from_slice(content);
    }
    let total = HEADER_LEN + body.len();
    let mut file = Vec::with_capacity(total);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&(FORMAT_VERSION as u32).to_le_bytes());
    file.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    file.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
    file.extend_from_slice(&(total as u64).to_le_bytes());
    file.extend_from_slice(&body);
    file
}

/// Reads and validates a binary model file.
pub fn read(bytes: &[u8]) -> Result<Model, ModelError> {
    if bytes.len() < HEADER_LEN || !is_binary(bytes) {
        return Err(ModelError::NotAModel { reason: "binary header missing or truncated".into() });
    }
    let version = u64::from(u32_at(bytes, 8));
    if version != FORMAT_VERSION {
        return Err(ModelError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    let section_count = u32_at(bytes, 12) as usize;
    let checksum = u64_at(bytes, 16);
    let declared_length = u64_at(bytes, 24);
    if declared_length != bytes.len() as u64 {
        return Err(ModelError::Syntax(format!(
            "binary model is {} bytes but its header says {declared_length}: truncated or \
             appended to; re-run `classify convert`",
            bytes.len()
        )));
    }
    if xxhash_rust::xxh3::xxh3_64(&bytes[HEADER_LEN..]) != checksum {
        return Err(ModelError::Syntax(
            "binary model checksum mismatch: the file is corrupted; re-run `classify convert`"
                .into(),
        ));
    }
    if section_count > MAX_SECTIONS || HEADER_LEN + section_count * ENTRY_LEN > bytes.len() {
        return Err(ModelError::Syntax(format!("section table of {section_count} entries")));
    }
    let sections = Sections { bytes, count: section_count };

    let mut settings: ModelFile = serde_json::from_slice(sections.required(b"META")?)
        .map_err(|e| ModelError::Syntax(format!("META section: {e}")))?;
    let vocabulary = match (sections.find(b"VTXT")?, sections.find(b"VEND")?) {
        (Some(text), Some(ends)) => {
            let text = String::from_utf8(text.to_vec()).map_err(|e| {
                ModelError::invalid(
                    "VTXT",
                    format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()),
                )
            })?;
            let ends = fixed_width(ends, "VEND")?.map(u32::from_le_bytes).collect();
            Some(Vocabulary::from_parts(text, ends)?)
        }
        (None, None) => None,
        _ => return Err(ModelError::invalid("VTXT/VEND", "one of the pair is missing")),
    };
    let idf = sections.find(b"IDF_")?.map(|idf| f64s(idf, "IDF_")).transpose()?;

    // The META copy is authoritative for settings only: drop any arrays a writer left in it.
    settings.vectorizer.vocabulary = None;
    if let Some(tfidf) = settings.tfidf.as_mut() {
        tfidf.idf = None;
    }
    let featurizer = Featurizer::new(
        &settings.vectorizer,
        settings.tfidf.as_ref(),
        FittedArrays { vocabulary, idf },
    )?;
    let classifier = match &mut settings.classifier {
        ClassifierSpec::Linear { classes, coef, intercept, probability, .. } => {
            coef.clear();
            let weights = f64s(sections.required(b"COEF")?, "COEF")?;
            let n_classes = classes.len();
            let n_rows = intercept.len();
            let shape = Shape { n_rows, n_features: featurizer.n_features(), n_classes };
            Classifier::Linear(LinearClassifier::from_feature_major(
                weights,
                intercept.clone(),
                shape,
                *probability,
            )?)
        }
        ClassifierSpec::Svc { support_vectors, dual_coef, .. } => {
            *support_vectors = CsrSpec::default();
            dual_coef.clear();
            let indptr =
                fixed_width(sections.required(b"SVPT")?, "SVPT")?.map(u64::from_le_bytes).collect();
            let indices =
                fixed_width(sections.required(b"SVIX")?, "SVIX")?.map(u32::from_le_bytes).collect();
            let data = f64s(sections.required(b"SVVL")?, "SVVL")?;
            let dual = f64s(sections.required(b"DUAL")?, "DUAL")?;
            Classifier::Kernel(kernel_classifier(
                &settings.classifier,
                SupportVectors { indptr, indices, data },
                dual,
                featurizer.n_features(),
            )?)
        }
    };
    let mut model = Model::assemble(settings, featurizer, classifier)?;
    model.checksum = checksum;
    Ok(model)
}

struct Sections<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> Sections<'a> {
    fn find(&self, tag: &[u8; 4]) -> Result<Option<&'a [u8]>, ModelError> {
        for index in 0..self.count {
            let entry = HEADER_LEN + index * ENTRY_LEN;
            if &self.bytes[entry..entry + 4] != tag {
                continue;
            }
            let offset = u64_at(self.bytes, entry + 8);
            let length = u64_at(self.bytes, entry + 16);
            let name = String::from_utf8_lossy(tag);
            let end = offset.checked_add(length).filter(|&end| end <= self.bytes.len() as u64);
            let Some(end) = end else {
                return Err(ModelError::Syntax(format!(
                    "section {name} ({length} bytes at {offset}) lies outside the file"
                )));
            };
            return Ok(Some(&self.bytes[offset as usize..end as usize]));
        }
        Ok(None)
    }

    fn required(&self, tag: &[u8; 4]) -> Result<&'a [u8], ModelError> {
        self.find(tag)?.ok_or_else(|| {
            ModelError::Syntax(format!("section {} is missing", String::from_utf8_lossy(tag)))
        })
    }
}

fn fixed_width<'a, const N: usize>(
    bytes: &'a [u8],
    section: &str,
) -> Result<impl Iterator<Item = [u8; N]> + 'a, ModelError> {
    if !bytes.len().is_multiple_of(N) {
        return Err(ModelError::invalid(
            section,
            format!("{} bytes is not a whole number of {N}-byte values", bytes.len()),
        ));
    }
    Ok(bytes.chunks_exact(N).map(|chunk| {
        let mut value = [0u8; N];
        value.copy_from_slice(chunk);
        value
    }))
}

fn f64s(bytes: &[u8], section: &str) -> Result<Vec<f64>, ModelError> {
    Ok(fixed_width(bytes, section)?.map(f64::from_le_bytes).collect())
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn align8(offset: usize) -> usize {
    offset.div_ceil(8) * 8
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"{
        "format": "mod_classify-model", "format_version": 1,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                       "lowercase": true, "vocabulary": ["good", "good phone", "bad", "phone"]},
        "tfidf": {"norm": "l2", "use_idf": true, "smooth_idf": true, "sublinear_tf": false,
                  "idf": [1.5, 2.0, 1.25, 1.0]},
        "classifier": {"kind": "linear", "estimator": "LogisticRegression",
                       "classes": ["neg", "pos", "meh"], "probability": "softmax",
                       "coef": [[1.0, 0.5, -2.0, 0.0], [0.1, 0.2, 0.3, 0.4], [-1, -2, -3, 0.5]],
                       "intercept": [-0.1, 0.2, 0.0]}
    }"#;

    #[test]
    fn binary_round_trip_predicts_identically() {
        let json = Model::from_json(TINY.as_bytes()).unwrap();
        let bytes = write(&json);
        let binary = Model::from_bytes(&bytes).unwrap();
        for text in ["good phone", "bad bad phone", "", "meh"] {
            assert_eq!(json.predict(text), binary.predict(text), "{text:?}");
        }
        assert_eq!(binary.to_file().vectorizer.vocabulary, json.to_file().vectorizer.vocabulary);
        // Writing again gives the same bytes: the form is canonical.
        assert_eq!(write(&binary), bytes);
    }

    const TINY_SVC: &str = r#"{
        "format": "mod_classify-model", "format_version": 1,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 1],
                       "lowercase": true, "vocabulary": ["good", "bad", "phone", "meh"]},
        "classifier": {"kind": "svc", "estimator": "SVC", "classes": ["neg", "pos", "meh"],
                       "kernel": "rbf", "gamma": 0.7, "coef0": 0.0, "degree": 3,
                       "decision_function_shape": "ovo", "break_ties": false, "n_support": [1, 2, 1],
                       "support_vectors": {"indptr": [0, 1, 3, 3, 5], "indices": [1, 0, 2, 2, 3],
                                           "data": [1.0, 1.0, 0.5, 2.0, 1.0]},
                       "dual_coef": [[-1.0, 0.5, 0.5, -0.25], [0.75, -1.0, 0.1, 1.0]],
                       "intercept": [0.1, -0.2, 0.3],
                       "prob_a": [-2.0, -1.5, -3.0], "prob_b": [0.1, 0.0, -0.2]}
    }"#;

    #[test]
    fn svc_binary_round_trip_predicts_identically() {
        let json = Model::from_json(TINY_SVC.as_bytes()).unwrap();
        let bytes = write(&json);
        let binary = Model::from_bytes(&bytes).unwrap();
        for text in ["good phone", "bad bad phone", "", "meh meh", "unknown"] {
            let prediction = json.predict(text);
            assert_eq!(prediction.scores.len(), 3);
            assert!(prediction.probabilities.is_some());
            assert_eq!(prediction, binary.predict(text), "{text:?}");
        }
        let back = serde_json::to_value(binary.to_file()).unwrap();
        let original: serde_json::Value = serde_json::from_str(TINY_SVC).unwrap();
        assert_eq!(back["classifier"], original["classifier"]);
        assert_eq!(write(&binary), bytes);
    }

    #[test]
    fn corruption_is_caught_by_the_checksum() {
        let mut bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }

    #[test]
    fn truncation_names_both_lengths() {
        let bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        let err = Model::from_bytes(&bytes[..bytes.len() - 8]).unwrap_err();
        assert!(err.to_string().contains("header says"), "{err}");
        assert!(Model::from_bytes(&bytes[..20]).is_err());
    }

    #[test]
    fn other_versions_are_refused_by_number() {
        let mut bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        bytes[8] = 2;
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("version 2 is not supported"), "{err}");
    }
}
