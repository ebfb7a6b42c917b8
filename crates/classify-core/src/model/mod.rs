//! A loaded model: featurizer + classifier + class labels, and the one call the server and the CLI
//! make, `Model::predict`.

pub mod binary;
mod centroid;
pub(crate) mod classifier;
mod feature_chain;
pub mod format;
mod json;
pub(crate) mod kernel;
pub(crate) mod linear;
pub(crate) mod multi_label;
pub mod neighbors;
mod observed;
mod places;
pub(crate) mod steps;
pub mod trees;

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::error::ModelError;
use crate::featurize::vocabulary::Vocabulary;
use crate::featurize::{Featurizer, FittedArrays};
pub(crate) use classifier::Classifier;
use feature_chain::FeatureChain;
use format::{ClassifierSpec, CsrSpec, LabelSpec, ModelFile};
/// What `params()` of a kernel SVM or regressor answers (the metadata answer shows it).
pub use kernel::KernelParams;
use kernel::{KernelClassifier, KernelParts, KernelRegressor, SupportVectors};
use linear::LinearClassifier;
use steps::Features;

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

/// What a model answers: one of its classes, any number of them, or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    Classification,
    /// Several labels per text (a classifier fitted on an indicator matrix).
    MultiLabel,
    Regression,
}

impl Task {
    /// The name the metadata answers, the metrics and `inspect` use.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::MultiLabel => "multi_label",
            Task::Regression => "regression",
        }
    }
}

/// A model's answer for one text: the predicted class, the predicted labels (in `classes()`
/// order, possibly none), or a regressor's number.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer<'m> {
    Label(&'m Label),
    Labels(Vec<&'m Label>),
    Value(f64),
}

impl fmt::Display for Answer<'_> {
    /// The label as Python prints it, the labels so printed and tab-separated (no tab for none),
    /// or the number in its shortest form that reads back the same (JSON's, e.g. `3.0`, `0.1`,
    /// `1e-7`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Label(label) => label.fmt(f),
            Answer::Labels(labels) => self.write_joined(f, labels, "\t"),
            Answer::Value(value) => match serde_json::Number::from_f64(*value) {
                Some(number) => number.fmt(f),
                None => value.fmt(f),
            },
        }
    }
}

impl Answer<'_> {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Answer::Label(label) => label.to_json(),
            Answer::Labels(labels) => labels.iter().map(|label| label.to_json()).collect(),
            Answer::Value(value) => serde_json::Value::from(*value),
        }
    }

    /// The answer as the access log's `classify-label` note holds it: as displayed, except that
    /// several labels are joined with commas (a log line stays one tab-free field).
    pub fn log_note(&self) -> String {
        match self {
            Answer::Labels(labels) => {
                let mut note = String::new();
                let _ = self.write_joined(&mut note, labels, ",");
                note
            }
            answer => answer.to_string(),
        }
    }

    fn write_joined(
        &self,
        out: &mut dyn fmt::Write,
        labels: &[&Label],
        separator: &str,
    ) -> fmt::Result {
        for (index, label) in labels.iter().enumerate() {
            if index > 0 {
                out.write_str(separator)?;
            }
            write!(out, "{label}")?;
        }
        Ok(())
    }
}

/// What the model says about one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index into `Model::classes`.
    pub class_index: usize,
    /// sklearn's `decision_function` row (joint log-likelihood for naive Bayes). Linear models:
    /// one value for a binary single-row model, else one per class. Kernel SVMs: one value for two
    /// classes (positive means the second class), else one per class with
    /// `decision_function_shape='ovr'` or one per pair of classes, (0,1), (0,2), ..., (1,2), ...,
    /// with `'ovo'`.
    pub scores: Vec<f64>,
    /// sklearn's `predict_proba`, one per class, when the model has it. Multi-label models: each
    /// label's own probability (`predict_proba[:, j]` of its member), which need not sum to 1.
    pub probabilities: Option<Vec<f64>>,
    /// Multi-label models: the indices into `Model::classes` of every label `predict` sets, in
    /// order. Empty for the other tasks.
    pub label_set: Vec<usize>,
}

