//! Small models shared by the unit tests of several modules.

use crate::Model;

/// A binary LinearSVC over four word n-grams: "good" and "good phone" push towards "pos", "bad"
/// towards "neg".
pub const TINY: &str = r#"{
    "format": "mod_classify-model", "format_version": 1,
    "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                   "lowercase": true, "vocabulary": ["good", "good phone", "bad", "phone"]},
    "classifier": {"kind": "linear", "estimator": "LinearSVC", "classes": ["neg", "pos"],
                   "coef": [[1.0, 0.5, -2.0, 0.0]], "intercept": [-0.1]}
}"#;

/// `TINY`, loaded.
pub fn tiny() -> Model {
    Model::from_json(TINY.as_bytes()).expect("the tiny test model is valid")
}
