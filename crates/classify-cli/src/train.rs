//! `classify train` and `classify eval`: argument parsing and printing around `classify_train`,
//! plus the progress bars (indicatif, drawn only when stderr is a terminal).

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use classify_core::featurize::analyzer::StripAccents;
use classify_core::model::binary;
use classify_core::model::format::{AnalyzerKind, KernelKind};
use classify_core::{Model, Prediction, Task};

use crate::answers;
use classify_train::evaluation::{Evaluation, MultiLabelEvaluation, RegressionEvaluation};

use crate::parallel;
use crate::report::Mistake;
use classify_train::stop_words::ENGLISH_STOP_WORDS;
use classify_train::svc::{Gamma, SvcParams};
use classify_train::svm::Loss;
use classify_train::vectorize::TfidfOptions;
use classify_train::{
    self as train, split, Algorithm, ClassWeight, Dataset, DocFreq, Progress, ProgressStep,
    TrainOptions, VectorizerOptions,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// `classify train` options; names and defaults follow sklearn's.
#[derive(Args)]
pub struct TrainArgs {
    /// Training data: `label<TAB>text` per line, UTF-8; `-` reads standard input.
    #[arg(long)]
    data: PathBuf,
    /// Where to write the model: `*.json` gets the JSON form, anything else the binary form.
    /// Optional with --test-split or --cv (figures only).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// The learning algorithm.
    #[arg(long, value_enum, default_value_t = Algo::LinearSvm)]
    algo: Algo,
    /// Kernel of --algo svc [default: rbf].
    #[arg(long, value_enum)]
    kernel: Option<Kernel>,
    /// svc: kernel coefficient of rbf/poly: `scale` (1 / (n_features · X.var()), sklearn's
    /// default), `auto` (1 / n_features) or a number.
    #[arg(long, default_value = "scale", value_parser = parse_gamma, help_heading = "Solver")]
    gamma: Gamma,
    /// svc: the constant term of the poly kernel (γ x·y + coef0)^degree.
    #[arg(long, default_value_t = 0.0, help_heading = "Solver")]
    coef0: f64,
    /// svc: the degree of the poly kernel.
    #[arg(long, default_value_t = 3, help_heading = "Solver")]
    degree: u32,
    /// ridge: the L2 penalty's strength (sklearn's Ridge(alpha)).
    #[arg(long, default_value_t = 1.0, help_heading = "Solver")]
    alpha: f64,
    /// linear-svr: errors up to this size cost nothing (sklearn's LinearSVR(epsilon)).
    #[arg(long, default_value_t = 0.0, help_heading = "Solver")]
    epsilon: f64,

    /// What the features are made of: words, characters, or characters inside word boundaries.
    #[arg(long, value_enum, default_value_t = AnalyzerArg::Word, help_heading = "Vectorizer")]
    analyzer: AnalyzerArg,
    /// n-gram lengths MIN,MAX (sklearn's ngram_range), e.g. 1,2 for unigrams and bigrams.
    #[arg(long, default_value = "1,1", value_parser = parse_ngram, help_heading = "Vectorizer")]
    ngram: [u32; 2],
    /// TfidfVectorizer weighting: idf = ln((1+n)/(1+df)) + 1, then l2 row normalization.
    #[arg(long, help_heading = "Vectorizer")]
    tfidf: bool,
    /// With --tfidf: tf becomes 1 + ln(tf).
    #[arg(long, requires = "tfidf", help_heading = "Vectorizer")]
    sublinear_tf: bool,
    /// Drop terms in fewer documents: an integer count, or a proportion such as 0.01.
    #[arg(long, default_value = "1", help_heading = "Vectorizer")]
    min_df: DocFreq,
    /// Drop terms in more documents: an integer count, or a proportion such as 0.9.
    #[arg(long, default_value = "1.0", help_heading = "Vectorizer")]
    max_df: DocFreq,
    /// Keep only this many terms, the most frequent in the corpus.
    #[arg(long, help_heading = "Vectorizer")]
    max_features: Option<usize>,
    /// Stop words to drop: `english` (sklearn's list) or a file with one word per line.
    #[arg(long, help_heading = "Vectorizer")]
    stop_words: Option<String>,
    /// Remove accents after lowercasing (NFKD): to ASCII, or dropping combining marks.
    #[arg(long, value_enum, help_heading = "Vectorizer")]
    strip_accents: Option<StripAccentsArg>,
    /// Lowercase before tokenizing (the default).
    #[arg(long, overrides_with = "no_lowercase", help_heading = "Vectorizer")]
    lowercase: bool,
    /// Keep case.
    #[arg(long, help_heading = "Vectorizer")]
    no_lowercase: bool,
    /// Counts become 1 (presence only).
    #[arg(long, help_heading = "Vectorizer")]
    binary: bool,

    /// Inverse regularization strength: larger fits the training data more closely.
    #[arg(short = 'C', long = "C", default_value_t = 1.0, help_heading = "Solver")]
    c: f64,
    /// linear-svm: squared_hinge (LinearSVC's default) or hinge.
    #[arg(long, value_enum, default_value_t = LossArg::SquaredHinge, help_heading = "Solver")]
    loss: LossArg,
    /// Stopping tolerance (liblinear's eps) [default: 1e-4; svc: 1e-3, as sklearn's SVC].
    #[arg(long, help_heading = "Solver")]
    tol: Option<f64>,
    /// Iterations per binary problem [default: 1000 for linear-svm, 100 for logreg].
    #[arg(long, help_heading = "Solver")]
    max_iter: Option<usize>,
    /// `balanced`: weight C by n_samples / (n_classes * count(class)).
    #[arg(long, value_enum, help_heading = "Solver")]
    class_weight: Option<ClassWeightArg>,
    /// Seed of every shuffle (solver order, --test-split, --cv): same seed, same model.
    #[arg(long, default_value_t = 0, help_heading = "Solver")]
    seed: u64,
    /// Binary problems solved at once [default: the number of CPUs]; does not change results.
    #[arg(long, help_heading = "Solver")]
    threads: Option<usize>,

    /// Hold out this fraction for testing, print its figures; the model is trained on the rest.
    #[arg(long, conflicts_with = "cv", help_heading = "Evaluation")]
    test_split: Option<f64>,
    /// k-fold cross-validation figures (mean and spread); the model is trained on everything.
    #[arg(long, help_heading = "Evaluation")]
    cv: Option<usize>,
    /// Print figures as JSON.
    #[arg(long, help_heading = "Evaluation")]
    json: bool,
    /// With --test-split: draw the held-out evaluation.
    #[command(flatten)]
    report: ReportArgs,

    /// Several labels per text: lines are `label1,label2<TAB>text` (an empty field for none),
    /// and the model answers every label whose one-vs-rest problem says yes (linear-svm or
    /// logreg).
    #[arg(long)]
    multi_label: bool,
}

/// `classify eval` options.
#[derive(Args)]
pub struct EvalArgs {
    /// The model file.
    #[arg(long, short)]
    model: PathBuf,
    /// Labelled data: `label<TAB>text` per line; `-` reads standard input.
    #[arg(long)]
    data: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    report: ReportArgs,
    /// Texts classified at once [default: the number of CPUs]; the figures do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

/// Where to draw a classifier's evaluation.
#[derive(Args)]
pub struct ReportArgs {
    /// Also write a self-contained HTML report: figures, a confusion-matrix heat map, per-class
    /// bars, the most frequent confusions with example texts, the model's metadata.
    #[arg(long, help_heading = "Evaluation")]
    report: Option<PathBuf>,
    /// Also write the confusion matrix alone as an SVG image (for papers and READMEs).
    #[arg(long, help_heading = "Evaluation")]
    report_svg: Option<PathBuf>,
}

impl ReportArgs {
    fn wanted(&self) -> bool {
        self.report.is_some() || self.report_svg.is_some()
    }

    /// Refuses a report for a model that has no confusion matrix.
    fn check(&self, model: &Model) -> Result<()> {
        if self.wanted() && model.task() != Task::Classification {
            bail!(
                "--report and --report-svg draw a confusion matrix, which needs a model that \
                 answers one class per text; this one ({}) {}",
                model.estimator(),
                answers(model)
            );
        }
        Ok(())
    }

    /// Writes the files asked for: the evaluation of `model` (from `model_name`) on `data`
    /// (from `data_name`), whose predicted labels are `predicted`.
    fn write(
        &self,
        model: &Model,
        (model_name, data_name): (&str, &str),
        data: &Dataset,
        predicted: &[String],
        evaluation: &Evaluation,
    ) -> Result<()> {
        if let Some(path) = &self.report {
            let mistakes: Vec<Mistake<'_>> = data
                .labels
                .iter()
                .zip(predicted)
                .zip(&data.texts)
                .filter(|((truth, predicted), _)| truth != predicted)
                .map(|((truth, predicted), text)| Mistake { truth, predicted, text })
                .collect();
            let page = crate::report::html(model, model_name, data_name, evaluation, &mistakes);
            write_atomically(path, page.as_bytes())?;
            eprintln!("wrote the report to {}", path.display());
        }
        if let Some(path) = &self.report_svg {
            let svg = crate::report::confusion_svg(evaluation);
            write_atomically(path, svg.as_bytes())?;
            eprintln!("wrote the confusion matrix to {}", path.display());
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Algo {
    LinearSvm,
    Logreg,
    Svc,
    /// Ridge regression: the labels are numbers (NUMBER<TAB>text), the model answers a number.
    Ridge,
    /// Linear support vector regression (sklearn's LinearSVR): NUMBER<TAB>text, answers a number.
    LinearSvr,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kernel {
    Rbf,
    Poly,
    Linear,
}

#[derive(Clone, Copy, ValueEnum)]
enum AnalyzerArg {
    Word,
    Char,
    #[value(name = "char_wb", alias = "char-wb")]
    CharWb,
}

#[derive(Clone, Copy, ValueEnum)]
enum StripAccentsArg {
    Ascii,
    Unicode,
}

#[derive(Clone, Copy, ValueEnum)]
enum LossArg {
    #[value(name = "squared_hinge", alias = "squared-hinge")]
    SquaredHinge,
    Hinge,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClassWeightArg {
    Balanced,
}

fn parse_gamma(text: &str) -> Result<Gamma, String> {
    match text {
        "scale" => Ok(Gamma::Scale),
        "auto" => Ok(Gamma::Auto),
        _ => match text.parse::<f64>() {
            Ok(value) if value.is_finite() && value > 0.0 => Ok(Gamma::Value(value)),
            _ => Err(format!("{text:?}: expected scale, auto or a positive number")),
        },
    }
}

fn parse_ngram(text: &str) -> Result<[u32; 2], String> {
    let parse = |part: &str| part.trim().parse::<u32>().ok();
    let range = match text.split_once(',') {
        Some((low, high)) => parse(low).zip(parse(high)).map(|(l, h)| [l, h]),
        None => parse(text).map(|n| [n, n]),
    };
    match range {
        Some([low, high]) if low >= 1 && low <= high => Ok([low, high]),
        _ => Err(format!("{text:?}: expected MIN,MAX with 1 <= MIN <= MAX, e.g. 1,2")),
    }
}

pub fn run_train(args: TrainArgs) -> Result<()> {
    if args.kernel.is_some() && args.algo != Algo::Svc {
        bail!("--kernel applies to --algo svc only");
    }
    if args.output.is_none() && args.test_split.is_none() && args.cv.is_none() {
        bail!("nothing to do: give -o MODEL to write a model, or --test-split/--cv for figures");
    }
    if args.report.wanted() && args.test_split.is_none() {
        bail!("--report and --report-svg draw the held-out evaluation: add --test-split FRACTION");
    }
    if args.report.wanted()
        && (args.multi_label || matches!(args.algo, Algo::Ridge | Algo::LinearSvr))
    {
        bail!(
            "--report and --report-svg draw a confusion matrix, for models that answer one class"
        );
    }
    let options = train_options(&args)?;
    let bars = Bars::new();
    let data = read_data(&args.data, &bars, args.multi_label)?;
    if data.is_empty() {
        bail!("{}: no documents", source_name(&args.data));
    }

    if let Some(k) = args.cv {
        cross_validate(&data, &options, k, &args, &bars)?;
    }
    let Some(output) = &args.output else {
        if let Some(fraction) = args.test_split {
            let split = split::train_test(data.len(), fraction, args.seed)?;
            let model = fit(&data.subset(&split.train), &options, &bars)?;
            report_held_out(&model, &data.subset(&split.test), &args, "(not written)")?;
        }
        return Ok(());
    };
    let (training, held_out) = match args.test_split {
        Some(fraction) => {
            let split = split::train_test(data.len(), fraction, args.seed)?;
            (data.subset(&split.train), Some(data.subset(&split.test)))
        }
        None => (data, None),
    };
    let started = Instant::now();
    let trained = train::train(&training, &options, &bars)?;
    summarize(&trained);
    let bytes_json = is_json(output).then(|| serde_json::to_vec(&trained.file)).transpose()?;
    let model = Model::from_file(trained.file).context("the trained model does not validate")?;
    // The binary form is streamed from the model's own arrays: no copy of the file in memory.
    let written = match bytes_json {
        Some(bytes) => write_atomically(output, &bytes)?,
        None => write_file_atomically(output, |out| binary::write_to(&model, out))?,
    };
    eprintln!(
        "wrote {} ({} bytes, {} features, {}) in {:.2} s",
        output.display(),
        written,
        model.n_features(),
        answers(&model),
        started.elapsed().as_secs_f64()
    );
    if let Some(held_out) = held_out {
        report_held_out(&model, &held_out, &args, &output.display().to_string())?;
    }
    Ok(())
}

pub fn run_eval(args: EvalArgs) -> Result<()> {
    let model =
        Model::load(&args.model).with_context(|| format!("model {}", args.model.display()))?;
    let bars = Bars::new();
    let data = read_data(&args.data, &bars, model.task() == Task::MultiLabel)?;
    args.report.check(&model)?;
    let threads = args.threads.unwrap_or_else(parallel::default_threads);
    match model.task() {
        Task::Regression => report_regression(&model, &data, "evaluation", (args.json, threads)),
        Task::MultiLabel => report_multi_label(&model, &data, "evaluation", (args.json, threads)),
        Task::Classification => {
            let predicted = predicted_labels(&model, &data, threads);
            let evaluation = evaluation_of(&model, &data, &predicted);
            let names = (args.model.display().to_string(), source_name(&args.data));
            args.report.write(&model, (&names.0, &names.1), &data, &predicted, &evaluation)?;
            report(&evaluation, "evaluation", args.json)
        }
    }
}

/// The figures on held-out documents, for a classifier or a regressor, and the report files
/// `args` asks for (`model_name`: where the model was written).
fn report_held_out(
    model: &Model,
    data: &Dataset,
    args: &TrainArgs,
    model_name: &str,
) -> Result<()> {
    let threads = args.threads.unwrap_or_else(parallel::default_threads);
    match model.task() {
        Task::Regression => report_regression(model, data, "held-out", (args.json, threads)),
        Task::Classification => {
            let predicted = predicted_labels(model, data, threads);
            let evaluation = evaluation_of(model, data, &predicted);
            let data_name = format!("{} (held out)", source_name(&args.data));
            args.report.write(model, (model_name, &data_name), data, &predicted, &evaluation)?;
            report(&evaluation, "held-out", args.json)
        }
        Task::MultiLabel => report_multi_label(model, data, "held-out", (args.json, threads)),
    }
}

/// A regressor's figures: the data's "labels" are the true numbers.
fn regression_evaluation(
    model: &Model,
    data: &Dataset,
    threads: usize,
) -> Result<RegressionEvaluation> {
    let mut pairs = Vec::with_capacity(data.texts.len());
    let predictions = predictions(model, data, threads);
    for (index, (truth, prediction)) in data.labels.iter().zip(&predictions).enumerate() {
        let truth: f64 =
            truth.trim().parse().ok().filter(|v: &f64| v.is_finite()).with_context(|| {
                format!(
                    "record {}: {truth:?} is not a number, and this model ({}) is a regressor: \
                 each line is `NUMBER<TAB>text`",
                    index + 1,
                    model.estimator()
                )
            })?;
        let guess = prediction.scores.first().copied().unwrap_or(f64::NAN);
        pairs.push((truth, guess));
    }
    RegressionEvaluation::new(&pairs).context("the data has no lines to evaluate on")
}

/// A multi-label model's figures: each line's label field is its labels, comma-separated
/// (empty for none).
fn report_multi_label(
    model: &Model,
    data: &Dataset,
    what: &str,
    args: (bool, usize),
) -> Result<()> {
    let (as_json, threads) = args;
    let evaluation = multi_label_evaluation(model, data, threads);
    print_figures(what, &evaluation, evaluation.to_json(), as_json)
}

fn multi_label_evaluation(model: &Model, data: &Dataset, threads: usize) -> MultiLabelEvaluation {
    let classes: Vec<String> = model.classes().iter().map(|c| c.to_string()).collect();
    let predicted: Vec<Vec<&str>> = predictions(model, data, threads)
        .iter()
        .map(|prediction| prediction.label_set.iter().map(|&i| classes[i].as_str()).collect())
        .collect();
    MultiLabelEvaluation::new(&classes, data.label_sets().into_iter().zip(predicted))
}

fn report_regression(model: &Model, data: &Dataset, what: &str, args: (bool, usize)) -> Result<()> {
    let (as_json, threads) = args;
    let evaluation = regression_evaluation(model, data, threads)?;
    print_figures(what, &evaluation, evaluation.to_json(), as_json)
}

fn train_options(args: &TrainArgs) -> Result<TrainOptions> {
    let stop_words = match args.stop_words.as_deref() {
        None => None,
        Some("english") => Some(ENGLISH_STOP_WORDS.iter().map(|w| w.to_string()).collect()),
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("--stop-words {path}: not `english` and not a readable UTF-8 file")
            })?;
            Some(text.lines().map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect())
        }
    };
    let algorithm = match args.algo {
        Algo::LinearSvm => Algorithm::LinearSvm {
            loss: match args.loss {
                LossArg::SquaredHinge => Loss::SquaredHinge,
                LossArg::Hinge => Loss::Hinge,
            },
        },
        Algo::Logreg => Algorithm::LogReg,
        Algo::Ridge => Algorithm::Ridge { alpha: args.alpha },
        Algo::LinearSvr => Algorithm::LinearSvr { epsilon: args.epsilon },
        Algo::Svc => Algorithm::Svc(SvcParams {
            kernel: match args.kernel.unwrap_or(Kernel::Rbf) {
                Kernel::Rbf => KernelKind::Rbf,
                Kernel::Poly => KernelKind::Poly,
                Kernel::Linear => KernelKind::Linear,
            },
            gamma: args.gamma,
            coef0: args.coef0,
            degree: args.degree,
            ..SvcParams::default()
        }),
    };
    let default_tol = if args.algo == Algo::Svc { 1e-3 } else { 1e-4 };
    let default_iterations = if args.algo == Algo::Logreg { 100 } else { 1000 };
    let threads =
        args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(TrainOptions {
        vectorizer: VectorizerOptions {
            analyzer: match args.analyzer {
                AnalyzerArg::Word => AnalyzerKind::Word,
                AnalyzerArg::Char => AnalyzerKind::Char,
                AnalyzerArg::CharWb => AnalyzerKind::CharWb,
            },
            ngram_range: args.ngram,
            lowercase: !args.no_lowercase || args.lowercase,
            strip_accents: args.strip_accents.map(|s| match s {
                StripAccentsArg::Ascii => StripAccents::Ascii,
                StripAccentsArg::Unicode => StripAccents::Unicode,
            }),
            stop_words,
            binary: args.binary,
            min_df: args.min_df,
            max_df: args.max_df,
            max_features: args.max_features,
            tfidf: args.tfidf.then_some(TfidfOptions { sublinear_tf: args.sublinear_tf }),
        },
        algorithm,
        c: args.c,
        tol: args.tol.unwrap_or(default_tol),
        max_iter: args.max_iter.unwrap_or(default_iterations),
        class_weight: match args.class_weight {
            Some(ClassWeightArg::Balanced) => ClassWeight::Balanced,
            None => ClassWeight::Uniform,
        },
        seed: args.seed,
        threads,
        multi_label: args.multi_label,
    })
}

/// Trains and validates a model without writing it.
fn fit(data: &Dataset, options: &TrainOptions, bars: &Bars) -> Result<Model> {
    let trained = train::train(data, options, bars)?;
    summarize(&trained);
    Model::from_file(trained.file).context("the trained model does not validate")
}

/// One figure of `--cv`: its JSON key, and its text line's label (padded to line up).
struct FoldFigure {
    key: &'static str,
    label: &'static str,
}

const CLASSIFIER_FIGURES: &[FoldFigure] = &[
    FoldFigure { key: "accuracy", label: "accuracy   " },
    FoldFigure { key: "macro_f1", label: "macro-F1   " },
];
const MULTI_LABEL_FIGURES: &[FoldFigure] = &[
    FoldFigure { key: "sample_f1", label: "sample F1      " },
    FoldFigure { key: "macro_f1", label: "macro F1       " },
    FoldFigure { key: "hamming_loss", label: "Hamming loss   " },
];
const REGRESSION_FIGURES: &[FoldFigure] = &[
    FoldFigure { key: "mae", label: "MAE        " },
    FoldFigure { key: "rmse", label: "RMSE       " },
    FoldFigure { key: "r2", label: "R²         " },
];

/// `--cv K`: the figures of the model's task on each held-out fold (accuracy and macro-F1;
/// multi-label: sample and macro F1, Hamming loss; a regressor: MAE, RMSE, R²), with their
/// mean and standard deviation.
fn cross_validate(
    data: &Dataset,
    options: &TrainOptions,
    k: usize,
    args: &TrainArgs,
    bars: &Bars,
) -> Result<()> {
    let folds = split::k_fold(data.len(), k, args.seed)?;
    let threads = options.threads;
    // The fitted model's task says which figures a fold has.
    let fold_figures = |model: &Model, test: &Dataset| -> Result<(&[FoldFigure], Vec<f64>)> {
        Ok(match model.task() {
            Task::Regression => {
                let e = regression_evaluation(model, test, threads)?;
                (REGRESSION_FIGURES, vec![e.mae, e.rmse, e.r2])
            }
            Task::MultiLabel => {
                let e = multi_label_evaluation(model, test, threads);
                (MULTI_LABEL_FIGURES, vec![e.sample_f1(), e.macro_f1(), e.hamming_loss()])
            }
            Task::Classification => {
                let e = evaluate(model, test, threads);
                (CLASSIFIER_FIGURES, vec![e.accuracy(), e.macro_f1()])
            }
        })
    };
    let mut figures: &[FoldFigure] = &[];
    let mut values: Vec<Vec<f64>> = Vec::new();
    for (number, fold) in folds.iter().enumerate() {
        eprintln!("fold {}/{k}", number + 1);
        let model = fit(&data.subset(&fold.train), options, bars)?;
        let (names, fold_values) = fold_figures(&model, &data.subset(&fold.test))?;
        figures = names;
        values.resize(fold_values.len(), Vec::new());
        for (column, value) in values.iter_mut().zip(fold_values) {
            column.push(value);
        }
    }
    let mut out = io::stdout().lock();
    if args.json {
        let mut cv = serde_json::Map::new();
        cv.insert("folds".to_owned(), json!(k));
        for (figure, column) in figures.iter().zip(&values) {
            let (mean, std) = mean_std(column);
            cv.insert(figure.key.to_owned(), json!(column));
            cv.insert(format!("{}_mean", figure.key), json!(mean));
            cv.insert(format!("{}_std", figure.key), json!(std));
        }
        writeln!(out, "{}", json!({ "cv": cv }))?;
    } else {
        writeln!(out, "{k}-fold cross-validation")?;
        for (figure, column) in figures.iter().zip(&values) {
            let (mean, std) = mean_std(column);
            writeln!(out, "{}{mean:.4} ± {std:.4}", figure.label)?;
        }
    }
    Ok(())
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, variance.sqrt())
}

fn evaluate(model: &Model, data: &Dataset, threads: usize) -> Evaluation {
    evaluation_of(model, data, &predicted_labels(model, data, threads))
}

/// The model's prediction for each text, on `threads` threads.
fn predictions(model: &Model, data: &Dataset, threads: usize) -> Vec<Prediction> {
    parallel::map_in_order(&data.texts, threads, |text| model.predict(text))
}

/// The model's label for each text, as printed.
fn predicted_labels(model: &Model, data: &Dataset, threads: usize) -> Vec<String> {
    parallel::map_in_order(&data.texts, threads, |text| {
        model.answer(&model.predict(text)).to_string()
    })
}

fn evaluation_of(model: &Model, data: &Dataset, predicted: &[String]) -> Evaluation {
    let classes: Vec<String> = model.classes().iter().map(ToString::to_string).collect();
    let pairs = data.labels.iter().map(String::as_str).zip(predicted.iter().map(String::as_str));
    Evaluation::new(&classes, pairs)
}

fn report(evaluation: &Evaluation, what: &str, as_json: bool) -> Result<()> {
    print_figures(what, evaluation, evaluation.to_json(), as_json)
}

/// Figures under the heading `what`: as text, or as `{what: figures}` JSON.
fn print_figures(
    what: &str,
    text: &dyn std::fmt::Display,
    figures: serde_json::Value,
    as_json: bool,
) -> Result<()> {
    let mut out = io::stdout().lock();
    if as_json {
        writeln!(out, "{}", json!({ what: figures }))?;
    } else {
        writeln!(out, "{what}")?;
        write!(out, "{text}")?;
    }
    out.flush()?;
    Ok(())
}

/// One line about the fit on stderr, plus one warning naming the problems that hit --max-iter.
fn summarize(trained: &train::Trained) {
    eprintln!(
        "trained on {} documents: {} features, {} non-zeros; vectorized in {:.2} s, solved in \
         {:.2} s",
        trained.n_documents,
        trained.n_features,
        trained.nnz,
        trained.vectorize_seconds,
        trained.solve_seconds
    );
    if let Some(warning) = unconverged_warning(&trained.problems) {
        eprintln!("{warning}");
    }
}

/// Problems named in full in the warning; more are counted.
const NAMED_PROBLEMS: usize = 6;

/// One line for every problem that stopped at --max-iter, or `None` when all converged.
fn unconverged_warning(problems: &[train::ProblemReport]) -> Option<String> {
    let stopped: Vec<&train::ProblemReport> = problems.iter().filter(|p| !p.converged).collect();
    let first = stopped.first()?;
    let mut names: Vec<String> =
        stopped.iter().take(NAMED_PROBLEMS).map(|p| format!("{:?}", p.class)).collect();
    if stopped.len() > NAMED_PROBLEMS {
        names.push(format!("{} more", stopped.len() - NAMED_PROBLEMS));
    }
    let which = match problems.len() {
        1 => "the solver".to_owned(),
        n => format!("{} of {n} one-vs-rest problems ({})", stopped.len(), names.join(", ")),
    };
    Some(format!(
        "warning: {which} stopped after {} iterations without converging (sklearn's \
         ConvergenceWarning); the model is usable, and a larger --max-iter or a smaller -C gets \
         closer to the optimum",
        first.iterations
    ))
}

fn source_name(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Reads `label<TAB>text` lines, or with `label_sets` multi-label `label1,label2<TAB>text`
/// lines whose label field may be empty.
fn read_data(path: &Path, bars: &Bars, label_sets: bool) -> Result<Dataset> {
    let name = source_name(path);
    let read = |reader: Box<dyn BufRead>| match label_sets {
        true => Dataset::read_tsv_label_sets(reader, &name),
        false => Dataset::read_tsv(reader, &name),
    };
    if path == Path::new("-") {
        return Ok(read(Box::new(io::stdin().lock()))?);
    }
    let file = File::open(path).with_context(|| format!("cannot open {name}"))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = bars.bar("reading", size);
    let data = read(Box::new(BufReader::new(bar.wrap_read(file))))?;
    bar.finish_and_clear();
    Ok(data)
}

fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Writes next to the target and renames, so a server never reads a half-written model.
fn write_atomically(output: &Path, bytes: &[u8]) -> Result<u64> {
    write_file_atomically(output, |out| out.write_all(bytes).map(|()| bytes.len() as u64))
}

/// Writes next to the target (`write` fills the file) and renames, so a server never reads a
/// half-written model. Returns the bytes written.
pub(crate) fn write_file_atomically(
    output: &Path,
    write: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<u64>,
) -> Result<u64> {
    let mut staged = output.as_os_str().to_owned();
    staged.push(".partial");
    let staged = PathBuf::from(staged);
    let cannot = || format!("cannot write {}", staged.display());
    let mut out = io::BufWriter::new(File::create(&staged).with_context(cannot)?);
    let written = write(&mut out).with_context(cannot)?;
    out.flush().with_context(cannot)?;
    std::fs::rename(&staged, output)
        .with_context(|| format!("cannot rename {} to {}", staged.display(), output.display()))?;
    Ok(written)
}

/// indicatif bars on stderr, or nothing when stderr is not a terminal.
struct Bars {
    visible: bool,
}

struct Step {
    bar: ProgressBar,
    name: String,
}

impl Bars {
    fn new() -> Self {
        Bars { visible: io::stderr().is_terminal() }
    }

    fn bar(&self, name: &str, total: u64) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let style = ProgressStyle::with_template(
            "{msg:40!} [{bar:30}] {percent:>3}% {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::new(total).with_style(style.progress_chars("=> "));
        bar.set_message(name.to_owned());
        bar
    }
}

impl Progress for Bars {
    fn step(&self, name: &str, total: u64) -> Box<dyn ProgressStep + '_> {
        Box::new(Step { bar: self.bar(name, total), name: name.to_owned() })
    }
}

impl ProgressStep for Step {
    fn advance(&self, units: u64) {
        self.bar.inc(units);
    }

    fn note(&self, message: &str) {
        self.bar.set_message(format!("{}: {message}", self.name));
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(class: &str, converged: bool) -> train::ProblemReport {
        train::ProblemReport { class: class.to_owned(), iterations: 1000, converged }
    }

    #[test]
    fn problems_that_hit_max_iter_share_one_warning() {
        assert_eq!(unconverged_warning(&[report("a", true), report("b", true)]), None);
        let some = unconverged_warning(&[report("a", true), report("b", false)]).unwrap();
        assert!(some.starts_with("warning: 1 of 2 one-vs-rest problems (\"b\") stopped after 1000"));
        let many: Vec<_> = (0..9).map(|k| report(&format!("c{k}"), false)).collect();
        let many = unconverged_warning(&many).unwrap();
        assert!(many.contains("9 of 9 one-vs-rest problems (\"c0\", "), "{many}");
        assert!(many.contains("\"c5\", 3 more)"), "{many}");
        let binary = unconverged_warning(&[report("pos", false)]).unwrap();
        assert!(binary.starts_with("warning: the solver stopped after 1000 iterations"));
    }
}
