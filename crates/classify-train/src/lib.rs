//! Training, the way sklearn's classic recipe trains, without Python: `label<TAB>text` lines
//! ([`data`]) → a fitted `CountVectorizer`/`TfidfVectorizer` and its sparse CSR matrix
//! ([`vectorize`], [`csr`]) → one-vs-rest linear classifiers ([`svm`]: liblinear's dual coordinate
//! descent; [`logreg`]: L2 logistic regression) → a model file in the JSON form v1, the same form
//! `scripts/export_sklearn.py` writes. [`evaluation`] and [`split`] give held-out figures.
//!
//! Memory stays O(non-zeros): documents become CSR rows as they are counted and no dense
//! document × feature matrix exists; each binary problem adds vectors of the number of documents
//! and of features. The one-vs-rest problems are independent and solved on a few threads; each
//! has its own seeded random stream, so the result does not depend on the number of threads.
//! Nothing here is on the prediction path.
#![forbid(unsafe_code)]

pub(crate) mod csr;
pub(crate) mod data;
pub mod evaluation;
pub(crate) mod logreg;
mod numpy_sort;
mod ridge;
mod rng;
pub mod split;
pub mod stop_words;
pub mod svc;
pub mod svm;
mod svr;
pub mod vectorize;
mod work_queue;

use std::time::Instant;

use classify_core::error::ModelError;
use classify_core::model::format::{
    CalibrationInput, ClassifierSpec, DecisionShape, LabelSpec, ModelFile, ProbabilityKind,
    TfidfSpec, VectorizerSpec, FORMAT_NAME, OLDEST_FORMAT_VERSION,
};
use csr::{CompactRows, CsrMatrix};
pub use data::Dataset;
use svm::{Loss, SvmOptions};
pub use vectorize::{DocFreq, VectorizerOptions};

/// Why training could not run. Messages name the input line, option or value at fault and say
/// what would work instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    #[error("{source_name}, line {line}: {reason}")]
    Data { source_name: String, line: usize, reason: String },
    #[error("cannot read {source_name}: {error}")]
    Io { source_name: String, error: std::io::Error },
    #[error("{option}: {reason}")]
    Option { option: &'static str, reason: String },
    #[error("{0}")]
    Unfit(String),
    #[error("the trained model does not validate (a bug in classify train): {0}")]
    Model(#[from] ModelError),
}

impl TrainError {
    pub(crate) fn option(option: &'static str, reason: impl Into<String>) -> Self {
        TrainError::Option { option, reason: reason.into() }
    }
}

/// Reports progress of long steps to whoever drives training (the CLI draws bars with it). The
/// core itself never writes to a terminal.
pub trait Progress: Sync {
    /// Starts a step of `total` units (documents, problems, ...).
    fn step(&self, name: &str, total: u64) -> Box<dyn ProgressStep + '_>;
}

/// One running step; dropping it ends the step.
pub trait ProgressStep: Send + Sync {
    fn advance(&self, units: u64);
    /// A short note about what is happening (e.g. the class just solved).
    fn note(&self, _message: &str) {}
}

/// Progress that goes nowhere (tests).
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Quiet;

#[cfg(test)]
struct QuietStep;

#[cfg(test)]
impl ProgressStep for QuietStep {
    fn advance(&self, _units: u64) {}
}

#[cfg(test)]
impl Progress for Quiet {
    fn step(&self, _name: &str, _total: u64) -> Box<dyn ProgressStep + '_> {
        Box::new(QuietStep)
    }
}

