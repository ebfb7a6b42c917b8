//! Multi-label models: one binary member per label (`OneVsRestClassifier` or
//! `MultiOutputClassifier` fitted on an indicator matrix), each label set as sklearn's `predict`
//! sets it.
//!
//! Members that are single-row linear models (one-vs-rest linear SVMs, logistic regressions, SGD
//! classifiers — what `classify train --multi-label` writes) are stacked into one weight matrix,
//! one row per label: a text is read once for all labels instead of once per label, the binary
//! model form keeps the matrix in its COEF section (mapped, not parsed from META), and each
//! label's decision value is the same sum, in the same order, as its member's alone.

use crate::error::ModelError;
use crate::large_array::LargeArray;
use crate::model::classifier::Classifier;
use crate::model::format::{CalibrationInput, ClassifierSpec, ProbabilityKind};
use crate::model::linear::{binary_probability, LinearClassifier, Shape};
use crate::model::steps::Features;
use crate::model::Prediction;

/// One binary member per label, and how a label is set.
#[derive(Debug)]
pub struct MultiLabel {
    /// Members are read for their decision value, else for their class-1 probability.
    decision: bool,
    /// Set a label when its score is above this; None: when its member predicts class 1.
    threshold: Option<f64>,
    members: Members,
}

#[derive(Debug)]
enum Members {
    /// Each label's member, asked on its own.
    Each(Vec<Classifier>),
    /// Single-row linear members side by side: row `r` is label `r`'s weights.
    Stacked { weights: LinearClassifier, probability: Option<ProbabilityKind> },
}

impl MultiLabel {
    /// From members already built and checked; stacks them when they are all single-row linear
    /// models with a decision function and one way to give probabilities.
    pub(crate) fn new(
        members: Vec<Classifier>,
        response: CalibrationInput,
        threshold: Option<f64>,
    ) -> Result<MultiLabel, ModelError> {
        let decision = response == CalibrationInput::DecisionFunction;
        let linear: Option<Vec<&LinearClassifier>> = members
            .iter()
            .map(|member| match member {
                Classifier::Linear(linear)
                    if linear.n_rows() == 1 && linear.has_decision_function() =>
                {
                    Some(linear)
                }
                _ => None,
            })
            .collect();
        let members = match linear {
            Some(rows) if !rows.is_empty() && same_probability(&rows) => {
                let probability = rows[0].probability();
                let n_features = rows[0].n_features();
                let n_rows = rows.len();
                let mut weights = LargeArray::zeroed(n_rows * n_features);
                for (row, member) in rows.iter().enumerate() {
                    for feature in 0..n_features {
                        weights[feature * n_rows + row] = member.weight(feature, 0);
                    }
                }
                let intercept = rows.iter().map(|member| member.intercept()[0]).collect();
                let shape = Shape { n_rows, n_features, n_classes: n_rows.max(2) };
                let weights =
                    LinearClassifier::from_feature_major(weights, intercept, shape, probability)?;
                Members::Stacked { weights, probability }
            }
            _ => Members::Each(members),
        };
        Ok(MultiLabel { decision, threshold, members })
    }

    /// The stacked form read back from the binary model's COEF section (`weights`, feature-major,
    /// one row per label) and the members' settings, whose `coef` were left out of META.
    pub(crate) fn from_stacked(
        spec: &ClassifierSpec,
        weights: LargeArray<f64>,
        n_features: usize,
    ) -> Result<MultiLabel, ModelError> {
        let ClassifierSpec::MultiLabel { estimators, response, threshold, .. } = spec else {
            return Err(ModelError::invalid("classifier", "a COEF section needs a linear model"));
        };
        let mut intercept = Vec::with_capacity(estimators.len());
        let mut probabilities = Vec::with_capacity(estimators.len());
        for (index, member) in estimators.iter().enumerate() {
            let ClassifierSpec::Linear { intercept: member_intercept, probability, .. } = member
            else {
                return Err(ModelError::invalid(
                    format!("classifier.estimators[{index}]"),
                    "is not a linear model, but the file stacks every member's weights in COEF",
                ));
            };
            let [value] = member_intercept.as_slice() else {
                return Err(ModelError::invalid(
                    format!("classifier.estimators[{index}].intercept"),
                    "must hold one value (a single-row member)",
                ));
            };
            intercept.push(*value);
            probabilities.push(*probability);
        }
        let probability = probabilities.first().copied().flatten();
        if probabilities.iter().any(|p| *p != probability) {
            return Err(ModelError::invalid(
                "classifier.estimators",
                "stacked members must all give probabilities the same way",
            ));
        }
        let n_rows = intercept.len();
        let shape = Shape { n_rows, n_features, n_classes: n_rows.max(2) };
        let weights = LinearClassifier::from_feature_major(weights, intercept, shape, probability)
            .map_err(|e| e.renamed("classifier.coef", "classifier.estimators[*].coef"))?;
        Ok(MultiLabel {
            decision: *response == CalibrationInput::DecisionFunction,
            threshold: *threshold,
            members: Members::Stacked { weights, probability },
        })
    }

