//! Model file format v1 (see docs/model-format.md): one JSON document that Python's standard library
//! can write. These types are the schema; `Model::from_json` turns them into ready structures after
//! checking every field.

use serde::{Deserialize, Serialize};

use crate::featurize::analyzer::StripAccents;
use crate::sparse::Norm;

/// The value of the `format` field that marks a mod_classify model.
pub const FORMAT_NAME: &str = "mod_classify-model";
/// The newest format version this build reads and writes. Version 2 adds `union`, `steps` and
/// the wrapper classifiers (docs/model-format-v2.md); a file using none of them is version 1.
pub(crate) const FORMAT_VERSION: u64 = 2;
/// The oldest format version this build reads.
pub const OLDEST_FORMAT_VERSION: u64 = 1;

/// A whole model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    pub format: String,
    pub format_version: u64,
    /// Free-form provenance (exporter, sklearn version, training data...), shown by `inspect`.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The one vectorizer; absent when `union` lists several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectorizer: Option<VectorizerSpec>,
    /// A `TfidfVectorizer`'s (or `TfidfTransformer` step's) weighting, applied after counting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tfidf: Option<TfidfSpec>,
    /// Several text transformers side by side (`FeatureUnion`, `ColumnTransformer`), version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union: Option<UnionSpec>,
    /// Transforms between the vectorizer (or union) and the classifier, in order; version 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepSpec>,
    pub classifier: ClassifierSpec,
}

impl ModelFile {
    /// The vectorizer whose arrays the binary form keeps in sections: the only one, or the
    /// union's first branch's.
    pub fn primary_vectorizer(&self) -> Option<&VectorizerSpec> {
        match (&self.vectorizer, &self.union) {
            (Some(vectorizer), _) => Some(vectorizer),
            (None, Some(union)) => union.branches.first().map(|branch| &branch.vectorizer),
            (None, None) => None,
        }
    }

    /// The primary vectorizer and its tf-idf weighting, to take out or put back their arrays.
    pub(crate) fn primary_mut(&mut self) -> Option<(&mut VectorizerSpec, Option<&mut TfidfSpec>)> {
        match (&mut self.vectorizer, &mut self.union) {
            (Some(vectorizer), _) => Some((vectorizer, self.tfidf.as_mut())),
            (None, Some(union)) => union
                .branches
                .first_mut()
                .map(|branch| (&mut branch.vectorizer, branch.tfidf.as_mut())),
            (None, None) => None,
        }
    }

    /// Whether the file needs format version 2 to be read.
    pub(crate) fn needs_version_2(&self) -> bool {
        self.union.is_some() || !self.steps.is_empty() || self.classifier.needs_version_2()
    }

    /// The oldest format version that holds this file: older readers keep reading what they can.
    pub fn version_needed(&self) -> u64 {
        if self.needs_version_2() {
            FORMAT_VERSION
        } else {
            OLDEST_FORMAT_VERSION
        }
    }
}

/// `FeatureUnion` / `ColumnTransformer`: branches whose outputs are laid side by side.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnionSpec {
    pub branches: Vec<BranchSpec>,
}

/// One transformer of a union: a vectorizer, its weighting and later steps, times `weight`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    pub name: String,
    #[serde(default = "one")]
    pub weight: f64,
    pub vectorizer: VectorizerSpec,
    #[serde(default)]
    pub tfidf: Option<TfidfSpec>,
    #[serde(default)]
    pub steps: Vec<StepSpec>,
}

fn one() -> f64 {
    1.0
}

