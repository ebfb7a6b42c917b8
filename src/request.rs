//! Safe views of a `request_rec`: the handler reads fields and writes the answer only through
//! these functions, so raw pointers stay in this file.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};

use classify_serve::protocol::Method;

use crate::ffi;

/// A request Apache handed to our handler. Valid for the handler call only.
pub struct Req {
    raw: *mut ffi::request_rec,
}

/// Why a body could not be read.
pub enum BodyError {
    /// Over the limit (413).
    TooLarge,
    /// httpd's own status for a broken body (e.g. bad chunking) or an aborted client.
    Status(c_int),
}

impl Req {
    /// # Safety
    /// `raw` must be the live request passed to a handler, used only during that call.
    pub unsafe fn new(raw: *mut ffi::request_rec) -> Req {
        Req { raw }
    }

    pub fn raw(&self) -> *mut ffi::request_rec {
        self.raw
    }

    fn rec(&self) -> &ffi::request_rec {
        // SAFETY: `Req::new`'s contract: a live request for the duration of the call.
        unsafe { &*self.raw }
    }

    /// The handler name set by `SetHandler`/`AddHandler`.
    pub fn handler(&self) -> Option<&str> {
        str_field(self.rec().handler)
    }

    pub fn method(&self) -> Method {
        match self.rec().method_number as u32 {
            ffi::M_GET => Method::Get,
            ffi::M_POST => Method::Post,
            _ => Method::Other,
        }
    }

    /// HEAD requests: answer as GET, headers only.
    pub fn header_only(&self) -> bool {
        self.rec().header_only != 0
    }

    /// The URL path exactly as the client sent it, still percent-encoded, taken from the request
    /// line. (httpd decodes `uri`, `parsed_uri.path` and even `unparsed_uri` in place while
    /// processing, merging slashes on the way, so they cannot tell a literal `%` from an escape.)
    pub fn raw_path(&self) -> &str {
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

    pub fn query(&self) -> Option<&str> {
        str_field(self.rec().args)
    }

    /// A request header (case-insensitive name).
    pub fn header(&self, name: &CStr) -> Option<&str> {
        // SAFETY: headers_in is a live table of the request; apr_table_get returns a pointer into it
        // (or null), valid while the request lives.
        let value = unsafe { ffi::apr_table_get(self.rec().headers_in, name.as_ptr()) };
        str_field(value)
    }

    /// The module's per-directory configuration for this request.
    pub fn dir_config(&self) -> Option<&crate::config::DirConfig> {
        // ap_get_module_config is a macro in C; httpd also exports it as a function.
        // SAFETY: per_dir_config is this request's config vector; the slot for this module holds a
        // DirConfig created by create_dir_config/merge_dir_config (or null).
        let config =
            unsafe { ffi::ap_get_module_config(self.rec().per_dir_config, crate::module_record()) }
                as *const crate::config::DirConfig;
        // SAFETY: see above; pool memory that outlives the request.
        unsafe { config.as_ref() }
    }

    /// Reads the whole request body (de-chunked), refusing more than `limit` bytes.
    pub fn read_body(&mut self, limit: usize) -> Result<Vec<u8>, BodyError> {
        if let Some(length) = self.header(c"Content-Length") {
            if length.trim().parse::<u64>().is_ok_and(|n| n > limit as u64) {
                return Err(BodyError::TooLarge);
            }
        }
        // SAFETY: standard client-block protocol on the live request.
        let status =
            unsafe { ffi::ap_setup_client_block(self.raw, ffi::REQUEST_CHUNKED_DECHUNK as c_int) };
        if status != ffi::OK as c_int {
            return Err(BodyError::Status(status));
        }
        let mut body = Vec::new();
        // SAFETY: as above.
        if unsafe { ffi::ap_should_client_block(self.raw) } == 0 {
            return Ok(body);
        }
        let mut buffer = [0u8; 16 * 1024];
        loop {
            // SAFETY: the buffer is valid for its length.
            let read = unsafe {
                ffi::ap_get_client_block(
                    self.raw,
                    buffer.as_mut_ptr() as *mut c_char,
                    buffer.len() as ffi::apr_size_t,
                )
            };
            match read {
                0 => return Ok(body),
                n if n < 0 => return Err(BodyError::Status(ffi::HTTP_BAD_REQUEST as c_int)),
                n => {
                    body.extend_from_slice(&buffer[..n as usize]);
                    if body.len() > limit {
                        return Err(BodyError::TooLarge);
                    }
                }
            }
        }
    }

    /// Sends a complete answer: status, content type, optional `Allow`, and the body (not for HEAD).
    pub fn respond(
        &mut self,
        status: u16,
        content_type: &'static CStr,
        allow: Option<&str>,
        body: &[u8],
    ) {
        // SAFETY: writes to the live request through httpd's API; header strings are copied into
        // the request pool by apr_table_set; content_type is 'static.
        unsafe {
            (*self.raw).status = c_int::from(status);
            ffi::ap_set_content_type(self.raw, content_type.as_ptr());
            if let Some(allow) = allow.and_then(|a| CString::new(a).ok()) {
                ffi::apr_table_set((*self.raw).headers_out, c"Allow".as_ptr(), allow.as_ptr());
            }
            ffi::ap_set_content_length(self.raw, body.len() as ffi::apr_off_t);
            if !self.header_only() && !body.is_empty() {
                ffi::ap_rwrite(body.as_ptr() as *const _, body.len() as c_int, self.raw);
            }
        }
    }

    /// The status set for the answer.
    pub fn status(&self) -> c_int {
        self.rec().status
    }

    /// Adds a response header (copied into the request pool).
    pub fn set_header(&mut self, name: &str, value: &str) {
        let (Ok(name), Ok(value)) = (CString::new(name), CString::new(value)) else { return };
        // SAFETY: apr_table_set copies both strings into the table's pool.
        unsafe { ffi::apr_table_set(self.rec().headers_out, name.as_ptr(), value.as_ptr()) };
    }

    /// Writes bytes into the answer as they are (for content added to another module's page).
    pub fn write(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        // SAFETY: the buffer is valid for its length; the request is live.
        unsafe { ffi::ap_rwrite(bytes.as_ptr() as *const _, bytes.len() as c_int, self.raw) };
    }

    /// The file name httpd mapped the request to, if any.
    pub fn filename(&self) -> Option<&str> {
        str_field(self.rec().filename)
    }

    /// Sets `r->filename` (copied into the request pool).
    pub fn set_filename(&mut self, value: &str) {
        let Ok(value) = CString::new(value) else { return };
        // SAFETY: apr_pstrdup copies into the live request pool, which outlives the request.
        unsafe { (*self.raw).filename = ffi::apr_pstrdup(self.rec().pool, value.as_ptr()) };
    }

    /// Sets a request note (readable in `LogFormat` as `%{name}n`).
    pub fn set_note(&mut self, name: &CStr, value: &str) {
        let Ok(value) = CString::new(value) else {
            return;
        };
        // SAFETY: apr_table_set copies key and value into the request's pool.
        unsafe { ffi::apr_table_set(self.rec().notes, name.as_ptr(), value.as_ptr()) };
    }
}

fn str_field<'a>(pointer: *const c_char) -> Option<&'a str> {
    if pointer.is_null() {
        return None;
    }
    // SAFETY: non-null request fields are NUL-terminated strings in the request's pools.
    unsafe { CStr::from_ptr(pointer) }.to_str().ok()
}
