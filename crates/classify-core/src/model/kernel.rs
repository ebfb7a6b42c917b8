//! Kernel SVMs (`SVC`, `NuSVC`) as sklearn's bundled libsvm evaluates them on sparse input: one
//! kernel value per support vector, one decision value per pair of classes, one-vs-one voting;
//! and kernel regressors (`SVR`, `NuSVR`), whose one value is the same kernel sum over all the
//! support vectors (`KernelRegressor`).
//!
//! Everything here mirrors `sklearn/svm/src/libsvm/svm.cpp` (the `svm_csr_*` build that sklearn
//! uses when the model was fitted on a sparse matrix, as text features are) operation by
//! operation, so the results are bit-identical, not merely close:
//!
//! - `dot` walks both sorted sparse vectors and sums the products of shared indices in index order;
//! - the rbf kernel merges the two vectors and sums `(x-y)²`, `x²` or `y²` per index in index
//!   order (not `‖x‖² + ‖y‖² − 2x·y`, which rounds differently), then `exp(-gamma * sum)`;
//! - poly is libsvm's `powi(gamma * dot + coef0, degree)` (square-and-multiply, not `powf`);
//! - the decision value of pair (i, j), pairs in the order (0,1), (0,2), ..., (1,2), ..., is
//!   `Σ coef[j-1][sv of i] · K + Σ coef[i][sv of j] · K − rho`; positive votes for i, anything else
//!   (zero included) for j; the class with most votes wins, ties to the lowest index;
//! - `predict_proba` (probability=True) is Platt's sigmoid per pair, clipped to [1e-7, 1 − 1e-7],
//!   then Wu, Lin and Weng's pairwise coupling (`multiclass_probability`), also for two classes;
//! - regression (EPSILON_SVR, NU_SVR) is `Σ sv_coef[k] · K(x, sv k)` over the support vectors in
//!   their stored order, starting from 0, then `− rho`.
//!
//! sklearn's own layer on top (sklearn/svm/_base.py): for two classes it negates `dual_coef_`,
//! `intercept_` and the decision value (so positive means `classes_[1]`); with
//! `decision_function_shape='ovr'` and more than two classes, `decision_function` is
//! `_ovr_decision_function(dec < 0, -dec, n)`: votes (ties at zero go to the *first* class here,
//! unlike libsvm's voting) plus `s / (3 (|s| + 1))` of each class's summed confidences;
//! `break_ties=True` predicts the arg-max of that instead of libsvm's vote.
//!
//! Arrays are kept in libsvm's orientation (`_dual_coef_`, `_intercept_` = −rho); the model file
//! holds sklearn's public `dual_coef_`/`intercept_`, and the two differ by a sign for two classes.

use crate::error::ModelError;
use crate::model::classifier::argmax;
use crate::model::format::{DecisionShape, KernelKind};
use crate::sparse::SparseRow;

/// Kernel parameters, as sklearn passes them to libsvm (`gamma` is the fitted `_gamma`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KernelParams {
    pub kind: KernelKind,
    pub gamma: f64,
    pub coef0: f64,
    pub degree: i32,
}

impl KernelParams {
    /// Finite `gamma` and `coef0`, a `degree` that `powi` can count down from.
    fn validate(&self) -> Result<(), ModelError> {
        for (field, value) in [("gamma", self.gamma), ("coef0", self.coef0)] {
            if !value.is_finite() {
                return Err(ModelError::invalid(
                    format!("classifier.{field}"),
                    format!("{value} is not a finite number"),
                ));
            }
        }
        if self.degree < 0 {
            return Err(ModelError::invalid("classifier.degree", "must not be negative"));
        }
        Ok(())
    }
}

/// The support vectors in CSR form: vector `k` is `indices/data[indptr[k]..indptr[k + 1]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupportVectors {
    pub(crate) indptr: Vec<u64>,
    pub(crate) indices: Vec<u32>,
    pub(crate) data: Vec<f64>,
}