impl Prediction {
    /// A single-label (or regression) prediction.
    pub(crate) fn new(
        class_index: usize,
        scores: Vec<f64>,
        probabilities: Option<Vec<f64>>,
    ) -> Self {
        Prediction { class_index, scores, probabilities, label_set: Vec::new() }
    }
}

/// A validated, ready model. `Sync`: one instance serves every thread.
#[derive(Debug)]
pub struct Model {
    /// The vectorizer, or a union's first branch's.
    featurizer: Featurizer,
    /// A union's other branches and the steps before the classifier (empty for most models).
    chain: FeatureChain,
    classifier: Classifier,
    classes: Vec<Label>,
    /// The file's settings with its large arrays (vocabulary, idf, coef) moved out into the
    /// featurizer and classifier: what `inspect` and the metadata answer show.
    settings: ModelFile,
    checksum: u64,
}

impl Model {
    /// Reads and validates a model file, binary or JSON (told apart by the binary form's magic).
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let with_path = |error| ModelError::Io { path: path.to_owned(), error };
        let mut file = std::fs::File::open(path).map_err(with_path)?;
        let file_len = file.metadata().map_err(with_path)?.len();
        let mut start = Vec::with_capacity(binary::MAGIC.len());
        (&mut file).take(binary::MAGIC.len() as u64).read_to_end(&mut start).map_err(with_path)?;
        let loaded = if binary::is_binary(&start) {
            binary::read_from(start.as_slice().chain(file), file_len)
        } else {
            let mut bytes = start;
            file.read_to_end(&mut bytes).map_err(with_path)?;
            Model::from_json(&bytes)
        };
        loaded.map_err(|error| match error {
            ModelError::Io { error, .. } => with_path(error),
            other => other,
        })
    }

    /// Parses and validates either form of a model file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if binary::is_binary(bytes) {
            binary::read(bytes)
        } else {
            Model::from_json(bytes)
        }
    }

    /// Parses and validates a model from the bytes of a JSON-form model file.
    pub fn from_json(bytes: &[u8]) -> Result<Model, ModelError> {
        json::read(bytes)
    }

    /// Builds a model from a parsed JSON-form file.
    pub fn from_file(mut file: ModelFile) -> Result<Model, ModelError> {
        let (spec, tfidf) = primary(&mut file)?;
        let vocabulary = spec
            .vocabulary
            .take()
            .map(|terms| Vocabulary::from_terms(terms.iter().map(String::as_str)))
            .transpose()?;
        let idf = tfidf.and_then(|tfidf| tfidf.idf.take());
        let arrays = FittedArrays { vocabulary, idf, word_index: None };
        let (spec, tfidf) = primary(&mut file)?;
        let built = Featurizer::new(spec, tfidf.as_deref(), arrays);
        let featurizer = built.map_err(|e| rename_primary(e, &file))?;
        let chain = FeatureChain::build(&mut file, &featurizer)?;
        let (n_features, dense) = (chain.n_features(), chain.is_dense());
        let classifier = match &mut file.classifier {
            ClassifierSpec::Linear { classes, coef, intercept, probability, estimator } => {
                let coef = std::mem::take(coef);
                Classifier::Linear(
                    LinearClassifier::new(
                        &coef,
                        intercept,
                        classes.len(),
                        n_features,
                        *probability,
                    )?
                    .with_estimator(estimator),
                )
            }
            ClassifierSpec::Svc { support_vectors, dual_coef, .. } => {
                let CsrSpec { indptr, indices, data } = std::mem::take(support_vectors);
                let rows = std::mem::take(dual_coef);
                let n_sv = indptr.len().saturating_sub(1);
                if let Some(r) = rows.iter().position(|row| row.len() != n_sv) {
                    return Err(ModelError::invalid(
                        format!("classifier.dual_coef[{r}]"),
                        format!(
                            "has {} values but there are {n_sv} support vectors",
                            rows[r].len()
                        ),
                    ));
                }
                let support_vectors = SupportVectors { indptr, indices, data };
                let flat = rows.into_iter().flatten().collect();
                Classifier::Kernel(kernel_classifier(
                    &file.classifier,
                    support_vectors,
                    flat,
                    n_features,
                )?)
            }
            ClassifierSpec::Svr { support_vectors, dual_coef, .. } => {
                let CsrSpec { indptr, indices, data } = std::mem::take(support_vectors);
                let dual_coef = std::mem::take(dual_coef);
                let support_vectors = SupportVectors { indptr, indices, data };
                Classifier::KernelRegression(kernel_regressor(
                    &file.classifier,
                    support_vectors,
                    dual_coef,
                    n_features,
                )?)
            }
            // Wrappers keep their (smaller) arrays in the settings.
            spec => Classifier::nested(spec, n_features, dense, "classifier")?,
        };
        Model::assemble(file, featurizer, chain, classifier)
    }

    /// Puts validated parts together; `settings` must have its large arrays removed.
    fn assemble(
        mut settings: ModelFile,
        featurizer: Featurizer,
        chain: FeatureChain,
        classifier: Classifier,
    ) -> Result<Model, ModelError> {
        if classifier.n_classes() != settings.classifier.classes().len() {
            return Err(ModelError::invalid(
                "classifier.classes",
                format!(
                    "{} classes, but the classifier answers {}",
                    settings.classifier.classes().len(),
                    classifier.n_classes()
                ),
            ));
        }
        let classes = settings
            .classifier
            .classes()
            .iter()
            .map(|label| match label {
                LabelSpec::Int(value) => Label::Int(*value),
                LabelSpec::Str(value) => Label::Str(value.clone()),
            })
            .collect();
        if let Classifier::MultiLabel(multi) = &classifier {
            // Stacked members' rows live in the classifier only (to_file puts them back).
            multi.strip(&mut settings.classifier);
        }
        if let Classifier::Neighbors(_) = &classifier {
            // The training rows now live in the classifier only (to_file puts them back).
            neighbors::Neighbors::strip(&mut settings.classifier);
        }
        Ok(Model { featurizer, chain, classifier, classes, settings, checksum: 0 })
    }

    /// The JSON form of this model (arrays put back), as `classify convert --to json` writes it.
    pub fn to_file(&self) -> ModelFile {
        let mut file = self.settings.clone();
        if let Some((vectorizer, tfidf)) = file.primary_mut() {
            vectorizer.vocabulary = self.featurizer.vocabulary().map(|vocabulary| {
                (0..vocabulary.len()).map(|i| vocabulary.term(i).to_owned()).collect()
            });
            if let Some(tfidf) = tfidf {
                tfidf.idf = self.featurizer.idf().map(<[f64]>::to_vec);
            }
        }
        self.chain.restore(&mut file);
        if let Classifier::Neighbors(neighbors) = &self.classifier {
            neighbors.restore(&mut file.classifier);
        }
        if let Classifier::MultiLabel(multi) = &self.classifier {
            multi.restore(&mut file.classifier);
        }
        match (&mut file.classifier, &self.classifier) {
            (ClassifierSpec::Linear { coef, intercept, .. }, Classifier::Linear(classifier)) => {
                *coef = (0..classifier.n_rows())
                    .map(|row| {
                        (0..classifier.n_features()).map(|f| classifier.weight(f, row)).collect()
                    })
                    .collect();
                *intercept = classifier.intercept().to_vec();
            }
            (
                ClassifierSpec::Svc { support_vectors, dual_coef, intercept, .. },
                Classifier::Kernel(classifier),
            ) => {
                let parts = classifier.parts();
                let n_sv = parts.support_vectors.len();
                *dual_coef = parts.dual_coef.chunks(n_sv.max(1)).map(<[f64]>::to_vec).collect();
                dual_coef.resize(parts.n_classes - 1, Vec::new());
                let SupportVectors { indptr, indices, data } = parts.support_vectors;
                *support_vectors = CsrSpec { indptr, indices, data };
                *intercept = parts.intercept;
            }
            (
                ClassifierSpec::Svr { support_vectors, dual_coef, .. },
                Classifier::KernelRegression(regressor),
            ) => {
                let SupportVectors { indptr, indices, data } = regressor.support_vectors().clone();
                *support_vectors = CsrSpec { indptr, indices, data };
                *dual_coef = regressor.dual_coef().to_vec();
            }
            // Other kinds keep their arrays in the settings.
            _ => {}
        }
        file.format_version = file.version_needed();
        file
    }

    /// Classifies one text.
    pub fn predict(&self, text: &str) -> Prediction {
        self.classifier.predict(&self.features(text))
    }

    /// The classifier's input for `text`: the vectorizer's row, or what the union's branches
    /// and the steps after the vectorizer make of it.
    pub(crate) fn features(&self, text: &str) -> Features {
        let row = self.featurizer.transform(text);
        if self.chain.is_empty() {
            Features::Sparse(row)
        } else {
            self.chain.features(text, row)
        }
    }

    /// Why `explain` has nothing to say for this model, if it has not: the predicted class's
    /// score must be a linear function of features that each come from one n-gram.
    pub fn explanation_unavailable(&self) -> Option<String> {
        let (Classifier::Linear(_) | Classifier::Regression(_)) = &self.classifier else {
            return Some(format!(
                "explain= needs a linear model; this one is {}, whose scores do not decompose \
                 by n-gram",
                self.estimator()
            ));
        };
        if self.chain.is_dense() {
            return Some(format!(
                "explain= is not available after {}: each of its features mixes every n-gram",
                self.settings.steps.iter().map(|s| s.estimator()).collect::<Vec<_>>().join(", ")
            ));
        }
        None
    }

    /// The `k` features that contributed most to the predicted class's score, largest first, as
    /// (feature name, contribution = feature value × weight). A binary single-row model scores the
    /// first class as the negated decision value, so its contributions are negated for it.
    /// Hashing vectorizers have no feature names: features are shown as `#index`. Empty for
    /// kernel models, whose scores do not decompose by feature.
    pub fn explain(&self, text: &str, prediction: &Prediction, k: usize) -> Vec<(String, f64)> {
        let (classifier, regression) = match &self.classifier {
            Classifier::Linear(classifier) => (classifier, false),
            Classifier::Regression(regressor) => (regressor, true),
            _ => return Vec::new(),
        };
        if self.explanation_unavailable().is_some() {
            return Vec::new();
        }
        let (row, sign) = match classifier.n_rows() {
            1 if regression => (0, 1.0),
            1 if prediction.class_index == 0 => (0, -1.0),
            1 => (0, 1.0),
            _ => (prediction.class_index, 1.0),
        };
        let features = self.features(text).to_sparse().into_owned();
        let mut contributions: Vec<(u32, f64)> = features
            .entries
            .iter()
            .map(|&(feature, value)| {
                (feature, sign * value * classifier.weight(feature as usize, row))
            })
            .collect();
        // Largest first; equal contributions in feature-index order.
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1));
        contributions
            .into_iter()
            .take(k)
            .map(|(feature, contribution)| (self.feature_name(feature), contribution))
            .collect()
    }

    /// The n-gram behind column `column` of the classifier's input (`#column` for hashed or
    /// mixed features), prefixed by its union branch's name when there is a union.
    pub fn feature_name(&self, column: u32) -> String {
        let Some((branch, source)) = self.chain.source(column) else {
            return format!("#{column}");
        };
        let featurizer = self.chain.branch_featurizer(branch).unwrap_or(&self.featurizer);
        let name = match featurizer.vocabulary() {
            Some(vocabulary) if (source as usize) < vocabulary.len() => {
                vocabulary.term(source as usize).to_owned()
            }
            _ => format!("#{source}"),
        };
        match self.chain.branch_name(branch) {
            Some(branch) => format!("{branch}:{name}"),
            None => name,
        }
    }

    /// Whether the model answers a class or a number.
    pub fn task(&self) -> Task {
        match &self.classifier {
            Classifier::Regression(_) | Classifier::KernelRegression(_) => Task::Regression,
            Classifier::Trees(trees) if trees.is_regression() => Task::Regression,
            Classifier::Neighbors(neighbors) if neighbors.is_regression() => Task::Regression,
            Classifier::MultiLabel(_) => Task::MultiLabel,
            _ => Task::Classification,
        }
    }

    /// The answer alone: the predicted class, or a regressor's number.
    pub fn answer(&self, prediction: &Prediction) -> Answer<'_> {
        match self.task() {
            Task::Regression => {
                Answer::Value(prediction.scores.first().copied().unwrap_or(f64::NAN))
            }
            Task::Classification => Answer::Label(&self.classes[prediction.class_index]),
            Task::MultiLabel => {
                Answer::Labels(prediction.label_set.iter().map(|&i| &self.classes[i]).collect())
            }
        }
    }

    /// The class labels, in sklearn's `classes_` order.
    pub fn classes(&self) -> &[Label] {
        &self.classes
    }

    /// One score per class, in `classes()` order, for answers keyed by class. For a binary model
    /// (linear single-row or kernel SVM), sklearn's one decision value `d` is shown as `-d` for
    /// the first class and `d` for the second. For a kernel SVM with
    /// `decision_function_shape='ovo'`, whose `scores` are one value per pair of classes, the
    /// per-class scores are sklearn's 'ovr' aggregation of those pairwise values (votes plus
    /// squashed summed confidence, `_ovr_decision_function`): what `decision_function` returns
    /// for the same model with `'ovr'`. The pairwise values themselves stay in
    /// `Prediction::scores`. With tied votes and `break_ties=False`, the arg-max of these scores
    /// can differ from the predicted label (as in sklearn, where `predict` uses the vote).
    pub fn class_scores(&self, prediction: &Prediction) -> Vec<f64> {
        match &self.classifier {
            Classifier::Kernel(kernel) => kernel.class_scores(&prediction.scores),
            // One score per label already, even for a single label.
            Classifier::MultiLabel(_) => prediction.scores.clone(),
            _ => match prediction.scores.as_slice() {
                [single] => vec![-single, *single],
                scores => scores.to_vec(),
            },
        }
    }

    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }

    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// The width of the classifier's input (the vectorizer's, unless steps change it).
    pub fn n_features(&self) -> usize {
        if self.chain.is_empty() {
            self.featurizer.n_features()
        } else {
            self.chain.n_features()
        }
    }

    /// The sklearn estimator the model came from, e.g. "LinearSVC".
    pub fn estimator(&self) -> &str {
        self.settings.classifier.estimator()
    }

    /// The settings the binary form's META section holds: the primary vectorizer's and a
    /// linear or kernel classifier's arrays stay out (they have sections), the rest is in.
    pub(crate) fn meta_settings(&self) -> ModelFile {
        let mut settings = self.settings.clone();
        self.chain.restore(&mut settings);
        if let Classifier::Neighbors(neighbors) = &self.classifier {
            neighbors.restore(&mut settings.classifier);
        }
        settings.format_version = settings.version_needed();
        settings
    }

    /// The model's settings without its large arrays (vocabulary, idf, coef), for inspection.
    pub fn settings(&self) -> &ModelFile {
        &self.settings
    }

    /// XXH3-64 of the file's bytes: tells two loaded versions of a model apart.
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Whether `predict` returns probabilities.
    pub fn has_probabilities(&self) -> bool {
        self.classifier.has_probabilities()
    }
}

