//! Model file format v1 (see docs/model-format.md): one JSON document that Python's standard library
//! can write. These types are the schema; `Model::from_json` turns them into ready structures after
//! checking every field.

use serde::{Deserialize, Serialize};

use crate::featurize::analyzer::StripAccents;
use crate::sparse::Norm;

/// The value of the `format` field that marks a mod_classify model.
pub const FORMAT_NAME: &str = "mod_classify-model";
/// The newest format version this build reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// A whole model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub format: String,
    pub format_version: u64,
    /// Free-form provenance (exporter, sklearn version, training data...), shown by `inspect`.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub vectorizer: VectorizerSpec,
    /// A `TfidfVectorizer`'s (or `TfidfTransformer` step's) weighting, applied after counting.
    #[serde(default)]
    pub tfidf: Option<TfidfSpec>,
    pub classifier: ClassifierSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorizerKind {
    /// `CountVectorizer` / `TfidfVectorizer`: terms looked up in `vocabulary`.
    Count,
    /// `HashingVectorizer`: terms hashed into `n_features` columns.
    Hashing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalyzerKind {
    Word,
    Char,
    CharWb,
}

/// The vectorizer's settings, named as sklearn names them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorizerSpec {
    pub kind: VectorizerKind,
    pub analyzer: AnalyzerKind,
    pub ngram_range: [u32; 2],
    pub lowercase: bool,
    #[serde(default)]
    pub strip_accents: Option<StripAccents>,
    /// Word analyzer only; sklearn's default when absent.
    #[serde(default)]
    pub token_pattern: Option<String>,
    #[serde(default)]
    pub stop_words: Option<Vec<String>>,
    #[serde(default)]
    pub binary: bool,
    /// Count vectorizers: the term of each feature index, in index order.
    #[serde(default)]
    pub vocabulary: Option<Vec<String>>,
    /// Hashing vectorizers: the number of columns (optional check for count vectorizers).
    #[serde(default)]
    pub n_features: Option<usize>,
    /// Hashing vectorizers only.
    #[serde(default)]
    pub alternate_sign: Option<bool>,
    /// Hashing vectorizers only: the row normalization `HashingVectorizer` itself applies.
    #[serde(default)]
    pub norm: Option<Norm>,
}

/// `TfidfTransformer` settings and its fitted `idf_`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TfidfSpec {
    pub norm: Option<Norm>,
    pub use_idf: bool,
    #[serde(default)]
    pub smooth_idf: bool,
    pub sublinear_tf: bool,
    #[serde(default)]
    pub idf: Option<Vec<f64>>,
}

/// A class label as sklearn's `classes_` holds it: a string or an integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelSpec {
    Int(i64),
    Str(String),
}

/// How probabilities follow from decision values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbabilityKind {
    /// Logistic sigmoid of each score, normalized to sum to one (one-vs-rest `LogisticRegression`).
    OvrSigmoid,
    /// Softmax over the scores (multinomial `LogisticRegression`, naive Bayes).
    Softmax,
}

/// The classifier section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClassifierSpec {
    /// scores = X · coefᵀ + intercept. One row for a binary problem (positive means `classes[1]`),
    /// one row per class otherwise (arg-max, ties to the lowest index).
    Linear {
        /// The sklearn estimator it came from, e.g. "LinearSVC".
        estimator: String,
        classes: Vec<LabelSpec>,
        /// Dense rows, n_rows × n_features.
        coef: Vec<Vec<f64>>,
        intercept: Vec<f64>,
        #[serde(default)]
        probability: Option<ProbabilityKind>,
    },
}
