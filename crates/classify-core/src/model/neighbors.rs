//! `KNeighborsClassifier` and `KNeighborsRegressor`: every training row is kept, and a text's
//! answer comes from the `n_neighbors` rows nearest to its row, found by brute force with
//! sklearn's own formulas (docs/model-format-v2.md, "k_neighbors"):
//!
//! - euclidean (brute force): the rank is `max(0, (‖x‖² + (−2 x·y)) + ‖y‖²)` and the distance
//!   its square root, with ‖y‖² as sklearn computed it (stored in the model), ‖x‖² and x·y
//!   summed over the text's columns in increasing order from 0.0 (scipy's `csr_matmat` and
//!   sklearn's sparse middle term add in the query row's order);
//! - euclidean after `kd_tree`/`ball_tree` (dense rows): `Σ (x_j − y_j)²` in column order;
//! - cosine: `clip(1 − x̂·ŷ, 0, 2)`, each row divided by its l2 norm first (ŷ by the stored norm);
//! - manhattan: `Σ |x_j − y_j|` over both rows' columns, merged in increasing column order.
//!
//! Among equal ranks the rows go through sklearn's max-heap (`sklearn.utils._heap.heap_push`)
//! in training-row order, as sklearn's ArgKmin does on one thread. The weights, votes,
//! probabilities and means follow `KNeighborsClassifier`/`KNeighborsRegressor` and numpy's
//! pairwise summation (`numpy_sum`).
//!
//! A sparse row's dot products go through an inverted index (for each column, the training rows
//! that have it), built when the model is loaded: the sum for a training row still adds the text's
//! columns in increasing order, so the index changes the work, not the result.

use crate::error::ModelError;
use crate::model::classifier::argmax;
use crate::model::format::{
    ClassifierSpec, CsrSpec, NeighborAlgorithm, NeighborMetric, NeighborWeights,
};
use crate::model::steps::Features;
use crate::model::Prediction;

/// A fitted nearest-neighbour classifier or regressor.
#[derive(Debug)]
pub struct Neighbors {
    k: usize,
    weights: NeighborWeights,
    metric: NeighborMetric,
    algorithm: NeighborAlgorithm,
    n_features: usize,
    /// The training rows as the model file holds them (sklearn's stored order), kept to write the
    /// model back and to report its size.
    rows: CsrSpec,
    norms: Option<Vec<f64>>,
    search: Search,
    target: Target,
}

/// How a text's row is compared with the training rows.
#[derive(Debug)]
enum Search {
    /// Sparse rows, euclidean or cosine: per column, the training rows holding it and their
    /// values (cosine: divided by the row's norm), in increasing row order.
    Postings { starts: Vec<usize>, rows: Vec<u32>, values: Vec<f64> },
    /// Sparse rows, manhattan: each training row's entries sorted by column.
    SortedRows { starts: Vec<usize>, entries: Vec<(u32, f64)> },
    /// Dense rows (after a `project` step), row-major (cosine: divided by the row's norm).
    Dense { values: Vec<f64> },
}

#[derive(Debug)]
enum Target {
    /// The class index of each training row.
    Classes { labels: Vec<u32>, n_classes: usize },
    /// The number of each training row.
    Values(Vec<f64>),
}

/// See [`Neighbors::memory`].
#[derive(Debug, Clone, Copy)]
pub struct NeighborsMemory {
    /// Training rows.
    pub rows: usize,
    /// Values stored over all rows.
    pub stored_values: usize,
    /// Columns of a row.
    pub features: usize,
    /// Bytes of the rows as stored (indptr, indices, values) with their norms and targets.
    pub row_bytes: usize,
    /// Bytes of the search structure built from them (inverted index, sorted or dense copy).
    pub index_bytes: usize,
}

impl std::fmt::Display for NeighborsMemory {
    /// E.g. "600 training rows x 24.1 stored values each (14460 values, 181600 bytes) and a
    /// search index of 185464 bytes".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} training rows x {:.1} stored values each ({} values, {} bytes) and a search index \
             of {} bytes",
            self.rows,
            self.stored_values as f64 / self.rows.max(1) as f64,
            self.stored_values,
            self.row_bytes,
            self.index_bytes
        )
    }
}

/// The fields both kinds share, borrowed from the spec.
struct Parts<'a> {
    n_neighbors: usize,
    weights: NeighborWeights,
    metric: NeighborMetric,
    p: Option<f64>,
    algorithm: NeighborAlgorithm,
    fit_rows: &'a CsrSpec,
    fit_norms: &'a Option<Vec<f64>>,
}

fn parts_of<'a>(spec: &'a ClassifierSpec, field: &str) -> Result<Parts<'a>, ModelError> {
    match spec {
        ClassifierSpec::KNeighbors {
            n_neighbors,
            weights,
            metric,
            p,
            algorithm,
            fit_rows,
            fit_norms,
            ..
        }
        | ClassifierSpec::KNeighborsRegression {
            n_neighbors,
            weights,
            metric,
            p,
            algorithm,
            fit_rows,
            fit_norms,
            ..
        } => Ok(Parts {
            n_neighbors: *n_neighbors,
            weights: *weights,
            metric: *metric,
            p: *p,
            algorithm: *algorithm,
            fit_rows,
            fit_norms,
        }),
        _ => Err(ModelError::invalid(
            format!("{field}.kind"),
            "expected \"k_neighbors\" or \"k_neighbors_regression\"",
        )),
    }
}

