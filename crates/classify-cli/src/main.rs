//! `classify`: the command-line face of classify-core. Thin glue: parse arguments, call the core,
//! print. Exit codes: 0 success, 1 runtime failure (bad input file, unreadable model), 2 usage.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use classify_core::{protocol, Model};
use serde_json::json;

#[derive(Parser)]
#[command(name = "classify", version, about = "Predict with and inspect mod_classify models")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    },
    /// Describe a model: classes, vectorizer settings, vocabulary size, top features per class.
    Inspect {
        model: PathBuf,
        /// How many of the heaviest features to list per class.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A closed pipe (`classify predict ... | head`) is not a failure.
            if let Some(io_error) = error.downcast_ref::<io::Error>() {
                if io_error.kind() == io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            eprintln!("classify: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Predict { model, input, scores } => predict(&model, input.as_deref(), scores),
        Command::Inspect { model, top } => inspect(&model, top),
    }
}

fn load(path: &Path) -> Result<Model> {
    Model::load(path).with_context(|| format!("model {}", path.display()))
}

fn predict(model_path: &Path, input: Option<&Path>, with_scores: bool) -> Result<()> {
    let model = load(model_path)?;
    let reader: Box<dyn BufRead> = match input {
        None => Box::new(io::stdin().lock()),
        Some(path) if path == Path::new("-") => Box::new(io::stdin().lock()),
        Some(path) => Box::new(io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    for (number, line) in reader.split(b'\n').enumerate() {
        let mut line = line.with_context(|| format!("reading input line {}", number + 1))?;
        if line.last() == Some(&b'\r') {
            // Texts are lines as Python's universal newlines read them.
            line.pop();
        }
        let text = String::from_utf8(line)
            .with_context(|| format!("input line {} is not valid UTF-8", number + 1))?;
        let prediction = model.predict(&text);
        if with_scores {
            let mut answer = json!({
                "label": model.label(&prediction).to_json(),
                "scores": prediction.scores,
            });
            if let Some(probabilities) = &prediction.probabilities {
                answer["probabilities"] = json!(probabilities);
            }
            writeln!(out, "{answer}")?;
        } else {
            writeln!(out, "{}", model.label(&prediction))?;
        }
    }
    out.flush()?;
    Ok(())
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
    let file = model.file();
    description["metadata"] = json!(file.metadata);
    description["vectorizer"] = serde_json::to_value(&file.vectorizer)?;
    if let Some(vocabulary) = description["vectorizer"]["vocabulary"].as_array() {
        let size = vocabulary.len();
        description["vectorizer"]["vocabulary"] = json!(format!("<{size} terms>"));
    }
    if let Some(stop_words) = description["vectorizer"]["stop_words"].as_array() {
        let size = stop_words.len();
        description["vectorizer"]["stop_words"] = json!(format!("<{size} words>"));
    }
    description["tfidf"] = json!(file.tfidf.as_ref().map(|t| json!({
        "norm": t.norm, "use_idf": t.use_idf, "smooth_idf": t.smooth_idf,
        "sublinear_tf": t.sublinear_tf,
    })));
    description["top_features"] = top_features(&model, top);
    println!("{}", serde_json::to_string_pretty(&description)?);
    Ok(())
}

/// The heaviest positive weights of each class (of the single row for a binary model).
fn top_features(model: &Model, top: usize) -> serde_json::Value {
    let file = model.file();
    let classifier_spec = &file.classifier;
    let classify_core::model::format::ClassifierSpec::Linear { coef, .. } = classifier_spec;
    let vocabulary = file.vectorizer.vocabulary.as_deref();
    let name = |index: usize| match vocabulary {
        Some(terms) => terms[index].clone(),
        None => format!("#{index}"),
    };
    let mut by_class = serde_json::Map::new();
    let row_label = |row: usize| {
        let classes = model.classes();
        if coef.len() == 1 {
            classes[1].to_string()
        } else {
            classes[row].to_string()
        }
    };
    for (row, weights) in coef.iter().enumerate() {
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
        let best: Vec<serde_json::Value> =
            order.iter().take(top).map(|&i| json!([name(i), weights[i]])).collect();
        by_class.insert(row_label(row), json!(best));
    }
    serde_json::Value::Object(by_class)
}
