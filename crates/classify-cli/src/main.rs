//! `classify`: the command-line face of classify-core, classify-serve (JSON descriptions) and
//! classify-train. Thin glue: parse arguments, call the crates, print. Exit codes: 0 success,
//! 1 runtime failure (bad input file, unreadable model), 2 usage.
#![forbid(unsafe_code)]

mod parallel;
mod report;
mod train;

use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use classify_core::model::binary;
use classify_core::{Model, Task};
use classify_serve::protocol;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "classify",
    version,
    about = "Train, evaluate, predict with and inspect mod_classify models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit a vectorizer and a classifier on `label<TAB>text` lines and write a model.
    Train(Box<train::TrainArgs>),
    /// Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix of a model on
    /// labelled `label<TAB>text` lines.
    Eval(train::EvalArgs),
    /// Classify one text per input line; print one label per line, in order.
    Predict {
        /// The model file.
        #[arg(long, short)]
        model: PathBuf,
        /// Input file with one text per line; `-` or nothing reads standard input.
        input: Option<PathBuf>,
        /// Print JSON lines with the label, raw decision values and probabilities.
        #[arg(long)]
        scores: bool,
        /// Texts classified at once [default: the number of CPUs]; the output keeps the input's
        /// order whatever the number.
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Rewrite a model file in the binary form (fast to load) or the JSON form (readable).
    Convert {
        input: PathBuf,
        #[arg(long, short)]
        output: PathBuf,
        /// The form to write.
        #[arg(long, value_enum, default_value_t = Form::Binary)]
        to: Form,
    },
    /// Describe a model: classes, vectorizer settings, vocabulary size, top features per class.
    Inspect {
        model: PathBuf,
        /// How many of the heaviest features to list per class.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Form {
    Binary,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A closed pipe (`classify inspect ... | head`) is not a failure.
            let broken_pipe = error.chain().any(|cause| {
                cause
                    .downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("classify: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(args) => train::run_train(*args),
        Command::Eval(args) => train::run_eval(args),
        Command::Predict { model, input, scores, threads } => predict(
            &model,
            input.as_deref(),
            scores,
            threads.unwrap_or_else(parallel::default_threads),
        ),
        Command::Inspect { model, top } => inspect(&model, top),
        Command::Convert { input, output, to } => convert(&input, &output, to),
    }
}

/// What a model answers, for messages: "20 classes" or "a number".
pub(crate) fn answers(model: &Model) -> String {
    match model.task() {
        Task::Classification => format!("{} classes", model.classes().len()),
        Task::MultiLabel => format!("any of {} labels", model.classes().len()),
        Task::Regression => "answers a number".to_owned(),
    }
}

fn load(path: &Path) -> Result<Model> {
    Model::load(path).with_context(|| format!("model {}", path.display()))
}

/// Lines read and classified at once: bounds the memory a huge input takes.
const PREDICT_BATCH: usize = 16_384;

fn predict(
    model_path: &Path,
    input: Option<&Path>,
    with_scores: bool,
    threads: usize,
) -> Result<()> {
    let model = load(model_path)?;
    let reader: Box<dyn BufRead> = match input {
        None => Box::new(io::stdin().lock()),
        Some(path) if path == Path::new("-") => Box::new(io::stdin().lock()),
        Some(path) => Box::new(io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut batch: Vec<String> = Vec::with_capacity(PREDICT_BATCH);
    let flush = |batch: &mut Vec<String>, out: &mut BufWriter<_>| -> Result<()> {
        let answers =
            parallel::map_in_order(batch, threads, |text| answer_line(&model, text, with_scores));
        for answer in answers {
            writeln!(out, "{answer}")?;
        }
        batch.clear();
        Ok(())
    };
    for (number, line) in reader.split(b'\n').enumerate() {
        let mut line = line.with_context(|| format!("reading input line {}", number + 1))?;
        if line.last() == Some(&b'\r') {
            // Texts are lines as Python's universal newlines read them.
            line.pop();
        }
        let text = String::from_utf8(line)
            .with_context(|| format!("input line {} is not valid UTF-8", number + 1))?;
        batch.push(text);
        if batch.len() == PREDICT_BATCH {
            flush(&mut batch, &mut out)?;
        }
    }
    flush(&mut batch, &mut out)?;
    out.flush()?;
    Ok(())
}

/// One output line of `classify predict`: the answer, or with `with_scores` its JSON.
fn answer_line(model: &Model, text: &str, with_scores: bool) -> String {
    let prediction = model.predict(text);
    if with_scores && model.task() == Task::Regression {
        json!({ "value": model.answer(&prediction).to_json() }).to_string()
    } else if with_scores {
        let key = if model.task() == Task::MultiLabel { "labels" } else { "label" };
        let mut answer = json!({
            key: model.answer(&prediction).to_json(),
            "scores": prediction.scores,
        });
        if let Some(probabilities) = &prediction.probabilities {
            answer["probabilities"] = json!(probabilities);
        }
        answer.to_string()
    } else {
        model.answer(&prediction).to_string()
    }
}

fn inspect(model_path: &Path, top: usize) -> Result<()> {
    let model = load(model_path)?;
    let source =
        protocol::ModelSource { path: model_path.display().to_string(), ..Default::default() };
    let mut description = protocol::metadata(&model, &source);
    if let Some(object) = description.as_object_mut() {
        // Load facts describe a server's copy, not the file.
        object.remove("loaded_at");
        object.remove("load_ms");
    }
    let settings = model.settings();
    description["metadata"] = json!(settings.metadata);
    description["vectorizer"] = serde_json::to_value(settings.primary_vectorizer())?;
    if let Some(union) = &settings.union {
        description["union_branches"] = json!(union
            .branches
            .iter()
            .map(|b| json!({"name": b.name, "weight": b.weight, "analyzer": b.vectorizer.analyzer,
                            "ngram_range": b.vectorizer.ngram_range,
                            "steps": b.steps.iter().map(|s| s.estimator()).collect::<Vec<_>>()}))
            .collect::<Vec<_>>());
    }
    if !settings.steps.is_empty() {
        description["steps"] =
            json!(settings.steps.iter().map(|s| s.estimator()).collect::<Vec<_>>());
    }
    description["vectorizer"]["vocabulary"] = match model.featurizer().vocabulary() {
        Some(vocabulary) => json!(format!("<{} terms>", vocabulary.len())),
        None => json!(null),
    };
    if let Some(stop_words) = description["vectorizer"]["stop_words"].as_array() {
        let size = stop_words.len();
        description["vectorizer"]["stop_words"] = json!(format!("<{size} words>"));
    }
    description["tfidf"] = json!(settings.tfidf.as_ref().map(|t| json!({
        "norm": t.norm, "use_idf": t.use_idf, "smooth_idf": t.smooth_idf,
        "sublinear_tf": t.sublinear_tf,
    })));
    // Whether loading read the word index the file stores, or had to build it.
    let origin = std::fs::File::open(model_path)
        .and_then(|file| binary::word_index_origin(io::BufReader::new(file), &model))
        .with_context(|| format!("reading {}", model_path.display()))?;
    description["word_index"] = json!(origin.map(|origin| origin.to_string()));
    description["top_features"] = top_features(&model, top);
    if let Some(neighbors) = model.classifier().as_neighbors() {
        let (n_neighbors, weights, metric, algorithm) = neighbors.describe();
        let memory = neighbors.memory();
        description["neighbors"] = json!({
            "n_neighbors": n_neighbors, "weights": weights, "metric": metric,
            "algorithm": algorithm, "training_rows": memory.rows,
            "stored_values": memory.stored_values, "row_bytes": memory.row_bytes,
            "index_bytes": memory.index_bytes, "memory": memory.to_string(),
        });
    }
    // Not println!, which panics when the reader has gone (`classify inspect M | head`).
    writeln!(io::stdout().lock(), "{}", serde_json::to_string_pretty(&description)?)?;
    Ok(())
}

/// The heaviest positive weights of each class (of the single row for a binary model, which
/// speaks for the second class; a regressor's, keyed "value", raise its number). Kernel SVMs
/// have no per-feature weights: null.
fn top_features(model: &Model, top: usize) -> serde_json::Value {
    let Some(classifier) = model.classifier().as_linear() else {
        return serde_json::Value::Null;
    };
    if model.explanation_unavailable().is_some() {
        return serde_json::Value::Null;
    }
    let name = |index: usize| model.feature_name(index as u32);
    let classes = model.classes();
    let mut by_class = serde_json::Map::new();
    for row in 0..classifier.n_rows() {
        let label = match (model.task(), classifier.n_rows()) {
            (Task::Regression, _) => "value".to_owned(),
            (Task::Classification, 1) => classes[1].to_string(),
            (Task::Classification | Task::MultiLabel, _) => classes[row].to_string(),
        };
        let mut order: Vec<usize> = (0..classifier.n_features()).collect();
        order.sort_by(|&a, &b| classifier.weight(b, row).total_cmp(&classifier.weight(a, row)));
        let best: Vec<serde_json::Value> =
            order.iter().take(top).map(|&i| json!([name(i), classifier.weight(i, row)])).collect();
        by_class.insert(label, json!(best));
    }
    serde_json::Value::Object(by_class)
}

/// Rewrites a model in the other form: binary for serving (fast to load), JSON for reading.
fn convert(input: &Path, output: &Path, to: Form) -> Result<()> {
    let model = load(input)?;
    // Written next to the target and renamed, so a server never reads a half-written model.
    let written = match to {
        Form::Binary => train::write_file_atomically(output, |out| binary::write_to(&model, out))?,
        Form::Json => {
            let bytes = serde_json::to_vec(&model.to_file())?;
            train::write_file_atomically(output, |out| {
                out.write_all(&bytes).map(|()| bytes.len() as u64)
            })?
        }
    };
    // Prove the written file loads and answers like the original.
    let reloaded = load(output)?;
    if reloaded.n_features() != model.n_features() || reloaded.classes() != model.classes() {
        anyhow::bail!("{} does not read back as the same model", output.display());
    }
    eprintln!(
        "wrote {} ({} bytes, {} features, {})",
        output.display(),
        written,
        model.n_features(),
        answers(&model)
    );
    Ok(())
}
