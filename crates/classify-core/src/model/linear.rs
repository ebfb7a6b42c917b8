//! Linear classifiers (LinearSVC, LogisticRegression, SGD, Ridge, Perceptron, PassiveAggressive,
//! and naive Bayes, whose joint log-likelihood is linear in the counts): a sparse row times a weight
//! matrix, summed in feature-index order as scipy's CSR product does.

use crate::error::ModelError;
use crate::large_array::LargeArray;
use crate::model::format::ProbabilityKind;
use crate::sparse::SparseRow;

/// The dimensions of a linear model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) n_rows: usize,
    pub(crate) n_features: usize,
    pub(crate) n_classes: usize,
}

/// Weights stored feature-major (`weights[feature * n_rows + row]`) so that a document touches
/// only the few cache lines of the features it contains.
#[derive(Debug)]
pub struct LinearClassifier {
    n_rows: usize,
    n_features: usize,
    weights: LargeArray<f64>,
    intercept: Vec<f64>,
    probability: Option<ProbabilityKind>,
    /// False for naive Bayes, whose scores are a joint log-likelihood: sklearn's object has no
    /// `decision_function`, so wrappers read its probabilities instead.
    has_decision_function: bool,
}

impl LinearClassifier {
    /// Builds from sklearn's `coef_` rows (JSON form); `n_classes` decides whether one row
    /// (binary) or one per class fits.
    pub(crate) fn new(
        coef: &[Vec<f64>],
        intercept: &[f64],
        n_classes: usize,
        n_features: usize,
        probability: Option<ProbabilityKind>,
    ) -> Result<Self, ModelError> {
        let n_rows = coef.len();
        let mut weights = LargeArray::zeroed(n_rows * n_features);
        for (row_index, row) in coef.iter().enumerate() {
            if row.len() != n_features {
                return Err(ModelError::invalid(
                    format!("classifier.coef[{row_index}]"),
                    format!(
                        "has {} values but the vectorizer has {n_features} features",
                        row.len()
                    ),
                ));
            }
            for (feature, &value) in row.iter().enumerate() {
                weights[feature * n_rows + row_index] = value;
            }
        }
        let shape = Shape { n_rows, n_features, n_classes };
        LinearClassifier::from_feature_major(weights, intercept.to_vec(), shape, probability)
    }

