//! The classifier tree: linear models and kernel SVMs at the leaves, and the sklearn wrappers
//! users pickle around them (`OneVsRestClassifier`, `OneVsOneClassifier`, `VotingClassifier`,
//! `CalibratedClassifierCV`, a member's own `Pipeline` steps), each answering exactly as sklearn's
//! `predict`, `decision_function` and `predict_proba` do (docs/model-format-v2.md has the table).

use crate::error::ModelError;
use crate::model::centroid::NearestCentroid;
use crate::model::format::{
    CalibrationInput, CalibrationMethod, CalibratorSpec, ClassifierSpec, CsrSpec, LabelSpec,
    TieBreak, VotingKind,
};
use crate::model::kernel::{KernelClassifier, KernelRegressor, SupportVectors};
use crate::model::linear::LinearClassifier;
use crate::model::multi_label::MultiLabel;
use crate::model::neighbors::Neighbors;
use crate::model::steps::{apply_steps, build_steps, Features, Step};
use crate::model::trees::Trees;
use crate::model::{kernel_classifier, kernel_regressor, Prediction};

/// How features become scores and a class.
#[derive(Debug)]
pub enum Classifier {
    /// Linear models and naive Bayes: a weight matrix.
    Linear(LinearClassifier),
    /// `SVC`/`NuSVC`: support vectors, a kernel and one-vs-one voting.
    Kernel(KernelClassifier),
    /// A member's own steps before its classifier.
    Pipeline(Box<MemberPipeline>),
    /// `NearestCentroid`.
    NearestCentroid(NearestCentroid),
    /// `CalibratedClassifierCV`.
    Calibrated(Calibrated),
    /// `OneVsRestClassifier`.
    OneVsRest(Members),
    /// `OneVsOneClassifier`.
    OneVsOne(Members),
    /// A multi-label `OneVsRestClassifier` or `MultiOutputClassifier`.
    MultiLabel(MultiLabel),
    /// `VotingClassifier`.
    Voting(Voting),
    /// A decision tree or a forest of them.
    Trees(Trees),
    /// A linear regressor: one weight row, its decision value is the answer.
    Regression(LinearClassifier),
    /// `SVR`/`NuSVR`: support vectors and a kernel; the kernel sum is the answer.
    KernelRegression(KernelRegressor),
    /// `KNeighborsClassifier`/`KNeighborsRegressor`: the training rows, searched by brute force.
    Neighbors(Neighbors),
}

/// A member's steps and its classifier.
#[derive(Debug)]
pub struct MemberPipeline {
    steps: Vec<Step>,
    classifier: Classifier,
}

/// The binary members of a one-vs-rest or one-vs-one classifier.
#[derive(Debug)]
pub struct Members {
    n_classes: usize,
    /// Members are read for their decision value, else for their class-1 probability.
    decision: bool,
    /// One-vs-rest: equal maxima go to the last member (older sklearn), else the first.
    ties_to_last: bool,
    members: Vec<Classifier>,
}

/// `VotingClassifier`'s members and weights.
#[derive(Debug)]
pub struct Voting {
    n_classes: usize,
    soft: bool,
    weights: Vec<f64>,
    members: Vec<Classifier>,
}

/// `CalibratedClassifierCV`'s calibrated members.
#[derive(Debug)]
pub struct Calibrated {
    n_classes: usize,
    members: Vec<CalibratedMember>,
}

#[derive(Debug)]
struct CalibratedMember {
    classifier: Classifier,
    response: CalibrationInput,
    class_indices: Vec<usize>,
    calibrators: Vec<Calibrator>,
}