impl SupportVectors {
    pub fn len(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    fn row(&self, k: usize) -> (&[u32], &[f64]) {
        let (start, end) = (self.indptr[k] as usize, self.indptr[k + 1] as usize);
        (&self.indices[start..end], &self.data[start..end])
    }

    /// libsvm's `k_function(x, sv k)` for every support vector, in their stored order.
    fn kernel_values<'a>(
        &'a self,
        row: &'a SparseRow,
        params: &'a KernelParams,
    ) -> impl Iterator<Item = f64> + 'a {
        (0..self.len()).map(move |k| {
            let (indices, data) = self.row(k);
            k_function(&row.entries, indices, data, params)
        })
    }

    /// Checks the CSR structure: monotone `indptr` covering `indices`/`data` exactly, indices
    /// strictly increasing within a vector and below `n_features`, finite values.
    fn validate(&self, n_features: usize) -> Result<(), ModelError> {
        const FIELD: &str = "classifier.support_vectors";
        if self.indptr.first() != Some(&0) {
            return Err(ModelError::invalid(
                format!("{FIELD}.indptr"),
                "must start with 0 and have one entry per support vector plus one",
            ));
        }
        if self.indices.len() != self.data.len() {
            return Err(ModelError::invalid(
                format!("{FIELD}.data"),
                format!("{} values for {} indices", self.data.len(), self.indices.len()),
            ));
        }
        for (k, pair) in self.indptr.windows(2).enumerate() {
            if pair[1] < pair[0] || pair[1] > self.indices.len() as u64 {
                return Err(ModelError::invalid(
                    format!("{FIELD}.indptr[{}]", k + 1),
                    format!(
                        "{} is below the previous entry or beyond the {} stored values",
                        pair[1],
                        self.indices.len()
                    ),
                ));
            }
        }
        if self.indptr.last().copied() != Some(self.indices.len() as u64) {
            return Err(ModelError::invalid(
                format!("{FIELD}.indptr"),
                format!("ends before the {} stored values end", self.indices.len()),
            ));
        }
        for k in 0..self.len() {
            let (indices, data) = self.row(k);
            if let Some(position) = indices.windows(2).position(|w| w[1] <= w[0]) {
                return Err(ModelError::invalid(
                    format!("{FIELD}.indices (support vector {k})"),
                    format!(
                        "not strictly increasing at {} then {}",
                        indices[position],
                        indices[position + 1]
                    ),
                ));
            }
            if let Some(&index) = indices.iter().find(|&&i| i as usize >= n_features) {
                return Err(ModelError::invalid(
                    format!("{FIELD}.indices (support vector {k})"),
                    format!("feature {index} is out of range: the vectorizer has {n_features}"),
                ));
            }
            if let Some(position) = data.iter().position(|v| !v.is_finite()) {
                return Err(ModelError::invalid(
                    format!("{FIELD}.data (support vector {k}, value {position})"),
                    format!("{} is not a finite number", data[position]),
                ));
            }
        }
        Ok(())
    }
}

/// Everything a kernel SVM needs, in the model file's orientation (sklearn's public attributes).
#[derive(Debug, Clone)]
pub(crate) struct KernelParts {
    pub(crate) params: KernelParams,
    pub(crate) n_classes: usize,
    pub(crate) n_support: Vec<usize>,
    pub(crate) support_vectors: SupportVectors,
    /// sklearn's `dual_coef_`, row-major: (n_classes − 1) rows of one value per support vector.
    pub(crate) dual_coef: Vec<f64>,
    /// sklearn's `intercept_`, one per pair.
    pub(crate) intercept: Vec<f64>,
    pub(crate) shape: DecisionShape,
    pub(crate) break_ties: bool,
    /// `probA_` and `probB_`, one per pair, for `predict_proba`.
    pub(crate) probability: Option<(Vec<f64>, Vec<f64>)>,
}

/// A validated kernel SVM.
#[derive(Debug)]
pub struct KernelClassifier {
    params: KernelParams,
    n_classes: usize,
    n_support: Vec<usize>,
    /// First support vector of each class.
    start: Vec<usize>,
    support_vectors: SupportVectors,
    /// libsvm's `sv_coef` (sklearn's `_dual_coef_`), row-major, (n_classes − 1) × n_sv.
    sv_coef: Vec<f64>,
    /// sklearn's `_intercept_` (= −rho), one per pair.
    intercept: Vec<f64>,
    shape: DecisionShape,
    break_ties: bool,
    probability: Option<(Vec<f64>, Vec<f64>)>,
}

