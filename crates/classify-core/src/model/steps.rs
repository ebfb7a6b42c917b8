//! The transforms a pipeline runs between its vectorizer and its classifier (feature selection,
//! scaling, normalization, a later tf-idf, binarizing, a truncated SVD), each computed as sklearn
//! computes it on the CSR row the vectorizer produced, or on the dense row after a projection.

use crate::error::ModelError;
use crate::featurize::Tfidf;
use crate::model::format::{RowNorm, StepSpec, TfidfSpec};
use crate::sparse::{Norm, SparseRow};

/// One document's features on their way to the classifier: sparse as the vectorizer gives them,
/// dense after a `project` step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Features {
    Sparse(SparseRow),
    Dense(Vec<f64>),
}

impl Features {
    /// The row as sparse entries (a dense row's non-zero values), for classifiers that read
    /// sparse rows only; zeros add nothing to their dot products and distances.
    pub(crate) fn to_sparse(&self) -> std::borrow::Cow<'_, SparseRow> {
        match self {
            Features::Sparse(row) => std::borrow::Cow::Borrowed(row),
            Features::Dense(values) => std::borrow::Cow::Owned(SparseRow {
                entries: values
                    .iter()
                    .enumerate()
                    .filter(|&(_, &value)| value != 0.0)
                    .map(|(index, &value)| (index as u32, value))
                    .collect(),
            }),
        }
    }
}

/// A validated step, ready to run.
#[derive(Debug)]
pub(crate) enum Step {
    Select {
        /// Kept input columns, in output order.
        support: Vec<u32>,
        /// Output column of each input column, `u32::MAX` when it is dropped.
        position: Vec<u32>,
    },
    Scale {
        scale: Vec<f64>,
        /// `1 / scale`: sklearn multiplies sparse columns by it (`inplace_column_scale`).
        inverse: Vec<f64>,
    },
    Center {
        mean: Vec<f64>,
    },
    Normalize(RowNorm),
    Tfidf(Tfidf),
    Binarize(f64),
    Project {
        n_components: usize,
        /// `components_` transposed: the k weights of input column j at `j * k`.
        by_column: Vec<f64>,
    },
}

impl Step {
    /// Checks `spec` against the width of its input and returns the step and its output width.
    /// `field` names the step in messages (`steps[2]`).
    pub(crate) fn new(
        spec: &StepSpec,
        n_in: usize,
        dense: bool,
        field: &str,
    ) -> Result<(Step, usize), ModelError> {
        let width = |name: &str, len: usize| {
            if len == n_in {
                Ok(())
            } else {
                Err(ModelError::invalid(
                    format!("{field}.{name}"),
                    format!(
                        "has {len} values but the step before gives {n_in} features; \
                         the steps were not fitted together"
                    ),
                ))
            }
        };
        match spec {
            StepSpec::Select { n_features_in, support, .. } => {
                width("n_features_in", *n_features_in)?;
                let mut position = vec![u32::MAX; n_in];
                for (out, &column) in support.iter().enumerate() {
                    let sorted = out == 0 || support[out - 1] < column;
                    if (column as usize) >= n_in || !sorted {
                        return Err(ModelError::invalid(
                            format!("{field}.support[{out}]"),
                            format!(
                                "{column} is not a column in 0..{n_in} above the one before it \
                                 (support must be sorted and unique)"
                            ),
                        ));
                    }
                    position[column as usize] = out as u32;
                }
                Ok((Step::Select { support: support.clone(), position }, support.len()))
            }
            StepSpec::Scale { scale, .. } => {
                width("scale", scale.len())?;
                check_values(&format!("{field}.scale"), scale, |v| v != 0.0, "a non-zero number")?;
                let inverse = scale.iter().map(|s| 1.0 / s).collect();
                Ok((Step::Scale { scale: scale.clone(), inverse }, n_in))
            }
            StepSpec::Center { mean, .. } => {
                width("mean", mean.len())?;
                check_values(&format!("{field}.mean"), mean, |_| true, "a finite number")?;
                if !dense {
                    return Err(ModelError::invalid(
                        format!("{field}.kind"),
                        "\"center\" needs a dense row (after a \"project\" step): centering a \
                         sparse row makes it dense, which sklearn refuses too",
                    ));
                }
                Ok((Step::Center { mean: mean.clone() }, n_in))
            }
            StepSpec::Normalize { norm, .. } => Ok((Step::Normalize(*norm), n_in)),
            StepSpec::Tfidf { norm, use_idf, smooth_idf, sublinear_tf, idf, .. } => {
                let spec = TfidfSpec {
                    norm: *norm,
                    use_idf: *use_idf,
                    smooth_idf: *smooth_idf,
                    sublinear_tf: *sublinear_tf,
                    idf: None,
                };
                let tfidf = Tfidf::new(&spec, idf.clone(), n_in)
                    .map_err(|e| e.renamed("tfidf.", &format!("{field}.")))?;
                Ok((Step::Tfidf(tfidf), n_in))
            }
            StepSpec::Binarize { threshold, .. } => {
                if !(threshold.is_finite() && *threshold >= 0.0) {
                    return Err(ModelError::invalid(
                        format!("{field}.threshold"),
                        format!("{threshold} must be a finite number >= 0"),
                    ));
                }
                Ok((Step::Binarize(*threshold), n_in))
            }
            StepSpec::Project { n_features_in, components, .. } => {
                width("n_features_in", *n_features_in)?;
                let n_components = components.len();
                if n_components == 0 {
                    return Err(ModelError::invalid(
                        format!("{field}.components"),
                        "is empty; a projection needs at least one component",
                    ));
                }
                let mut by_column = vec![0.0; n_in * n_components];
                for (k, component) in components.iter().enumerate() {
                    let name = format!("{field}.components[{k}]");
                    if component.len() != n_in {
                        return Err(ModelError::invalid(
                            name,
                            format!("has {} values for {n_in} input features", component.len()),
                        ));
                    }
                    check_values(&name, component, |_| true, "a finite number")?;
                    for (column, &weight) in component.iter().enumerate() {
                        by_column[column * n_components + k] = weight;
                    }
                }
                Ok((Step::Project { n_components, by_column }, n_components))
            }
        }
    }

