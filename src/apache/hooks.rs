//! The module record httpd loads, and every hook it calls. Each hook is one line naming the safe
//! function that implements it; the macro puts the guard around it.

use std::os::raw::c_int;
use std::ptr;

use super::config::{self, COMMANDS};
use super::ffi;
use super::guard::{self, OnPanic};
use super::log::Server;
use super::os;

/// The module record httpd looks up by name after `dlopen` (`LoadModule classify_module ...`).
/// `static mut` because httpd writes `module_index`, `next` and `dynamic_load_handle` into it.
#[unsafe(no_mangle)]
pub static mut classify_module: ffi::module = ffi::module {
    version: ffi::cls_module_magic_number_major,
    minor_version: ffi::cls_module_magic_number_minor,
    module_index: -1,
    // httpd derives the log tag `[classify:...]` and `LogLevel classify:debug` from this name.
    name: c"mod_classify.c".as_ptr(),
    dynamic_load_handle: ptr::null_mut(),
    next: ptr::null_mut(),
    magic: ffi::cls_module_magic_cookie,
    rewrite_args: None,
    create_dir_config: Some(config::create_dir_config),
    merge_dir_config: Some(config::merge_dir_config),
    create_server_config: Some(config::create_server_config),
    merge_server_config: None,
    cmds: COMMANDS.0.as_ptr(),
    register_hooks: Some(register_hooks),
    flags: 0,
};

/// The index httpd assigned to this module (for config vectors and per-module log levels).
pub(super) fn module_index() -> c_int {
    // SAFETY: httpd writes module_index once, while loading the module, before any hook runs;
    // afterwards it is only read.
    unsafe { (*ptr::addr_of!(classify_module)).module_index }
}

/// A pointer to the module record, as `ap_get_module_config` wants it.
pub(super) fn module_record() -> *const ffi::module {
    ptr::addr_of!(classify_module)
}

/// Defines a request hook's entry point: the body gets a safe `Request` inside the guard.
macro_rules! request_hook {
    ($entry:ident, $on_panic:expr, $body:path) => {
        unsafe extern "C" fn $entry(raw: *mut ffi::request_rec) -> c_int {
            // SAFETY: httpd passes the live request it is processing.
            unsafe { guard::request(raw, stringify!($entry), $on_panic, $body) }
        }
    };
}

request_hook!(pre_translate_name, OnPanic::Decline, crate::handler::pre_translate_name);
request_hook!(translate_name, OnPanic::Decline, crate::handler::translate_name);
request_hook!(map_to_storage, OnPanic::Decline, crate::handler::map_to_storage);
request_hook!(content_handler, OnPanic::InternalError, crate::handler::content);

/// mod_status's `status_hook`: the module's section of /server-status.
unsafe extern "C" fn status_hook(raw: *mut ffi::request_rec, flags: c_int) -> c_int {
    // mod_status.h's AP_STATUS_SHORT: a machine-readable (`?auto`) report.
    const STATUS_SHORT: c_int = 0x1;
    let short = flags & STATUS_SHORT != 0;
    // SAFETY: mod_status passes the live request it is answering.
    unsafe {
        guard::request(raw, "status_hook", OnPanic::Decline, |request| {
            crate::handler::status_section(request, short)
        })
    }
}

unsafe extern "C" fn post_config(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    main: *mut ffi::server_rec,
) -> c_int {
    let server = Server { raw: main };
    guard::server(&server, "post_config", || {
        let mut states = Vec::new();
        for host in config::servers(main) {
            // SAFETY: the servers of the configuration just read, each with the ServerState
            // create_server_config made; nothing else holds a reference during post_config.
            if let Some(state) = unsafe { config::server_state_mut(host) } {
                states.push(state);
            }
        }
        crate::directives::finish_configuration(&server, &mut states);
    })
}

unsafe extern "C" fn register_hooks(_pool: *mut ffi::apr_pool_t) {
    guard::unit("register_hooks", || {
        guard::install_panic_hook();
        os::pin_module_in_memory();
        let middle = ffi::APR_HOOK_MIDDLE as c_int;
        // SAFETY: registering hook functions with static lifetime; null pre/succ lists.
        unsafe {
            ffi::ap_hook_post_config(Some(post_config), ptr::null(), ptr::null(), middle);
            // httpd >= 2.4.49: runs on the undecoded path, after the <Location> walk.
            ffi::ap_hook_pre_translate_name(
                Some(pre_translate_name),
                ptr::null(),
                ptr::null(),
                middle,
            );
            ffi::ap_hook_translate_name(Some(translate_name), ptr::null(), ptr::null(), middle);
            ffi::ap_hook_map_to_storage(Some(map_to_storage), ptr::null(), ptr::null(), middle);
            ffi::ap_hook_handler(Some(content_handler), ptr::null(), ptr::null(), middle);
            // mod_status's optional hook (APR_OPTIONAL_HOOK in C); a no-op without mod_status.
            // The registry stores hook functions type-erased, as the C macro's cast does.
            let status: unsafe extern "C" fn(*mut ffi::request_rec, c_int) -> c_int = status_hook;
            ffi::apr_optional_hook_add(
                c"status_hook".as_ptr(),
                Some(std::mem::transmute::<
                    unsafe extern "C" fn(*mut ffi::request_rec, c_int) -> c_int,
                    unsafe extern "C" fn(),
                >(status)),
                ptr::null(),
                ptr::null(),
                middle,
            );
        }
    });
}