impl Neighbors {
    /// Builds and validates the search from its spec. `n_features`/`dense`: the rows it reads.
    pub(crate) fn new(
        spec: &ClassifierSpec,
        n_features: usize,
        dense: bool,
        field: &str,
    ) -> Result<Neighbors, ModelError> {
        let parts = parts_of(spec, field)?;
        let rows = parts.fit_rows;
        let n_rows = check_rows(rows, n_features, &format!("{field}.fit_rows"))?;
        if parts.n_neighbors == 0 || parts.n_neighbors > n_rows {
            return Err(ModelError::invalid(
                format!("{field}.n_neighbors"),
                format!(
                    "is {}, but it must be 1 to the number of training rows ({n_rows}): sklearn \
                     refuses to predict with more neighbours than rows; re-export the model",
                    parts.n_neighbors
                ),
            ));
        }
        check_metric(&parts, dense, field)?;
        let norms = check_norms(&parts, n_rows, field)?;
        let target = match spec {
            ClassifierSpec::KNeighbors { classes, fit_labels, .. } => {
                if classes.len() < 2 {
                    return Err(ModelError::invalid(
                        format!("{field}.classes"),
                        format!("has {} classes; a classifier needs at least 2", classes.len()),
                    ));
                }
                count(fit_labels.len(), n_rows, &format!("{field}.fit_labels"))?;
                if let Some(i) = fit_labels.iter().position(|&c| c as usize >= classes.len()) {
                    return Err(ModelError::invalid(
                        format!("{field}.fit_labels[{i}]"),
                        format!(
                            "is {}, but there are {} classes (indices 0 to {})",
                            fit_labels[i],
                            classes.len(),
                            classes.len() - 1
                        ),
                    ));
                }
                Target::Classes { labels: fit_labels.clone(), n_classes: classes.len() }
            }
            ClassifierSpec::KNeighborsRegression { fit_targets, .. } => {
                count(fit_targets.len(), n_rows, &format!("{field}.fit_targets"))?;
                if let Some(i) = fit_targets.iter().position(|v| !v.is_finite()) {
                    return Err(ModelError::invalid(
                        format!("{field}.fit_targets[{i}]"),
                        format!("is {}: not a finite number", fit_targets[i]),
                    ));
                }
                Target::Values(fit_targets.clone())
            }
            _ => return Err(ModelError::invalid(format!("{field}.kind"), "not a neighbours kind")),
        };
        let search = build_search(rows, norms.as_deref(), parts.metric, n_features, dense);
        Ok(Neighbors {
            k: parts.n_neighbors,
            weights: parts.weights,
            metric: parts.metric,
            algorithm: parts.algorithm,
            n_features,
            rows: rows.clone(),
            norms,
            search,
            target,
        })
    }

    pub(crate) fn n_classes(&self) -> usize {
        match &self.target {
            Target::Classes { n_classes, .. } => *n_classes,
            Target::Values(_) => 0,
        }
    }

    pub(crate) fn is_regression(&self) -> bool {
        matches!(self.target, Target::Values(_))
    }

    /// The training rows' size, for `inspect` and the server's load line.
    pub fn memory(&self) -> NeighborsMemory {
        let n_rows = self.rows.indptr.len().saturating_sub(1);
        let stored_values = self.rows.data.len();
        let f64s = |n: usize| n * size_of::<f64>();
        let row_bytes = self.rows.indptr.len() * size_of::<u64>()
            + self.rows.indices.len() * size_of::<u32>()
            + f64s(stored_values)
            + self.norms.as_ref().map_or(0, |norms| f64s(norms.len()))
            + match &self.target {
                Target::Classes { labels, .. } => labels.len() * size_of::<u32>(),
                Target::Values(values) => f64s(values.len()),
            };
        let index_bytes = match &self.search {
            Search::Postings { starts, rows, values } => {
                starts.len() * size_of::<usize>()
                    + rows.len() * size_of::<u32>()
                    + f64s(values.len())
            }
            Search::SortedRows { starts, entries } => {
                starts.len() * size_of::<usize>() + entries.len() * size_of::<(u32, f64)>()
            }
            Search::Dense { values } => f64s(values.len()),
        };
        NeighborsMemory {
            rows: n_rows,
            stored_values,
            features: self.n_features,
            row_bytes,
            index_bytes,
        }
    }

    /// How many neighbours vote, the weighting, the metric and sklearn's search method, as the
    /// model file names them (for `inspect`).
    pub fn describe(&self) -> (usize, &'static str, &'static str, &'static str) {
        let weights = match self.weights {
            NeighborWeights::Uniform => "uniform",
            NeighborWeights::Distance => "distance",
        };
        let metric = match self.metric {
            NeighborMetric::Euclidean => "euclidean",
            NeighborMetric::Manhattan => "manhattan",
            NeighborMetric::Cosine => "cosine",
        };
        let algorithm = match self.algorithm {
            NeighborAlgorithm::Brute => "brute",
            NeighborAlgorithm::KdTree => "kd_tree",
            NeighborAlgorithm::BallTree => "ball_tree",
        };
        (self.k, weights, metric, algorithm)
    }

    /// Puts the training rows, norms and targets back into the spec they were taken from (the
    /// model keeps them here only, not twice).
    pub(crate) fn restore(&self, spec: &mut ClassifierSpec) {
        match (spec, &self.target) {
            (
                ClassifierSpec::KNeighbors { fit_rows, fit_norms, fit_labels, .. },
                Target::Classes { labels, .. },
            ) => {
                *fit_rows = self.rows.clone();
                *fit_norms = self.norms.clone();
                *fit_labels = labels.clone();
            }
            (
                ClassifierSpec::KNeighborsRegression { fit_rows, fit_norms, fit_targets, .. },
                Target::Values(values),
            ) => {
                *fit_rows = self.rows.clone();
                *fit_norms = self.norms.clone();
                *fit_targets = values.clone();
            }
            _ => {}
        }
    }