/// The learning algorithm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Algorithm {
    /// sklearn `LinearSVC`: L2-regularized linear SVM, liblinear's dual coordinate descent.
    LinearSvm { loss: Loss },
    /// sklearn `LogisticRegression(solver="liblinear")`-style L2 logistic regression, one-vs-rest,
    /// solved in the primal by Newton-CG; the model predicts probabilities (`ovr_sigmoid`).
    LogReg,
    /// sklearn `SVC`: kernel SVM, one-vs-one, each pair solved by linfa-svm (see [`svc`] for
    /// its data-size limits).
    Svc(svc::SvcParams),
    /// sklearn `Ridge(alpha)`: least squares with an L2 penalty on `NUMBER<TAB>text` data; the
    /// model answers a number.
    Ridge { alpha: f64 },
    /// sklearn `LinearSVR(C, epsilon)` (epsilon-insensitive loss, dual coordinate descent) on
    /// `NUMBER<TAB>text` data; the model answers a number.
    LinearSvr { epsilon: f64 },
}

/// Per-class weights of the penalty `C`, as sklearn's `class_weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClassWeight {
    #[default]
    Uniform,
    /// `n_samples / (n_classes * count(class))`.
    Balanced,
}

/// Everything `train` needs besides the data.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub vectorizer: VectorizerOptions,
    pub algorithm: Algorithm,
    /// Inverse regularization strength (sklearn's `C`).
    pub c: f64,
    /// Stopping tolerance (sklearn's `tol`, liblinear's `eps`).
    pub tol: f64,
    /// Outer iterations of each binary problem's solver.
    pub max_iter: usize,
    pub class_weight: ClassWeight,
    pub seed: u64,
    /// Binary problems solved at once (1 = sequential); results do not depend on it.
    pub threads: usize,
    /// Each document's label field is a comma-separated set of labels: learn one binary
    /// problem per label (sklearn's `OneVsRestClassifier` on a `MultiLabelBinarizer` target).
    pub multi_label: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            vectorizer: VectorizerOptions::default(),
            algorithm: Algorithm::LinearSvm { loss: Loss::SquaredHinge },
            c: 1.0,
            tol: 1e-4,
            max_iter: 1000,
            class_weight: ClassWeight::Uniform,
            seed: 0,
            threads: 1,
            multi_label: false,
        }
    }
}

impl TrainOptions {
    fn check(&self) -> Result<(), TrainError> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(TrainError::option("-C", format!("{} must be a positive number", self.c)));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(TrainError::option(
                "--tol",
                format!("{} must be a positive number", self.tol),
            ));
        }
        if self.max_iter == 0 {
            return Err(TrainError::option("--max-iter", "must be at least 1"));
        }
        Ok(())
    }
}

/// How one binary problem's solver ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemReport {
    /// The positive class of the problem (the second class of a two-class model).
    pub class: String,
    pub iterations: usize,
    pub converged: bool,
}

/// A trained model and how training went.
#[derive(Debug)]
pub struct Trained {
    pub file: ModelFile,
    pub n_documents: usize,
    pub n_features: usize,
    pub nnz: usize,
    pub vectorize_seconds: f64,
    pub solve_seconds: f64,
    pub problems: Vec<ProblemReport>,
}

