//! `NearestCentroid`: the class whose centroid is nearest. sklearn < 1.5 answers only the label
//! (scores here are the negated distances); sklearn ≥ 1.5 adds a discriminant decision function
//! and probabilities for the euclidean metric, which the model file asks for with
//! `"decision": "discriminant"`.

use crate::error::ModelError;
use crate::model::classifier::argmax;
use crate::model::format::{CentroidDecision, CentroidMetric, CentroidPredict, ClassifierSpec};
use crate::model::steps::Features;
use crate::model::Prediction;

#[derive(Debug)]
pub struct NearestCentroid {
    metric: CentroidMetric,
    centroids: Vec<Vec<f64>>,
    /// Discriminant mode: log priors, the per-feature scale, the centroids divided by it, and
    /// whether `predict` takes the nearest raw centroid (sklearn does when the priors are uniform).
    discriminant: Option<Discriminant>,
}

#[derive(Debug)]
struct Discriminant {
    log_prior: Vec<f64>,
    std_dev: Vec<f64>,
    scaled_centroids: Vec<Vec<f64>>,
    uniform_prior: bool,
}

impl NearestCentroid {
    pub(crate) fn new(
        spec: &ClassifierSpec,
        n_features: usize,
        field: &str,
    ) -> Result<Self, ModelError> {
        let ClassifierSpec::NearestCentroid {
            classes,
            centroids,
            metric,
            decision,
            class_prior,
            within_class_std_dev,
            predict,
            ..
        } = spec
        else {
            return Err(ModelError::invalid(
                format!("{field}.kind"),
                "expected \"nearest_centroid\"",
            ));
        };
        if centroids.len() != classes.len() || classes.len() < 2 {
            return Err(ModelError::invalid(
                format!("{field}.centroids"),
                format!("{} rows for {} classes (at least 2)", centroids.len(), classes.len()),
            ));
        }
        for (i, row) in centroids.iter().enumerate() {
            finite_row(&format!("{field}.centroids[{i}]"), row, n_features)?;
        }
        let discriminant = match decision {
            CentroidDecision::Distances => None,
            CentroidDecision::Discriminant => {
                let (Some(prior), Some(std_dev)) = (class_prior, within_class_std_dev) else {
                    return Err(ModelError::invalid(
                        field,
                        "\"discriminant\" needs class_prior and within_class_std_dev",
                    ));
                };
                finite_row(&format!("{field}.class_prior"), prior, classes.len())?;
                finite_row(&format!("{field}.within_class_std_dev"), std_dev, n_features)?;
                let uniform_prior = *predict == CentroidPredict::Nearest;
                let scaled_centroids = centroids
                    .iter()
                    .map(|row| row.iter().zip(std_dev).map(|(c, s)| scaled(*c, *s)).collect())
                    .collect();
                Some(Discriminant {
                    log_prior: prior.iter().map(|p| p.ln()).collect(),
                    std_dev: std_dev.clone(),
                    scaled_centroids,
                    uniform_prior,
                })
            }
        };
        Ok(NearestCentroid { metric: *metric, centroids: centroids.clone(), discriminant })
    }

    pub(crate) fn n_classes(&self) -> usize {
        self.centroids.len()
    }

    /// sklearn ≥ 1.5 with the euclidean metric.
    pub(crate) fn has_decision_function(&self) -> bool {
        self.discriminant.is_some() && self.metric == CentroidMetric::Euclidean
    }

    pub(crate) fn has_probabilities(&self) -> bool {
        self.has_decision_function()
    }

    pub(crate) fn predict(&self, features: &Features) -> Prediction {
        let dense = dense_row(features, self.centroids[0].len());
        let distances: Vec<f64> =
            self.centroids.iter().map(|c| distance(self.metric, &dense, c)).collect();
        let nearest = argmin(&distances);
        let Some(discriminant) = &self.discriminant else {
            let scores = distances.iter().map(|d| -d).collect();
            return Prediction::new(nearest, scores, None);
        };
        let x: Vec<f64> =
            dense.iter().zip(&discriminant.std_dev).map(|(v, s)| scaled(*v, *s)).collect();
        // -d² + 2 log prior, with d the (sqrt of the) distance between the scaled vectors.
        let per_class: Vec<f64> = discriminant
            .scaled_centroids
            .iter()
            .zip(&discriminant.log_prior)
            .map(|(c, log_prior)| {
                let d = distance(self.metric, &x, c);
                -(d * d) + 2.0 * log_prior
            })
            .collect();
        let class_index = if discriminant.uniform_prior { nearest } else { argmax(&per_class) };
        if !self.has_decision_function() {
            let scores = distances.iter().map(|d| -d).collect();
            return Prediction::new(class_index, scores, None);
        }
        let max = per_class.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let shifted: Vec<f64> = per_class.iter().map(|s| s - max).collect();
        let log_total = shifted.iter().map(|s| s.exp()).sum::<f64>().ln();
        let probabilities = shifted.iter().map(|s| (s - log_total).exp()).collect();
        let scores = match per_class.as_slice() {
            [first, second] => vec![second - first],
            _ => per_class,
        };
        Prediction::new(class_index, scores, Some(probabilities))
    }
}

/// Division by a zero standard deviation leaves the value as it is (sklearn's mask).
fn scaled(value: f64, std_dev: f64) -> f64 {
    if std_dev != 0.0 {
        value / std_dev
    } else {
        value
    }
}

fn dense_row(features: &Features, n_features: usize) -> Vec<f64> {
    match features {
        Features::Dense(values) => values.clone(),
        Features::Sparse(row) => {
            let mut values = vec![0.0; n_features];
            for &(column, value) in &row.entries {
                if let Some(slot) = values.get_mut(column as usize) {
                    *slot = value;
                }
            }
            values
        }
    }
}

/// sklearn's `euclidean_distances` (‖x‖² − 2 x·c + ‖c‖², clipped at 0, square root) or
/// `manhattan_distances`.
fn distance(metric: CentroidMetric, x: &[f64], c: &[f64]) -> f64 {
    match metric {
        CentroidMetric::Euclidean => {
            let xx: f64 = x.iter().map(|v| v * v).sum();
            let cc: f64 = c.iter().map(|v| v * v).sum();
            let xc: f64 = x.iter().zip(c).map(|(a, b)| a * b).sum();
            (-2.0 * xc + xx + cc).max(0.0).sqrt()
        }
        CentroidMetric::Manhattan => x.iter().zip(c).map(|(a, b)| (a - b).abs()).sum(),
    }
}

/// The first minimum.
fn argmin(values: &[f64]) -> usize {
    let mut best = 0;
    for (index, &value) in values.iter().enumerate() {
        if value < values[best] {
            best = index;
        }
    }
    best
}

fn finite_row(field: &str, row: &[f64], expected: usize) -> Result<(), ModelError> {
    if row.len() != expected {
        return Err(ModelError::invalid(
            field,
            format!("has {} values, expected {expected}", row.len()),
        ));
    }
    match row.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(ModelError::invalid(format!("{field}[{i}]"), "is not a finite number")),
        None => Ok(()),
    }
}