    /// Empties the spec's large arrays once they are held here (see `restore`).
    pub(crate) fn strip(spec: &mut ClassifierSpec) {
        match spec {
            ClassifierSpec::KNeighbors { fit_rows, fit_norms, fit_labels, .. } => {
                *fit_rows = CsrSpec::default();
                *fit_norms = None;
                *fit_labels = Vec::new();
            }
            ClassifierSpec::KNeighborsRegression { fit_rows, fit_norms, fit_targets, .. } => {
                *fit_rows = CsrSpec::default();
                *fit_norms = None;
                *fit_targets = Vec::new();
            }
            _ => {}
        }
    }

    /// sklearn's answer for one row: classes' probabilities (also the scores) and the predicted
    /// class, or a regressor's number as its one score.
    pub(crate) fn predict(&self, features: &Features) -> Prediction {
        let ranks = self.ranks(features);
        let chosen = select(&ranks, self.k);
        let distances: Vec<f64> = chosen.iter().map(|&j| self.distance(ranks[j])).collect();
        let weights = match self.weights {
            NeighborWeights::Uniform => vec![1.0; chosen.len()],
            NeighborWeights::Distance => inverse_distances(&distances),
        };
        match &self.target {
            Target::Values(targets) => {
                let number = match self.weights {
                    NeighborWeights::Uniform => {
                        let values: Vec<f64> = chosen.iter().map(|&j| targets[j]).collect();
                        numpy_sum(&values) / values.len() as f64
                    }
                    NeighborWeights::Distance => {
                        let products: Vec<f64> =
                            chosen.iter().zip(&weights).map(|(&j, w)| targets[j] * w).collect();
                        numpy_sum(&products) / numpy_sum(&weights)
                    }
                };
                Prediction::new(0, vec![number], None)
            }
            Target::Classes { labels, n_classes } => {
                let neighbour_labels: Vec<usize> =
                    chosen.iter().map(|&j| labels[j] as usize).collect();
                // predict_proba: each neighbour's weight added to its class in neighbour order.
                let mut votes = vec![0.0f64; *n_classes];
                for (&label, &weight) in neighbour_labels.iter().zip(&weights) {
                    votes[label] += weight;
                }
                let total = numpy_sum(&votes);
                let divisor = if total == 0.0 { 1.0 } else { total };
                let probabilities: Vec<f64> = votes.iter().map(|v| v / divisor).collect();
                let class_index = match self.weights {
                    NeighborWeights::Uniform => argmax(&votes),
                    NeighborWeights::Distance => {
                        weighted_mode(&neighbour_labels, &weights, *n_classes)
                    }
                };
                Prediction::new(class_index, probabilities.clone(), Some(probabilities))
            }
        }
    }

    /// The distance sklearn returns for a rank: the square root for euclidean.
    fn distance(&self, rank: f64) -> f64 {
        match self.metric {
            NeighborMetric::Euclidean => rank.sqrt(),
            NeighborMetric::Manhattan | NeighborMetric::Cosine => rank,
        }
    }

    /// The rank of every training row for this text's row.
    fn ranks(&self, features: &Features) -> Vec<f64> {
        let n_rows = self.rows.indptr.len().saturating_sub(1);
        match (&self.search, features) {
            (Search::Dense { values }, Features::Dense(x)) => self.dense_ranks(values, x, n_rows),
            (Search::Dense { values }, Features::Sparse(row)) => {
                let mut x = vec![0.0; self.n_features];
                for &(column, value) in &row.entries {
                    if let Some(slot) = x.get_mut(column as usize) {
                        *slot = value;
                    }
                }
                self.dense_ranks(values, &x, n_rows)
            }
            (Search::Postings { starts, rows, values }, features) => {
                let row = features.to_sparse();
                let entries = row.entries.iter().filter(|&&(c, _)| (c as usize) < self.n_features);
                let mut squares = 0.0;
                for &(_, x) in entries.clone() {
                    squares += x * x;
                }
                let scale = match self.metric {
                    // sklearn's normalize leaves a zero row as it is.
                    NeighborMetric::Cosine if squares != 0.0 => squares.sqrt(),
                    _ => 1.0,
                };
                let mut dot = vec![0.0f64; n_rows];
                for &(column, x) in entries {
                    let x = if self.metric == NeighborMetric::Cosine { x / scale } else { x };
                    let (from, to) = (starts[column as usize], starts[column as usize + 1]);
                    for (&j, &y) in rows[from..to].iter().zip(&values[from..to]) {
                        dot[j as usize] += x * y;
                    }
                }
                match (self.metric, &self.norms) {
                    (NeighborMetric::Euclidean, Some(norms)) => dot
                        .iter()
                        .zip(norms)
                        .map(|(d, yy)| ((-2.0 * d + squares) + yy).max(0.0))
                        .collect(),
                    _ => dot.iter().map(|d| (-d + 1.0).clamp(0.0, 2.0)).collect(),
                }
            }
            (Search::SortedRows { starts, entries }, features) => {
                let row = features.to_sparse();
                (0..n_rows)
                    .map(|j| manhattan_merge(&row.entries, &entries[starts[j]..starts[j + 1]]))
                    .collect()
            }
        }
    }

