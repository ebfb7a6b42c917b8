//! mod_classify: an Apache httpd module that answers text-classification requests in-process.
//!
//! `apache` is the one layer that touches httpd (all of the module's `unsafe` is there: the
//! module record, hooks and directive entry points behind one panic guard, a borrowed view of
//! `request_rec`, configuration structures and logging). Above it, in safe Rust: `handler` (the
//! request hooks), `directives` (what each directive means), `models` (loading and sharing model
//! files across sections and generations), `shared_counters` (metrics shared by every child) and
//! `code_pages` (the module's own memory layout). What a request is answered lives in
//! `classify_serve`, and the model in `classify_core`.
#![deny(unsafe_code)]

mod apache;
mod code_pages;
mod directives;
mod handler;
mod models;
mod shared_counters;