    /// Whether the step's output is dense (given whether its input is).
    pub(crate) fn makes_dense(&self, dense: bool) -> bool {
        dense || matches!(self, Step::Project { .. })
    }

    /// The input column an output column came from, for steps that keep columns apart.
    /// `None` when output columns mix inputs (a projection).
    pub(crate) fn source_column(&self, column: u32) -> Option<u32> {
        match self {
            Step::Select { support, .. } => support.get(column as usize).copied(),
            Step::Project { .. } => None,
            _ => Some(column),
        }
    }

    /// Runs the step on one row.
    pub(crate) fn apply(&self, features: Features) -> Features {
        match (self, features) {
            (Step::Select { position, .. }, Features::Sparse(row)) => {
                let entries = row
                    .entries
                    .into_iter()
                    .filter_map(|(column, value)| {
                        let out = position[column as usize];
                        (out != u32::MAX).then_some((out, value))
                    })
                    .collect();
                Features::Sparse(SparseRow { entries })
            }
            (Step::Select { support, .. }, Features::Dense(values)) => {
                Features::Dense(support.iter().map(|&column| values[column as usize]).collect())
            }
            (Step::Scale { inverse, .. }, Features::Sparse(mut row)) => {
                for (column, value) in row.entries.iter_mut() {
                    *value *= inverse[*column as usize];
                }
                Features::Sparse(row)
            }
            (Step::Scale { scale, .. }, Features::Dense(mut values)) => {
                values.iter_mut().zip(scale).for_each(|(value, s)| *value /= s);
                Features::Dense(values)
            }
            (Step::Center { mean }, Features::Dense(mut values)) => {
                values.iter_mut().zip(mean).for_each(|(value, m)| *value -= m);
                Features::Dense(values)
            }
            // `Step::new` refuses centering before a projection.
            (Step::Center { .. }, sparse @ Features::Sparse(_)) => sparse,
            (Step::Normalize(norm), Features::Sparse(mut row)) => {
                match norm {
                    RowNorm::L1 => row.normalize(Norm::L1),
                    RowNorm::L2 => row.normalize(Norm::L2),
                    RowNorm::Max => {
                        let max = row.entries.iter().fold(0.0f64, |m, &(_, v)| m.max(v.abs()));
                        if max != 0.0 {
                            row.values_mut().for_each(|v| *v /= max);
                        }
                    }
                }
                Features::Sparse(row)
            }
            (Step::Normalize(norm), Features::Dense(mut values)) => {
                let total = match norm {
                    RowNorm::L1 => values.iter().map(|v| v.abs()).sum::<f64>(),
                    RowNorm::L2 => values.iter().map(|v| v * v).sum::<f64>().sqrt(),
                    RowNorm::Max => values.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                };
                if total != 0.0 {
                    values.iter_mut().for_each(|v| *v /= total);
                }
                Features::Dense(values)
            }
            (Step::Tfidf(tfidf), features) => {
                // TfidfTransformer turns a dense input into CSR first.
                let mut row = features.to_sparse().into_owned();
                tfidf.apply(&mut row);
                Features::Sparse(row)
            }
            (Step::Binarize(threshold), Features::Sparse(row)) => {
                let entries = row
                    .entries
                    .into_iter()
                    .filter(|&(_, value)| value > *threshold)
                    .map(|(column, _)| (column, 1.0))
                    .collect();
                Features::Sparse(SparseRow { entries })
            }
            (Step::Binarize(threshold), Features::Dense(values)) => Features::Dense(
                values.iter().map(|&v| if v > *threshold { 1.0 } else { 0.0 }).collect(),
            ),
            (Step::Project { n_components, by_column }, features) => {
                // scipy's CSR × dense product: each stored value in row order adds its
                // column's weights to every output.
                let mut out = vec![0.0; *n_components];
                let mut add = |column: usize, value: f64| {
                    let weights = &by_column[column * n_components..(column + 1) * n_components];
                    for (sum, weight) in out.iter_mut().zip(weights) {
                        *sum += value * weight;
                    }
                };
                match features {
                    Features::Sparse(row) => {
                        row.entries.iter().for_each(|&(c, v)| add(c as usize, v));
                    }
                    Features::Dense(values) => {
                        values.iter().enumerate().for_each(|(c, &v)| add(c, v));
                    }
                }
                Features::Dense(out)
            }
        }
    }
}