    /// Builds from weights already in feature-major order (binary form), checking every value.
    pub(crate) fn from_feature_major(
        weights: LargeArray<f64>,
        intercept: Vec<f64>,
        shape: Shape,
        probability: Option<ProbabilityKind>,
    ) -> Result<Self, ModelError> {
        let Shape { n_rows, n_features, n_classes } = shape;
        let expected_rows: &[usize] = if n_classes == 2 { &[1, 2] } else { &[n_classes] };
        if n_classes < 2 {
            return Err(ModelError::invalid(
                "classifier.classes",
                format!("{n_classes} classes; a classifier needs at least 2"),
            ));
        }
        if !expected_rows.contains(&n_rows) {
            return Err(ModelError::invalid(
                "classifier.coef",
                format!("{n_rows} rows for {n_classes} classes (expected {expected_rows:?})"),
            ));
        }
        if intercept.len() != n_rows {
            return Err(ModelError::invalid(
                "classifier.intercept",
                format!("{} values for {n_rows} coefficient rows", intercept.len()),
            ));
        }
        if let Some(position) = intercept.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::invalid(
                format!("classifier.intercept[{position}]"),
                "is not a finite number",
            ));
        }
        if weights.len() != n_rows * n_features {
            return Err(ModelError::invalid(
                "classifier.coef",
                format!("{} weights for {n_rows} rows x {n_features} features", weights.len()),
            ));
        }
        if let Some(position) = weights.iter().position(|v| !v.is_finite()) {
            let (feature, row) = (position / n_rows, position % n_rows);
            return Err(ModelError::invalid(
                format!("classifier.coef[{row}][{feature}]"),
                format!("{} is not a finite number", weights[position]),
            ));
        }
        Ok(LinearClassifier {
            n_rows,
            n_features,
            weights,
            intercept,
            probability,
            has_decision_function: true,
        })
    }

    /// Records which sklearn estimator the weights came from (naive Bayes has no decision
    /// function).
    pub(crate) fn with_estimator(mut self, estimator: &str) -> Self {
        self.has_decision_function = !NAIVE_BAYES.contains(&estimator);
        self
    }

    /// Whether sklearn's estimator has `decision_function`.
    /// How `predict_proba` follows from the scores, when the model has it.
    pub(crate) fn probability(&self) -> Option<ProbabilityKind> {
        self.probability
    }

    pub(crate) fn has_decision_function(&self) -> bool {
        self.has_decision_function
    }

    /// Whether `probabilities` answers.
    pub(crate) fn has_probabilities(&self) -> bool {
        self.probability.is_some()
    }

    /// The number of classes: two for a single decision row.
    pub(crate) fn n_classes(&self) -> usize {
        self.n_rows.max(2)
    }

    /// All weights, feature-major.
    pub(crate) fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The weight of `feature` in coefficient row `row`.
    pub fn weight(&self, feature: usize, row: usize) -> f64 {
        self.weights[feature * self.n_rows + row]
    }

    pub(crate) fn intercept(&self) -> &[f64] {
        &self.intercept
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// sklearn's `decision_function` for one row (one value per coefficient row).
    pub(crate) fn decision(&self, row: &SparseRow) -> Vec<f64> {
        // One view of the weights for the whole row: each `LargeArray` access picks its storage.
        let weights: &[f64] = &self.weights;
        let mut scores = vec![0.0; self.n_rows];
        // A count row without repeated terms holds only ones, and `sum + 1.0 * weight` is
        // exactly `sum + weight`: such rows skip the multiplications.
        if row.entries.iter().all(|&(_, value)| value == 1.0) {
            add_blocks::<true>(weights, self.n_rows, row, &mut scores);
        } else {
            add_blocks::<false>(weights, self.n_rows, row, &mut scores);
        }
        for (score, intercept) in scores.iter_mut().zip(&self.intercept) {
            *score += intercept;
        }
        scores
    }

    /// `decision` for a dense row (after a projection): every column in index order.
    pub(crate) fn decision_dense(&self, values: &[f64]) -> Vec<f64> {
        let mut scores = vec![0.0; self.n_rows];
        for (feature, &value) in values.iter().enumerate().take(self.n_features) {
            let weights = &self.weights[feature * self.n_rows..(feature + 1) * self.n_rows];
            for (score, &weight) in scores.iter_mut().zip(weights) {
                *score += value * weight;
            }
        }
        for (score, intercept) in scores.iter_mut().zip(&self.intercept) {
            *score += intercept;
        }
        scores
    }

    /// The index of the predicted class, breaking ties to the lowest index as numpy's argmax does.
    pub(crate) fn predicted_class(&self, scores: &[f64]) -> usize {
        if let [single] = scores {
            return usize::from(*single > 0.0);
        }
        let mut best = 0;
        for (index, &score) in scores.iter().enumerate() {
            if score > scores[best] {
                best = index;
            }
        }
        best
    }

    /// sklearn's `predict_proba`, if the model has probabilities.
    pub(crate) fn probabilities(&self, scores: &[f64]) -> Option<Vec<f64>> {
        let kind = self.probability?;
        let per_class: Vec<f64> = match (kind, scores) {
            (ProbabilityKind::OvrSigmoid | ProbabilityKind::ModifiedHuber, [single]) => {
                let p = binary_probability(kind, *single);
                vec![1.0 - p, p]
            }
            (ProbabilityKind::OvrSigmoid, _) => {
                let p: Vec<f64> = scores.iter().map(|&s| expit(s)).collect();
                let total: f64 = p.iter().sum();
                p.iter().map(|v| v / total).collect()
            }
            (ProbabilityKind::Softmax, [single]) => softmax(&[-single, *single]),
            (ProbabilityKind::Softmax, _) => softmax(scores),
            (ProbabilityKind::ModifiedHuber, _) => {
                // SGDClassifier.predict_proba: uniform when every class gets 0.
                let p: Vec<f64> = scores.iter().map(|s| (s.clamp(-1.0, 1.0) + 1.0) / 2.0).collect();
                let total: f64 = p.iter().sum();
                if total == 0.0 {
                    vec![1.0 / p.len() as f64; p.len()]
                } else {
                    p.iter().map(|v| v / total).collect()
                }
            }
        };
        Some(per_class)
    }
}

/// Sums `row`'s terms into `scores`, one value per coefficient row, classes in blocks whose sums
/// stay in registers over all the features (summing into `scores` reloaded and stored every
/// class's sum once per feature). Each class still adds its terms in the row's order, as scipy's
/// sparse product does. A block's reads of the features' rows do not wait on one another, so
/// their cache misses overlap. `UNIT`: every value of the row is 1.0.
fn add_blocks<const UNIT: bool>(
    weights: &[f64],
    n_rows: usize,
    row: &SparseRow,
    scores: &mut [f64],
) {
    let mut first = 0;
    while first < n_rows {
        let block = &mut scores[first..];
        // 20 sums take 10 of the 16 SSE registers; the common 20-class model is one pass.
        first += match n_rows - first {
            20.. => add_block::<20, UNIT>(weights, n_rows, first, row, block),
            16.. => add_block::<16, UNIT>(weights, n_rows, first, row, block),
            8.. => add_block::<8, UNIT>(weights, n_rows, first, row, block),
            4.. => add_block::<4, UNIT>(weights, n_rows, first, row, block),
            _ => add_block::<1, UNIT>(weights, n_rows, first, row, block),
        };
    }
}

