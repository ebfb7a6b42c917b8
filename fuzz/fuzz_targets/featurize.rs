//! Any text through every analyzer and featurizer kind: no panic, and the feature row is sorted,
//! unique and inside the feature range.
#![no_main]

use std::sync::OnceLock;

use classify_core::Model;
use libfuzzer_sys::fuzz_target;

/// Golden models covering the word, char and char_wb analyzers, hashing, tf-idf, accents and
/// stop words.
const MODELS: [&str; 6] = [
    "count_word12_linearsvc_multi",
    "count_char14_linearsvc",
    "count_charwb35_binary_multinomialnb",
    "hashing_word_alt_l2_linearsvc",
    "tfidf_unicode_english_sublinear_logreg_ovr",
    "torture_word_unicode_accents",
];

fn models() -> &'static Vec<Model> {
    static MODELS_LOADED: OnceLock<Vec<Model>> = OnceLock::new();
    MODELS_LOADED.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/classify-core/testdata/golden");
        MODELS
            .iter()
            .map(|name| {
                let path = format!("{dir}/{name}.model.json");
                Model::load(path.as_ref()).unwrap_or_else(|e| panic!("{path}: {e}"))
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for model in models() {
        let row = model.featurizer().transform(text);
        let n_features = model.n_features() as u32;
        assert!(row.entries.windows(2).all(|pair| pair[0].0 < pair[1].0), "unsorted row");
        assert!(row.entries.iter().all(|&(index, _)| index < n_features), "index out of range");
        let prediction = model.predict(text);
        assert!(prediction.class_index < model.classes().len());
    }
});
