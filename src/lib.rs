//! mod_classify: an Apache httpd module that answers text-classification requests in-process.
//!
//! This file holds the module record and hook registration only. The FFI edge is `ffi` (raw
//! bindings), `guard` (the panic barrier every Apache-called function goes through), `config`
//! (directives), `request` (safe views of `request_rec`), `log` and `code_pages` (the memory
//! layout of the module's own code); `handler` maps a request onto
//! `classify_serve::protocol`, where the request logic lives as safe, Apache-free code.

// Every unsafe operation sits in its own `unsafe {}` block with a SAFETY comment, also inside
// `unsafe fn`s and the closures they define.
#![deny(unsafe_op_in_unsafe_fn)]

mod code_pages;
mod config;
mod ffi;
mod guard;
mod handler;
mod log;
mod models;
mod request;
mod shared_counters;

use std::os::raw::{c_char, c_int};
use std::ptr;

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
    create_server_config: None,
    merge_server_config: None,
    cmds: config::COMMANDS.0.as_ptr(),
    register_hooks: Some(register_hooks),
    flags: 0,
};

/// The index httpd assigned to this module (for config vectors and per-module log levels).
pub(crate) fn module_index() -> c_int {
    // SAFETY: httpd writes module_index once, while loading the module, before any hook runs;
    // afterwards it is only read.
    unsafe { (*ptr::addr_of!(classify_module)).module_index }
}

/// A pointer to the module record, as `ap_get_module_config` wants it.
pub(crate) fn module_record() -> *const ffi::module {
    ptr::addr_of!(classify_module)
}

unsafe extern "C" fn register_hooks(_pool: *mut ffi::apr_pool_t) {
    guard::unit("register_hooks", || {
        guard::install_panic_hook();
        pin_module_in_memory();
        // SAFETY: registering hook functions with static lifetime; null pre/succ lists.
        unsafe {
            ffi::ap_hook_post_config(
                Some(config::post_config),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_translate_name(
                Some(handler::classify_translate_name),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_map_to_storage(
                Some(handler::classify_map_to_storage),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            ffi::ap_hook_handler(
                Some(handler::classify_handler),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
            // mod_status's optional hook (APR_OPTIONAL_HOOK in C); a no-op without mod_status.
            // The registry stores hook functions type-erased, as the C macro's cast does.
            let status_hook: unsafe extern "C" fn(*mut ffi::request_rec, c_int) -> c_int =
                handler::status_hook;
            ffi::apr_optional_hook_add(
                c"status_hook".as_ptr(),
                Some(std::mem::transmute::<
                    unsafe extern "C" fn(*mut ffi::request_rec, c_int) -> c_int,
                    unsafe extern "C" fn(),
                >(status_hook)),
                ptr::null(),
                ptr::null(),
                ffi::APR_HOOK_MIDDLE as c_int,
            );
        }
    });
}

/// mod_so `dlclose`s modules between the two start-up passes and on every graceful restart, which
/// would reset Rust statics (the panic hook among them) and leak what they owned. Taking one more
/// reference with RTLD_NODELETE keeps this DSO mapped for the life of the process, so its state is
/// deterministic. Replacing the `.so` therefore needs a full stop/start.
fn pin_module_in_memory() {
    let mut info: libc::Dl_info = libc::Dl_info {
        dli_fname: ptr::null(),
        dli_fbase: ptr::null_mut(),
        dli_sname: ptr::null(),
        dli_saddr: ptr::null_mut(),
    };
    let address = pin_module_in_memory as *const libc::c_void;
    // SAFETY: dladdr only reads the loader's tables; `info` is a valid out-parameter.
    if unsafe { libc::dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return;
    }
    let path: *const c_char = info.dli_fname;
    // SAFETY: `path` is the loader's NUL-terminated name of this very object; RTLD_NOLOAD never
    // loads anything new, it only adds a reference and the NODELETE flag.
    unsafe {
        libc::dlopen(path, libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE);
    }
}