/// A transform between the vectorizer and the classifier (docs/model-format-v2.md, "Steps").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepSpec {
    /// Keeps the columns in `support` (sorted), renumbered in that order.
    Select { estimator: String, n_features_in: usize, support: Vec<u32> },
    /// Divides each column by its value.
    Scale { estimator: String, scale: Vec<f64> },
    /// Subtracts each column's mean (dense rows only).
    Center { estimator: String, mean: Vec<f64> },
    /// Divides the row by its norm.
    Normalize { estimator: String, norm: RowNorm },
    /// A `TfidfTransformer` that is not directly after the vectorizer.
    Tfidf {
        estimator: String,
        norm: Option<Norm>,
        use_idf: bool,
        #[serde(default)]
        smooth_idf: bool,
        sublinear_tf: bool,
        #[serde(default)]
        idf: Option<Vec<f64>>,
    },
    /// Values above `threshold` become 1.0, the others are dropped.
    Binarize { estimator: String, threshold: f64 },
    /// A dense projection `x · componentsᵀ` (`TruncatedSVD`).
    Project { estimator: String, n_features_in: usize, components: Vec<Vec<f64>> },
}

impl StepSpec {
    /// The sklearn class the step came from.
    pub fn estimator(&self) -> &str {
        match self {
            StepSpec::Select { estimator, .. }
            | StepSpec::Scale { estimator, .. }
            | StepSpec::Center { estimator, .. }
            | StepSpec::Normalize { estimator, .. }
            | StepSpec::Tfidf { estimator, .. }
            | StepSpec::Binarize { estimator, .. }
            | StepSpec::Project { estimator, .. } => estimator,
        }
    }
}

