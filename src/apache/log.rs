//! Writing to Apache's error log under this module's name, so lines carry the `[classify:level]`
//! tag, obey `LogLevel classify:...` and, with `LogLevel debug`-style source output, name the
//! Rust file and line that logged them (as C's `APLOG_MARK`). The message is always passed
//! through a fixed "%s" format: text from requests or files is never a format string.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};

use super::ffi;
use super::request::Request;

/// Apache log levels used here.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Level {
    Error = ffi::APLOG_ERR as isize,
    Warning = ffi::APLOG_WARNING as isize,
    Notice = ffi::APLOG_NOTICE as isize,
    Info = ffi::APLOG_INFO as isize,
}

/// Logs against a request (adds the client address and request context), with the caller's
/// file and line: `log_request!(request, Level::Info, "CLS00013: {status} {message}")`.
#[macro_export]
macro_rules! log_request {
    ($request:expr, $level:expr, $($format:tt)+) => {
        $crate::apache::log::request($request, $level, file!(), line!(), &format!($($format)+))
    };
}

/// Logs against a server (start-up and configuration messages), with the caller's file and line.
#[macro_export]
macro_rules! log_server {
    ($server:expr, $level:expr, $($format:tt)+) => {
        $crate::apache::log::server($server, $level, file!(), line!(), &format!($($format)+))
    };
}

/// A server httpd passed to a configuration hook, for logging against.
pub(crate) struct Server {
    pub(super) raw: *const ffi::server_rec,
}

fn c_text(text: &str) -> CString {
    // Interior NULs cannot be logged through "%s"; show them escaped instead of dropping the line.
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

/// See [`log_request!`](crate::log_request).
pub(crate) fn request(request: &Request<'_>, level: Level, file: &str, line: u32, message: &str) {
    let (file, text) = (c_text(file), c_text(message));
    // SAFETY: the request is live for the view's lifetime; file, format and argument are valid
    // NUL-terminated strings and the format consumes exactly one `%s`.
    unsafe {
        ffi::ap_log_rerror_(
            file.as_ptr(),
            c_int::try_from(line).unwrap_or(0),
            super::hooks::module_index(),
            level as c_int,
            0,
            request.raw(),
            c"%s".as_ptr(),
            text.as_ptr() as *const c_char,
        );
    }
}

/// See [`log_server!`](crate::log_server).
pub(crate) fn server(server: &Server, level: Level, file: &str, line: u32, message: &str) {
    let (file, text) = (c_text(file), c_text(message));
    // SAFETY: `server.raw` is a server_rec from httpd (or null, which httpd accepts during
    // start-up); the format consumes exactly one `%s`.
    unsafe {
        ffi::ap_log_error_(
            file.as_ptr(),
            c_int::try_from(line).unwrap_or(0),
            super::hooks::module_index(),
            level as c_int,
            0,
            server.raw,
            c"%s".as_ptr(),
            text.as_ptr() as *const c_char,
        );
    }
}