    fn dense_ranks(&self, values: &[f64], x: &[f64], n_rows: usize) -> Vec<f64> {
        let width = self.n_features;
        let rows = (0..n_rows).map(|j| &values[j * width..(j + 1) * width]);
        match (self.metric, self.algorithm) {
            (NeighborMetric::Manhattan, _) => rows
                .map(|y| {
                    let mut total = 0.0;
                    for (a, b) in x.iter().zip(y) {
                        total += (a - b).abs();
                    }
                    total
                })
                .collect(),
            (
                NeighborMetric::Euclidean,
                NeighborAlgorithm::KdTree | NeighborAlgorithm::BallTree,
            ) => rows
                .map(|y| {
                    let mut total = 0.0;
                    for (a, b) in x.iter().zip(y) {
                        let d = a - b;
                        total += d * d;
                    }
                    total
                })
                .collect(),
            (NeighborMetric::Euclidean, NeighborAlgorithm::Brute) => {
                let squares = sequential_dot(x, x);
                let norms = self.norms.as_deref().unwrap_or_default();
                rows.zip(norms)
                    .map(|(y, yy)| ((-2.0 * sequential_dot(x, y) + squares) + yy).max(0.0))
                    .collect()
            }
            (NeighborMetric::Cosine, _) => {
                let squares = sequential_dot(x, x);
                let scale = if squares != 0.0 { squares.sqrt() } else { 1.0 };
                let unit: Vec<f64> = x.iter().map(|v| v / scale).collect();
                rows.map(|y| (-sequential_dot(&unit, y) + 1.0).clamp(0.0, 2.0)).collect()
            }
        }
    }
}

/// Σ a_j b_j in column order from 0.0.
fn sequential_dot(a: &[f64], b: &[f64]) -> f64 {
    let mut total = 0.0;
    for (x, y) in a.iter().zip(b) {
        total += x * y;
    }
    total
}

/// sklearn's sparse manhattan distance: both rows' columns merged in increasing order, each
/// step adding |x − y|, |x| or |y| to the sum from 0.0.
fn manhattan_merge(x: &[(u32, f64)], y: &[(u32, f64)]) -> f64 {
    let (mut i, mut j, mut total) = (0, 0, 0.0);
    while i < x.len() && j < y.len() {
        let ((cx, vx), (cy, vy)) = (x[i], y[j]);
        if cx == cy {
            total += (vx - vy).abs();
            i += 1;
            j += 1;
        } else if cx < cy {
            total += vx.abs();
            i += 1;
        } else {
            total += vy.abs();
            j += 1;
        }
    }
    for &(_, v) in &x[i..] {
        total += v.abs();
    }
    for &(_, v) in &y[j..] {
        total += v.abs();
    }
    total
}

/// `sklearn.utils._heap.heap_push` on a max-heap of `values` (size k): a rank not below the
/// top is refused; else it replaces the top and sinks while a child is larger.
fn heap_push(values: &mut [f64], indices: &mut [usize], rank: f64, index: usize) {
    let size = values.len();
    if rank >= values[0] {
        return;
    }
    let mut current = 0;
    loop {
        let left = 2 * current + 1;
        let right = left + 1;
        // sklearn's branches for a missing right child and for a left child at least as large
        // as the right one both sink into the left child when it is larger than the rank.
        let swap = if left >= size {
            break;
        } else if right >= size || values[left] >= values[right] {
            if rank < values[left] {
                left
            } else {
                break;
            }
        } else if rank < values[right] {
            right
        } else {
            break;
        };
        values[current] = values[swap];
        indices[current] = indices[swap];
        current = swap;
    }
    values[current] = rank;
    indices[current] = index;
}

/// The k rows sklearn's heap keeps when fed every row in order, sorted by (rank, row).
fn select(ranks: &[f64], k: usize) -> Vec<usize> {
    // sklearn starts its heaps at DBL_MAX.
    let mut values = vec![f64::MAX; k];
    let mut indices = vec![usize::MAX; k];
    for (index, &rank) in ranks.iter().enumerate() {
        heap_push(&mut values, &mut indices, rank, index);
    }
    let mut chosen: Vec<usize> = indices.into_iter().filter(|&j| j != usize::MAX).collect();
    chosen.sort_by(|&a, &b| ranks[a].total_cmp(&ranks[b]).then(a.cmp(&b)));
    chosen
}

/// `_get_weights(dist, "distance")`: 1/d, or, when some 1/d is infinite (a distance of 0),
/// 1 for those and 0 for the others.
fn inverse_distances(distances: &[f64]) -> Vec<f64> {
    let inverse: Vec<f64> = distances.iter().map(|d| 1.0 / d).collect();
    if inverse.iter().any(|w| w.is_infinite()) {
        inverse.iter().map(|w| if w.is_infinite() { 1.0 } else { 0.0 }).collect()
    } else {
        inverse
    }
}

/// `sklearn.utils.extmath.weighted_mode` for one row: for each class in increasing order, the
/// numpy sum of the neighbours' weights with that class (0.0 for the others, in neighbour
/// order); the first class with a strictly greater sum than every class before it wins.
fn weighted_mode(labels: &[usize], weights: &[f64], n_classes: usize) -> usize {
    let (mut best, mut best_count) = (0, 0.0);
    let mut template = vec![0.0; labels.len()];
    for class in 0..n_classes {
        for ((slot, &label), &weight) in template.iter_mut().zip(labels).zip(weights) {
            *slot = if label == class { weight } else { 0.0 };
        }
        let count = numpy_sum(&template);
        if count > best_count {
            best = class;
            best_count = count;
        }
    }
    best
}