impl KernelClassifier {
    /// Validates the parts against each other and the vectorizer's width.
    pub(crate) fn new(parts: KernelParts, n_features: usize) -> Result<Self, ModelError> {
        let KernelParts {
            params,
            n_classes,
            n_support,
            support_vectors,
            dual_coef,
            intercept,
            shape,
            break_ties,
            probability,
        } = parts;
        if n_classes < 2 {
            return Err(ModelError::invalid(
                "classifier.classes",
                format!("{n_classes} classes; a classifier needs at least 2"),
            ));
        }
        params.validate()?;
        if n_support.len() != n_classes {
            return Err(ModelError::invalid(
                "classifier.n_support",
                format!("{} counts for {n_classes} classes", n_support.len()),
            ));
        }
        let n_sv: usize = n_support.iter().sum();
        if support_vectors.indptr.len() != n_sv + 1 {
            return Err(ModelError::invalid(
                "classifier.support_vectors.indptr",
                format!(
                    "{} entries, but n_support adds up to {n_sv} support vectors (expected {})",
                    support_vectors.indptr.len(),
                    n_sv + 1
                ),
            ));
        }
        support_vectors.validate(n_features)?;
        if dual_coef.len() != (n_classes - 1) * n_sv {
            return Err(ModelError::invalid(
                "classifier.dual_coef",
                format!(
                    "{} values; expected {} rows (classes - 1) of {n_sv} (one per support vector)",
                    dual_coef.len(),
                    n_classes - 1
                ),
            ));
        }
        if let Some(position) = dual_coef.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::invalid(
                format!("classifier.dual_coef[{}][{}]", position / n_sv, position % n_sv),
                format!("{} is not a finite number", dual_coef[position]),
            ));
        }
        let n_pairs = n_classes * (n_classes - 1) / 2;
        check_pairwise("classifier.intercept", &intercept, n_pairs)?;
        if let Some((a, b)) = &probability {
            check_pairwise("classifier.prob_a", a, n_pairs)?;
            check_pairwise("classifier.prob_b", b, n_pairs)?;
        }
        if break_ties && shape == DecisionShape::Ovo {
            return Err(ModelError::invalid(
                "classifier.break_ties",
                "must be false when decision_function_shape is \"ovo\" (sklearn refuses it too)",
            ));
        }
        // sklearn negates libsvm's coefficients and intercept for two classes; undo it.
        let (sv_coef, intercept) = if n_classes == 2 {
            (dual_coef.iter().map(|v| -v).collect(), intercept.iter().map(|v| -v).collect())
        } else {
            (dual_coef, intercept)
        };
        let mut start = Vec::with_capacity(n_classes);
        let mut next = 0;
        for &count in &n_support {
            start.push(next);
            next += count;
        }
        Ok(KernelClassifier {
            params,
            n_classes,
            n_support,
            start,
            support_vectors,
            sv_coef,
            intercept,
            shape,
            break_ties,
            probability,
        })
    }

    /// The parts again, in the model file's orientation (exactly what `new` was given).
    pub(crate) fn parts(&self) -> KernelParts {
        let negate = |values: &[f64]| values.iter().map(|v| -v).collect::<Vec<f64>>();
        let (dual_coef, intercept) = if self.n_classes == 2 {
            (negate(&self.sv_coef), negate(&self.intercept))
        } else {
            (self.sv_coef.clone(), self.intercept.clone())
        };
        KernelParts {
            params: self.params,
            n_classes: self.n_classes,
            n_support: self.n_support.clone(),
            support_vectors: self.support_vectors.clone(),
            dual_coef,
            intercept,
            shape: self.shape,
            break_ties: self.break_ties,
            probability: self.probability.clone(),
        }
    }

    pub fn support_vectors(&self) -> &SupportVectors {
        &self.support_vectors
    }

    pub fn n_support(&self) -> &[usize] {
        &self.n_support
    }

    pub fn params(&self) -> KernelParams {
        self.params
    }

    pub(crate) fn n_classes(&self) -> usize {
        self.n_classes
    }

    pub(crate) fn has_probabilities(&self) -> bool {
        self.probability.is_some()
    }

    /// libsvm's decision values, one per pair (i, j) in libsvm order: positive favours i.
    pub(crate) fn pairwise(&self, row: &SparseRow) -> Vec<f64> {
        let kvalue: Vec<f64> = self.support_vectors.kernel_values(row, &self.params).collect();
        let n_sv = kvalue.len();
        let mut values = Vec::with_capacity(self.n_classes * (self.n_classes - 1) / 2);
        for i in 0..self.n_classes {
            for j in i + 1..self.n_classes {
                let coef1 = &self.sv_coef[(j - 1) * n_sv..j * n_sv];
                let coef2 = &self.sv_coef[i * n_sv..(i + 1) * n_sv];
                let (si, sj) = (self.start[i], self.start[j]);
                let mut sum = 0.0;
                for k in si..si + self.n_support[i] {
                    sum += coef1[k] * kvalue[k];
                }
                for k in sj..sj + self.n_support[j] {
                    sum += coef2[k] * kvalue[k];
                }
                // libsvm: sum -= rho, with rho = -intercept: the same bits as sum + intercept.
                values.push(sum + self.intercept[values.len()]);
            }
        }
        values
    }

    /// sklearn's `decision_function` row, predicted class index and `predict_proba` row.
    pub(crate) fn predict(&self, row: &SparseRow) -> (Vec<f64>, usize, Option<Vec<f64>>) {
        let pairwise = self.pairwise(row);
        let ovr = (self.n_classes > 2).then(|| ovr_decision(&pairwise, self.n_classes));
        let class_index = match &ovr {
            Some(ovr) if self.break_ties && self.shape == DecisionShape::Ovr => argmax(ovr),
            _ => vote(&pairwise, self.n_classes),
        };
        let probabilities = self.probability.as_ref().map(|(a, b)| {
            let pairwise_prob = pairwise_probabilities(&pairwise, a, b, self.n_classes);
            multiclass_probability(self.n_classes, &pairwise_prob)
        });
        let scores = match (ovr, self.shape) {
            (None, _) => vec![-pairwise[0]],
            (Some(ovr), DecisionShape::Ovr) => ovr,
            (Some(_), DecisionShape::Ovo) => pairwise,
        };
        (scores, class_index, probabilities)
    }

    /// One score per class for display: the decision value's two signs for two classes, else
    /// sklearn's 'ovr' aggregation of the pairwise values (what `decision_function` returns with
    /// `decision_function_shape='ovr'`), whichever shape the model itself reports.
    pub(crate) fn class_scores(&self, scores: &[f64]) -> Vec<f64> {
        match scores {
            [single] => vec![-single, *single],
            _ if self.shape == DecisionShape::Ovo => {
                // sklearn's ovo values are libsvm's pairwise values.
                ovr_decision(scores, self.n_classes)
            }
            _ => scores.to_vec(),
        }
    }
}