/// `Normalizer`'s norms: sklearn's `normalize` also knows the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowNorm {
    L1,
    L2,
    Max,
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
    /// `SGDClassifier(loss="modified_huber")`: `(clip(score, -1, 1) + 1) / 2`, normalized.
    ModifiedHuber,
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
    /// Steps that run before one classifier: a wrapper's member with its own transforms.
    Pipeline {
        estimator: String,
        classes: Vec<LabelSpec>,
        steps: Vec<StepSpec>,
        classifier: Box<ClassifierSpec>,
    },
    /// `NearestCentroid`: the class of the nearest centroid.
    NearestCentroid {
        estimator: String,
        classes: Vec<LabelSpec>,
        centroids: Vec<Vec<f64>>,
        metric: CentroidMetric,
        /// sklearn ≥ 1.5: the discriminant scores and probabilities of that version.
        #[serde(default)]
        decision: CentroidDecision,
        #[serde(default)]
        class_prior: Option<Vec<f64>>,
        #[serde(default)]
        within_class_std_dev: Option<Vec<f64>>,
        /// How `predict` chooses: the nearest centroid, or the highest discriminant score
        /// (sklearn ≥ 1.5 with priors that are not uniform).
        #[serde(default)]
        predict: CentroidPredict,
    },
    /// `CalibratedClassifierCV`: the mean of calibrated members' probabilities.
    Calibrated {
        estimator: String,
        classes: Vec<LabelSpec>,
        method: CalibrationMethod,
        members: Vec<CalibratedMember>,
    },
    /// `OneVsRestClassifier`: one binary member per class (one for two classes).
    OneVsRest {
        estimator: String,
        classes: Vec<LabelSpec>,
        /// What the wrapper reads from its members (sklearn's `_predict_binary`).
        response: CalibrationInput,
        /// Which of several equal maxima `predict` takes: sklearn < 1.4 the last, later the first.
        #[serde(default)]
        ties: TieBreak,
        estimators: Vec<ClassifierSpec>,
    },
    /// Several labels per text: `OneVsRestClassifier` or `MultiOutputClassifier` fitted on an
    /// indicator matrix, one binary member (classes 0 and 1) per label. Each label's score is its
    /// member's decision value or class-1 probability (`response`, sklearn's `_predict_binary`).
    MultiLabel {
        estimator: String,
        /// One per indicator column: the wrapper's `classes_`, or a `MultiLabelBinarizer`'s.
        classes: Vec<LabelSpec>,
        response: CalibrationInput,
        /// `OneVsRestClassifier`: a label is set when its score is above this (0 for decision
        /// values, 0.5 for probabilities). None (`MultiOutputClassifier`): when its member's own
        /// `predict` answers class 1.
        #[serde(default)]
        threshold: Option<f64>,
        estimators: Vec<ClassifierSpec>,
    },
    /// `OneVsOneClassifier`: one binary member per pair of classes.
    OneVsOne {
        estimator: String,
        classes: Vec<LabelSpec>,
        response: CalibrationInput,
        estimators: Vec<ClassifierSpec>,
    },
    /// A linear regressor (`Ridge`, `RidgeCV`, `LinearRegression`, `SGDRegressor`, `LinearSVR`,
    /// `ElasticNet`, `Lasso`): the answer is a number, `x · coef + intercept`, the products
    /// summed over the row's features in index order from 0, then the intercept added, as
    /// scipy's sparse product and sklearn's `_decision_function` compute it.
    LinearRegression {
        estimator: String,
        /// `coef_`: one weight per feature.
        coef: Vec<f64>,
        intercept: f64,
    },
    /// `DecisionTreeClassifier`, `RandomForestClassifier`, `ExtraTreesClassifier`: sklearn's
    /// fitted trees, each feature rounded to float32 before it is compared with a threshold.
    Trees {
        estimator: String,
        classes: Vec<LabelSpec>,
        /// How the trees' answers combine: one tree's leaf, or the forests' mean probability.
        combine: TreeCombine,
        trees: Vec<TreeSpec>,
    },
    /// `DecisionTreeRegressor`, `RandomForestRegressor`, `ExtraTreesRegressor`: the same trees,
    /// each leaf holding one number (`leaf_values` rows of one value, no `leaf_class`); "single"
    /// answers the leaf's number, "mean" the trees' numbers summed in order and divided by their
    /// number, as `ForestRegressor.predict` does.
    TreeRegression { estimator: String, combine: TreeCombine, trees: Vec<TreeSpec> },
    /// `SVR`, `NuSVR`: libsvm's regression, `Σ dual_coef[k] · K(x, sv k) + intercept`, the
    /// products summed from 0 in support-vector order, then the intercept added, each kernel
    /// value computed exactly as for `svc` (docs/model-format-v2.md).
    Svr {
        /// "SVR" or "NuSVR".
        estimator: String,
        kernel: KernelKind,
        /// The fitted numeric `_gamma` ('scale' and 'auto' already resolved).
        gamma: f64,
        coef0: f64,
        degree: u32,
        /// `support_vectors_` as CSR.
        support_vectors: CsrSpec,
        /// `dual_coef_[0]`: one value per support vector (sklearn does not negate it for
        /// regression: it is libsvm's `sv_coef`).
        dual_coef: Vec<f64>,
        /// `intercept_[0]` (= −rho).
        intercept: f64,
    },
    /// `KNeighborsClassifier`: the classes of the `n_neighbors` training rows nearest to the
    /// text's row, found by brute force over `fit_rows` with sklearn's distances
    /// (docs/model-format-v2.md, "k_neighbors").
    KNeighbors {
        estimator: String,
        classes: Vec<LabelSpec>,
        /// `n_neighbors`: how many training rows vote (at most their number).
        n_neighbors: usize,
        weights: NeighborWeights,
        /// The metric sklearn computes (`effective_metric_`: minkowski with p=2 is euclidean,
        /// with p=1 manhattan).
        metric: NeighborMetric,
        /// sklearn's `p` when the metric was given as minkowski (1 or 2), else null.
        #[serde(default)]
        p: Option<f64>,
        /// `_fit_method`: "brute", or for dense rows "kd_tree"/"ball_tree", whose euclidean
        /// distances are sums of squared differences instead of the norms' expansion.
        algorithm: NeighborAlgorithm,
        /// `_fit_X`: the training rows in sklearn's stored order (dense rows: every column).
        fit_rows: CsrSpec,
        /// Per training row, what sklearn computes from it for the distance: ‖y‖² for euclidean
        /// brute force, ‖y‖ for cosine; null for the other searches.
        #[serde(default)]
        fit_norms: Option<Vec<f64>>,
        /// `_y`: the index into `classes` of each training row.
        fit_labels: Vec<u32>,
    },
    /// `KNeighborsRegressor`: the mean (or inverse-distance weighted mean) of the targets of the
    /// nearest training rows.
    KNeighborsRegression {
        estimator: String,
        /// `n_neighbors`: how many training rows vote (at most their number).
        n_neighbors: usize,
        weights: NeighborWeights,
        /// The metric sklearn computes (`effective_metric_`: minkowski with p=2 is euclidean,
        /// with p=1 manhattan).
        metric: NeighborMetric,
        /// sklearn's `p` when the metric was given as minkowski (1 or 2), else null.
        #[serde(default)]
        p: Option<f64>,
        /// `_fit_method`: "brute", or for dense rows "kd_tree"/"ball_tree", whose euclidean
        /// distances are sums of squared differences instead of the norms' expansion.
        algorithm: NeighborAlgorithm,
        /// `_fit_X`: the training rows in sklearn's stored order (dense rows: every column).
        fit_rows: CsrSpec,
        /// Per training row, what sklearn computes from it for the distance: ‖y‖² for euclidean
        /// brute force, ‖y‖ for cosine; null for the other searches.
        #[serde(default)]
        fit_norms: Option<Vec<f64>>,
        /// `_y`: the target of each training row.
        fit_targets: Vec<f64>,
    },
    /// `VotingClassifier`: members vote (hard) or average their probabilities (soft).
    Voting {
        estimator: String,
        classes: Vec<LabelSpec>,
        voting: VotingKind,
        #[serde(default)]
        weights: Option<Vec<f64>>,
        estimators: Vec<ClassifierSpec>,
    },
}