/// Adds `row`'s terms to the scores of classes `first..first + N` (the start of `scores`) and
/// returns N. `weights` is feature-major, `n_rows` weights per feature.
fn add_block<const N: usize, const UNIT: bool>(
    weights: &[f64],
    n_rows: usize,
    first: usize,
    row: &SparseRow,
    scores: &mut [f64],
) -> usize {
    let mut sums = [0.0f64; N];
    for &(feature, value) in &row.entries {
        let start = feature as usize * n_rows + first;
        for (sum, &weight) in sums.iter_mut().zip(&weights[start..start + N]) {
            *sum += if UNIT { weight } else { value * weight };
        }
    }
    scores[..N].copy_from_slice(&sums);
    N
}

/// The estimators whose linear scores are a joint log-likelihood, not a decision function.
const NAIVE_BAYES: [&str; 3] = ["MultinomialNB", "ComplementNB", "BernoulliNB"];

/// A binary single-row model's probability of its class 1 from its decision value, as
/// `predict_proba[:, 1]` computes it (softmax models have two rows and never get here).
pub(crate) fn binary_probability(kind: ProbabilityKind, decision: f64) -> f64 {
    match kind {
        ProbabilityKind::OvrSigmoid => expit(decision),
        ProbabilityKind::Softmax => softmax(&[-decision, decision])[1],
        ProbabilityKind::ModifiedHuber => (decision.clamp(-1.0, 1.0) + 1.0) / 2.0,
    }
}

fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// scipy's softmax: shift by the maximum, exponentiate, normalize.
fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f64 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(entries: &[(u32, f64)]) -> SparseRow {
        SparseRow { entries: entries.to_vec() }
    }

    #[test]
    fn binary_single_row_predicts_positive_class_only_above_zero() {
        let model = LinearClassifier::new(&[vec![1.0, -1.0]], &[0.0], 2, 2, None).unwrap();
        assert_eq!(model.predicted_class(&model.decision(&row(&[(0, 1.0)]))), 1);
        assert_eq!(model.predicted_class(&model.decision(&row(&[]))), 0);
    }

    #[test]
    fn multiclass_ties_go_to_the_lowest_index() {
        let model =
            LinearClassifier::new(&[vec![1.0], vec![1.0], vec![0.0]], &[0.0; 3], 3, 1, None)
                .unwrap();
        assert_eq!(model.predicted_class(&model.decision(&row(&[(0, 2.0)]))), 0);
    }

    #[test]
    fn every_class_count_sums_each_class_in_row_order() {
        // Weights whose sums depend on the order of addition, for 2..=45 classes: every mix of
        // the blocks must give exactly the sequential sum plus intercept, with and without the
        // all-ones shortcut.
        for entries in
            [[(0, 1.0), (2, 3.0), (5, 0.5), (6, 7.0)], [(0, 1.0), (2, 1.0), (5, 1.0), (6, 1.0)]]
        {
            for n_classes in 2..=45usize {
                let coef: Vec<Vec<f64>> = (0..n_classes)
                    .map(|c| {
                        (0..7).map(|f| 1e16 * ((c + f) % 3) as f64 - 0.1 * (f + c) as f64).collect()
                    })
                    .collect();
                let intercept: Vec<f64> = (0..n_classes).map(|c| c as f64 * 0.25).collect();
                let model = LinearClassifier::new(&coef, &intercept, n_classes, 7, None).unwrap();
                let scores = model.decision(&row(&entries));
                for (class, score) in scores.iter().enumerate() {
                    let sequential = entries.iter().fold(0.0, |sum, &(feature, value)| {
                        sum + value * coef[class][feature as usize]
                    });
                    assert_eq!(
                        *score,
                        sequential + intercept[class],
                        "{n_classes} classes, class {class}"
                    );
                }
            }
        }
    }

    #[test]
    fn non_finite_weights_are_rejected_with_their_position() {
        let err = LinearClassifier::new(&[vec![0.0, f64::NAN]], &[0.0], 2, 2, None).unwrap_err();
        assert!(err.to_string().contains("classifier.coef[0][1]"), "{err}");
    }
}