/// Fits the vectorizer and the classifier on `data`, returning the model in the JSON form.
pub fn train(
    data: &Dataset,
    options: &TrainOptions,
    progress: &dyn Progress,
) -> Result<Trained, TrainError> {
    options.check()?;
    if options.multi_label {
        return train_multi_label(data, options, progress);
    }
    if let Algorithm::Ridge { .. } | Algorithm::LinearSvr { .. } = options.algorithm {
        return train_regression(data, options, progress);
    }
    let classes = data.classes();
    if classes.len() < 2 {
        return Err(TrainError::Unfit(format!(
            "the data has {} class{} ({}); a classifier needs at least 2 different labels",
            classes.len(),
            if classes.len() == 1 { "" } else { "es" },
            classes.first().map(String::as_str).unwrap_or("no documents")
        )));
    }
    let started = Instant::now();
    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    let fitted = vectorize::fit_transform(&texts, &options.vectorizer, options.threads, progress)?;
    let vectorize_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let targets: Vec<u32> = data
        .labels
        .iter()
        .map(|label| classes.binary_search(label).map(|i| i as u32).unwrap_or(0))
        .collect();
    let weights = class_weights(&targets, classes.len(), options.class_weight);
    let n_features = fitted.matrix.n_cols();
    let nnz = fitted.matrix.nnz();
    if let Algorithm::Svc(params) = options.algorithm {
        let fit =
            fit_svc(&fitted.matrix, &targets, &classes, &weights, options, &params, progress)?;
        let problems = fit
            .pairs
            .iter()
            .map(|&(i, j, iterations, converged)| ProblemReport {
                class: format!("{} vs {}", classes[i], classes[j]),
                iterations,
                converged,
            })
            .collect();
        let metadata = metadata(options, data.len(), n_features);
        let file = model_file(
            metadata,
            fitted.spec,
            fitted.tfidf,
            ClassifierSpec::Svc {
                estimator: "SVC".to_owned(),
                classes: classes.into_iter().map(LabelSpec::Str).collect(),
                kernel: params.kernel,
                gamma: fit.gamma,
                coef0: params.coef0,
                degree: params.degree,
                decision_function_shape: DecisionShape::Ovr,
                break_ties: false,
                n_support: fit.n_support,
                support_vectors: fit.support_vectors,
                dual_coef: fit.dual_coef,
                intercept: fit.intercept,
                prob_a: None,
                prob_b: None,
            },
        );
        return Ok(Trained {
            file,
            n_documents: data.len(),
            n_features,
            nnz,
            vectorize_seconds,
            solve_seconds: started.elapsed().as_secs_f64(),
            problems,
        });
    }
    // Penalties follow liblinear (and so sklearn): with two classes the positive class
    // (`classes[1]`) gets `C·weight[1]` and the other `C·weight[0]`; with more, class `k`'s
    // problem gives its positives `C·weight[k]` and every negative the plain `C`.
    let n_problems = if classes.len() == 2 { 1 } else { classes.len() };
    let positive_class = |k: usize| if n_problems == 1 { 1 } else { k };
    let problems = BinaryProblems {
        names: (0..n_problems).map(|k| classes[positive_class(k)].clone()).collect(),
        positives: &|k| targets.iter().map(|&t| t as usize == positive_class(k)).collect(),
        penalties: &|k, _| {
            if n_problems == 1 {
                (options.c * weights[1], options.c * weights[0])
            } else {
                (options.c * weights[k], options.c)
            }
        },
    };
    let solutions = solve_in_cache_order(fitted.matrix, &problems, options, progress);
    let solve_seconds = started.elapsed().as_secs_f64();

    let mut coef = Vec::with_capacity(solutions.len());
    let mut intercept = Vec::with_capacity(solutions.len());
    let mut problems = Vec::with_capacity(solutions.len());
    for (index, solution) in solutions.into_iter().enumerate() {
        let class = if classes.len() == 2 { &classes[1] } else { &classes[index] };
        problems.push(ProblemReport {
            class: class.clone(),
            iterations: solution.iterations,
            converged: solution.converged,
        });
        intercept.push(solution.bias);
        coef.push(solution.weights);
    }
    let (estimator, probability) = match options.algorithm {
        Algorithm::LinearSvm { .. } => ("LinearSVC", None),
        Algorithm::LogReg
        | Algorithm::Svc(_)
        | Algorithm::Ridge { .. }
        | Algorithm::LinearSvr { .. } => ("LogisticRegression", Some(ProbabilityKind::OvrSigmoid)),
    };
    let classifier = ClassifierSpec::Linear {
        estimator: estimator.to_owned(),
        classes: classes.into_iter().map(LabelSpec::Str).collect(),
        coef,
        intercept,
        probability,
    };
    let metadata = metadata(options, data.len(), n_features);
    let file = model_file(metadata, fitted.spec, fitted.tfidf, classifier);
    Ok(Trained {
        file,
        n_documents: data.len(),
        n_features,
        nnz,
        vectorize_seconds,
        solve_seconds,
        problems,
    })
}

