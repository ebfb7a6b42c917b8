//! Everything mod_classify does that does not need Apache: turning text into exactly the sparse
//! features scikit-learn computes, reading and validating model files, and predicting exactly as
//! sklearn's classifiers do. No I/O happens on the prediction path and no `unsafe` code exists here.
#![forbid(unsafe_code)]

pub mod error;
pub mod featurize;
#[cfg(test)]
mod fixtures;
pub(crate) mod large_array;
pub mod model;
pub mod prefetch;
pub mod sparse;

pub use model::{Answer, Label, Model, Prediction, Task};