/// numpy's `add.reduce` of a contiguous float64 array (`pairwise_sum`): a plain loop from 0.0
/// below 8 values, eight running sums up to 128 values combined as ((0+1)+(2+3))+((4+5)+(6+7))
/// and the rest added in order, and above that the two halves (the first a multiple of 8) summed
/// the same way and added.
pub(crate) fn numpy_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut total = 0.0;
        for v in values {
            total += v;
        }
        total
    } else if n <= 128 {
        let mut partial = [0.0f64; 8];
        partial.copy_from_slice(&values[..8]);
        let whole = n - n % 8;
        for block in values[8..whole].chunks_exact(8) {
            for (sum, v) in partial.iter_mut().zip(block) {
                *sum += v;
            }
        }
        let mut total = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
            + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        for v in &values[whole..] {
            total += v;
        }
        total
    } else {
        let mut half = n / 2;
        half -= half % 8;
        numpy_sum(&values[..half]) + numpy_sum(&values[half..])
    }
}

/// Checks the CSR arrays of the training rows; returns their number.
fn check_rows(rows: &CsrSpec, n_features: usize, field: &str) -> Result<usize, ModelError> {
    let CsrSpec { indptr, indices, data } = rows;
    if indptr.len() < 2 || indptr[0] != 0 {
        return Err(ModelError::invalid(
            format!("{field}.indptr"),
            "must start at 0 and hold one entry per training row plus one (at least one row)",
        ));
    }
    if indices.len() != data.len() {
        return Err(ModelError::invalid(
            format!("{field}.data"),
            format!("has {} values for {} indices", data.len(), indices.len()),
        ));
    }
    let n_rows = indptr.len() - 1;
    if n_rows > u32::MAX as usize {
        return Err(ModelError::invalid(
            format!("{field}.indptr"),
            format!("{n_rows} training rows; at most {} are supported", u32::MAX),
        ));
    }
    let mut seen = vec![usize::MAX; n_features];
    for (row, pair) in indptr.windows(2).enumerate() {
        let (start, end) = (pair[0], pair[1]);
        if start > end || end > indices.len() as u64 {
            return Err(ModelError::invalid(
                format!("{field}.indptr[{}]", row + 1),
                format!(
                    "is {end} after {start}: offsets must not decrease nor pass the {} stored \
                     values",
                    indices.len()
                ),
            ));
        }
        for at in start as usize..end as usize {
            let column = indices[at] as usize;
            let Some(last) = seen.get_mut(column) else {
                return Err(ModelError::invalid(
                    format!("{field}.indices[{at}]"),
                    format!("is {column}, but the rows have {n_features} columns"),
                ));
            };
            if *last == row {
                return Err(ModelError::invalid(
                    format!("{field}.indices[{at}]"),
                    format!("repeats column {column} within training row {row}"),
                ));
            }
            *last = row;
            if !data[at].is_finite() {
                return Err(ModelError::invalid(
                    format!("{field}.data[{at}]"),
                    format!("is {}: not a finite number", data[at]),
                ));
            }
        }
    }
    if indptr[n_rows] != indices.len() as u64 {
        return Err(ModelError::invalid(
            format!("{field}.indptr[{n_rows}]"),
            format!("is {}, but {} values are stored", indptr[n_rows], indices.len()),
        ));
    }
    Ok(n_rows)
}

fn check_metric(parts: &Parts<'_>, dense: bool, field: &str) -> Result<(), ModelError> {
    if parts.algorithm != NeighborAlgorithm::Brute
        && (!dense || parts.metric == NeighborMetric::Cosine)
    {
        return Err(ModelError::invalid(
            format!("{field}.algorithm"),
            "kd_tree and ball_tree search dense rows with the euclidean or manhattan metric only \
             (sklearn uses brute force on sparse rows); write \"brute\"",
        ));
    }
    let expected = match parts.metric {
        NeighborMetric::Euclidean => Some(2.0),
        NeighborMetric::Manhattan => Some(1.0),
        NeighborMetric::Cosine => None,
    };
    if let Some(p) = parts.p {
        if Some(p) != expected {
            return Err(ModelError::invalid(
                format!("{field}.p"),
                format!(
                    "is {p}, which does not make minkowski the {:?} metric (p=2 is euclidean, \
                     p=1 manhattan); write null unless the model was fitted with minkowski",
                    parts.metric
                ),
            ));
        }
    }
    Ok(())
}

fn check_norms(
    parts: &Parts<'_>,
    n_rows: usize,
    field: &str,
) -> Result<Option<Vec<f64>>, ModelError> {
    let needed = match parts.metric {
        NeighborMetric::Euclidean => parts.algorithm == NeighborAlgorithm::Brute,
        NeighborMetric::Cosine => true,
        NeighborMetric::Manhattan => false,
    };
    let name = format!("{field}.fit_norms");
    match (needed, parts.fit_norms) {
        (true, None) => Err(ModelError::invalid(
            name,
            "is missing: euclidean brute force and cosine need sklearn's norm of each training \
             row; re-export the model",
        )),
        (false, Some(_)) => Err(ModelError::invalid(
            name,
            "is given, but this metric and algorithm use no row norms; write null",
        )),
        (false, None) => Ok(None),
        (true, Some(norms)) => {
            count(norms.len(), n_rows, &name)?;
            if let Some(i) = norms.iter().position(|v| !v.is_finite() || *v < 0.0) {
                return Err(ModelError::invalid(
                    format!("{name}[{i}]"),
                    format!("is {}: a norm is a finite number, not negative", norms[i]),
                ));
            }
            Ok(Some(norms.clone()))
        }
    }
}

