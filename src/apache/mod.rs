//! The one layer of mod_classify that touches httpd: every `unsafe` block of the module is in this
//! directory. Above it, `handler`, `directives`, `models` and `shared_counters` are safe Rust that
//! sees httpd only through the types exported here:
//!
//! - [`Request`], a borrowed view of the `request_rec` a hook was called with;
//! - [`Directive`], what a configuration directive may read and change;
//! - [`Location`], the module's merged configuration for a request;
//! - [`log_request!`](crate::log_request) and [`log_server!`](crate::log_server), which log
//!   with the caller's file and line like C's `APLOG_MARK`;
//! - [`os`], the few operating-system calls (shared memory, page release, module pinning).
//!
//! Every function httpd calls is defined by one of the macros in [`hooks`] or [`config`], and each
//! runs its body through [`guard`]: a panic becomes that entry point's failure answer (a 500 for a
//! handler) and one error-log line, so no entry point can forget the barrier.

// Every unsafe operation sits in its own `unsafe {}` block with a SAFETY comment, also inside
// `unsafe fn`s and the closures they define.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

mod config;
mod ffi;
mod guard;
mod hooks;
pub(crate) mod log;
pub(crate) mod os;
mod request;

pub(crate) use config::{Directive, Location, ServerState};
pub(crate) use log::Level;
pub(crate) use request::{BodyError, Request};

/// What an entry point tells httpd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Handled: httpd goes on with the request (or, for a handler, the answer is complete).
    Ok,
    /// Not this module's: httpd asks the next module.
    Declined,
    /// Handled, and httpd must skip what would normally follow (`pre_translate_name`: the URL
    /// decoding).
    Done,
    /// httpd answers the request with this status (e.g. its own 400 for a body it could not
    /// de-chunk).
    HttpError(u16),
}

impl Status {
    fn code(self) -> std::os::raw::c_int {
        use std::os::raw::c_int;
        match self {
            Status::Ok => ffi::OK as c_int,
            Status::Declined => ffi::DECLINED as c_int,
            Status::Done => ffi::DONE as c_int,
            Status::HttpError(status) => c_int::from(status),
        }
    }
}

/// The configuration generation (it grows with every graceful restart).
pub(crate) fn config_generation() -> i64 {
    // SAFETY: ap_state_query only reads httpd's global state.
    i64::from(unsafe { ffi::ap_state_query(ffi::AP_SQ_CONFIG_GEN as std::os::raw::c_int) })
}

/// Whether the configuration pass in progress is httpd's start-up dry run, whose models are
/// discarded right after it.
pub(crate) fn is_dry_run() -> bool {
    // SAFETY: ap_state_query only reads httpd's global state.
    let state = unsafe { ffi::ap_state_query(ffi::AP_SQ_MAIN_STATE as std::os::raw::c_int) };
    state == ffi::AP_SQ_MS_CREATE_PRE_CONFIG as std::os::raw::c_int
}
