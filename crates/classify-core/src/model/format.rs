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
    /// `unicodedata.unidata_version` of the Python that exported the model ("14.0.0"): characters
    /// assigned after it are treated as that Python treats them. Absent: the core's own tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unicode_version: Option<String>,
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
    /// A kernel SVM (`SVC`, `NuSVC`) evaluated as sklearn's libsvm does on sparse input: one
    /// decision value per pair of classes from that pair's support vectors, one-vs-one voting.
    /// The arrays are sklearn's fitted attributes as sklearn shows them (for two classes sklearn
    /// negates libsvm's `dual_coef_` and `intercept_`, so a positive value means `classes[1]`).
    Svc {
        /// "SVC" or "NuSVC".
        estimator: String,
        classes: Vec<LabelSpec>,
        kernel: KernelKind,
        /// The fitted numeric `_gamma` ('scale' and 'auto' already resolved).
        gamma: f64,
        coef0: f64,
        degree: u32,
        /// What `decision_function` returns: "ovr" (one value per class) or "ovo" (one per pair).
        decision_function_shape: DecisionShape,
        /// `predict` takes the arg-max of the 'ovr' decision function instead of libsvm's vote.
        #[serde(default)]
        break_ties: bool,
        /// `n_support_`: how many support vectors each class has (they are stored class by class).
        n_support: Vec<usize>,
        /// `support_vectors_` as CSR.
        support_vectors: CsrSpec,
        /// `dual_coef_`: n_classes − 1 dense rows, one value per support vector.
        dual_coef: Vec<Vec<f64>>,
        /// `intercept_`: one per pair of classes, pairs in libsvm order (0,1), (0,2), ..., (1,2), ...
        intercept: Vec<f64>,
        /// `probA_`/`probB_` (probability=True): Platt scaling per pair, for `predict_proba`.
        #[serde(default)]
        prob_a: Option<Vec<f64>>,
        #[serde(default)]
        prob_b: Option<Vec<f64>>,
    },
}

impl ClassifierSpec {
    /// `classes_`, in order.
    pub fn classes(&self) -> &[LabelSpec] {
        match self {
            ClassifierSpec::Linear { classes, .. } | ClassifierSpec::Svc { classes, .. } => classes,
        }
    }

    /// The sklearn estimator it came from.
    pub fn estimator(&self) -> &str {
        match self {
            ClassifierSpec::Linear { estimator, .. } | ClassifierSpec::Svc { estimator, .. } => {
                estimator
            }
        }
    }
}

/// libsvm's kernels, named as sklearn's `kernel` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelKind {
    /// x · y
    Linear,
    /// (gamma x · y + coef0)^degree
    Poly,
    /// exp(−gamma ‖x − y‖²)
    Rbf,
    /// tanh(gamma x · y + coef0)
    Sigmoid,
}

/// sklearn's `decision_function_shape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionShape {
    Ovr,
    Ovo,
}

/// A sparse matrix in scipy's CSR layout: row `k` is `indices/data[indptr[k]..indptr[k + 1]]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrSpec {
    pub indptr: Vec<u64>,
    pub indices: Vec<u32>,
    pub data: Vec<f64>,
}
