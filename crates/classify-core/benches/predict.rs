//! Featurize+predict time per document, model load time and resident memory after load.
//!
//! ```text
//! cargo bench -p classify-core --bench predict -- [MODEL [TEXTS]] [--seconds S] [--loads N] [--json]
//! ```
//! MODEL is any model file `Model::load` reads (default: a small golden model, so a bare
//! `cargo bench` works); TEXTS has one text per line (default: a few built-in texts). Each text
//! is classified alone, one `Model::predict` call per document, as the server does; the texts are
//! cycled for at least S seconds (default 3). Prints numbers only, never asserts on time;
//! `--json` adds one JSON line for scripts (scripts/bench/micro reads it).
//!
//! Resident memory is read from /proc/self/status (Linux): VmRSS before and after the load, and
//! VmHWM (the peak, which includes the parser's temporary memory).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use classify_core::Model;

const BUILTIN_TEXTS: &[&str] = &[
    "Fast HTTP server with load balancing and reverse proxy support for busy web sites today",
    "arcade shooter game with retro graphics levels bosses and a soundtrack for two players",
    "Haskell library for parsing and pretty printing JSON documents with typed records fast",
    "Python bindings for numerical arrays linear algebra and fourier transforms on large data",
    "development files for the C library that compresses data with the deflate algorithm",
];

/// How many times the model is loaded to time the load, unless `--loads` says otherwise.
const LOADS: usize = 5;

struct Args {
    model: PathBuf,
    texts: Option<PathBuf>,
    seconds: f64,
    loads: usize,
    json: bool,
}

fn parse_args() -> Args {
    let mut positional = Vec::new();
    let mut seconds = 3.0;
    let mut json = false;
    let mut loads = LOADS;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().unwrap_or_default();
                seconds = value.parse().unwrap_or_else(|_| usage(&format!("--seconds {value:?}")));
            }
            "--loads" => {
                let value = args.next().unwrap_or_default();
                loads = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| usage(&format!("--loads {value:?}")));
            }
            "--json" => json = true,
            // `cargo bench` passes --bench to harness = false targets; nothing else is expected.
            "--bench" => {}
            other if other.starts_with('-') => usage(&format!("unknown option {other}")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    if positional.len() > 2 {
        usage("too many arguments");
    }
    let mut positional = positional.into_iter();
    let model = positional.next().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/golden/count_word12_linearsvc_multi.model.json")
    });
    Args { model, texts: positional.next(), seconds, loads, json }
}

fn usage(problem: &str) -> ! {
    eprintln!("predict bench: {problem}\nusage: predict [MODEL [TEXTS]] [--seconds S] [--loads N] [--json]");
    std::process::exit(2);
}

/// (VmRSS, VmHWM) in KiB, from /proc/self/status; zeros where unavailable.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Mean time per call of `f` over `texts`, cycling for at least `min_time`.
fn per_doc(texts: &[String], min_time: Duration, mut f: impl FnMut(&str)) -> (f64, u64) {
    let mut calls = 0u64;
    let started = Instant::now();
    loop {
        for text in texts {
            f(text);
        }
        calls += texts.len() as u64;
        let elapsed = started.elapsed();
        if elapsed >= min_time {
            return (elapsed.as_nanos() as f64 / calls as f64, calls);
        }
    }
}