/// Builds a kernel SVM from its settings (`spec`, arrays taken out) and its large arrays:
/// `dual_coef` flattened row-major. Shared by the JSON and the binary reader.
pub(crate) fn kernel_classifier(
    spec: &ClassifierSpec,
    support_vectors: SupportVectors,
    dual_coef: Vec<f64>,
    n_features: usize,
) -> Result<KernelClassifier, ModelError> {
    let ClassifierSpec::Svc {
        classes,
        kernel,
        gamma,
        coef0,
        degree,
        decision_function_shape,
        break_ties,
        n_support,
        intercept,
        prob_a,
        prob_b,
        ..
    } = spec
    else {
        return Err(ModelError::invalid("classifier.kind", "expected \"svc\""));
    };
    let degree = i32::try_from(*degree)
        .map_err(|_| ModelError::invalid("classifier.degree", format!("{degree} is too large")))?;
    let probability = match (prob_a, prob_b) {
        (Some(a), Some(b)) => Some((a.clone(), b.clone())),
        (None, None) => None,
        _ => {
            return Err(ModelError::invalid(
                "classifier.prob_a/prob_b",
                "give both (probability=True) or neither",
            ))
        }
    };
    KernelClassifier::new(
        KernelParts {
            params: KernelParams { kind: *kernel, gamma: *gamma, coef0: *coef0, degree },
            n_classes: classes.len(),
            n_support: n_support.clone(),
            support_vectors,
            dual_coef,
            intercept: intercept.clone(),
            shape: *decision_function_shape,
            break_ties: *break_ties,
            probability,
        },
        n_features,
    )
}

