//! Kernel SVMs (`--algo svc`, sklearn `SVC`): one binary problem per pair of classes, each solved
//! by linfa-svm's SMO, combined into the layout sklearn's libsvm gives `SVC` (and so the one
//! `model::kernel` predicts with):
//!
//! - classes sorted; pairs (0,1), (0,2), ..., (1,2), ...; in pair (i, j) class i is the positive
//!   side, and a positive decision value votes for i;
//! - support vectors grouped by class (`n_support`), each group in training order; a document is
//!   a support vector if it is one in any of its class's pairs;
//! - libsvm's `sv_coef` (n_classes − 1 rows): pair (i, j) keeps the coefficients `y α` of class
//!   i's support vectors in row j − 1 and those of class j's in row i (0 where a support vector
//!   of the class is not one of that pair); the intercept of a pair is `−ρ`;
//! - the model file holds sklearn's public `dual_coef_`/`intercept_`: for two classes sklearn
//!   negates both (a positive decision value then means `classes_[1]`), so they are negated here.
//!
//! Limits: linfa-svm works on dense data and a dense kernel matrix. A pair's problem of `n`
//! documents that use `d` distinct features holds an `n × n` kernel matrix and an `n × d` feature
//! matrix of `f64`, `8 (n² + n d)` bytes; training refuses, before any work, a pair above
//! `memory_limit` (2 GiB by default), and solves fewer pairs at once when several would not fit
//! together. Time grows like `n²` per pair at least: kernel SVMs are for thousands of documents,
//! the linear SVM for more.

use crate::csr::CsrMatrix;
use crate::{work_queue, Progress, TrainError};
use classify_core::model::format::{CsrSpec, KernelKind};

/// sklearn's `gamma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// `1 / (n_features · X.var())` over the training matrix (sklearn's default).
    Scale,
    /// `1 / n_features`.
    Auto,
    Value(f64),
}

/// The kernel and its parameters, as sklearn names them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SvcParams {
    /// Linear, Poly or Rbf (linfa-svm has no sigmoid kernel).
    pub kernel: KernelKind,
    pub gamma: Gamma,
    pub coef0: f64,
    pub degree: u32,
    /// Bytes that the dense matrices of the pairs solved at once may take.
    pub memory_limit: u64,
}

/// The default [`SvcParams::memory_limit`]: 2 GiB.
pub(crate) const DEFAULT_MEMORY_LIMIT: u64 = 2 << 30;

impl Default for SvcParams {
    fn default() -> Self {
        SvcParams {
            kernel: KernelKind::Rbf,
            gamma: Gamma::Scale,
            coef0: 0.0,
            degree: 3,
            memory_limit: DEFAULT_MEMORY_LIMIT,
        }
    }
}

/// A fitted SVC in the model file's terms (sklearn's public orientation).
#[derive(Debug, Clone)]
pub(crate) struct SvcFit {
    pub(crate) gamma: f64,
    pub(crate) n_support: Vec<usize>,
    pub(crate) support_vectors: CsrSpec,
    pub(crate) dual_coef: Vec<Vec<f64>>,
    pub(crate) intercept: Vec<f64>,
    /// Per pair, in pair order: (i, j, iterations, converged).
    pub(crate) pairs: Vec<(usize, usize, usize, bool)>,
}

/// One pair's binary solution: `y α` per document of the pair (class i's documents first, then
/// class j's, each in training order) and libsvm's intercept `−ρ`.
#[derive(Debug, Clone)]
pub(crate) struct PairSolution {
    pub(crate) coef: Vec<f64>,
    pub(crate) intercept: f64,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
}

/// A binary problem as handed to the solver: dense rows over the pair's own features.
#[derive(Debug, Clone)]
pub(crate) struct PairProblem {
    /// Row-major `n × d`.
    pub(crate) records: Vec<f64>,
    pub(crate) n: usize,
    pub(crate) d: usize,
    /// `true` for class i (the positive side), `false` for class j.
    pub(crate) positive: Vec<bool>,
    pub(crate) c_positive: f64,
    pub(crate) c_negative: f64,
}

