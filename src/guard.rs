//! The one panic barrier. A panic unwinding out of an `extern "C"` function would abort the Apache
//! child and every connection it serves, so each function Apache calls runs its body through one of
//! these wrappers, which turn a panic into that entry point's own failure value plus one error-log
//! line carrying the panic's message and location.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

thread_local! {
    /// The last panic's message and location on this thread, recorded by the hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the default hook (a backtrace on stderr, which Apache may not even have) with one that
/// records the message so the guard can log it with the request's context.
pub fn install_panic_hook() {
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
pub fn catch<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(body)).map_err(|_| {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| "panic (no message recorded)".to_owned())
    })
}

/// For entry points with nothing to return: a panic is written to stderr, which httpd sends to the
/// main error log during start-up.
pub fn unit(entry: &str, body: impl FnOnce()) {
    if let Err(panic) = catch(body) {
        eprintln!("mod_classify: CLS00001: internal error in {entry}: {panic}");
    }
}
