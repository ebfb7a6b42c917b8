//! `Request<'r>`: the handlers' view of the `request_rec` httpd passed to a hook, borrowed for
//! that call (`'r`). Fields are read and the answer written only through these methods, so raw
//! pointers stay in this file.

use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int};
use std::ptr::NonNull;

use classify_serve::protocol::{self, Method};

use super::config::{self, Location, ServerState};
use super::ffi;

/// A request httpd is processing, borrowed for one hook call.
pub(crate) struct Request<'r> {
    raw: NonNull<ffi::request_rec>,
    /// Whether an answer was sent (the panic guard then does not send a 500 on top).
    answered: bool,
    _borrow: PhantomData<&'r mut ffi::request_rec>,
}

/// Why a body could not be read.
pub(crate) enum BodyError {
    /// Over the limit (413).
    TooLarge,
    /// httpd's own status for a broken body (e.g. bad chunking) or an aborted client. The
    /// handler returns it to httpd, which answers it.
    Status(u16),
}

impl<'r> Request<'r> {
    /// `None` for a null pointer.
    ///
    /// # Safety
    /// `raw` must be null or the live request httpd passed to the hook being run, and the view
    /// must not outlive that call.
    pub(super) unsafe fn from_raw(raw: *mut ffi::request_rec) -> Option<Request<'r>> {
        let raw = NonNull::new(raw)?;
        Some(Request { raw, answered: false, _borrow: PhantomData })
    }

    pub(super) fn raw(&self) -> *mut ffi::request_rec {
        self.raw.as_ptr()
    }

    fn rec(&self) -> &ffi::request_rec {
        // SAFETY: `from_raw`'s contract: a live request for the duration of the call.
        unsafe { self.raw.as_ref() }
    }

    pub(super) fn answered(&self) -> bool {
        self.answered
    }

    /// The handler name set by `SetHandler`/`AddHandler`.
    pub(crate) fn handler(&self) -> Option<&str> {
        str_field(self.rec().handler)
    }

    pub(crate) fn method(&self) -> Method {
        match self.rec().method_number as u32 {
            ffi::M_GET => Method::Get,
            ffi::M_POST => Method::Post,
            _ => Method::Other,
        }
    }

    /// HEAD requests: answered as GET, headers only.
    fn header_only(&self) -> bool {
        self.rec().header_only != 0
    }

    /// The URL path exactly as the client sent it, still percent-encoded, taken from the request
    /// line. (httpd decodes `uri`, `parsed_uri.path` and even `unparsed_uri` in place while
    /// processing, merging slashes on the way, so they cannot tell a literal `%` from an escape.)
    pub(crate) fn raw_path(&self) -> &str {
        let request_line = str_field(self.rec().the_request).unwrap_or("");
        let target = request_line.split(' ').nth(1).unwrap_or("");
        // A byte search: a `char` array pattern decodes the ~200-byte line a character at a time.
        let end = target.bytes().position(|b| b == b'?' || b == b'#').unwrap_or(target.len());
        let target = &target[..end];
        if target.starts_with('/') {
            return target;
        }
        // An absolute-form target (`http://host/path`) carries scheme and authority first.
        match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |slash| &rest[slash..]),
            None => target,
        }
    }

    pub(crate) fn query(&self) -> Option<&str> {
        str_field(self.rec().args)
    }

    /// A request header (case-insensitive name).
    pub(crate) fn header(&self, name: &CStr) -> Option<&str> {
        // SAFETY: headers_in is a live table of the request; apr_table_get returns a pointer into
        // it (or null), valid while the request lives.
        let value = unsafe { ffi::apr_table_get(self.rec().headers_in, name.as_ptr()) };
        str_field(value)
    }

    /// The module's configuration for this request's URL, merged from its sections (it lives in
    /// the configuration pool, longer than the request).
    pub(crate) fn location(&self) -> Option<Location<'r>> {
        // SAFETY: per_dir_config is this request's config vector; this module's slot holds a
        // DirConfig created by create_dir_config/merge_dir_config (or null), in a pool that
        // outlives the request.
        unsafe { config::location(self.rec().per_dir_config) }
    }

    /// The module's state for the virtual host answering this request.
    pub(crate) fn server_state(&self) -> Option<&'r ServerState> {
        // SAFETY: r->server is the live server_rec of the request; its module config for this
        // module is a ServerState owned by the configuration pool, which outlives the request.
        unsafe { config::server_state(self.rec().server) }
    }

    /// Reads the whole request body (de-chunked), refusing more than `limit` bytes.
    pub(crate) fn read_body(&mut self, limit: usize) -> Result<Vec<u8>, BodyError> {
        if let Some(length) = self.header(c"Content-Length") {
            if length.trim().parse::<u64>().is_ok_and(|n| n > limit as u64) {
                return Err(BodyError::TooLarge);
            }
        }
        // SAFETY: the client-block protocol on the live request.
        let status = unsafe {
            ffi::ap_setup_client_block(self.raw(), ffi::REQUEST_CHUNKED_DECHUNK as c_int)
        };
        if status != ffi::OK as c_int {
            return Err(BodyError::Status(u16::try_from(status).unwrap_or(400)));
        }
        let mut body = Vec::new();
        // SAFETY: as above.
        if unsafe { ffi::ap_should_client_block(self.raw()) } == 0 {
            return Ok(body);
        }
        // httpd copies straight into the body's spare room: a buffer on the stack would make
        // every child touch (and keep) that much more stack, GET requests included.
        const CHUNK: usize = 8 * 1024;
        loop {
            let filled = body.len();
            body.resize(filled + CHUNK, 0);
            // SAFETY: the CHUNK bytes after `filled` are initialized and owned by `body`.
            let read = unsafe {
                ffi::ap_get_client_block(
                    self.raw(),
                    body[filled..].as_mut_ptr() as *mut c_char,
                    CHUNK as ffi::apr_size_t,
                )
            };
            match read {
                0 => {
                    body.truncate(filled);
                    return Ok(body);
                }
                n if n < 0 => return Err(BodyError::Status(ffi::HTTP_BAD_REQUEST as u16)),
                n => {
                    body.truncate(filled + n as usize);
                    if body.len() > limit {
                        return Err(BodyError::TooLarge);
                    }
                }
            }
        }
    }

    /// Sends a complete answer: status, content type, optional `Allow`, and the body (not for HEAD).
    pub(crate) fn respond(
        &mut self,
        status: u16,
        content_type: &'static CStr,
        allow: Option<&str>,
        body: &[u8],
    ) {
        self.answered = true;
        let raw = self.raw();
        // SAFETY: writes to the live request through httpd's API; header strings are copied into
        // the request pool by apr_table_set; content_type is 'static.
        unsafe {
            (*raw).status = c_int::from(status);
            ffi::ap_set_content_type(raw, content_type.as_ptr());
            if let Some(allow) = allow.and_then(|a| CString::new(a).ok()) {
                ffi::apr_table_set((*raw).headers_out, c"Allow".as_ptr(), allow.as_ptr());
            }
            ffi::ap_set_content_length(raw, body.len() as ffi::apr_off_t);
            if !self.header_only() && !body.is_empty() {
                ffi::ap_rwrite(body.as_ptr() as *const _, body.len() as c_int, raw);
            }
        }
    }

    /// The answer the panic guard sends.
    pub(super) fn respond_internal_error(&mut self) {
        self.respond(500, c"application/json", None, &protocol::error_body("internal error"));
    }

    /// The status set for the answer.
    pub(crate) fn status(&self) -> u16 {
        u16::try_from(self.rec().status).unwrap_or(0)
    }

    /// Adds a response header (copied into the request pool).
    pub(crate) fn set_header(&mut self, name: &str, value: &str) {
        let (Ok(name), Ok(value)) = (CString::new(name), CString::new(value)) else { return };
        // SAFETY: apr_table_set copies both strings into the table's pool.
        unsafe { ffi::apr_table_set(self.rec().headers_out, name.as_ptr(), value.as_ptr()) };
    }

    /// Writes bytes into the answer as they are (for content added to another module's page).
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.answered = true;
        // SAFETY: the buffer is valid for its length; the request is live.
        unsafe { ffi::ap_rwrite(bytes.as_ptr() as *const _, bytes.len() as c_int, self.raw()) };
    }

    /// The file name httpd mapped the request to, if any.
    pub(crate) fn filename(&self) -> Option<&str> {
        str_field(self.rec().filename)
    }

    /// Sets `r->filename` (copied into the request pool).
    pub(crate) fn set_filename(&mut self, value: &str) {
        let Ok(value) = CString::new(value) else { return };
        let raw = self.raw();
        // SAFETY: apr_pstrdup copies into the live request pool, which outlives the request.
        unsafe { (*raw).filename = ffi::apr_pstrdup((*raw).pool, value.as_ptr()) };
    }

    /// Sets a request note (readable in `LogFormat` as `%{name}n`).
    pub(crate) fn set_note(&mut self, name: &CStr, value: &str) {
        let Ok(value) = CString::new(value) else {
            return;
        };
        // SAFETY: apr_table_set copies key and value into the request's pool.
        unsafe { ffi::apr_table_set(self.rec().notes, name.as_ptr(), value.as_ptr()) };
    }
}

/// A non-null request or configuration string as UTF-8 (`None` for null or invalid UTF-8).
pub(super) fn str_field<'a>(pointer: *const c_char) -> Option<&'a str> {
    if pointer.is_null() {
        return None;
    }
    // SAFETY: non-null request fields are NUL-terminated strings in the request's pools.
    unsafe { CStr::from_ptr(pointer) }.to_str().ok()
}