impl ClassifierSpec {
    /// `classes_`, in order.
    pub(crate) fn classes(&self) -> &[LabelSpec] {
        match self {
            ClassifierSpec::Linear { classes, .. }
            | ClassifierSpec::Svc { classes, .. }
            | ClassifierSpec::Pipeline { classes, .. }
            | ClassifierSpec::NearestCentroid { classes, .. }
            | ClassifierSpec::Calibrated { classes, .. }
            | ClassifierSpec::OneVsRest { classes, .. }
            | ClassifierSpec::MultiLabel { classes, .. }
            | ClassifierSpec::OneVsOne { classes, .. }
            | ClassifierSpec::Trees { classes, .. }
            | ClassifierSpec::KNeighbors { classes, .. }
            | ClassifierSpec::Voting { classes, .. } => classes,
            // A regressor answers a number, not one of some classes.
            ClassifierSpec::LinearRegression { .. }
            | ClassifierSpec::TreeRegression { .. }
            | ClassifierSpec::Svr { .. }
            | ClassifierSpec::KNeighborsRegression { .. } => &[],
        }
    }

    /// The sklearn estimator it came from.
    pub(crate) fn estimator(&self) -> &str {
        match self {
            ClassifierSpec::Linear { estimator, .. }
            | ClassifierSpec::Svc { estimator, .. }
            | ClassifierSpec::Pipeline { estimator, .. }
            | ClassifierSpec::NearestCentroid { estimator, .. }
            | ClassifierSpec::Calibrated { estimator, .. }
            | ClassifierSpec::OneVsRest { estimator, .. }
            | ClassifierSpec::MultiLabel { estimator, .. }
            | ClassifierSpec::OneVsOne { estimator, .. }
            | ClassifierSpec::Trees { estimator, .. }
            | ClassifierSpec::LinearRegression { estimator, .. }
            | ClassifierSpec::TreeRegression { estimator, .. }
            | ClassifierSpec::Svr { estimator, .. }
            | ClassifierSpec::KNeighbors { estimator, .. }
            | ClassifierSpec::KNeighborsRegression { estimator, .. }
            | ClassifierSpec::Voting { estimator, .. } => estimator,
        }
    }