/// A validated kernel regressor (`SVR`, `NuSVR`): libsvm's `svm_predict_values` for
/// EPSILON_SVR and NU_SVR. sklearn keeps libsvm's orientation for regressors (it negates only a
/// two-class SVC's arrays), so `dual_coef_[0]` is libsvm's `sv_coef[0]` and `intercept_[0]` is
/// `−rho`.
#[derive(Debug)]
pub struct KernelRegressor {
    params: KernelParams,
    support_vectors: SupportVectors,
    /// `dual_coef_[0]`: one coefficient per support vector.
    dual_coef: Vec<f64>,
    /// `intercept_[0]` (= −rho).
    intercept: f64,
}

impl KernelRegressor {
    /// Validates the parts against each other and the width of the regressor's input.
    pub(crate) fn new(
        params: KernelParams,
        support_vectors: SupportVectors,
        dual_coef: Vec<f64>,
        intercept: f64,
        n_features: usize,
    ) -> Result<Self, ModelError> {
        params.validate()?;
        support_vectors.validate(n_features)?;
        let n_sv = support_vectors.len();
        if dual_coef.len() != n_sv {
            return Err(ModelError::invalid(
                "classifier.dual_coef",
                format!(
                    "{} values for {n_sv} support vectors; it must be sklearn's dual_coef_[0], one \
                     value per support vector (re-export the model)",
                    dual_coef.len()
                ),
            ));
        }
        if let Some(position) = dual_coef.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::invalid(
                format!("classifier.dual_coef[{position}]"),
                format!("{} is not a finite number", dual_coef[position]),
            ));
        }
        if !intercept.is_finite() {
            return Err(ModelError::invalid(
                "classifier.intercept",
                format!("{intercept} is not a finite number"),
            ));
        }
        Ok(KernelRegressor { params, support_vectors, dual_coef, intercept })
    }

    /// sklearn's `predict` for one row: the products summed from 0 in support-vector order,
    /// then the intercept added (libsvm's `sum -= rho`, the same bits since rho = −intercept).
    pub(crate) fn predict(&self, row: &SparseRow) -> f64 {
        let mut sum = 0.0;
        for (coef, k) in
            self.dual_coef.iter().zip(self.support_vectors.kernel_values(row, &self.params))
        {
            sum += coef * k;
        }
        sum + self.intercept
    }

    pub fn params(&self) -> KernelParams {
        self.params
    }

    pub fn support_vectors(&self) -> &SupportVectors {
        &self.support_vectors
    }

    pub(crate) fn dual_coef(&self) -> &[f64] {
        &self.dual_coef
    }
}

