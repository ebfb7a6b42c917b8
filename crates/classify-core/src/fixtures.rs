//! Small models shared by the unit tests of several modules (and, through the file, of
//! classify-serve).

use crate::Model;

/// A binary LinearSVC over four word n-grams: "good" and "good phone" push towards "pos", "bad"
/// towards "neg".
pub(crate) const TINY: &str = include_str!("../testdata/tiny.model.json");

/// `TINY`, loaded.
pub(crate) fn tiny() -> Model {
    Model::from_json(TINY.as_bytes()).expect("the tiny test model is valid")
}
