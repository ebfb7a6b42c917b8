//! The one panic barrier. A panic unwinding out of an `extern "C"` function would abort the Apache
//! child and every connection it serves, so each function httpd calls runs its body through one of
//! the functions below (the macros in `hooks` and `config` generate every entry point that way),
//! which turn a panic into that entry point's own failure value plus one error-log line carrying
//! the panic's message and location.

use std::cell::RefCell;
use std::os::raw::c_int;
use std::panic::{self, AssertUnwindSafe};

use super::ffi;
use super::log::{self, Level, Server};
use super::request::Request;
use super::Status;

thread_local! {
    /// The last panic's message and location on this thread, recorded by the hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the default hook (a backtrace on stderr, which Apache may not even have) with one that
/// records the message so the guard can log it with the request's context.
pub(super) fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_owned());
        let location =
            info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(format!("{message} at {location}")));
    }));
}

/// Runs `body`; on panic returns the recorded description.
pub(super) fn catch<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(body)).map_err(|_| {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| "panic (no message recorded)".to_owned())
    })
}

/// What a request hook answers when its body panicked.
#[derive(Clone, Copy)]
pub(super) enum OnPanic {
    /// A content handler: a 500 if nothing was sent yet (the request is answered either way).
    InternalError,
    /// A translation hook: let httpd carry on as if this module were absent.
    Decline,
}

/// The entry of every request hook: a safe `Request` for `body`, and the panic barrier.
///
/// # Safety
/// `raw` must be the live request httpd passed to the hook being run.
pub(super) unsafe fn request(
    raw: *mut ffi::request_rec,
    entry: &str,
    on_panic: OnPanic,
    body: impl FnOnce(&mut Request<'_>) -> Status,
) -> c_int {
    // SAFETY: the caller's contract; the view lives only for this call.
    let Some(mut request) = (unsafe { Request::from_raw(raw) }) else {
        return Status::Declined.code();
    };
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| body(&mut request)));
    match outcome {
        Ok(status) => status.code(),
        Err(_) => {
            let panic = LAST_PANIC
                .with(|last| last.borrow_mut().take())
                .unwrap_or_else(|| "panic (no message recorded)".to_owned());
            let message = format!("CLS00010: internal error in {entry}: {panic}");
            log::request(&request, Level::Error, file!(), line!(), &message);
            match on_panic {
                OnPanic::InternalError => {
                    if !request.answered() {
                        request.respond_internal_error();
                    }
                    Status::Ok.code()
                }
                OnPanic::Decline => Status::Declined.code(),
            }
        }
    }
}

/// The entry of configuration hooks run for a server (`post_config`): a panic is logged against
/// that server and httpd goes on (the configuration already loaded every model).
pub(super) fn server(server: &Server, entry: &str, body: impl FnOnce()) -> c_int {
    if let Err(panic) = catch(body) {
        let message = format!("CLS00004: internal error in {entry}: {panic}");
        log::server(server, Level::Error, file!(), line!(), &message);
    }
    Status::Ok.code()
}

/// For entry points with nothing to return, run outside any request: a panic is written to
/// stderr, which httpd sends to the main error log during start-up.
pub(super) fn unit(entry: &str, body: impl FnOnce()) {
    if let Err(panic) = catch(body) {
        eprintln!("mod_classify: CLS00001: internal error in {entry}: {panic}");
    }
}