    pub(crate) fn n_labels(&self) -> usize {
        match &self.members {
            Members::Each(members) => members.len(),
            Members::Stacked { weights, .. } => weights.n_rows(),
        }
    }

    pub(crate) fn reads_decision(&self) -> bool {
        self.decision
    }

    pub(crate) fn has_probabilities(&self) -> bool {
        match &self.members {
            Members::Each(members) => members.iter().all(Classifier::has_probabilities),
            Members::Stacked { probability, .. } => probability.is_some(),
        }
    }

    /// The stacked weights (one row per label), when the members are stacked.
    pub(crate) fn stacked(&self) -> Option<&LinearClassifier> {
        match &self.members {
            Members::Stacked { weights, .. } => Some(weights),
            Members::Each(_) => None,
        }
    }

    /// Per label: its member's score, its class-1 probability, and whether it is set, as
    /// `OneVsRestClassifier.predict` (score above the threshold) or `MultiOutputClassifier.predict`
    /// (the member's own answer) decide it.
    pub(crate) fn predict(&self, features: &Features) -> Prediction {
        let (scores, probabilities, own_answers) = match &self.members {
            Members::Each(members) => {
                let predictions: Vec<Prediction> =
                    members.iter().map(|member| member.predict(features)).collect();
                let scores = predictions
                    .iter()
                    .map(|prediction| Classifier::binary_confidence(prediction, self.decision))
                    .collect();
                let probabilities = members.iter().all(Classifier::has_probabilities).then(|| {
                    predictions
                        .iter()
                        .map(|p| p.probabilities.as_ref().map_or(f64::NAN, |p| p[1]))
                        .collect()
                });
                let own: Vec<bool> = predictions.iter().map(|p| p.class_index == 1).collect();
                (scores, probabilities, own)
            }
            Members::Stacked { weights, probability } => {
                let decisions = match features {
                    Features::Sparse(row) => weights.decision(row),
                    Features::Dense(values) => weights.decision_dense(values),
                };
                // A single-row member predicts class 1 for a decision above 0.
                let own = decisions.iter().map(|&d| d > 0.0).collect();
                let probabilities: Option<Vec<f64>> = probability
                    .map(|kind| decisions.iter().map(|&d| binary_probability(kind, d)).collect());
                let scores = match (&probabilities, self.decision) {
                    (_, true) => decisions,
                    (Some(p), false) => p.clone(),
                    (None, false) => vec![f64::NAN; decisions.len()],
                };
                (scores, probabilities, own)
            }
        };
        let label_set = (0..scores.len())
            .filter(|&label| match self.threshold {
                Some(threshold) => scores[label] > threshold,
                None => own_answers[label],
            })
            .collect();
        Prediction { class_index: 0, scores, probabilities, label_set }
    }

    /// Puts the stacked rows back into the members' `coef` of `spec` (for the JSON form).
    pub(crate) fn restore(&self, spec: &mut ClassifierSpec) {
        let (Members::Stacked { weights, .. }, ClassifierSpec::MultiLabel { estimators, .. }) =
            (&self.members, spec)
        else {
            return;
        };
        for (row, member) in estimators.iter_mut().enumerate() {
            if let ClassifierSpec::Linear { coef, .. } = member {
                *coef = vec![(0..weights.n_features()).map(|f| weights.weight(f, row)).collect()];
            }
        }
    }

    /// Empties the members' `coef` of `spec` when their weights live in the stacked matrix, so
    /// that a model's settings do not hold them twice.
    pub(crate) fn strip(&self, spec: &mut ClassifierSpec) {
        let (Members::Stacked { .. }, ClassifierSpec::MultiLabel { estimators, .. }) =
            (&self.members, spec)
        else {
            return;
        };
        for member in estimators.iter_mut() {
            if let ClassifierSpec::Linear { coef, .. } = member {
                *coef = Vec::new();
            }
        }
    }
}

fn same_probability(rows: &[&LinearClassifier]) -> bool {
    rows.iter().all(|row| row.probability() == rows[0].probability())
}