fn check_pairwise(field: &str, values: &[f64], n_pairs: usize) -> Result<(), ModelError> {
    if values.len() != n_pairs {
        return Err(ModelError::invalid(
            field,
            format!("{} values; expected one per pair of classes ({n_pairs})", values.len()),
        ));
    }
    if let Some(position) = values.iter().position(|v| !v.is_finite()) {
        return Err(ModelError::invalid(
            format!("{field}[{position}]"),
            format!("{} is not a finite number", values[position]),
        ));
    }
    Ok(())
}

/// libsvm's `Kernel::dot` on sparse vectors: products of shared indices, summed in index order.
fn dot(x: &[(u32, f64)], y_indices: &[u32], y_data: &[f64]) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < x.len() && j < y_indices.len() {
        let (xi, xv) = x[i];
        match xi.cmp(&y_indices[j]) {
            std::cmp::Ordering::Equal => {
                sum += xv * y_data[j];
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Less => i += 1,
        }
    }
    sum
}

/// libsvm's squared distance for the sparse rbf kernel, merged in index order.
fn squared_distance(x: &[(u32, f64)], y_indices: &[u32], y_data: &[f64]) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < x.len() && j < y_indices.len() {
        let (xi, xv) = x[i];
        match xi.cmp(&y_indices[j]) {
            std::cmp::Ordering::Equal => {
                let d = xv - y_data[j];
                sum += d * d;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Greater => {
                sum += y_data[j] * y_data[j];
                j += 1;
            }
            std::cmp::Ordering::Less => {
                sum += xv * xv;
                i += 1;
            }
        }
    }
    for &(_, xv) in &x[i..] {
        sum += xv * xv;
    }
    for &yv in &y_data[j..] {
        sum += yv * yv;
    }
    sum
}