/// Builds the steps of `specs` in order from an input of `n_in` columns; returns them with the
/// final width and whether the final row is dense. `field` names the list (`steps`).
pub(crate) fn build_steps(
    specs: &[StepSpec],
    mut n_in: usize,
    mut dense: bool,
    field: &str,
) -> Result<(Vec<Step>, usize, bool), ModelError> {
    let mut steps = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let (step, n_out) = Step::new(spec, n_in, dense, &format!("{field}[{index}]"))?;
        dense = step.makes_dense(dense);
        steps.push(step);
        n_in = n_out;
    }
    Ok((steps, n_in, dense))
}

/// Runs `steps` in order.
pub(crate) fn apply_steps(steps: &[Step], mut features: Features) -> Features {
    for step in steps {
        features = step.apply(features);
    }
    features
}

fn check_values(
    field: &str,
    values: &[f64],
    valid: impl Fn(f64) -> bool,
    expected: &str,
) -> Result<(), ModelError> {
    match values.iter().position(|&v| !v.is_finite() || !valid(v)) {
        Some(position) => Err(ModelError::invalid(
            format!("{field}[{position}]"),
            format!("{} is not {expected}", values[position]),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sparse(entries: &[(u32, f64)]) -> Features {
        Features::Sparse(SparseRow { entries: entries.to_vec() })
    }

    fn step(spec: serde_json::Value, n_in: usize) -> Step {
        let spec: StepSpec = serde_json::from_value(spec).unwrap();
        Step::new(&spec, n_in, false, "steps[0]").unwrap().0
    }

    #[test]
    fn selection_renumbers_kept_columns_in_support_order() {
        let select = step(
            serde_json::json!({"kind": "select", "estimator": "SelectKBest",
                               "n_features_in": 5, "support": [1, 3, 4]}),
            5,
        );
        assert_eq!(
            select.apply(sparse(&[(0, 2.0), (3, 1.0), (4, 5.0)])),
            sparse(&[(1, 1.0), (2, 5.0)])
        );
        assert_eq!(select.source_column(1), Some(3));
    }

    #[test]
    fn unsorted_support_is_refused_by_position() {
        let spec: StepSpec = serde_json::from_value(serde_json::json!(
            {"kind": "select", "estimator": "SelectKBest", "n_features_in": 5, "support": [3, 1]}
        ))
        .unwrap();
        let err = Step::new(&spec, 5, false, "steps[0]").unwrap_err().to_string();
        assert!(err.contains("steps[0].support[1]"), "{err}");
    }

    #[test]
    fn a_step_fitted_on_another_width_is_refused() {
        let spec: StepSpec = serde_json::from_value(
            serde_json::json!({"kind": "scale", "estimator": "MaxAbsScaler", "scale": [1.0, 2.0]}),
        )
        .unwrap();
        let err = Step::new(&spec, 3, false, "steps[1]").unwrap_err().to_string();
        assert!(err.contains("steps[1].scale") && err.contains("gives 3 features"), "{err}");
    }

    #[test]
    fn max_norm_divides_by_the_largest_magnitude() {
        let normalize = step(
            serde_json::json!({"kind": "normalize", "estimator": "Normalizer", "norm": "max"}),
            3,
        );
        assert_eq!(normalize.apply(sparse(&[(0, 2.0), (2, -4.0)])), sparse(&[(0, 0.5), (2, -1.0)]));
        assert_eq!(normalize.apply(sparse(&[])), sparse(&[]));
    }

    #[test]
    fn projection_makes_a_dense_row() {
        let project = step(
            serde_json::json!({"kind": "project", "estimator": "TruncatedSVD", "n_features_in": 3,
                               "components": [[1.0, 0.0, 2.0], [0.5, 1.0, 0.0]]}),
            3,
        );
        assert_eq!(project.apply(sparse(&[(0, 2.0), (2, 1.0)])), Features::Dense(vec![4.0, 1.0]));
    }

    #[test]
    fn binarize_keeps_values_above_the_threshold_as_ones() {
        let binarize = step(
            serde_json::json!({"kind": "binarize", "estimator": "BernoulliNB", "threshold": 0.5}),
            3,
        );
        assert_eq!(binarize.apply(sparse(&[(0, 0.5), (1, 2.0)])), sparse(&[(1, 1.0)]));
    }
}
