//! The models the unit tests answer with: classify-core's tiny test model and its golden
//! sklearn fixtures.

use classify_core::Model;

/// classify-core's tiny binary LinearSVC ("good", "good phone" → pos; "bad" → neg).
pub(crate) fn tiny() -> Model {
    let json = include_str!("../../classify-core/testdata/tiny.model.json");
    Model::from_json(json.as_bytes()).expect("the tiny test model is valid")
}

/// A Ridge regressor over the same four n-grams: "good phone" → 1 + 0.5 + 0.25 + 0.5 = 2.25.
pub(crate) fn tiny_regression() -> Model {
    let json = include_str!("../../classify-core/testdata/tiny-regression.model.json");
    Model::from_json(json.as_bytes()).expect("the tiny regression model is valid")
}

/// A one-vs-rest LinearSVC over "bug", "docs" and "urgent": "crash bug" → bug and urgent.
pub(crate) fn tiny_multi_label() -> Model {
    let json = include_str!("../../classify-core/testdata/tiny-multilabel.model.json");
    Model::from_json(json.as_bytes()).expect("the tiny multi-label model is valid")
}

/// The path of one golden fixture file of classify-core's.
pub(crate) fn golden_path(file: &str) -> String {
    format!("{}/../classify-core/testdata/golden/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// A golden model, loaded.
pub(crate) fn golden(name: &str) -> Model {
    let path = golden_path(&format!("{name}.model.json"));
    Model::load(std::path::Path::new(&path)).expect("golden model loads")
}