/// libsvm's `powi`: square-and-multiply, whose rounding differs from `powf`/`powi` intrinsics.
fn powi(base: f64, times: i32) -> f64 {
    let (mut tmp, mut ret) = (base, 1.0);
    let mut t = times;
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

/// libsvm's `Kernel::k_function` for a document row `x` and one support vector.
fn k_function(x: &[(u32, f64)], y_indices: &[u32], y_data: &[f64], p: &KernelParams) -> f64 {
    match p.kind {
        KernelKind::Linear => dot(x, y_indices, y_data),
        KernelKind::Poly => powi(p.gamma * dot(x, y_indices, y_data) + p.coef0, p.degree),
        KernelKind::Rbf => (-p.gamma * squared_distance(x, y_indices, y_data)).exp(),
        KernelKind::Sigmoid => (p.gamma * dot(x, y_indices, y_data) + p.coef0).tanh(),
    }
}

/// libsvm's vote: pair (i, j) votes i when its value is > 0, else j; most votes wins, ties to
/// the lowest class index.
fn vote(pairwise: &[f64], n_classes: usize) -> usize {
    let mut votes = vec![0usize; n_classes];
    let mut p = 0;
    for i in 0..n_classes {
        for j in i + 1..n_classes {
            if pairwise[p] > 0.0 {
                votes[i] += 1;
            } else {
                votes[j] += 1;
            }
            p += 1;
        }
    }
    let mut best = 0;
    for (index, &count) in votes.iter().enumerate().skip(1) {
        if count > votes[best] {
            best = index;
        }
    }
    best
}

/// sklearn's `_ovr_decision_function(dec < 0, -dec, n_classes)`: votes (pair (i, j) votes j only
/// when its value is < 0) plus each class's summed confidence squashed into (−1/3, 1/3).
fn ovr_decision(pairwise: &[f64], n_classes: usize) -> Vec<f64> {
    let mut votes = vec![0.0f64; n_classes];
    let mut confidence = vec![0.0f64; n_classes];
    let mut k = 0;
    for i in 0..n_classes {
        for j in i + 1..n_classes {
            let c = -pairwise[k];
            confidence[i] -= c;
            confidence[j] += c;
            if pairwise[k] < 0.0 {
                votes[j] += 1.0;
            } else if !pairwise[k].is_nan() {
                votes[i] += 1.0;
            }
            k += 1;
        }
    }
    votes.iter().zip(&confidence).map(|(v, s)| v + s / (3.0 * (s.abs() + 1.0))).collect()
}

/// libsvm's `sigmoid_predict`: Platt's sigmoid, written to avoid cancellation.
fn sigmoid_predict(decision_value: f64, a: f64, b: f64) -> f64 {
    let f_apb = decision_value * a + b;
    if f_apb >= 0.0 {
        (-f_apb).exp() / (1.0 + (-f_apb).exp())
    } else {
        1.0 / (1.0 + f_apb.exp())
    }
}

/// The k × k matrix r of pairwise probabilities: r[i][j] = P(i | i or j), clipped as libsvm does.
#[allow(clippy::needless_range_loop)] // mirrors libsvm's index loops statement for statement
fn pairwise_probabilities(pairwise: &[f64], a: &[f64], b: &[f64], k: usize) -> Vec<Vec<f64>> {
    const MIN_PROB: f64 = 1e-7;
    let mut r = vec![vec![0.0; k]; k];
    let mut p = 0;
    for i in 0..k {
        for j in i + 1..k {
            let s = sigmoid_predict(pairwise[p], a[p], b[p]);
            // C++ min(max(s, min_prob), 1 - min_prob) with libsvm's template min/max.
            let clipped_low = if s > MIN_PROB { s } else { MIN_PROB };
            let upper = 1.0 - MIN_PROB;
            r[i][j] = if clipped_low < upper { clipped_low } else { upper };
            r[j][i] = 1.0 - r[i][j];
            p += 1;
        }
    }
    r
}

/// libsvm's `multiclass_probability` (method 2 of Wu, Lin and Weng), statement for statement;
/// sklearn's libsvm runs it for two classes as well.
#[allow(clippy::needless_range_loop)] // mirrors libsvm's index loops statement for statement
fn multiclass_probability(k: usize, r: &[Vec<f64>]) -> Vec<f64> {
    let max_iter = 100.max(k);
    let eps = 0.005 / k as f64;
    let mut q = vec![vec![0.0; k]; k];
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    for t in 0..k {
        q[t][t] = 0.0;
        for j in 0..t {
            q[t][t] += r[j][t] * r[j][t];
            q[t][j] = q[j][t];
        }
        for j in t + 1..k {
            q[t][t] += r[j][t] * r[j][t];
            q[t][j] = -r[j][t] * r[t][j];
        }
    }
    for _ in 0..max_iter {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = 0.0;
            for j in 0..k {
                qp[t] += q[t][j] * p[j];
            }
            pqp += p[t] * qp[t];
        }
        let mut max_error = 0.0;
        for &value in &qp {
            let error = (value - pqp).abs();
            if error > max_error {
                max_error = error;
            }
        }
        if max_error < eps {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(kind: KernelKind) -> KernelParams {
        KernelParams { kind, gamma: 0.5, coef0: 1.0, degree: 3 }
    }

    fn row(entries: &[(u32, f64)]) -> SparseRow {
        SparseRow { entries: entries.to_vec() }
    }

    /// Three classes, one support vector each: e0, e1, e2 (unit vectors).
    fn three_class(shape: DecisionShape, intercept: Vec<f64>) -> KernelClassifier {
        KernelClassifier::new(
            KernelParts {
                params: params(KernelKind::Linear),
                n_classes: 3,
                n_support: vec![1, 1, 1],
                support_vectors: SupportVectors {
                    indptr: vec![0, 1, 2, 3],
                    indices: vec![0, 1, 2],
                    data: vec![1.0, 1.0, 1.0],
                },
                // pair (0,1): sv0 coef in row 0, sv1 coef in row 0; (0,2): sv0 row 1, sv2 row 0;
                // (1,2): sv1 row 1, sv2 row 1.
                dual_coef: vec![1.0, -1.0, -1.0, 1.0, 1.0, -1.0],
                intercept,
                shape,
                break_ties: false,
                probability: None,
            },
            3,
        )
        .unwrap()
    }

    #[test]
    fn sparse_dot_and_distance_merge_by_index() {
        let x = [(1, 2.0), (4, 3.0)];
        let (yi, yv) = ([0u32, 4, 7], [5.0, 10.0, 1.0]);
        assert_eq!(dot(&x, &yi, &yv), 30.0);
        // (0:5)² + (1:2)² + (4: 3-10)² + (7:1)²
        assert_eq!(squared_distance(&x, &yi, &yv), 25.0 + 4.0 + 49.0 + 1.0);
        assert_eq!(squared_distance(&[], &yi, &yv), 126.0);
        assert_eq!(dot(&[], &yi, &yv), 0.0);
    }

    #[test]
    fn kernels_follow_libsvm() {
        let x = [(0, 1.0), (1, 2.0)];
        let (yi, yv) = ([0u32, 1], [3.0, 1.0]);
        assert_eq!(k_function(&x, &yi, &yv, &params(KernelKind::Linear)), 5.0);
        assert_eq!(k_function(&x, &yi, &yv, &params(KernelKind::Poly)), 3.5f64 * 3.5 * 3.5);
        assert_eq!(k_function(&x, &yi, &yv, &params(KernelKind::Rbf)), (-0.5f64 * 5.0).exp());
        assert_eq!(k_function(&x, &yi, &yv, &params(KernelKind::Sigmoid)), 3.5f64.tanh());
    }

    #[test]
    fn powi_is_square_and_multiply() {
        assert_eq!(powi(2.0, 0), 1.0);
        assert_eq!(powi(2.0, 10), 1024.0);
        assert_eq!(powi(-1.5, 3), -3.375);
        let base = 1.1f64;
        assert_eq!(powi(base, 5), base * ((base * base) * (base * base)));
    }

    #[test]
    fn votes_tie_to_the_lowest_index_and_zero_votes_for_the_second_class() {
        // A 3-cycle: 0 beats 1, 1 beats 2, 2 beats 0: one vote each, class 0 wins.
        assert_eq!(vote(&[1.0, -1.0, 1.0], 3), 0);
        // Exactly zero votes for j in libsvm: (0,1) -> 1, (0,2) -> 2, (1,2) -> 2.
        assert_eq!(vote(&[0.0, 0.0, 0.0], 3), 2);
        // Binary: positive is class 0 in libsvm's orientation.
        assert_eq!(vote(&[0.5], 2), 0);
        assert_eq!(vote(&[0.0], 2), 1);
    }

    #[test]
    fn ovr_counts_zero_for_the_first_class_and_adds_squashed_confidence() {
        let scores = ovr_decision(&[0.0, 0.0, 0.0], 3);
        assert_eq!(scores, vec![2.0, 1.0, 0.0]);
        let scores = ovr_decision(&[1.0, -1.0, 1.0], 3);
        // confidences: class0 = 1 + (-1) = 0; class1 = -1 + 1 = 0; class2 = 1 - 1 = 0.
        assert_eq!(scores, vec![1.0, 1.0, 1.0]);
        let scores = ovr_decision(&[2.0, 2.0, 2.0], 3);
        assert_eq!(scores, vec![2.0 + 4.0 / 15.0, 1.0 + 0.0, -4.0 / 15.0]);
    }

    #[test]
    fn three_class_model_votes_and_reports_each_shape() {
        let model = three_class(DecisionShape::Ovo, vec![0.0, 0.0, 0.0]);
        // x = e1: K = [0, 1, 0]; (0,1) = -1, (0,2) = 0, (1,2) = 1.
        let (scores, class, probabilities) = model.predict(&row(&[(1, 1.0)]));
        assert_eq!(scores, vec![-1.0, 0.0, 1.0]);
        assert_eq!(class, 1);
        assert!(probabilities.is_none());
        assert_eq!(model.class_scores(&scores), ovr_decision(&scores, 3));
        let model = three_class(DecisionShape::Ovr, vec![0.0, 0.0, 0.0]);
        let (scores, class, _) = model.predict(&row(&[(1, 1.0)]));
        assert_eq!(scores.len(), 3);
        assert_eq!(model.class_scores(&scores), scores);
        assert_eq!(class, 1);
        // An empty row: every pair exactly 0: libsvm gives every vote to the later class.
        let (_, class, _) = model.predict(&row(&[]));
        assert_eq!(class, 2);
    }

    #[test]
    fn binary_models_are_stored_in_sklearns_orientation() {
        let model = KernelClassifier::new(
            KernelParts {
                params: params(KernelKind::Linear),
                n_classes: 2,
                n_support: vec![1, 1],
                support_vectors: SupportVectors {
                    indptr: vec![0, 1, 2],
                    indices: vec![0, 1],
                    data: vec![1.0, 1.0],
                },
                // sklearn's dual_coef_: negative for classes_[0]'s vectors.
                dual_coef: vec![-1.0, 1.0],
                intercept: vec![0.25],
                shape: DecisionShape::Ovr,
                break_ties: false,
                probability: None,
            },
            2,
        )
        .unwrap();
        let (scores, class, _) = model.predict(&row(&[(1, 1.0)]));
        assert_eq!((scores, class), (vec![1.25], 1));
        let (scores, class, _) = model.predict(&row(&[(0, 1.0)]));
        assert_eq!((scores, class), (vec![-0.75], 0));
        assert_eq!(model.parts().dual_coef, vec![-1.0, 1.0]);
        assert_eq!(model.parts().intercept, vec![0.25]);
    }

    fn regressor(dual_coef: Vec<f64>, intercept: f64) -> Result<KernelRegressor, ModelError> {
        let support_vectors = SupportVectors {
            indptr: vec![0, 1, 3],
            indices: vec![0, 0, 2],
            data: vec![1.0, 2.0, 1.0],
        };
        KernelRegressor::new(params(KernelKind::Rbf), support_vectors, dual_coef, intercept, 3)
    }

    #[test]
    fn a_regressor_sums_its_kernel_values_then_adds_the_intercept() {
        let model = regressor(vec![0.5, -2.0], 0.25).unwrap();
        let x = row(&[(0, 1.0), (1, 3.0)]);
        // rbf, gamma 0.5: sv0 = e0 is at squared distance 9, sv1 = (2, 0, 1) at 1 + 9 + 1.
        let expected = (0.0 + 0.5 * (-0.5f64 * 9.0).exp() + -2.0 * (-0.5f64 * 11.0).exp()) + 0.25;
        assert_eq!(model.predict(&x), expected);
        // An empty row: ‖sv‖² alone.
        let expected = (0.5 * (-0.5f64).exp() + -2.0 * (-0.5f64 * 5.0).exp()) + 0.25;
        assert_eq!(model.predict(&row(&[])), expected);
        // No support vectors at all (every target within epsilon): the intercept.
        let empty = SupportVectors { indptr: vec![0], indices: vec![], data: vec![] };
        let model =
            KernelRegressor::new(params(KernelKind::Linear), empty, vec![], 1.5, 3).unwrap();
        assert_eq!(model.predict(&x), 1.5);
    }

    #[test]
    fn a_bad_regressor_names_the_field() {
        let err = regressor(vec![0.5], 0.0).unwrap_err().to_string();
        assert!(err.contains("`classifier.dual_coef`") && err.contains("1 values for 2"), "{err}");
        assert!(err.contains("one value per support vector"), "{err}");
        let err = regressor(vec![0.5, f64::INFINITY], 0.0).unwrap_err().to_string();
        assert!(err.contains("`classifier.dual_coef[1]`"), "{err}");
        let err = regressor(vec![0.5, 1.0], f64::NAN).unwrap_err().to_string();
        assert!(err.contains("`classifier.intercept`"), "{err}");
        let bad = SupportVectors { indptr: vec![0, 1], indices: vec![3], data: vec![1.0] };
        let err = KernelRegressor::new(params(KernelKind::Poly), bad, vec![1.0], 0.0, 3);
        let err = err.unwrap_err().to_string();
        assert!(err.contains("support_vectors.indices") && err.contains("out of range"), "{err}");
        let mut nan_gamma = params(KernelKind::Rbf);
        nan_gamma.gamma = f64::NAN;
        let one = SupportVectors { indptr: vec![0, 0], indices: vec![], data: vec![] };
        let err = KernelRegressor::new(nan_gamma, one, vec![1.0], 0.0, 3).unwrap_err();
        assert!(err.to_string().contains("classifier.gamma"), "{err}");
    }

    #[test]
    fn coupled_probabilities_sum_to_one() {
        let r = pairwise_probabilities(&[1.0, -0.5, 2.0], &[-2.0; 3], &[0.1; 3], 3);
        let p = multiclass_probability(3, &r);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{p:?}");
        assert!(p[0] > p[2]);
        let r = pairwise_probabilities(&[1.0], &[-2.0], &[0.0], 2);
        let p = multiclass_probability(2, &r);
        assert!((p[0] - r[0][1]).abs() < 1e-3, "{p:?} vs {}", r[0][1]);
    }

    #[test]
    fn bad_structure_names_the_field() {
        let parts = three_class(DecisionShape::Ovr, vec![0.0; 3]).parts();
        let mut bad = parts.clone();
        bad.support_vectors.indices = vec![0, 1, 5];
        let err = KernelClassifier::new(bad, 3).unwrap_err();
        assert!(err.to_string().contains("support_vectors.indices"), "{err}");
        let mut bad = parts.clone();
        bad.intercept = vec![0.0; 2];
        let err = KernelClassifier::new(bad, 3).unwrap_err();
        assert!(err.to_string().contains("classifier.intercept"), "{err}");
        let mut bad = parts.clone();
        bad.dual_coef[4] = f64::NAN;
        let err = KernelClassifier::new(bad, 3).unwrap_err();
        assert!(err.to_string().contains("classifier.dual_coef[1][1]"), "{err}");
        let mut bad = parts;
        bad.n_support = vec![1, 1, 2];
        let err = KernelClassifier::new(bad, 3).unwrap_err();
        assert!(err.to_string().contains("indptr"), "{err}");
    }
}