/// Builds a kernel regressor from its settings (`spec`, arrays taken out) and its large arrays.
/// Shared by the JSON and the binary reader.
pub(crate) fn kernel_regressor(
    spec: &ClassifierSpec,
    support_vectors: SupportVectors,
    dual_coef: Vec<f64>,
    n_features: usize,
) -> Result<KernelRegressor, ModelError> {
    let ClassifierSpec::Svr { kernel, gamma, coef0, degree, intercept, .. } = spec else {
        return Err(ModelError::invalid("classifier.kind", "expected \"svr\""));
    };
    let degree = i32::try_from(*degree)
        .map_err(|_| ModelError::invalid("classifier.degree", format!("{degree} is too large")))?;
    let params = KernelParams { kind: *kernel, gamma: *gamma, coef0: *coef0, degree };
    KernelRegressor::new(params, support_vectors, dual_coef, *intercept, n_features)
}

/// The vectorizer whose arrays the model keeps outside its settings, with its tf-idf.
fn primary(
    file: &mut ModelFile,
) -> Result<(&mut format::VectorizerSpec, Option<&mut format::TfidfSpec>), ModelError> {
    match (&file.vectorizer, &file.union) {
        (Some(_), Some(_)) => Err(ModelError::invalid(
            "union",
            "given with `vectorizer`: a model has one vectorizer or a union of branches",
        )),
        _ => file.primary_mut().ok_or_else(|| {
            ModelError::invalid("vectorizer", "missing (give `vectorizer` or `union`)")
        }),
    }
}