    /// Whether this classifier needs format version 2 to be read.
    pub(crate) fn needs_version_2(&self) -> bool {
        match self {
            ClassifierSpec::Linear { probability, .. } => {
                *probability == Some(ProbabilityKind::ModifiedHuber)
            }
            ClassifierSpec::Svc { .. } => false,
            _ => true,
        }
    }
}

/// `KNeighborsClassifier(weights=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeighborWeights {
    /// Every neighbour counts 1.
    Uniform,
    /// A neighbour counts 1/distance; at distance 0, only the rows at distance 0 count (1 each).
    Distance,
}

/// The distances a `k_neighbors` model ranks training rows by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeighborMetric {
    Euclidean,
    Manhattan,
    Cosine,
}

/// sklearn's `_fit_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeighborAlgorithm {
    Brute,
    KdTree,
    BallTree,
}

/// How a `trees` classifier combines its trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeCombine {
    /// `DecisionTreeClassifier`: the leaf's probabilities, and the class its `predict` picks.
    Single,
    /// The forests: the trees' leaf probabilities summed in order and divided by their number;
    /// the class is the first arg-max.
    Mean,
}

/// One fitted tree, as sklearn's `tree_` holds it (nodes in sklearn's order, children after
/// their parent).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeSpec {
    /// `children_left`: a node's left child, -1 at a leaf.
    pub children_left: Vec<i64>,
    /// `children_right`: a node's right child, -1 at a leaf.
    pub children_right: Vec<i64>,
    /// The feature an internal node tests (ignored at leaves).
    pub feature: Vec<i64>,
    /// Go left when the feature, rounded to float32, is at most this (ignored at leaves).
    pub threshold: Vec<f64>,
    /// One row per leaf, leaves in node order: the probabilities this tree's `predict_proba`
    /// gives a sample in that leaf (as the sklearn that fitted it computes them).
    pub leaf_values: Vec<Vec<f64>>,
    /// Per leaf, the class index the tree's own `predict` picks there (absent for regressors).
    #[serde(default)]
    pub leaf_class: Vec<u32>,
}

/// `NearestCentroid`'s distances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CentroidMetric {
    Euclidean,
    Manhattan,
}

/// What `NearestCentroid` answers besides the label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CentroidDecision {
    /// sklearn < 1.5: no decision function; scores are the negated distances.
    #[default]
    Distances,
    /// sklearn ≥ 1.5: discriminant scores `-d² + 2 log prior` on std-scaled features.
    Discriminant,
}

/// `NearestCentroid.predict`'s rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CentroidPredict {
    #[default]
    Nearest,
    MaxScore,
}

/// Which of several equal maxima a one-vs-rest `predict` takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TieBreak {
    /// numpy's argmax: the first (lowest index).
    #[default]
    Lowest,
    /// sklearn's older running-maximum loop: the last.
    Highest,
}

/// `CalibratedClassifierCV(method=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationMethod {
    Sigmoid,
    Isotonic,
}

/// What a calibrated member's calibrators read from its classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationInput {
    DecisionFunction,
    PredictProba,
}

/// One of `calibrated_classifiers_`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibratedMember {
    pub classifier: ClassifierSpec,
    pub response: CalibrationInput,
    /// The class (index into the wrapper's classes) each calibrator gives the probability of;
    /// with two classes the one calibrator's is class 1.
    pub class_indices: Vec<usize>,
    pub calibrators: Vec<CalibratorSpec>,
}

/// `_SigmoidCalibration` (`a`, `b`) or `IsotonicRegression` (`x`, `y` thresholds).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum CalibratorSpec {
    Sigmoid { a: f64, b: f64 },
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

/// `VotingClassifier(voting=...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VotingKind {
    Hard,
    Soft,
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
