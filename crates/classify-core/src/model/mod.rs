//! A loaded model: featurizer + classifier + class labels, and the one call the server and the CLI
//! make, `Model::predict`.

pub mod format;
pub mod linear;

use std::fmt;
use std::path::Path;

use crate::error::ModelError;
use crate::featurize::Featurizer;
use format::{ClassifierSpec, LabelSpec, ModelFile, FORMAT_NAME, FORMAT_VERSION};
use linear::LinearClassifier;

/// A class label; `Display` prints it as Python's `print(label)` would.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Label {
    Int(i64),
    Str(String),
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Int(value) => write!(f, "{value}"),
            Label::Str(value) => f.write_str(value),
        }
    }
}

impl Label {
    /// The label as a JSON value: integers stay numbers, as sklearn's `classes_` held them.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Label::Int(value) => serde_json::Value::from(*value),
            Label::Str(value) => serde_json::Value::from(value.as_str()),
        }
    }
}

/// What the model says about one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index into `Model::classes`.
    pub class_index: usize,
    /// sklearn's `decision_function` (or joint log-likelihood for naive Bayes): one value for a
    /// binary single-row model, else one per class.
    pub scores: Vec<f64>,
    /// sklearn's `predict_proba`, one per class, when the model has it.
    pub probabilities: Option<Vec<f64>>,
}

/// A validated, ready model. `Sync`: one instance serves every thread.
#[derive(Debug)]
pub struct Model {
    featurizer: Featurizer,
    classifier: LinearClassifier,
    classes: Vec<Label>,
    estimator: String,
    file: ModelFile,
    checksum: u64,
}

impl Model {
    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let bytes =
            std::fs::read(path).map_err(|error| ModelError::Io { path: path.to_owned(), error })?;
        Model::from_json(&bytes)
    }

    /// Parses and validates a model from the bytes of a v1 JSON model file.
    pub fn from_json(bytes: &[u8]) -> Result<Model, ModelError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ModelError::Syntax(format!("JSON {e}")))?;
        check_header(&value)?;
        let file: ModelFile = serde_json::from_value(value).map_err(|e| {
            ModelError::Syntax(format!("{e} (see docs/model-format.md for the fields)"))
        })?;
        let mut model = Model::from_file(file)?;
        model.checksum = fnv1a64(bytes);
        Ok(model)
    }

    /// Builds a model from an already parsed file.
    pub fn from_file(file: ModelFile) -> Result<Model, ModelError> {
        let featurizer = Featurizer::from_spec(&file.vectorizer, file.tfidf.as_ref())?;
        let ClassifierSpec::Linear { estimator, classes, coef, intercept, probability } =
            &file.classifier;
        let classes: Vec<Label> = classes
            .iter()
            .map(|label| match label {
                LabelSpec::Int(value) => Label::Int(*value),
                LabelSpec::Str(value) => Label::Str(value.clone()),
            })
            .collect();
        let classifier = LinearClassifier::new(
            coef,
            intercept,
            classes.len(),
            featurizer.n_features(),
            *probability,
        )?;
        Ok(Model {
            featurizer,
            classifier,
            classes,
            estimator: estimator.clone(),
            file,
            checksum: 0,
        })
    }

    /// Classifies one text.
    pub fn predict(&self, text: &str) -> Prediction {
        let row = self.featurizer.transform(text);
        let scores = self.classifier.decision(&row);
        let class_index = self.classifier.predicted_class(&scores);
        let probabilities = self.classifier.probabilities(&scores);
        Prediction { class_index, scores, probabilities }
    }

    /// The predicted label alone.
    pub fn label(&self, prediction: &Prediction) -> &Label {
        &self.classes[prediction.class_index]
    }

    /// The class labels, in sklearn's `classes_` order.
    pub fn classes(&self) -> &[Label] {
        &self.classes
    }

    /// Per-class scores: for a binary single-row model, sklearn's one decision value `d` is shown
    /// as `-d` for the first class and `d` for the second, so every class has a score.
    pub fn class_scores(&self, prediction: &Prediction) -> Vec<f64> {
        match prediction.scores.as_slice() {
            [single] => vec![-single, *single],
            scores => scores.to_vec(),
        }
    }

    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }

    pub fn n_features(&self) -> usize {
        self.featurizer.n_features()
    }

    /// The sklearn estimator the model came from, e.g. "LinearSVC".
    pub fn estimator(&self) -> &str {
        &self.estimator
    }

    /// The parsed file, for inspection.
    pub fn file(&self) -> &ModelFile {
        &self.file
    }

    /// FNV-1a 64 of the file's bytes: tells two loaded versions of a model apart.
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Whether `predict` returns probabilities.
    pub fn has_probabilities(&self) -> bool {
        matches!(&self.file.classifier, ClassifierSpec::Linear { probability: Some(_), .. })
    }
}

/// Gives a precise message for files that are not models at all or are of another version, before
/// serde reports a less helpful missing-field error.
fn check_header(value: &serde_json::Value) -> Result<(), ModelError> {
    let Some(object) = value.as_object() else {
        return Err(ModelError::NotAModel { reason: "the JSON document is not an object".into() });
    };
    match object.get("format").and_then(|v| v.as_str()) {
        Some(FORMAT_NAME) => {}
        Some(other) => {
            return Err(ModelError::NotAModel {
                reason: format!("field `format` is {other:?}, expected {FORMAT_NAME:?}"),
            })
        }
        None => {
            return Err(ModelError::NotAModel {
                reason: format!("field `format` is missing (expected {FORMAT_NAME:?})"),
            })
        }
    }
    match object.get("format_version").and_then(|v| v.as_u64()) {
        Some(FORMAT_VERSION) => Ok(()),
        Some(found) => Err(ModelError::UnsupportedVersion { found, supported: FORMAT_VERSION }),
        None => Err(ModelError::invalid("format_version", "missing or not a positive integer")),
    }
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"{
        "format": "mod_classify-model", "format_version": 1,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                       "lowercase": true, "vocabulary": ["good", "good phone", "bad", "phone"]},
        "classifier": {"kind": "linear", "estimator": "LinearSVC", "classes": ["neg", "pos"],
                       "coef": [[1.0, 0.5, -2.0, 0.0]], "intercept": [-0.1]}
    }"#;

    #[test]
    fn tiny_model_predicts_from_word_bigrams() {
        let model = Model::from_json(TINY.as_bytes()).unwrap();
        let prediction = model.predict("Good phone!");
        assert_eq!(model.label(&prediction).to_string(), "pos");
        assert!((prediction.scores[0] - 1.4).abs() < 1e-12);
        let prediction = model.predict("bad");
        assert_eq!(model.label(&prediction).to_string(), "neg");
    }

    #[test]
    fn wrong_version_is_refused_by_number() {
        let text = TINY.replace("\"format_version\": 1", "\"format_version\": 7");
        let err = Model::from_json(text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("version 7 is not supported"), "{err}");
    }

    #[test]
    fn coefficient_width_must_match_vocabulary() {
        let text = TINY.replace("[[1.0, 0.5, -2.0, 0.0]]", "[[1.0, 0.5]]");
        let err = Model::from_json(text.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("classifier.coef[0]"), "{err}");
    }

    #[test]
    fn random_bytes_are_not_a_model() {
        assert!(Model::from_json(b"\x00\x01garbage").is_err());
        assert!(Model::from_json(b"[]").is_err());
    }
}
