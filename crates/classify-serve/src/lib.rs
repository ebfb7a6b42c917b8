//! What mod_classify answers over HTTP, as plain functions over plain values so that it is
//! unit-tested and fuzzed without Apache: the `classify` handler's API ([`protocol`]), the Open
//! Inference Protocol ([`oip`]) and the metrics renderings for Prometheus and mod_status
//! ([`counters`]). The Apache module copies request fields in and the `Response` out.
#![forbid(unsafe_code)]

pub mod counters;
#[cfg(test)]
mod fixtures;
pub mod html;
pub mod oip;
mod page;
pub mod protocol;