/// Names a union's first branch in errors about the primary featurizer.
fn rename_primary(error: ModelError, file: &ModelFile) -> ModelError {
    if file.union.is_some() {
        error
            .renamed("vectorizer.", "union.branches[0].vectorizer.")
            .renamed("tfidf.", "union.branches[0].tfidf.")
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::TINY;

    #[test]
    fn tiny_model_predicts_from_word_bigrams() {
        let model = Model::from_json(TINY.as_bytes()).unwrap();
        let prediction = model.predict("Good phone!");
        assert_eq!(model.answer(&prediction).to_string(), "pos");
        assert!((prediction.scores[0] - 1.4).abs() < 1e-12);
        let prediction = model.predict("bad");
        assert_eq!(model.answer(&prediction).to_string(), "neg");
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
    fn unicode_version_is_checked_and_named() {
        let declare = |version: &str| {
            let field = format!("\"lowercase\": true, \"unicode_version\": \"{version}\"");
            TINY.replacen("\"lowercase\": true", &field, 1)
        };
        assert!(Model::from_json(declare("14.0.0").as_bytes()).is_ok());
        let err = Model::from_json(declare("8.0.0").as_bytes()).unwrap_err().to_string();
        assert!(err.contains("vectorizer.unicode_version") && err.contains("14.0"), "{err}");
    }

    #[test]
    fn random_bytes_are_not_a_model() {
        assert!(Model::from_json(b"\x00\x01garbage").is_err());
        assert!(Model::from_json(b"[]").is_err());
    }

    #[test]
    fn a_linear_regressor_answers_its_number_and_explains_it() {
        let json = include_str!("../../testdata/tiny-regression.model.json");
        let model = Model::from_json(json.as_bytes()).unwrap();
        assert_eq!(model.task(), Task::Regression);
        assert!(model.classes().is_empty());
        let prediction = model.predict("Good phone");
        // good (1.0) + good phone (0.5) + phone (0.25), in feature order, then the intercept.
        assert_eq!(model.answer(&prediction), Answer::Value(2.25));
        assert_eq!(model.answer(&prediction).to_string(), "2.25");
        assert_eq!(model.answer(&model.predict("")).to_string(), "0.5");
        let explained = model.explain("bad phone", &model.predict("bad phone"), 5);
        assert_eq!(explained, vec![("phone".to_owned(), 0.25), ("bad".to_owned(), -2.0)]);
        let binary = binary::write(&model);
        let reread = Model::from_bytes(&binary).unwrap();
        assert_eq!(reread.answer(&reread.predict("Good phone")), Answer::Value(2.25));
    }

    #[test]
    fn a_regressor_with_the_wrong_width_is_refused_naming_coef() {
        let json = include_str!("../../testdata/tiny-regression.model.json")
            .replace("[1.0, 0.5, -2.0, 0.25]", "[1.0, 0.5]");
        let error = Model::from_json(json.as_bytes()).unwrap_err().to_string();
        assert!(error.contains("classifier.coef"), "{error}");
        assert!(!error.contains("coef[0]"), "{error}");
    }

    #[test]
    fn a_multi_label_model_answers_every_label_above_its_threshold() {
        let json = include_str!("../../testdata/tiny-multilabel.model.json");
        let model = Model::from_json(json.as_bytes()).unwrap();
        assert_eq!(model.task(), Task::MultiLabel);
        let crash = model.predict("crash bug");
        // bug: 1 + 0.5 - 0.5 = 1 > 0; docs: -0.5 - 0.25 < 0; urgent: 2 - 1 = 1 > 0.
        assert_eq!(crash.scores, vec![1.0, -0.75, 1.0]);
        assert_eq!(model.answer(&crash).to_string(), "bug\turgent");
        assert_eq!(model.answer(&crash).log_note(), "bug,urgent");
        assert_eq!(model.answer(&crash).to_json(), serde_json::json!(["bug", "urgent"]));
        // Exactly at the threshold is not above it: "crash" alone scores 0 for bug.
        assert_eq!(model.predict("crash").scores[0], 0.0);
        assert_eq!(model.answer(&model.predict("crash")).to_string(), "urgent");
        assert_eq!(model.answer(&model.predict("typo")).to_string(), "docs");
        assert_eq!(model.answer(&model.predict("nothing")).to_string(), "");
        let reread = Model::from_bytes(&binary::write(&model)).unwrap();
        assert_eq!(reread.predict("crash bug"), crash);
    }

    #[test]
    fn a_multi_label_model_needs_one_member_per_label() {
        let json = include_str!("../../testdata/tiny-multilabel.model.json")
            .replace(r#""docs", "urgent"]"#, r#""docs", "urgent", "extra"]"#);
        let error = Model::from_json(json.as_bytes()).unwrap_err().to_string();
        assert!(error.contains("classifier.estimators"), "{error}");
        assert!(error.contains("labels"), "{error}");
    }
}