/// The solvers' column numbering: frequent columns first, by falling document frequency (their
/// weights stay in cache); then the rare ones (at most [`RARE_DF`] documents), ordered by the
/// list of rows they occur in, so that the rare words of one document, and those that a few
/// near-duplicate documents share, are neighbours in the weight vector and a visit of that row
/// reads a few cache lines instead of one per word. (Measured with the other changes of the
/// solver: together ~30% less time per epoch on bigram counts.) Columns of one document come
/// last: the linear SVM never reads their weights while it solves (see `csr::Rows`).
fn cache_order(x: &CsrMatrix) -> Vec<u32> {
    let (starts, rows) = x.column_rows();
    let column = |j: u32| &rows[starts[j as usize]..starts[j as usize + 1]];
    // 0: frequent, 1: rare, 2: in one document (or none).
    let rank = |rows: &[u32]| match rows.len() {
        0 | 1 => 2,
        n if n <= RARE_DF => 1,
        _ => 0,
    };
    let mut order: Vec<u32> = (0..x.n_cols() as u32).collect();
    order.sort_by(|&a, &b| {
        let (rows_a, rows_b) = (column(a), column(b));
        let (rank_a, rank_b) = (rank(rows_a), rank(rows_b));
        rank_a
            .cmp(&rank_b)
            .then_with(|| {
                if rank_a == 0 {
                    rows_b.len().cmp(&rows_a.len())
                } else {
                    rows_a.cmp(rows_b)
                }
            })
            .then(a.cmp(&b))
    });
    order
}

/// See [`cache_order`].
const RARE_DF: usize = 8;

/// The SVC of `--algo svc`.
fn fit_svc(
    x: &CsrMatrix,
    targets: &[u32],
    classes: &[String],
    weights: &[f64],
    options: &TrainOptions,
    params: &svc::SvcParams,
    progress: &dyn Progress,
) -> Result<svc::SvcFit, TrainError> {
    svc::fit(
        x,
        targets,
        classes,
        weights,
        options.c,
        options.tol,
        params,
        options.threads,
        progress,
    )
}

/// What one binary problem's solver produced: weights per feature and the bias (intercept).
#[derive(Debug, Clone)]
pub(crate) struct BinarySolution {
    pub(crate) weights: Vec<f64>,
    pub(crate) bias: f64,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
}

/// A two-class problem over the rows of a matrix: `positive[i]` says whether document `i` is in
/// the positive class, whose penalty is `c_positive` (the others' `c_negative`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BinaryProblem<'a> {
    pub(crate) x: &'a CsrMatrix,
    pub(crate) positive: &'a [bool],
    pub(crate) c_positive: f64,
    pub(crate) c_negative: f64,
}

impl BinaryProblem<'_> {
    /// The label as +1/-1.
    fn y(&self, i: usize) -> f64 {
        if self.positive[i] {
            1.0
        } else {
            -1.0
        }
    }

    fn c(&self, i: usize) -> f64 {
        if self.positive[i] {
            self.c_positive
        } else {
            self.c_negative
        }
    }
}

/// sklearn's `compute_class_weight`: one multiplier of `C` per class.
fn class_weights(targets: &[u32], n_classes: usize, mode: ClassWeight) -> Vec<f64> {
    match mode {
        ClassWeight::Uniform => vec![1.0; n_classes],
        ClassWeight::Balanced => {
            let mut counts = vec![0usize; n_classes];
            for &t in targets {
                counts[t as usize] += 1;
            }
            let n = targets.len() as f64;
            counts.iter().map(|&count| n / (n_classes as f64 * count.max(1) as f64)).collect()
        }
    }
}

/// Problem `k`'s penalties `(C of positives, C of negatives)`, given its positives.
type Penalties<'a> = &'a (dyn Fn(usize, &[bool]) -> (f64, f64) + Sync);

/// The binary problems of one model: their names (for progress), which documents are each
/// one's positives, and their penalties.
struct BinaryProblems<'a> {
    names: Vec<String>,
    positives: &'a (dyn Fn(usize) -> Vec<bool> + Sync),
    penalties: Penalties<'a>,
}