fn main() {
    let args = parse_args();
    let texts: Vec<String> = match &args.texts {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| usage(&format!("cannot read {}: {e}", path.display())))
            .lines()
            .map(str::to_owned)
            .collect(),
        None => BUILTIN_TEXTS.iter().map(|t| t.to_string()).collect(),
    };
    if texts.is_empty() {
        usage("no texts");
    }
    let file_bytes = std::fs::metadata(&args.model).map(|m| m.len()).unwrap_or(0);

    let (rss_before, _) = memory_kib();
    // The first load also pays for reading the file into the page cache; the machine is shared,
    // so the load is timed `loads` times (each model dropped before the next) and the median kept.
    // Memory is read after the first load: later ones reuse heap the allocator kept.
    let mut load_times = Vec::with_capacity(args.loads);
    let mut model = None;
    let mut memory_after_first_load = None;
    for _ in 0..args.loads {
        drop(model.take());
        let started = Instant::now();
        let loaded = Model::load(&args.model)
            .unwrap_or_else(|e| usage(&format!("cannot load {}: {e}", args.model.display())));
        load_times.push(started.elapsed());
        memory_after_first_load.get_or_insert_with(memory_kib);
        model = Some(loaded);
    }
    let (Some(model), Some((rss_after, hwm))) = (model, memory_after_first_load) else {
        usage("no model loaded")
    };
    let first_load = load_times[0];
    load_times.sort();
    let load = load_times[args.loads / 2];

    // Warm up caches and the allocator, and make sure every text goes through.
    let mut label_bytes = 0usize;
    for text in &texts {
        let prediction = model.predict(text);
        label_bytes += model.answer(&prediction).to_string().len();
    }
    black_box(label_bytes);

    let min_time = Duration::from_secs_f64(args.seconds);
    let (predict_ns, predict_calls) = per_doc(&texts, min_time, |text| {
        let prediction = model.predict(black_box(text));
        black_box(model.answer(&prediction));
    });
    // One text over and over, as a bench of "a 20-word text" measures it: the model's lines for
    // that text stay in cache, unlike the rotation above.
    let (one_text_ns, _) = per_doc(&texts[..1], min_time / 2, |text| {
        let prediction = model.predict(black_box(text));
        black_box(model.answer(&prediction));
    });
    let (featurize_ns, _) = per_doc(&texts, min_time / 3, |text| {
        black_box(model.featurizer().transform(black_box(text)));
    });
    let mut nnz = 0usize;
    let mut words = 0usize;
    for text in &texts {
        nnz += model.featurizer().transform(text).len();
        words += text.split_whitespace().count();
    }

    let mean_words = words as f64 / texts.len() as f64;
    let mean_nnz = nnz as f64 / texts.len() as f64;
    println!("model          {} ({:.1} MB)", args.model.display(), file_bytes as f64 / 1e6);
    println!(
        "               {}, {} classes, {} features",
        model.estimator(),
        model.classes().len(),
        model.n_features()
    );
    println!(
        "load           {:.1} ms (median of {}; the first took {:.1} ms)",
        load.as_secs_f64() * 1e3,
        args.loads,
        first_load.as_secs_f64() * 1e3
    );
    println!(
        "resident       {:.1} MB after load (+{:.1} MB for the model; peak {:.1} MB)",
        rss_after as f64 / 1024.0,
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    println!(
        "texts          {} ({mean_words:.1} words, {mean_nnz:.1} known features on average)",
        texts.len()
    );
    println!("featurize      {featurize_ns:.0} ns/doc");
    println!("predict        {predict_ns:.0} ns/doc (featurize + decision + arg-max, {predict_calls} calls)");
    println!("one text       {one_text_ns:.0} ns/doc (the first text, repeated)");
    if args.json {
        let record = serde_json::json!({
            "model": args.model.display().to_string(),
            "file_bytes": file_bytes,
            "estimator": model.estimator(),
            "n_classes": model.classes().len(),
            "n_features": model.n_features(),
            "load_ms": load.as_secs_f64() * 1e3,
            "first_load_ms": first_load.as_secs_f64() * 1e3,
            "loads": args.loads,
            "rss_before_kib": rss_before,
            "rss_after_kib": rss_after,
            "model_rss_kib": rss_after.saturating_sub(rss_before),
            "peak_rss_kib": hwm,
            "texts": texts.len(),
            "mean_words": mean_words,
            "mean_nnz": mean_nnz,
            "featurize_ns_per_doc": featurize_ns,
            "predict_ns_per_doc": predict_ns,
            "predict_calls": predict_calls,
            "one_text_ns_per_doc": one_text_ns,
        });
        println!("{record}");
    }
}