#[derive(Debug)]
enum Calibrator {
    Sigmoid { a: f64, b: f64 },
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

impl Classifier {
    /// Builds a classifier nested in another (or a top-level one of a new kind) from its spec,
    /// which keeps its arrays. `n_features`/`dense`: the input it reads; `field` names it.
    pub(crate) fn nested(
        spec: &ClassifierSpec,
        n_features: usize,
        dense: bool,
        field: &str,
    ) -> Result<Classifier, ModelError> {
        let rename = |error: ModelError| error.renamed("classifier.", &format!("{field}."));
        let n_classes = spec.classes().len();
        let members = |specs: &[ClassifierSpec], name: &str| {
            specs
                .iter()
                .enumerate()
                .map(|(i, member)| {
                    Classifier::nested(member, n_features, dense, &format!("{field}.{name}[{i}]"))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let classifier = match spec {
            ClassifierSpec::Linear { classes, coef, intercept, probability, estimator } => {
                Classifier::Linear(
                    LinearClassifier::new(coef, intercept, classes.len(), n_features, *probability)
                        .map_err(rename)?
                        .with_estimator(estimator),
                )
            }
            ClassifierSpec::Svc { support_vectors, dual_coef, .. } => {
                let CsrSpec { indptr, indices, data } = support_vectors.clone();
                let n_sv = indptr.len().saturating_sub(1);
                if let Some(r) = dual_coef.iter().position(|row| row.len() != n_sv) {
                    return Err(ModelError::invalid(
                        format!("{field}.dual_coef[{r}]"),
                        format!("has {} values for {n_sv} support vectors", dual_coef[r].len()),
                    ));
                }
                let flat = dual_coef.iter().flatten().copied().collect();
                let support = SupportVectors { indptr, indices, data };
                Classifier::Kernel(
                    kernel_classifier(spec, support, flat, n_features).map_err(rename)?,
                )
            }
            ClassifierSpec::Pipeline { classes, steps, classifier, .. } => {
                let (steps, width, dense) =
                    build_steps(steps, n_features, dense, &format!("{field}.steps"))?;
                let inner =
                    Classifier::nested(classifier, width, dense, &format!("{field}.classifier"))?;
                same_classes(classes, classifier.classes(), field)?;
                Classifier::Pipeline(Box::new(MemberPipeline { steps, classifier: inner }))
            }
            ClassifierSpec::NearestCentroid { .. } => {
                Classifier::NearestCentroid(NearestCentroid::new(spec, n_features, field)?)
            }
            ClassifierSpec::Calibrated { members: specs, method, .. } => {
                if specs.is_empty() {
                    return Err(ModelError::invalid(format!("{field}.members"), "is empty"));
                }
                let mut members = Vec::with_capacity(specs.len());
                for (i, member) in specs.iter().enumerate() {
                    let name = format!("{field}.members[{i}]");
                    members.push(CalibratedMember::new(
                        member, *method, n_classes, n_features, dense, &name,
                    )?);
                }
                Classifier::Calibrated(Calibrated { n_classes, members })
            }
            ClassifierSpec::OneVsRest { estimators, response, ties, .. } => {
                let expected = if n_classes == 2 { 1 } else { n_classes };
                count(estimators.len(), expected, &format!("{field}.estimators"), "classes")?;
                let members = members(estimators, "estimators")?;
                check_binary_members(&members, *response, &format!("{field}.estimators"))?;
                Classifier::OneVsRest(Members {
                    n_classes,
                    decision: *response == CalibrationInput::DecisionFunction,
                    ties_to_last: *ties == TieBreak::Highest,
                    members,
                })
            }
            ClassifierSpec::MultiLabel { estimators, response, threshold, .. } => {
                count(estimators.len(), n_classes, &format!("{field}.estimators"), "labels")?;
                let members = members(estimators, "estimators")?;
                check_binary_members(&members, *response, &format!("{field}.estimators"))?;
                if let Some(threshold) = threshold.filter(|t| !t.is_finite()) {
                    return Err(ModelError::invalid(
                        format!("{field}.threshold"),
                        format!("is {threshold}, not a finite number"),
                    ));
                }
                Classifier::MultiLabel(MultiLabel::new(members, *response, *threshold)?)
            }
            ClassifierSpec::OneVsOne { estimators, response, .. } => {
                let pairs = n_classes * n_classes.saturating_sub(1) / 2;
                count(estimators.len(), pairs, &format!("{field}.estimators"), "pairs of classes")?;
                let members = members(estimators, "estimators")?;
                check_binary_members(&members, *response, &format!("{field}.estimators"))?;
                Classifier::OneVsOne(Members {
                    n_classes,
                    decision: *response == CalibrationInput::DecisionFunction,
                    ties_to_last: false,
                    members,
                })
            }
            ClassifierSpec::Svr { support_vectors, dual_coef, .. } => {
                let CsrSpec { indptr, indices, data } = support_vectors.clone();
                let support = SupportVectors { indptr, indices, data };
                Classifier::KernelRegression(
                    kernel_regressor(spec, support, dual_coef.clone(), n_features)
                        .map_err(rename)?,
                )
            }
            ClassifierSpec::Trees { .. } | ClassifierSpec::TreeRegression { .. } => {
                Classifier::Trees(Trees::new(spec, n_features, field)?)
            }
            ClassifierSpec::KNeighbors { .. } | ClassifierSpec::KNeighborsRegression { .. } => {
                Classifier::Neighbors(Neighbors::new(spec, n_features, dense, field)?)
            }
            ClassifierSpec::LinearRegression { coef, intercept, estimator } => {
                // One decision row is exactly sklearn's regression product; the "two classes"
                // only tell LinearClassifier to expect that single row.
                let regressor = LinearClassifier::new(
                    std::slice::from_ref(coef),
                    &[*intercept],
                    2,
                    n_features,
                    None,
                )
                .map_err(|e| rename(e.renamed("classifier.coef[0]", "classifier.coef")))?;
                Classifier::Regression(regressor.with_estimator(estimator))
            }
            ClassifierSpec::Voting { voting, weights, estimators, .. } => {
                if estimators.is_empty() {
                    return Err(ModelError::invalid(format!("{field}.estimators"), "is empty"));
                }
                let members = members(estimators, "estimators")?;
                for (i, member) in estimators.iter().enumerate() {
                    let encoded: Vec<LabelSpec> =
                        (0..n_classes as i64).map(LabelSpec::Int).collect();
                    if member.classes() != encoded.as_slice() {
                        return Err(ModelError::invalid(
                            format!("{field}.estimators[{i}].classes"),
                            format!(
                                "must be 0..{n_classes} (VotingClassifier fits its members on \
                                 label-encoded classes)"
                            ),
                        ));
                    }
                }
                let soft = *voting == VotingKind::Soft;
                if soft {
                    if let Some(i) = members.iter().position(|m| !m.has_probabilities()) {
                        return Err(ModelError::invalid(
                            format!("{field}.estimators[{i}]"),
                            "has no probabilities, which soft voting averages",
                        ));
                    }
                }
                let weights = match weights {
                    Some(weights) => {
                        count(
                            weights.len(),
                            members.len(),
                            &format!("{field}.weights"),
                            "members",
                        )?;
                        if let Some(i) = weights.iter().position(|w| !w.is_finite()) {
                            return Err(ModelError::invalid(
                                format!("{field}.weights[{i}]"),
                                "is not a finite number",
                            ));
                        }
                        weights.clone()
                    }
                    None => vec![1.0; members.len()],
                };
                Classifier::Voting(Voting { n_classes, soft, weights, members })
            }
        };
        if classifier.n_classes() != n_classes {
            return Err(ModelError::invalid(
                format!("{field}.classes"),
                format!("{n_classes} classes, but its parts answer {}", classifier.n_classes()),
            ));
        }
        Ok(classifier)
    }

    /// The number of classes it chooses among.
    pub(crate) fn n_classes(&self) -> usize {
        match self {
            Classifier::Linear(linear) => linear.n_classes(),
            Classifier::Kernel(kernel) => kernel.n_classes(),
            Classifier::Pipeline(pipeline) => pipeline.classifier.n_classes(),
            Classifier::NearestCentroid(centroid) => centroid.n_classes(),
            Classifier::Trees(trees) => trees.n_classes(),
            Classifier::Neighbors(neighbors) => neighbors.n_classes(),
            Classifier::MultiLabel(multi) => multi.n_labels(),
            Classifier::Regression(_) | Classifier::KernelRegression(_) => 0,
            Classifier::Calibrated(Calibrated { n_classes, .. })
            | Classifier::OneVsRest(Members { n_classes, .. })
            | Classifier::OneVsOne(Members { n_classes, .. })
            | Classifier::Voting(Voting { n_classes, .. }) => *n_classes,
        }
    }

    /// Whether sklearn's object has `decision_function` (so wrappers read it, not probabilities).
    pub(crate) fn has_decision_function(&self) -> bool {
        match self {
            Classifier::Linear(linear) => linear.has_decision_function(),
            Classifier::Kernel(_) | Classifier::OneVsOne(_) => true,
            Classifier::Pipeline(pipeline) => pipeline.classifier.has_decision_function(),
            Classifier::NearestCentroid(centroid) => centroid.has_decision_function(),
            Classifier::OneVsRest(Members { decision, .. }) => *decision,
            Classifier::MultiLabel(multi) => multi.reads_decision(),
            Classifier::Calibrated(_)
            | Classifier::Voting(_)
            | Classifier::Trees(_)
            | Classifier::Neighbors(_)
            | Classifier::Regression(_)
            | Classifier::KernelRegression(_) => false,
        }
    }

    /// Whether `predict` returns probabilities.
    pub(crate) fn has_probabilities(&self) -> bool {
        match self {
            Classifier::Linear(linear) => linear.has_probabilities(),
            Classifier::Kernel(kernel) => kernel.has_probabilities(),
            Classifier::Pipeline(pipeline) => pipeline.classifier.has_probabilities(),
            Classifier::NearestCentroid(centroid) => centroid.has_probabilities(),
            Classifier::Calibrated(_) => true,
            Classifier::Trees(trees) => !trees.is_regression(),
            Classifier::Neighbors(neighbors) => !neighbors.is_regression(),
            Classifier::OneVsRest(Members { members, .. }) => {
                members.iter().all(Classifier::has_probabilities)
            }
            Classifier::MultiLabel(multi) => multi.has_probabilities(),
            Classifier::OneVsOne(_)
            | Classifier::Regression(_)
            | Classifier::KernelRegression(_) => false,
            Classifier::Voting(voting) => voting.soft,
        }
    }

    /// The linear classifier or regressor, if this is one (e.g. for `inspect`'s top features).
    pub fn as_linear(&self) -> Option<&LinearClassifier> {
        match self {
            Classifier::Linear(linear) | Classifier::Regression(linear) => Some(linear),
            _ => None,
        }
    }

    /// The trees, if this is a tree or a forest.
    pub fn as_trees(&self) -> Option<&Trees> {
        match self {
            Classifier::Trees(trees) => Some(trees),
            _ => None,
        }
    }

    /// The kernel SVM, if this is one.
    pub fn as_kernel(&self) -> Option<&KernelClassifier> {
        match self {
            Classifier::Kernel(kernel) => Some(kernel),
            _ => None,
        }
    }

    /// The nearest-neighbour classifier or regressor, if this is one.
    pub fn as_neighbors(&self) -> Option<&Neighbors> {
        match self {
            Classifier::Neighbors(neighbors) => Some(neighbors),
            _ => None,
        }
    }

    /// The kernel regressor, if this is one.
    pub fn as_kernel_regressor(&self) -> Option<&KernelRegressor> {
        match self {
            Classifier::KernelRegression(regressor) => Some(regressor),
            _ => None,
        }
    }

    /// sklearn's answer for one row of features.
    pub(crate) fn predict(&self, features: &Features) -> Prediction {
        match self {
            Classifier::Linear(classifier) => {
                let scores = match features {
                    Features::Sparse(row) => classifier.decision(row),
                    Features::Dense(values) => classifier.decision_dense(values),
                };
                let class_index = classifier.predicted_class(&scores);
                let probabilities = classifier.probabilities(&scores);
                Prediction::new(class_index, scores, probabilities)
            }
            Classifier::Kernel(classifier) => {
                let (scores, class_index, probabilities) =
                    classifier.predict(&features.to_sparse());
                Prediction::new(class_index, scores, probabilities)
            }
            Classifier::Pipeline(pipeline) => {
                let MemberPipeline { steps, classifier } = &**pipeline;
                classifier.predict(&apply_steps(steps, features.clone()))
            }
            Classifier::NearestCentroid(centroid) => centroid.predict(features),
            Classifier::Calibrated(calibrated) => calibrated.predict(features),
            Classifier::OneVsRest(members) => members.one_vs_rest(features),
            Classifier::OneVsOne(members) => members.one_vs_one(features),
            Classifier::MultiLabel(multi) => multi.predict(features),
            Classifier::Voting(voting) => voting.predict(features),
            Classifier::Trees(trees) => trees.predict(features),
            Classifier::Neighbors(neighbors) => neighbors.predict(features),
            Classifier::Regression(regressor) => {
                let scores = match features {
                    Features::Sparse(row) => regressor.decision(row),
                    Features::Dense(values) => regressor.decision_dense(values),
                };
                Prediction::new(0, scores, None)
            }
            Classifier::KernelRegression(regressor) => {
                Prediction::new(0, vec![regressor.predict(&features.to_sparse())], None)
            }
        }
    }

    /// sklearn's `_predict_binary` for a binary member: its decision value, or the probability
    /// of its class 1 when it has no decision function.
    pub(crate) fn binary_confidence(prediction: &Prediction, decision: bool) -> f64 {
        match (decision, prediction.scores.as_slice()) {
            (true, [single]) => *single,
            _ => prediction.probabilities.as_ref().map_or(f64::NAN, |p| p[1]),
        }
    }
}

impl Members {
    fn one_vs_rest(&self, features: &Features) -> Prediction {
        let predictions: Vec<Prediction> =
            self.members.iter().map(|member| member.predict(features)).collect();
        let scores: Vec<f64> = predictions
            .iter()
            .map(|prediction| Classifier::binary_confidence(prediction, self.decision))
            .collect();
        let probabilities = self.members.iter().all(Classifier::has_probabilities).then(|| {
            let positive: Vec<f64> = predictions
                .iter()
                .map(|p| p.probabilities.as_ref().map_or(f64::NAN, |p| p[1]))
                .collect();
            let rows = match positive.as_slice() {
                [single] => vec![1.0 - single, *single],
                _ => positive,
            };
            let total: f64 = rows.iter().sum();
            rows.iter().map(|p| p / total).collect()
        });
        let class_index = if self.n_classes == 2 {
            let threshold = if self.decision { 0.0 } else { 0.5 };
            usize::from(scores[0] > threshold)
        } else if self.ties_to_last {
            // sklearn < 1.4 keeps the running maximum and takes every member equal to it, so
            // ties go to the last one.
            let mut maximum = f64::NEG_INFINITY;
            let mut best = 0;
            for (index, &score) in scores.iter().enumerate() {
                maximum = maximum.max(score);
                if maximum == score {
                    best = index;
                }
            }
            best
        } else {
            argmax(&scores)
        };
        Prediction::new(class_index, scores, probabilities)
    }

    fn one_vs_one(&self, features: &Features) -> Prediction {
        let mut votes = vec![0.0f64; self.n_classes];
        let mut confidence = vec![0.0f64; self.n_classes];
        let mut members = self.members.iter();
        for i in 0..self.n_classes {
            for j in i + 1..self.n_classes {
                // `Classifier::nested` checked one member per pair.
                let Some(member) = members.next() else { break };
                let prediction = member.predict(features);
                let c = Classifier::binary_confidence(&prediction, self.decision);
                confidence[i] -= c;
                confidence[j] += c;
                if prediction.class_index == 0 {
                    votes[i] += 1.0;
                } else {
                    votes[j] += 1.0;
                }
            }
        }
        let per_class: Vec<f64> =
            votes.iter().zip(&confidence).map(|(v, s)| v + s / (3.0 * (s.abs() + 1.0))).collect();
        if self.n_classes == 2 {
            let threshold = if self.decision { 0.0 } else { 0.5 };
            let score = per_class[1];
            let class_index = usize::from(score > threshold);
            return Prediction::new(class_index, vec![score], None);
        }
        Prediction::new(argmax(&per_class), per_class, None)
    }
}

impl Voting {
    fn predict(&self, features: &Features) -> Prediction {
        let predictions = self.members.iter().map(|member| member.predict(features));
        if self.soft {
            // np.average(probas, axis=0, weights=w): the weighted sum over the weights' sum.
            let mut sums = vec![0.0f64; self.n_classes];
            for (prediction, weight) in predictions.zip(&self.weights) {
                let probabilities = prediction.probabilities.unwrap_or_default();
                for (sum, p) in sums.iter_mut().zip(&probabilities) {
                    *sum += p * weight;
                }
            }
            let total: f64 = self.weights.iter().sum();
            let average: Vec<f64> = sums.iter().map(|s| s / total).collect();
            let class_index = argmax(&average);
            return Prediction::new(class_index, average.clone(), Some(average));
        }
        // np.bincount(predictions, weights=w), then argmax.
        let mut votes = vec![0.0f64; self.n_classes];
        for (prediction, weight) in predictions.zip(&self.weights) {
            votes[prediction.class_index] += weight;
        }
        Prediction::new(argmax(&votes), votes, None)
    }
}

impl CalibratedMember {
    fn new(
        spec: &crate::model::format::CalibratedMember,
        method: CalibrationMethod,
        n_classes: usize,
        n_features: usize,
        dense: bool,
        field: &str,
    ) -> Result<Self, ModelError> {
        let classifier = Classifier::nested(
            &spec.classifier,
            n_features,
            dense,
            &format!("{field}.classifier"),
        )?;
        let columns = match spec.response {
            CalibrationInput::DecisionFunction if !classifier.has_decision_function() => {
                return Err(ModelError::invalid(
                    format!("{field}.response"),
                    "is \"decision_function\" but the classifier has none",
                ))
            }
            CalibrationInput::PredictProba if !classifier.has_probabilities() => {
                return Err(ModelError::invalid(
                    format!("{field}.response"),
                    "is \"predict_proba\" but the classifier has no probabilities",
                ))
            }
            _ if classifier.n_classes() == 2 => 1,
            _ => classifier.n_classes(),
        };
        count(
            spec.calibrators.len(),
            columns,
            &format!("{field}.calibrators"),
            "response columns",
        )?;
        count(spec.class_indices.len(), columns, &format!("{field}.class_indices"), "calibrator")?;
        if let Some(i) = spec.class_indices.iter().position(|&c| c >= n_classes) {
            return Err(ModelError::invalid(
                format!("{field}.class_indices[{i}]"),
                format!("{} is not a class index below {n_classes}", spec.class_indices[i]),
            ));
        }
        let mut calibrators = Vec::with_capacity(columns);
        for (i, calibrator) in spec.calibrators.iter().enumerate() {
            let name = format!("{field}.calibrators[{i}]");
            calibrators.push(match (method, calibrator) {
                (CalibrationMethod::Sigmoid, CalibratorSpec::Sigmoid { a, b })
                    if a.is_finite() && b.is_finite() =>
                {
                    Calibrator::Sigmoid { a: *a, b: *b }
                }
                (CalibrationMethod::Isotonic, CalibratorSpec::Isotonic { x, y }) => {
                    let increasing = x.windows(2).all(|pair| pair[0] <= pair[1]);
                    let finite = x.iter().chain(y).all(|v| v.is_finite());
                    if x.is_empty() || x.len() != y.len() || !increasing || !finite {
                        return Err(ModelError::invalid(
                            name,
                            "needs as many finite y as x values, x sorted increasing",
                        ));
                    }
                    Calibrator::Isotonic { x: x.clone(), y: y.clone() }
                }
                _ => {
                    return Err(ModelError::invalid(
                        name,
                        format!(
                            "is not a finite {method:?} calibrator (sigmoid: a, b; isotonic: x, y)"
                        ),
                    ))
                }
            });
        }
        Ok(CalibratedMember {
            classifier,
            response: spec.response,
            class_indices: spec.class_indices.clone(),
            calibrators,
        })
    }

    /// `_CalibratedClassifier.predict_proba` for one row.
    fn probabilities(&self, features: &Features, n_classes: usize) -> Vec<f64> {
        let prediction = self.classifier.predict(features);
        let response: &[f64] = match self.response {
            CalibrationInput::DecisionFunction => &prediction.scores,
            CalibrationInput::PredictProba => {
                let probabilities = prediction.probabilities.as_deref().unwrap_or_default();
                if probabilities.len() == 2 {
                    &probabilities[1..]
                } else {
                    probabilities
                }
            }
        };
        let mut proba = vec![0.0f64; n_classes];
        for ((calibrator, &column), &class) in
            self.calibrators.iter().zip(response).zip(&self.class_indices)
        {
            // Two classes: the one calibrator gives class 1.
            let class = if n_classes == 2 { 1 } else { class };
            if let Some(slot) = proba.get_mut(class) {
                *slot = calibrator.predict(column);
            }
        }
        if n_classes == 2 {
            proba[0] = 1.0 - proba[1];
        } else {
            let total: f64 = proba.iter().sum();
            if total != 0.0 {
                proba.iter_mut().for_each(|p| *p /= total);
            } else {
                proba.iter_mut().for_each(|p| *p = 1.0 / n_classes as f64);
            }
        }
        for p in proba.iter_mut() {
            if 1.0 < *p && *p <= 1.0 + 1e-5 {
                *p = 1.0;
            }
        }
        proba
    }
}

impl Calibrated {
    fn predict(&self, features: &Features) -> Prediction {
        let mut mean = vec![0.0f64; self.n_classes];
        for member in &self.members {
            let proba = member.probabilities(features, self.n_classes);
            mean.iter_mut().zip(&proba).for_each(|(m, p)| *m += p);
        }
        let n = self.members.len() as f64;
        mean.iter_mut().for_each(|m| *m /= n);
        Prediction::new(argmax(&mean), mean.clone(), Some(mean))
    }
}

impl Calibrator {
    fn predict(&self, t: f64) -> f64 {
        match self {
            // _SigmoidCalibration: expit(-(a t + b)).
            Calibrator::Sigmoid { a, b } => 1.0 / (1.0 + (a * t + b).exp()),
            // IsotonicRegression(out_of_bounds="clip"): clip, then scipy's interp1d.
            Calibrator::Isotonic { x, y } => {
                if x.len() == 1 {
                    return y[0];
                }
                let last = x.len() - 1;
                let t = t.clamp(x[0], x[last]);
                // searchsorted(x, t, side="left"), clipped to 1..=last.
                let hi = x.partition_point(|&v| v < t).clamp(1, last);
                let lo = hi - 1;
                let slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
                slope * (t - x[lo]) + y[lo]
            }
        }
    }
}

/// numpy's argmax: the first maximum.
pub(crate) fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (index, &value) in values.iter().enumerate() {
        if value > values[best] {
            best = index;
        }
    }
    best
}

fn count(found: usize, expected: usize, field: &str, per: &str) -> Result<(), ModelError> {
    if found == expected {
        Ok(())
    } else {
        Err(ModelError::invalid(
            field,
            format!("{found} entries; expected {expected} (one per {per})"),
        ))
    }
}

fn same_classes(outer: &[LabelSpec], inner: &[LabelSpec], field: &str) -> Result<(), ModelError> {
    if outer == inner {
        Ok(())
    } else {
        Err(ModelError::invalid(format!("{field}.classes"), "differ from its classifier's classes"))
    }
}

/// One-vs-rest and one-vs-one members are binary and answer what the wrapper reads from them.
fn check_binary_members(
    members: &[Classifier],
    response: CalibrationInput,
    field: &str,
) -> Result<(), ModelError> {
    for (i, member) in members.iter().enumerate() {
        if member.n_classes() != 2 {
            return Err(ModelError::invalid(
                format!("{field}[{i}]"),
                format!("has {} classes; members are binary", member.n_classes()),
            ));
        }
        let answers = match response {
            CalibrationInput::DecisionFunction => member.has_decision_function(),
            CalibrationInput::PredictProba => member.has_probabilities(),
        };
        if !answers {
            return Err(ModelError::invalid(
                format!("{field}[{i}]"),
                format!("does not answer {response:?}, which the wrapper reads"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Model;

    /// TINY's vectorizer ("good", "good phone", "bad", "phone") with another classifier and
    /// optional steps.
    fn model(classifier: serde_json::Value, steps: serde_json::Value) -> Result<Model, String> {
        let file = json!({
            "format": "mod_classify-model", "format_version": 2,
            "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                           "lowercase": true,
                           "vocabulary": ["good", "good phone", "bad", "phone"]},
            "steps": steps,
            "classifier": classifier,
        });
        Model::from_json(file.to_string().as_bytes()).map_err(|e| e.to_string())
    }

    fn linear(
        classes: serde_json::Value,
        coef: serde_json::Value,
        probability: &str,
    ) -> serde_json::Value {
        json!({"kind": "linear", "estimator": "LogisticRegression", "classes": classes,
               "coef": coef, "intercept": [0.0], "probability": probability})
    }

    #[test]
    fn one_vs_rest_ties_go_to_the_last_member_as_in_sklearn() {
        let member = |w: [f64; 4]| linear(json!([0, 1]), json!([w]), "ovr_sigmoid");
        let ovr = json!({"kind": "one_vs_rest", "estimator": "OneVsRestClassifier",
                         "classes": ["a", "b", "c"], "response": "decision_function",
                         "ties": "highest",
                         "estimators": [member([1.0, 0.0, 0.0, 0.0]), member([1.0, 0.0, 0.0, 0.0]),
                                        member([0.0, 0.0, 1.0, 0.0])]});
        let model = model(ovr, json!([])).unwrap();
        let prediction = model.predict("good");
        assert_eq!(prediction.scores, vec![1.0, 1.0, 0.0]);
        assert_eq!(prediction.class_index, 1);
        let p = prediction.probabilities.unwrap();
        let s = 1.0 / (1.0 + (-1.0f64).exp());
        let total = s + s + 0.5;
        assert!((p[0] - s / total).abs() < 1e-15 && (p[2] - 0.5 / total).abs() < 1e-15);
    }

    #[test]
    fn hard_voting_counts_weighted_votes_and_soft_voting_averages() {
        let member = |w: [f64; 4]| linear(json!([0, 1]), json!([w]), "ovr_sigmoid");
        let members = json!([
            member([1.0, 0.0, 0.0, 0.0]),
            member([-1.0, 0.0, 0.0, 0.0]),
            member([-2.0, 0.0, 0.0, 0.0])
        ]);
        let hard = json!({"kind": "voting", "estimator": "VotingClassifier", "classes": ["x", "y"],
                          "voting": "hard", "weights": [3.0, 1.0, 1.0], "estimators": members});
        let prediction = model(hard, json!([])).unwrap().predict("good");
        assert_eq!((prediction.scores.clone(), prediction.class_index), (vec![2.0, 3.0], 1));
        let soft = json!({"kind": "voting", "estimator": "VotingClassifier", "classes": ["x", "y"],
                          "voting": "soft", "weights": null, "estimators": members});
        let prediction = model(soft, json!([])).unwrap().predict("good");
        let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
        let p1 = (sig(1.0) + sig(-1.0) + sig(-2.0)) / 3.0;
        assert!((prediction.probabilities.unwrap()[1] - p1).abs() < 1e-15);
        assert_eq!(prediction.class_index, usize::from(p1 > 0.5));
    }

    #[test]
    fn calibrated_sigmoid_and_isotonic_members_are_averaged() {
        let base = linear(json!(["n", "p"]), json!([[2.0, 0.0, -1.0, 0.0]]), "ovr_sigmoid");
        let calibrated = json!({"kind": "calibrated", "estimator": "CalibratedClassifierCV",
            "classes": ["n", "p"], "method": "isotonic",
            "members": [{"classifier": base, "response": "decision_function",
                         "class_indices": [1],
                         "calibrators": [{"x": [-1.0, 0.0, 4.0], "y": [0.0, 0.2, 1.0]}]}]});
        let model = model(calibrated, json!([])).unwrap();
        // "good": decision 2.0, interpolated between (0, 0.2) and (4, 1.0); clipped beyond 4.
        let p = model.predict("good").probabilities.unwrap();
        assert!((p[1] - 0.6).abs() < 1e-15 && (p[0] - 0.4).abs() < 1e-15, "{p:?}");
        assert_eq!(model.predict("good good good").probabilities.unwrap()[1], 1.0);
        assert_eq!(model.predict("bad bad bad").probabilities.unwrap()[1], 0.0);
    }

    #[test]
    fn steps_run_before_the_classifier_and_are_named_in_errors() {
        let classifier = json!({"kind": "linear", "estimator": "LinearSVC", "classes": ["n", "p"],
                                "coef": [[1.0, -1.0]], "intercept": [0.0]});
        let select = json!([{"kind": "select", "estimator": "SelectKBest", "n_features_in": 4,
                             "support": [0, 2]},
                            {"kind": "normalize", "estimator": "Normalizer", "norm": "l1"}]);
        let model = model(classifier.clone(), select).unwrap();
        let prediction = model.predict("good bad bad bad");
        assert_eq!(prediction.scores, vec![0.25 - 0.75]);
        assert_eq!(model.feature_name(1), "bad");
        let wide = json!([{"kind": "select", "estimator": "SelectKBest", "n_features_in": 5,
                           "support": [0, 2]}]);
        let err = super::tests::model(classifier, wide).unwrap_err();
        assert!(err.contains("steps[0].n_features_in"), "{err}");
    }

    #[test]
    fn a_broken_member_is_named_by_its_path() {
        let member = linear(json!([0, 1]), json!([[1.0, 0.0]]), "ovr_sigmoid");
        let ovr = json!({"kind": "one_vs_one", "estimator": "OneVsOneClassifier",
                         "classes": ["a", "b"], "response": "decision_function",
                         "estimators": [member]});
        let err = model(ovr, json!([])).unwrap_err();
        assert!(err.contains("classifier.estimators[0].coef[0]"), "{err}");
    }

    #[test]
    fn version_2_files_are_written_as_version_1_when_nothing_needs_2() {
        let plain = crate::fixtures::tiny().to_file();
        assert_eq!(plain.format_version, 1);
        let member = linear(json!([0, 1]), json!([[1.0, 0.0, 0.0, 0.0]]), "ovr_sigmoid");
        let ovo = json!({"kind": "one_vs_one", "estimator": "OneVsOneClassifier",
                         "classes": ["a", "b"], "response": "decision_function",
                         "estimators": [member]});
        let model = model(ovo, json!([])).unwrap();
        assert_eq!(model.to_file().format_version, 2);
        let binary = crate::model::binary::write(&model);
        let again = Model::from_bytes(&binary).unwrap();
        assert_eq!(again.predict("good"), model.predict("good"));
    }
}