/// Solves `problems` over `x` with the columns numbered for the solvers' cache (see
/// [`cache_order`]), and returns the weights in vocabulary order.
fn solve_in_cache_order(
    mut x: CsrMatrix,
    problems: &BinaryProblems<'_>,
    options: &TrainOptions,
    progress: &dyn Progress,
) -> Vec<BinarySolution> {
    let n_features = x.n_cols();
    let by_frequency = cache_order(&x);
    let mut position = vec![0u32; n_features];
    for (new, &old) in by_frequency.iter().enumerate() {
        position[old as usize] = new as u32;
    }
    x.remap_columns(|j| Some(position[j as usize]), n_features);
    let mut solutions = solve_all(&x, problems, options, progress);
    drop(x);
    for solution in &mut solutions {
        solution.weights = position.iter().map(|&new| solution.weights[new as usize]).collect();
    }
    solutions
}

/// Solves the binary problems, each on the first free thread.
fn solve_all(
    x: &CsrMatrix,
    problems: &BinaryProblems<'_>,
    options: &TrainOptions,
    progress: &dyn Progress,
) -> Vec<BinarySolution> {
    let n_problems = problems.names.len();
    let name = match (options.algorithm, options.multi_label) {
        (Algorithm::LinearSvm { .. }, false) => "linear SVM, one problem per class",
        (Algorithm::LinearSvm { .. }, true) => "linear SVM, one problem per label",
        // Ridge never gets here (train_ridge); the SVC's probability models are logistic.
        (_, false) => "logistic regression, one problem per class",
        (_, true) => "logistic regression, one problem per label",
    };
    // The linear SVM reads the rows again and again: give it the compact copy, once for all.
    let compact =
        matches!(options.algorithm, Algorithm::LinearSvm { .. }).then(|| CompactRows::new(x));
    let step = progress.step(name, n_problems as u64);
    let solve_one = |k: usize| {
        let positive = (problems.positives)(k);
        let (c_positive, c_negative) = (problems.penalties)(k, &positive);
        let problem = BinaryProblem { x, positive: &positive, c_positive, c_negative };
        // Each problem has its own stream, so results do not depend on scheduling.
        let seed = options.seed.wrapping_add(k as u64);
        match options.algorithm {
            Algorithm::LinearSvm { loss } => {
                let svm = SvmOptions { loss, tol: options.tol, max_iter: options.max_iter };
                match &compact {
                    Some(rows) => svm::solve_compact(rows, &problem, &svm, seed),
                    None => svm::solve(&problem, &svm, seed),
                }
            }
            Algorithm::LogReg
            | Algorithm::Svc(_)
            | Algorithm::Ridge { .. }
            | Algorithm::LinearSvr { .. } => logreg::solve(&problem, options.tol, options.max_iter),
        }
    };
    let solutions = work_queue::solve_all(n_problems, options.threads, solve_one, |k| {
        step.note(&problems.names[k]);
        step.advance(1);
    });
    drop(step);
    solutions
}