fn count(found: usize, n_rows: usize, field: &str) -> Result<(), ModelError> {
    if found == n_rows {
        Ok(())
    } else {
        Err(ModelError::invalid(
            field,
            format!("has {found} entries for {n_rows} training rows (one per row)"),
        ))
    }
}

/// The search structure for validated rows.
fn build_search(
    rows: &CsrSpec,
    norms: Option<&[f64]>,
    metric: NeighborMetric,
    n_features: usize,
    dense: bool,
) -> Search {
    let n_rows = rows.indptr.len() - 1;
    let range = |j: usize| rows.indptr[j] as usize..rows.indptr[j + 1] as usize;
    // Cosine divides each row by its norm, as sklearn's normalize does (a zero norm: as it is).
    let scale = |j: usize| match (metric, norms) {
        (NeighborMetric::Cosine, Some(norms)) if norms[j] != 0.0 => norms[j],
        _ => 1.0,
    };
    if dense {
        let mut values = vec![0.0; n_rows * n_features];
        for j in 0..n_rows {
            for at in range(j) {
                values[j * n_features + rows.indices[at] as usize] = rows.data[at] / scale(j);
            }
        }
        return Search::Dense { values };
    }
    if metric == NeighborMetric::Manhattan {
        let mut starts = Vec::with_capacity(n_rows + 1);
        let mut entries = Vec::with_capacity(rows.data.len());
        starts.push(0);
        for j in 0..n_rows {
            let first = entries.len();
            entries.extend(range(j).map(|at| (rows.indices[at], rows.data[at])));
            entries[first..].sort_unstable_by_key(|&(column, _)| column);
            starts.push(entries.len());
        }
        return Search::SortedRows { starts, entries };
    }
    // Counting sort by column: each column's rows in increasing order.
    let mut starts = vec![0usize; n_features + 1];
    for &column in &rows.indices {
        starts[column as usize + 1] += 1;
    }
    for c in 0..n_features {
        starts[c + 1] += starts[c];
    }
    let mut next = starts.clone();
    let mut row_of = vec![0u32; rows.data.len()];
    let mut values = vec![0.0; rows.data.len()];
    for j in 0..n_rows {
        for at in range(j) {
            let slot = &mut next[rows.indices[at] as usize];
            row_of[*slot] = j as u32;
            values[*slot] = rows.data[at] / scale(j);
            *slot += 1;
        }
    }
    Search::Postings { starts, rows: row_of, values }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::format::LabelSpec;
    use crate::sparse::SparseRow;

    fn csr(rows: &[&[(u32, f64)]]) -> CsrSpec {
        let mut spec = CsrSpec { indptr: vec![0], ..CsrSpec::default() };
        for row in rows {
            for &(column, value) in *row {
                spec.indices.push(column);
                spec.data.push(value);
            }
            spec.indptr.push(spec.indices.len() as u64);
        }
        spec
    }

    fn classifier(
        rows: CsrSpec,
        labels: Vec<u32>,
        k: usize,
        weights: NeighborWeights,
        metric: NeighborMetric,
    ) -> ClassifierSpec {
        let norms = rows
            .indptr
            .windows(2)
            .map(|w| {
                let mut total = 0.0;
                for v in &rows.data[w[0] as usize..w[1] as usize] {
                    total += v * v;
                }
                if metric == NeighborMetric::Cosine {
                    total.sqrt()
                } else {
                    total
                }
            })
            .collect();
        ClassifierSpec::KNeighbors {
            estimator: "KNeighborsClassifier".into(),
            classes: vec![LabelSpec::Str("a".into()), LabelSpec::Str("b".into())],
            n_neighbors: k,
            weights,
            metric,
            p: None,
            algorithm: NeighborAlgorithm::Brute,
            fit_norms: (metric != NeighborMetric::Manhattan).then_some(norms),
            fit_rows: rows,
            fit_labels: labels,
        }
    }

    fn sparse(entries: &[(u32, f64)]) -> Features {
        Features::Sparse(SparseRow { entries: entries.to_vec() })
    }

    #[test]
    fn the_heap_keeps_what_sklearns_heap_keeps() {
        // sklearn's heap_push on ties: [1, 1, 1, 0, 0, 1] with k=3 keeps rows 1, 3 and 4, not
        // the lowest-numbered 0, 3, 4 (checked with sklearn's ArgKmin on one thread).
        assert_eq!(select(&[1.0, 1.0, 1.0, 0.0, 0.0, 1.0], 3), vec![3, 4, 1]);
        assert_eq!(select(&[0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0], 5), vec![0, 2, 4, 5, 3]);
        assert_eq!(select(&[2.0, 1.0, 3.0], 1), vec![1]);
        assert_eq!(select(&[5.0, 5.0, 5.0], 3), vec![0, 1, 2]);
    }

    #[test]
    fn numpy_sums_in_its_own_order() {
        let values: Vec<f64> = (0..20).map(|i| 0.1 * f64::from(i) + 1e-17 * f64::from(i)).collect();
        let mut partial = [0.0f64; 8];
        partial.copy_from_slice(&values[..8]);
        for (sum, v) in partial.iter_mut().zip(&values[8..16]) {
            *sum += v;
        }
        let expected = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
            + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
            + values[16]
            + values[17]
            + values[18]
            + values[19];
        assert_eq!(numpy_sum(&values).to_bits(), expected.to_bits());
        assert_eq!(numpy_sum(&[1.0, 2.0, 3.0]), 6.0);
        assert_eq!(numpy_sum(&[]), 0.0);
    }

    #[test]
    fn euclidean_votes_and_zero_distances() {
        let rows = csr(&[&[(0, 1.0)], &[(1, 1.0)], &[(0, 1.0), (1, 1.0)], &[(2, 2.0)]]);
        let spec = classifier(
            rows,
            vec![0, 1, 1, 0],
            3,
            NeighborWeights::Uniform,
            NeighborMetric::Euclidean,
        );
        let knn = Neighbors::new(&spec, 3, false, "classifier").unwrap();
        // Ranks for (0: 1): 0, 2, 1, 5 → rows 0, 2, 1: classes a, b, b.
        let p = knn.predict(&sparse(&[(0, 1.0)]));
        assert_eq!((p.class_index, p.probabilities.clone()), (1, Some(vec![1.0 / 3.0, 2.0 / 3.0])));
        let spec = classifier(
            csr(&[&[(0, 1.0)], &[(1, 1.0)], &[(0, 1.0), (1, 1.0)], &[(2, 2.0)]]),
            vec![0, 1, 1, 0],
            3,
            NeighborWeights::Distance,
            NeighborMetric::Euclidean,
        );
        let knn = Neighbors::new(&spec, 3, false, "classifier").unwrap();
        // Row 0 is at distance 0: it alone counts.
        let p = knn.predict(&sparse(&[(0, 1.0)]));
        assert_eq!((p.class_index, p.scores), (0, vec![1.0, 0.0]));
    }

    #[test]
    fn manhattan_and_cosine() {
        let rows = csr(&[&[(1, 2.0), (0, 1.0)], &[(2, 3.0)]]);
        let spec =
            classifier(rows, vec![0, 1], 1, NeighborWeights::Uniform, NeighborMetric::Manhattan);
        let knn = Neighbors::new(&spec, 3, false, "classifier").unwrap();
        assert_eq!(knn.ranks(&sparse(&[(0, 1.0), (2, 1.0)])), vec![3.0, 3.0]);
        assert_eq!(knn.predict(&sparse(&[(2, 2.0)])).class_index, 1);
        let rows = csr(&[&[(0, 3.0), (1, 4.0)], &[(2, 1.0)]]);
        let spec =
            classifier(rows, vec![0, 1], 1, NeighborWeights::Distance, NeighborMetric::Cosine);
        let knn = Neighbors::new(&spec, 3, false, "classifier").unwrap();
        let ranks = knn.ranks(&sparse(&[(0, 6.0), (1, 8.0)]));
        assert!(ranks[0].abs() < 1e-15 && ranks[1] == 1.0, "{ranks:?}");
        // An empty row is at distance 1 from everything.
        assert_eq!(knn.ranks(&sparse(&[])), vec![1.0, 1.0]);
    }

    #[test]
    fn a_regressor_averages_its_neighbours() {
        let spec = ClassifierSpec::KNeighborsRegression {
            estimator: "KNeighborsRegressor".into(),
            n_neighbors: 2,
            weights: NeighborWeights::Distance,
            metric: NeighborMetric::Euclidean,
            p: Some(2.0),
            algorithm: NeighborAlgorithm::Brute,
            fit_rows: csr(&[&[(0, 1.0)], &[(0, 3.0)], &[(0, 10.0)]]),
            fit_norms: Some(vec![1.0, 9.0, 100.0]),
            fit_targets: vec![2.0, 4.0, 8.0],
        };
        let knn = Neighbors::new(&spec, 1, false, "classifier").unwrap();
        assert!(knn.is_regression());
        // x = 2: distances 1 and 1, weights 1 and 1.
        assert_eq!(knn.predict(&sparse(&[(0, 2.0)])).scores, vec![3.0]);
        // x = 1.5: distances 0.5 and 1.5: (2·2 + 4/1.5) / (2 + 1/1.5).
        let expected = (2.0 * 2.0 + 4.0 * (1.0 / 1.5)) / (2.0 + 1.0 / 1.5);
        assert_eq!(knn.predict(&sparse(&[(0, 1.5)])).scores, vec![expected]);
    }

    #[test]
    fn dense_rows_and_trees() {
        let rows = csr(&[&[(0, 0.5), (1, 0.0)], &[(0, -1.0), (1, 2.0)]]);
        let mut spec =
            classifier(rows, vec![0, 1], 1, NeighborWeights::Uniform, NeighborMetric::Euclidean);
        if let ClassifierSpec::KNeighbors { algorithm, fit_norms, .. } = &mut spec {
            *algorithm = NeighborAlgorithm::KdTree;
            *fit_norms = None;
        }
        let knn = Neighbors::new(&spec, 2, true, "classifier").unwrap();
        assert_eq!(knn.ranks(&Features::Dense(vec![0.0, 1.0])), vec![1.25, 2.0]);
        let refused = Neighbors::new(&spec, 2, false, "classifier").unwrap_err().to_string();
        assert!(refused.contains("classifier.algorithm"), "{refused}");
    }

    /// A whole model: TINY's vocabulary ("good", "good phone", "bad", "phone") and a kNN.
    fn model_json(kind: &str) -> String {
        let target = if kind == "k_neighbors" {
            r#""classes": ["neg", "pos"], "fit_labels": [1, 1, 0, 0]"#
        } else {
            r#""fit_targets": [4.5, 3.0, -1.0, 0.25]"#
        };
        format!(
            r#"{{"format": "mod_classify-model", "format_version": 2,
                "vectorizer": {{"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                               "lowercase": true,
                               "vocabulary": ["good", "good phone", "bad", "phone"]}},
                "classifier": {{"kind": "{kind}", "estimator": "KNeighbors",
                    "n_neighbors": 2, "weights": "distance", "metric": "euclidean", "p": 2,
                    "algorithm": "brute",
                    "fit_rows": {{"indptr": [0, 3, 4, 5, 7], "indices": [3, 1, 0, 0, 2, 3, 2],
                                 "data": [1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 3.0]}},
                    "fit_norms": [3.0, 4.0, 1.0, 10.0], {target}}}}}"#
        )
    }

    #[test]
    fn a_model_round_trips_through_both_forms_and_answers_alike() {
        use crate::model::binary;
        use crate::{Model, Task};
        for kind in ["k_neighbors", "k_neighbors_regression"] {
            let json = Model::from_json(model_json(kind).as_bytes()).unwrap();
            let task = if kind == "k_neighbors" { Task::Classification } else { Task::Regression };
            assert_eq!(json.task(), task);
            let bytes = binary::write(&json);
            let again = Model::from_bytes(&bytes).unwrap();
            for text in ["good phone", "bad", "bad phone phone", "", "good good"] {
                assert_eq!(json.predict(text), again.predict(text), "{kind} {text:?}");
            }
            // The arrays live in the classifier once; both forms put them back.
            let file = serde_json::to_value(again.to_file()).unwrap();
            let original: serde_json::Value = serde_json::from_str(&model_json(kind)).unwrap();
            assert_eq!(file["classifier"]["fit_rows"], original["classifier"]["fit_rows"]);
            assert_eq!(file["classifier"]["fit_norms"], original["classifier"]["fit_norms"]);
            assert_eq!(binary::write(&again), bytes, "the binary form is canonical");
            let stripped = match &json.settings().classifier {
                ClassifierSpec::KNeighbors { fit_rows, .. }
                | ClassifierSpec::KNeighborsRegression { fit_rows, .. } => fit_rows.data.is_empty(),
                _ => false,
            };
            assert!(stripped, "the settings keep no second copy of the rows");
        }
        // "good phone" is row 0 exactly (distance 0): it alone counts.
        let model = Model::from_json(model_json("k_neighbors").as_bytes()).unwrap();
        let prediction = model.predict("good phone");
        assert_eq!(model.answer(&prediction).to_string(), "pos");
        assert_eq!(prediction.probabilities, Some(vec![0.0, 1.0]));
        let regressor = Model::from_json(model_json("k_neighbors_regression").as_bytes()).unwrap();
        assert_eq!(regressor.answer(&regressor.predict("good phone")).to_string(), "4.5");
        let memory = regressor.classifier().as_neighbors().unwrap().memory();
        assert_eq!((memory.rows, memory.stored_values, memory.features), (4, 7, 4));
        // indptr 5 × 8, indices 7 × 4, values 7 × 8, norms 4 × 8, targets 4 × 8.
        assert_eq!(memory.row_bytes, 40 + 28 + 56 + 32 + 32);
        assert!(memory.to_string().starts_with("4 training rows x 1.8 stored values each"));
    }

    #[test]
    fn broken_models_are_refused_naming_the_field() {
        let good = || csr(&[&[(0, 1.0)], &[(1, 1.0)]]);
        let refusal = |spec: ClassifierSpec| {
            Neighbors::new(&spec, 2, false, "classifier").unwrap_err().to_string()
        };
        let spec = |rows, labels, k| {
            classifier(rows, labels, k, NeighborWeights::Uniform, NeighborMetric::Euclidean)
        };
        let too_many = refusal(spec(good(), vec![0, 1], 3));
        assert!(
            too_many.contains("classifier.n_neighbors") && too_many.contains("(2)"),
            "{too_many}"
        );
        let label = refusal(spec(good(), vec![0, 2], 1));
        assert!(label.contains("classifier.fit_labels[1]"), "{label}");
        let labels = refusal(spec(good(), vec![0], 1));
        assert!(
            labels.contains("classifier.fit_labels") && labels.contains("2 training rows"),
            "{labels}"
        );
        let mut wide = good();
        wide.indices[1] = 5;
        let wide = refusal(spec(wide, vec![0, 1], 1));
        assert!(wide.contains("classifier.fit_rows.indices[1]"), "{wide}");
        let mut twice = csr(&[&[(0, 1.0), (0, 2.0)], &[(1, 1.0)]]);
        twice.indptr = vec![0, 2, 3];
        let twice = refusal(spec(twice, vec![0, 1], 1));
        assert!(twice.contains("repeats column 0"), "{twice}");
        let mut nan = good();
        nan.data[0] = f64::NAN;
        let nan = refusal(spec(nan, vec![0, 1], 1));
        assert!(nan.contains("classifier.fit_rows.data[0]"), "{nan}");
        let mut short = good();
        short.indptr = vec![0, 1, 1];
        let short = refusal(spec(short, vec![0, 1], 1));
        assert!(short.contains("classifier.fit_rows.indptr[2]"), "{short}");
        let mut no_norms = spec(good(), vec![0, 1], 1);
        if let ClassifierSpec::KNeighbors { fit_norms, .. } = &mut no_norms {
            *fit_norms = None;
        }
        assert!(refusal(no_norms).contains("classifier.fit_norms"));
    }
}
