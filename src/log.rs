//! Writing to Apache's error log under this module's name, so lines carry the `[classify:level]`
//! tag and obey `LogLevel classify:...`. The message is always passed through a fixed "%s" format:
//! text from requests or files is never interpreted as a format string.

use std::ffi::CString;
use std::os::raw::c_int;

use crate::ffi;

/// Apache log levels used here.
#[derive(Debug, Clone, Copy)]
pub enum Level {
    Error = ffi::APLOG_ERR as isize,
    Warning = ffi::APLOG_WARNING as isize,
    Notice = ffi::APLOG_NOTICE as isize,
    Info = ffi::APLOG_INFO as isize,
}

fn c_message(message: &str) -> CString {
    // Interior NULs cannot be logged through "%s"; show them escaped instead of dropping the line.
    CString::new(message.replace('\0', "\\0")).unwrap_or_default()
}

/// Logs against a request (adds the client address and request context).
pub fn request(r: *const ffi::request_rec, level: Level, message: &str) {
    let text = c_message(message);
    // SAFETY: `r` is the live request Apache handed the handler; format and argument are valid
    // NUL-terminated strings and the format consumes exactly one `%s`.
    unsafe {
        ffi::ap_log_rerror_(
            c"mod_classify".as_ptr(),
            0,
            crate::module_index(),
            level as c_int,
            0,
            r,
            c"%s".as_ptr(),
            text.as_ptr(),
        );
    }
}

/// Logs against a server (start-up and configuration messages).
pub fn server(s: *const ffi::server_rec, level: Level, message: &str) {
    let text = c_message(message);
    // SAFETY: `s` is a server_rec from httpd (or null, which httpd accepts during start-up);
    // the format consumes exactly one `%s`.
    unsafe {
        ffi::ap_log_error_(
            c"mod_classify".as_ptr(),
            0,
            crate::module_index(),
            level as c_int,
            0,
            s,
            c"%s".as_ptr(),
            text.as_ptr(),
        );
    }
}