/// `--multi-label`: one binary problem per label, as `OneVsRestClassifier(LinearSVC())` or
/// `OneVsRestClassifier(LogisticRegression())` fitted on a `MultiLabelBinarizer`'s matrix.
fn train_multi_label(
    data: &Dataset,
    options: &TrainOptions,
    progress: &dyn Progress,
) -> Result<Trained, TrainError> {
    let (member_estimator, probability) = match options.algorithm {
        Algorithm::LinearSvm { .. } => ("LinearSVC", None),
        Algorithm::LogReg => ("LogisticRegression", Some(ProbabilityKind::OvrSigmoid)),
        Algorithm::Svc(_) | Algorithm::Ridge { .. } | Algorithm::LinearSvr { .. } => {
            return Err(TrainError::option(
                "--multi-label",
                "learns one linear SVM or logistic regression per label: use --algo linear-svm \
                 or --algo logreg",
            ))
        }
    };
    let sets = data.label_sets();
    // MultiLabelBinarizer's classes_: the labels sorted.
    let mut labels: Vec<&str> = sets.iter().flatten().copied().collect();
    labels.sort_unstable();
    labels.dedup();
    if labels.is_empty() {
        return Err(TrainError::Unfit(
            "no document has a label; multi-label lines are label1,label2<TAB>text".to_owned(),
        ));
    }
    let started = Instant::now();
    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    let fitted = vectorize::fit_transform(&texts, &options.vectorizer, options.threads, progress)?;
    let vectorize_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (n_features, nnz) = (fitted.matrix.n_cols(), fitted.matrix.nnz());
    let problems = BinaryProblems {
        names: labels.iter().map(|l| (*l).to_owned()).collect(),
        positives: &|k| sets.iter().map(|set| set.contains(&labels[k])).collect(),
        // Each member weighs its own two classes, as a member's class_weight does.
        penalties: &|_, positive| {
            let targets: Vec<u32> = positive.iter().map(|&p| u32::from(p)).collect();
            let weights = class_weights(&targets, 2, options.class_weight);
            (options.c * weights[1], options.c * weights[0])
        },
    };
    let solutions = solve_in_cache_order(fitted.matrix, &problems, options, progress);
    let problems = labels
        .iter()
        .zip(&solutions)
        .map(|(label, solution)| ProblemReport {
            class: (*label).to_owned(),
            iterations: solution.iterations,
            converged: solution.converged,
        })
        .collect();
    let members = solutions
        .into_iter()
        .map(|solution| ClassifierSpec::Linear {
            estimator: member_estimator.to_owned(),
            classes: vec![LabelSpec::Int(0), LabelSpec::Int(1)],
            coef: vec![solution.weights],
            intercept: vec![solution.bias],
            probability,
        })
        .collect();
    let mut metadata = metadata(options, data.len(), n_features);
    metadata.insert("multi_label".to_owned(), serde_json::json!(true));
    let mut file = model_file(
        metadata,
        fitted.spec,
        fitted.tfidf,
        ClassifierSpec::MultiLabel {
            estimator: "OneVsRestClassifier".to_owned(),
            classes: labels.iter().map(|l| LabelSpec::Str((*l).to_owned())).collect(),
            // Both members have a decision function, so sklearn's threshold is 0.
            response: CalibrationInput::DecisionFunction,
            threshold: Some(0.0),
            estimators: members,
        },
    );
    file.format_version = file.version_needed();
    Ok(Trained {
        file,
        n_documents: data.len(),
        n_features,
        nnz,
        vectorize_seconds,
        solve_seconds: started.elapsed().as_secs_f64(),
        problems,
    })
}