/// Bytes of linfa-svm's dense matrices for a pair of `n` documents and `d` features.
pub(crate) fn pair_memory(n: usize, d: usize) -> u64 {
    8 * (n as u64 * n as u64 + n as u64 * d as u64)
}

/// Coefficients at most this large are not support vectors (linfa-svm's own threshold).
const ZERO: f64 = 100.0 * f64::EPSILON;

/// sklearn's `_gamma`: 'scale' is `1 / (n_features · X.var())`, the variance over every entry of
/// the training matrix, zeros included (`(X ∘ X).mean() − X.mean()²` as sklearn computes it for
/// sparse input); 1 when that variance is 0, as sklearn does.
pub(crate) fn resolve_gamma(x: &CsrMatrix, gamma: Gamma) -> f64 {
    let n_features = x.n_cols().max(1) as f64;
    match gamma {
        Gamma::Value(value) => value,
        Gamma::Auto => 1.0 / n_features,
        Gamma::Scale => {
            let entries = x.n_rows() as f64 * n_features;
            let (mut sum, mut squares) = (0.0, 0.0);
            for i in 0..x.n_rows() {
                for &v in x.row(i).1 {
                    sum += v;
                    squares += v * v;
                }
            }
            let mean = sum / entries;
            let variance = squares / entries - mean * mean;
            if variance > 0.0 {
                1.0 / (n_features * variance)
            } else {
                1.0
            }
        }
    }
}

/// Fits the one-vs-one SVC: `targets[k]` is document `k`'s class index, `weights` the per-class
/// multipliers of `c`; `solve` solves one binary problem (linfa-svm in [`fit`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_with(
    x: &CsrMatrix,
    targets: &[u32],
    classes: &[String],
    weights: &[f64],
    c: f64,
    params: &SvcParams,
    threads: usize,
    progress: &dyn Progress,
    solve: &(dyn Fn(&PairProblem, f64) -> Result<PairSolution, TrainError> + Sync),
) -> Result<SvcFit, TrainError> {
    let n_classes = classes.len();
    if !matches!(params.kernel, KernelKind::Linear | KernelKind::Poly | KernelKind::Rbf) {
        return Err(TrainError::option(
            "--kernel",
            "linfa-svm trains linear, poly and rbf kernels",
        ));
    }
    let gamma = resolve_gamma(x, params.gamma);
    if params.kernel != KernelKind::Linear && !(gamma.is_finite() && gamma > 0.0) {
        return Err(TrainError::option("--gamma", format!("{gamma} must be a positive number")));
    }
    if params.kernel == KernelKind::Poly && params.degree == 0 {
        return Err(TrainError::option("--degree", "must be at least 1"));
    }
    let members: Vec<Vec<usize>> = (0..n_classes as u32)
        .map(|class| (0..targets.len()).filter(|&k| targets[k] == class).collect())
        .collect();
    let pairs: Vec<(usize, usize)> =
        (0..n_classes).flat_map(|i| (i + 1..n_classes).map(move |j| (i, j))).collect();

    // Each pair's own features (the columns its documents use): kernel values do not depend on
    // the columns that are zero in every row, and the dense matrix shrinks to these.
    let mut seen = vec![usize::MAX; x.n_cols()];
    let mut pair_columns = Vec::with_capacity(pairs.len());
    for (p, &(i, j)) in pairs.iter().enumerate() {
        let mut columns = Vec::new();
        for &k in members[i].iter().chain(&members[j]) {
            for &column in x.row(k).0 {
                if seen[column as usize] != p {
                    seen[column as usize] = p;
                    columns.push(column);
                }
            }
        }
        columns.sort_unstable();
        pair_columns.push(columns);
    }
    let need = |p: usize| {
        let (i, j) = pairs[p];
        pair_memory(members[i].len() + members[j].len(), pair_columns[p].len())
    };
    let largest = (0..pairs.len()).max_by_key(|&p| need(p)).unwrap_or(0);
    if need(largest) > params.memory_limit {
        let (i, j) = pairs[largest];
        let n = members[i].len() + members[j].len();
        let d = pair_columns[largest].len();
        return Err(TrainError::Unfit(format!(
            "--algo svc: the classes {:?} and {:?} have n = {n} documents using d = {d} distinct \
             features; linfa-svm would hold a dense n × n kernel matrix ({}) and a dense n × d \
             feature matrix ({}), {} in all, over the limit of {}. Train on fewer documents, \
             shrink d with --max-features or --min-df, or use --algo linear-svm, which has no \
             such limit",
            classes[i],
            classes[j],
            gib(pair_memory(n, 0)),
            gib(8 * n as u64 * d as u64),
            gib(need(largest)),
            gib(params.memory_limit),
        )));
    }
    let threads = threads
        .clamp(1, pairs.len().max(1))
        .min((params.memory_limit / need(largest).max(1)).max(1) as usize);

    let step = progress.step("kernel SVM, one problem per pair of classes", pairs.len() as u64);
    let solve_pair = |p: usize| {
        let (i, j) = pairs[p];
        let columns = &pair_columns[p];
        let mut local = vec![u32::MAX; x.n_cols()];
        for (position, &column) in columns.iter().enumerate() {
            local[column as usize] = position as u32;
        }
        let documents: Vec<usize> = members[i].iter().chain(&members[j]).copied().collect();
        let (n, d) = (documents.len(), columns.len());
        let mut records = vec![0.0; n * d];
        for (row, &k) in documents.iter().enumerate() {
            let (indices, values) = x.row(k);
            for (&column, &value) in indices.iter().zip(values) {
                records[row * d + local[column as usize] as usize] = value;
            }
        }
        let problem = PairProblem {
            records,
            n,
            d,
            positive: documents.iter().map(|&k| targets[k] as usize == i).collect(),
            c_positive: c * weights[i],
            c_negative: c * weights[j],
        };
        solve(&problem, gamma)
    };
    let solutions = work_queue::solve_all(pairs.len(), threads, solve_pair, |p| {
        let (i, j) = pairs[p];
        step.note(&format!("{} vs {}", classes[i], classes[j]));
        step.advance(1);
    });
    drop(step);
    let solutions = solutions.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(assemble(x, &members, &pairs, &solutions, gamma))
}