/// `--algo ridge` and `--algo linear-svr`: the labels are the numbers to predict.
fn train_regression(
    data: &Dataset,
    options: &TrainOptions,
    progress: &dyn Progress,
) -> Result<Trained, TrainError> {
    /// The solver, its flag, the sklearn estimator it stands for, and its progress bar's name.
    enum Solver {
        Ridge { alpha: f64 },
        LinearSvr { epsilon: f64 },
    }
    let (solver, flag, estimator, what) = match options.algorithm {
        Algorithm::LinearSvr { epsilon } => {
            non_negative("--epsilon", epsilon)?;
            let name = "linear SVR (dual coordinate descent)";
            (Solver::LinearSvr { epsilon }, "--algo linear-svr", "LinearSVR", name)
        }
        Algorithm::Ridge { alpha } => {
            non_negative("--alpha", alpha)?;
            let name = "ridge regression (conjugate gradients)";
            (Solver::Ridge { alpha }, "--algo ridge", "Ridge", name)
        }
        Algorithm::LinearSvm { .. } | Algorithm::LogReg | Algorithm::Svc(_) => {
            return Err(TrainError::Unfit(
                "a classification algorithm was asked to learn numbers".to_owned(),
            ))
        }
    };
    let mut targets = Vec::with_capacity(data.len());
    for (index, label) in data.labels.iter().enumerate() {
        match label.trim().parse::<f64>() {
            Ok(value) if value.is_finite() => targets.push(value),
            _ => {
                return Err(TrainError::Unfit(format!(
                    "document {}: its label {label:?} is not a number; {flag} learns to \
                     predict numbers from NUMBER<TAB>text lines",
                    index + 1
                )))
            }
        }
    }
    if targets.len() < 2 {
        return Err(TrainError::Unfit("regression needs at least 2 documents".to_owned()));
    }
    let started = Instant::now();
    let texts: Vec<&str> = data.texts.iter().map(String::as_str).collect();
    let fitted = vectorize::fit_transform(&texts, &options.vectorizer, options.threads, progress)?;
    let vectorize_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (n_features, nnz) = (fitted.matrix.n_cols(), fitted.matrix.nnz());
    let step = progress.step(what, 1);
    let mut metadata = metadata(options, data.len(), n_features);
    let (coef, intercept, iterations, converged) = match solver {
        Solver::LinearSvr { epsilon } => {
            metadata.insert("epsilon".to_owned(), serde_json::json!(epsilon));
            let svr = svr::SvrOptions {
                c: options.c,
                epsilon,
                tol: options.tol,
                max_iter: options.max_iter,
            };
            let fit = svr::solve(&fitted.matrix, &targets, &svr, options.seed);
            (fit.weights, fit.intercept, fit.iterations, fit.converged)
        }
        Solver::Ridge { alpha } => {
            metadata.insert("alpha".to_owned(), serde_json::json!(alpha));
            let fit = ridge::solve(&fitted.matrix, &targets, alpha, options.tol, options.max_iter);
            (fit.weights, fit.intercept, fit.iterations, fit.converged)
        }
    };
    step.advance(1);
    drop(step);
    let mut file = model_file(
        metadata,
        fitted.spec,
        fitted.tfidf,
        ClassifierSpec::LinearRegression { estimator: estimator.to_owned(), coef, intercept },
    );
    file.format_version = file.version_needed();
    Ok(Trained {
        file,
        n_documents: data.len(),
        n_features,
        nnz,
        vectorize_seconds,
        solve_seconds: started.elapsed().as_secs_f64(),
        problems: vec![ProblemReport { class: "value".to_owned(), iterations, converged }],
    })
}

/// Refuses a penalty or tube width that is not a number ≥ 0, naming its option.
fn non_negative(option: &'static str, value: f64) -> Result<(), TrainError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(TrainError::option(option, format!("{value} must be a number >= 0")))
    }
}

/// A JSON-form model file (a plain vectorizer + classifier is format version 1).
fn model_file(
    metadata: serde_json::Map<String, serde_json::Value>,
    vectorizer: VectorizerSpec,
    tfidf: Option<TfidfSpec>,
    classifier: ClassifierSpec,
) -> ModelFile {
    ModelFile {
        format: FORMAT_NAME.to_owned(),
        format_version: OLDEST_FORMAT_VERSION,
        metadata,
        vectorizer: Some(vectorizer),
        tfidf,
        union: None,
        steps: Vec::new(),
        classifier,
    }
}

/// Provenance written into the model's `metadata`.
fn metadata(
    options: &TrainOptions,
    n_documents: usize,
    n_features: usize,
) -> serde_json::Map<String, serde_json::Value> {
    let (algorithm, loss) = match options.algorithm {
        Algorithm::LinearSvm { loss } => ("linear-svm", Some(loss.name())),
        Algorithm::LogReg => ("logreg", None),
        Algorithm::Svc(_) => ("svc", None),
        Algorithm::Ridge { .. } => ("ridge", None),
        Algorithm::LinearSvr { .. } => ("linear-svr", Some("epsilon_insensitive")),
    };
    let kernel = match options.algorithm {
        Algorithm::Svc(params) => serde_json::json!({
            "kernel": params.kernel,
            "gamma": match params.gamma {
                svc::Gamma::Scale => serde_json::json!("scale"),
                svc::Gamma::Auto => serde_json::json!("auto"),
                svc::Gamma::Value(value) => serde_json::json!(value),
            },
            "coef0": params.coef0,
            "degree": params.degree,
        }),
        _ => serde_json::Value::Null,
    };
    let value = serde_json::json!({
        "trainer": concat!("classify train ", env!("CARGO_PKG_VERSION")),
        "algorithm": algorithm,
        "loss": loss,
        "C": options.c,
        "tol": options.tol,
        "max_iter": options.max_iter,
        "class_weight": match options.class_weight {
            ClassWeight::Uniform => None,
            ClassWeight::Balanced => Some("balanced"),
        },
        "seed": options.seed,
        "n_documents": n_documents,
        "n_features": n_features,
    });
    match value {
        serde_json::Value::Object(mut map) => {
            if !kernel.is_null() {
                map.insert("svc".to_owned(), kernel);
            }
            map
        }
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use classify_core::model::Model;

    fn toy() -> Dataset {
        let mut data = Dataset::default();
        for (label, text) in [
            ("fruit", "apple banana cherry"),
            ("fruit", "banana mango apple"),
            ("fruit", "cherry mango fruit salad"),
            ("tool", "hammer nail screwdriver"),
            ("tool", "wrench hammer saw"),
            ("tool", "saw nail drill"),
            ("car", "engine wheel brake"),
            ("car", "wheel tyre engine"),
            ("car", "brake clutch gearbox"),
        ] {
            data.push(label, text);
        }
        data
    }

    fn predictions(model: &Model, data: &Dataset) -> Vec<String> {
        data.texts.iter().map(|t| model.answer(&model.predict(t)).to_string()).collect()
    }

    #[test]
    fn separable_toy_set_is_separated_by_both_algorithms() {
        let data = toy();
        for algorithm in [
            Algorithm::LinearSvm { loss: Loss::SquaredHinge },
            Algorithm::LinearSvm { loss: Loss::Hinge },
            Algorithm::LogReg,
        ] {
            let options = TrainOptions { algorithm, c: 10.0, ..TrainOptions::default() };
            let trained = train(&data, &options, &Quiet).unwrap();
            assert!(trained.problems.iter().all(|p| p.converged), "{algorithm:?}");
            let model = Model::from_file(trained.file).unwrap();
            assert_eq!(predictions(&model, &data), data.labels, "{algorithm:?}");
        }
    }

    #[test]
    fn two_classes_give_one_row_for_the_second_class() {
        let mut data = Dataset::default();
        data.push("b", "yes yes good");
        data.push("a", "no no bad");
        let trained = train(&data, &TrainOptions::default(), &Quiet).unwrap();
        let model = Model::from_file(trained.file).unwrap();
        let classes: Vec<String> = model.classes().iter().map(ToString::to_string).collect();
        assert_eq!(classes, ["a", "b"]);
        assert_eq!(model.predict("yes").scores.len(), 1, "one decision value for two classes");
        assert_eq!(predictions(&model, &data), data.labels);
    }

    #[test]
    fn training_is_deterministic_for_a_seed_and_any_thread_count() {
        let data = toy();
        let run = |threads| {
            let options = TrainOptions { seed: 7, threads, ..TrainOptions::default() };
            serde_json::to_string(&train(&data, &options, &Quiet).unwrap().file).unwrap()
        };
        let first = run(1);
        assert_eq!(first, run(1));
        assert_eq!(first, run(3));
    }

    #[test]
    fn one_class_is_refused_with_its_name() {
        let mut data = Dataset::default();
        data.push("only", "a b c");
        let error = train(&data, &TrainOptions::default(), &Quiet).unwrap_err().to_string();
        assert!(error.contains("1 class (only)"), "{error}");
    }

    #[test]
    fn balanced_weights_follow_sklearn() {
        assert_eq!(class_weights(&[0, 0, 0, 1], 2, ClassWeight::Balanced), vec![4.0 / 6.0, 2.0]);
    }
}