/// Lays the pairs' solutions out as libsvm does, then in sklearn's public orientation.
fn assemble(
    x: &CsrMatrix,
    members: &[Vec<usize>],
    pairs: &[(usize, usize)],
    solutions: &[PairSolution],
    gamma: f64,
) -> SvcFit {
    let n_classes = members.len();
    let mut support = vec![false; x.n_rows()];
    for (&(i, j), solution) in pairs.iter().zip(solutions) {
        for (&k, &coef) in members[i].iter().chain(&members[j]).zip(&solution.coef) {
            if coef.abs() > ZERO {
                support[k] = true;
            }
        }
    }
    let mut position = vec![usize::MAX; x.n_rows()];
    let mut n_support = Vec::with_capacity(n_classes);
    let mut support_vectors = CsrSpec { indptr: vec![0], indices: Vec::new(), data: Vec::new() };
    for class_members in members {
        let mut count = 0;
        for &k in class_members.iter().filter(|&&k| support[k]) {
            position[k] = support_vectors.indptr.len() - 1;
            let (indices, values) = x.row(k);
            support_vectors.indices.extend_from_slice(indices);
            support_vectors.data.extend_from_slice(values);
            support_vectors.indptr.push(support_vectors.indices.len() as u64);
            count += 1;
        }
        n_support.push(count);
    }
    let n_sv = support_vectors.indptr.len() - 1;
    let mut dual_coef = vec![vec![0.0; n_sv]; n_classes - 1];
    let mut intercept = Vec::with_capacity(pairs.len());
    for (&(i, j), solution) in pairs.iter().zip(solutions) {
        for (&k, &coef) in members[i].iter().zip(&solution.coef) {
            if coef.abs() > ZERO {
                dual_coef[j - 1][position[k]] = coef;
            }
        }
        for (&k, &coef) in members[j].iter().zip(&solution.coef[members[i].len()..]) {
            if coef.abs() > ZERO {
                dual_coef[i][position[k]] = coef;
            }
        }
        intercept.push(solution.intercept);
    }
    if n_classes == 2 {
        // sklearn's public dual_coef_/intercept_ for two classes are libsvm's negated.
        for value in dual_coef.iter_mut().flatten().chain(intercept.iter_mut()) {
            *value = -*value;
        }
    }
    SvcFit {
        gamma,
        n_support,
        support_vectors,
        dual_coef,
        intercept,
        pairs: pairs
            .iter()
            .zip(solutions)
            .map(|(&(i, j), s)| (i, j, s.iterations, s.converged))
            .collect(),
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Fits the one-vs-one SVC with linfa-svm's SMO (see [`fit_with`]); `tol` is its stopping
/// tolerance (`eps`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit(
    x: &CsrMatrix,
    targets: &[u32],
    classes: &[String],
    weights: &[f64],
    c: f64,
    tol: f64,
    params: &SvcParams,
    threads: usize,
    progress: &dyn Progress,
) -> Result<SvcFit, TrainError> {
    let solve = |problem: &PairProblem, gamma: f64| linfa_solve(problem, gamma, tol, params);
    fit_with(x, targets, classes, weights, c, params, threads, progress, &solve)
}

/// One binary problem through linfa-svm. linfa's polynomial kernel is `(x·y + c)^d`, without
/// sklearn's gamma: `(γ x·y + coef0)^d = γ^d (x·y + coef0/γ)^d`, and scaling a kernel by `s` is
/// the same problem with `C` scaled by `s` and the coefficients by `1/s`.
fn linfa_solve(
    problem: &PairProblem,
    gamma: f64,
    tol: f64,
    params: &SvcParams,
) -> Result<PairSolution, TrainError> {
    use linfa::traits::Fit;
    use linfa_svm::Svm;

    let records = ndarray::Array2::from_shape_vec((problem.n, problem.d), problem.records.clone())
        .map_err(|e| TrainError::Unfit(format!("--algo svc: {e}")))?;
    let dataset = linfa::Dataset::new(records, ndarray::Array1::from(problem.positive.clone()));
    let scale = match params.kernel {
        KernelKind::Poly => gamma.powi(params.degree as i32),
        _ => 1.0,
    };
    let svm = Svm::<f64, bool>::params()
        .pos_neg_weights(problem.c_positive * scale, problem.c_negative * scale)
        .eps(tol);
    let svm = match params.kernel {
        KernelKind::Rbf => svm.gaussian_kernel(1.0 / gamma),
        KernelKind::Poly => svm.polynomial_kernel(params.coef0 / gamma, f64::from(params.degree)),
        _ => svm.linear_kernel(),
    };
    let model = svm.fit(&dataset).map_err(|e| TrainError::Unfit(format!("linfa-svm: {e}")))?;
    // linfa keeps its exit reason and iteration count private; its Display tells both.
    let summary = model.to_string();
    let iterations =
        summary.split_whitespace().find_map(|word| word.parse::<usize>().ok()).unwrap_or(0);
    Ok(PairSolution {
        coef: model.alpha.iter().map(|a| a / scale).collect(),
        intercept: -model.rho,
        iterations,
        converged: !summary.starts_with("Reached maximal iterations"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quiet;

    #[test]
    fn scale_gamma_is_sklearns() {
        // X = [[1, 0], [0, 3]]: mean 1, mean of squares 10/4, variance 1.5; 1 / (2 · 1.5).
        let mut x = CsrMatrix::new(2);
        x.push_row([(0, 1.0)]);
        x.push_row([(1, 3.0)]);
        assert!((resolve_gamma(&x, Gamma::Scale) - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(resolve_gamma(&x, Gamma::Auto), 0.5);
    }

    /// Three classes, two documents each; a fake solver whose coefficients name the pair.
    #[test]
    fn pairs_are_laid_out_as_libsvm_does() {
        let mut x = CsrMatrix::new(3);
        for k in 0..6u32 {
            x.push_row([(k % 3, f64::from(k + 1))]);
        }
        let targets = [2, 0, 1, 0, 2, 1];
        let classes: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        // Pair (i, j): class i's documents get +(10 i + j), class j's −(10 i + j), except that
        // the second document of each class is no support vector in pairs with the last class.
        let solve = |problem: &PairProblem, _gamma: f64| {
            let tag = problem.c_positive * 10.0 + problem.c_negative;
            let coef = problem
                .positive
                .iter()
                .enumerate()
                .map(|(k, &positive)| {
                    let last_pair = problem.c_negative == 2.0;
                    if last_pair && (k == 1 || k == 3) {
                        0.0
                    } else if positive {
                        tag
                    } else {
                        -tag
                    }
                })
                .collect();
            Ok(PairSolution { coef, intercept: -tag, iterations: 1, converged: true })
        };
        // weights[k] = k makes c_positive = i and c_negative = j: the fake solver sees the pair.
        let fit = fit_with(
            &x,
            &targets,
            &classes,
            &[0.0, 1.0, 2.0],
            1.0,
            &SvcParams { kernel: KernelKind::Linear, ..SvcParams::default() },
            2,
            &Quiet,
            &solve,
        )
        .unwrap();
        // Class a = documents 1, 3; b = 2, 5; c = 0, 4. Document 4 (c's second) is a support
        // vector in none of its pairs.
        assert_eq!(fit.n_support, [2, 2, 1]);
        assert_eq!(fit.support_vectors.indptr, [0, 1, 2, 3, 4, 5]);
        assert_eq!(fit.support_vectors.data, [2.0, 4.0, 3.0, 6.0, 1.0]);
        // Pairs (0,1) tag 1, (0,2) tag 2, (1,2) tag 12. Row j − 1 holds class i's coefficients
        // of pair (i, j), row i class j's; 0 where a support vector is none of that pair.
        assert_eq!(fit.dual_coef[0], [1.0, 1.0, -1.0, -1.0, -2.0]);
        assert_eq!(fit.dual_coef[1], [2.0, 0.0, 12.0, 0.0, -12.0]);
        assert_eq!(fit.intercept, [-1.0, -2.0, -12.0]);
    }

    #[test]
    fn two_classes_are_negated_as_sklearn_does() {
        let mut x = CsrMatrix::new(1);
        x.push_row([(0, -1.0)]);
        x.push_row([(0, 1.0)]);
        let solve = |_: &PairProblem, _: f64| {
            Ok(PairSolution {
                coef: vec![0.5, -0.5],
                intercept: 0.25,
                iterations: 1,
                converged: true,
            })
        };
        let classes: Vec<String> = ["neg", "pos"].map(String::from).to_vec();
        let fit = fit_with(
            &x,
            &[0, 1],
            &classes,
            &[1.0, 1.0],
            1.0,
            &SvcParams::default(),
            1,
            &Quiet,
            &solve,
        )
        .unwrap();
        assert_eq!(fit.dual_coef, [vec![-0.5, 0.5]]);
        assert_eq!(fit.intercept, [-0.25]);
    }

    #[test]
    fn too_large_a_pair_is_refused_with_its_size() {
        let mut x = CsrMatrix::new(2);
        for k in 0..100 {
            x.push_row([(k % 2, 1.0)]);
        }
        let targets: Vec<u32> = (0..100).map(|k| k % 2).collect();
        let classes: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let params = SvcParams { memory_limit: 1000, ..SvcParams::default() };
        let solve = |_: &PairProblem, _: f64| -> Result<PairSolution, TrainError> {
            unreachable!("refused before solving")
        };
        let error = fit_with(&x, &targets, &classes, &[1.0; 2], 1.0, &params, 1, &Quiet, &solve)
            .unwrap_err()
            .to_string();
        assert!(error.contains("n = 100 documents") && error.contains("d = 2"), "{error}");
        assert!(error.contains("over the limit"), "{error}");
    }
}
