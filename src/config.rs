//! Directives and per-directory configuration.
//!
//! `ClassifyModel` loads and validates the model while httpd parses its configuration, so
//! `apachectl configtest` (which never runs `post_config`) rejects a missing or broken model with
//! "Syntax error on line N of FILE". The loaded model is owned by the configuration pool (`pconf`)
//! through a cleanup, so it lives exactly as long as the configuration generation that named it,
//! and being loaded in the parent before children fork, one copy is shared by every child.

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::path::PathBuf;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use classify_serve::protocol::Limits;

use crate::code_pages;
use crate::ffi;
use crate::guard;
use crate::log::{self, Level};
use crate::models::{self, LoadedModel};
use crate::shared_counters;

/// Per-directory configuration. Lives in a pool, so it holds only plain data; `None` means "not set
/// here" and is filled from the enclosing section when configurations merge.
#[derive(Clone, Copy)]
pub struct DirConfig {
    /// The innermost `<Location>` path with a mod_classify directive; texts in URL paths are read
    /// below it. `None` when the directives are elsewhere (`<Directory>`, server config,
    /// `<LocationMatch>`): then texts come from the query string or the body only.
    pub location: Option<NonNull<c_char>>,
    /// Owned by a `pconf` cleanup registered when the directive loaded it.
    pub model: Option<NonNull<LoadedModel>>,
    pub max_body: Option<usize>,
    pub max_batch: Option<usize>,
    /// `ClassifyDefaultFormat json`: answer JSON even when the client does not ask for it.
    pub prefer_json: Option<bool>,
    /// `ClassifyModelName` (a pool string); the model file's stem when unset.
    pub model_name: Option<NonNull<c_char>>,
    /// The shared-memory counter slot of the model's name.
    pub metrics_slot: Option<usize>,
}

impl DirConfig {
    pub fn limits(&self) -> Limits {
        let defaults = Limits::default();
        Limits {
            max_body: self.max_body.unwrap_or(defaults.max_body),
            max_batch: self.max_batch.unwrap_or(defaults.max_batch),
            max_top: defaults.max_top,
        }
    }

    /// The model configured for this section.
    pub fn model(&self) -> Option<&LoadedModel> {
        // SAFETY: the pointer is into an Arc that `set_model` handed to a cleanup of the
        // configuration pool, which outlives every request served with this configuration.
        self.model.map(|model| unsafe { model.as_ref() })
    }

    /// The model's name: `ClassifyModelName`, or the model file's stem.
    pub fn model_name(&self) -> Option<String> {
        if let Some(name) = self.model_name {
            // SAFETY: a NUL-terminated string in the configuration pool.
            return Some(unsafe { CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned());
        }
        let model = self.model()?;
        let path = std::path::Path::new(&model.source.path);
        let stem = path.file_name()?.to_string_lossy();
        // "sections.model.json" and "sections.model" are both named "sections".
        Some(stem.split('.').next().unwrap_or(&stem).to_owned())
    }

    pub fn location(&self) -> Option<&str> {
        // SAFETY: section paths are NUL-terminated strings in the configuration pool.
        self.location.and_then(|p| unsafe { CStr::from_ptr(p.as_ptr()) }.to_str().ok())
    }
}

/// The directive table, terminated by an all-null entry as httpd expects.
pub struct CommandTable(pub [ffi::command_rec; 6]);

// SAFETY: the table is immutable and only read by httpd; its raw pointers point to 'static data.
unsafe impl Sync for CommandTable {}

const WHERE: std::os::raw::c_int = (ffi::RSRC_CONF | ffi::ACCESS_CONF) as std::os::raw::c_int;

pub static COMMANDS: CommandTable = CommandTable([
    take1(
        c"ClassifyModel",
        set_model,
        c"Path of the mod_classify model file this location serves (checked at config time)",
    ),
    take1(
        c"ClassifyMaxBodySize",
        set_max_body,
        c"Largest request body accepted, in bytes (default 1048576)",
    ),
    take1(c"ClassifyMaxBatch", set_max_batch, c"Most texts in one JSON batch (default 1000)"),
    take1(
        c"ClassifyModelName",
        set_model_name,
        c"Name of this location's model in metrics and the inference API (default: file stem)",
    ),
    take1(
        c"ClassifyDefaultFormat",
        set_default_format,
        c"Answer format when the client does not ask for JSON: text (the label) or json",
    ),
    ffi::command_rec {
        name: ptr::null(),
        func: ffi::cmd_func { take1: None },
        cmd_data: ptr::null_mut(),
        req_override: 0,
        args_how: 0,
        errmsg: ptr::null(),
    },
]);

type Take1 = unsafe extern "C" fn(*mut ffi::cmd_parms, *mut c_void, *const c_char) -> *const c_char;

const fn take1(name: &'static CStr, func: Take1, help: &'static CStr) -> ffi::command_rec {
    ffi::command_rec {
        name: name.as_ptr(),
        func: ffi::cmd_func { take1: Some(func) },
        cmd_data: ptr::null_mut(),
        req_override: WHERE,
        args_how: ffi::cmd_how_TAKE1,
        errmsg: help.as_ptr(),
    }
}

pub unsafe extern "C" fn create_dir_config(
    pool: *mut ffi::apr_pool_t,
    _dir: *mut c_char,
) -> *mut c_void {
    let created = guard::catch(|| {
        let config = DirConfig {
            location: None,
            model: None,
            max_body: None,
            max_batch: None,
            prefer_json: None,
            model_name: None,
            metrics_slot: None,
        };
        // SAFETY: `pool` is a live pool; apr_palloc returns memory aligned for any C type, and
        // DirConfig (plain data, no Drop) is written in place before anyone reads it.
        unsafe { pool_alloc(pool, config) }
    });
    created.unwrap_or(ptr::null_mut())
}

pub unsafe extern "C" fn merge_dir_config(
    pool: *mut ffi::apr_pool_t,
    base: *mut c_void,
    new: *mut c_void,
) -> *mut c_void {
    let merged = guard::catch(|| {
        // SAFETY: httpd passes two configs this module created with create_dir_config.
        let (base, new) = unsafe { (*(base as *const DirConfig), *(new as *const DirConfig)) };
        let config = DirConfig {
            location: new.location.or(base.location),
            model: new.model.or(base.model),
            max_body: new.max_body.or(base.max_body),
            max_batch: new.max_batch.or(base.max_batch),
            prefer_json: new.prefer_json.or(base.prefer_json),
            model_name: new.model_name.or(base.model_name),
            metrics_slot: new.metrics_slot.or(base.metrics_slot),
        };
        // SAFETY: as in create_dir_config.
        unsafe { pool_alloc(pool, config) }
    });
    merged.unwrap_or(new)
}

/// Copies plain data into pool memory.
unsafe fn pool_alloc<T: Copy>(pool: *mut ffi::apr_pool_t, value: T) -> *mut c_void {
    // SAFETY: caller guarantees a live pool; APR aligns allocations to 8 bytes, enough for T here.
    unsafe {
        let memory = ffi::apr_palloc(pool, std::mem::size_of::<T>() as ffi::apr_size_t) as *mut T;
        memory.write(value);
        memory as *mut c_void
    }
}

/// Defines a TAKE1 directive's entry point: httpd's raw arguments become safe values and the body
/// runs inside `directive`'s panic guard, so no directive can skip it.
macro_rules! take1_directive {
    ($name:ident, |$cmd:pat_param, $config:pat_param, $arg:pat_param| $body:block) => {
        unsafe extern "C" fn $name(
            cmd: *mut ffi::cmd_parms,
            config: *mut c_void,
            arg: *const c_char,
        ) -> *const c_char {
            let body = |$cmd: &ffi::cmd_parms,
                        $config: &mut DirConfig,
                        $arg: &str|
             -> Result<(), String> { $body };
            // SAFETY: httpd calls directive handlers with its cmd_parms, this module's config for
            // the section being parsed and a NUL-terminated argument.
            unsafe { directive(cmd, config, arg, body) }
        }
    };
}

/// Runs a directive body; a returned error or a panic becomes the directive's error string.
unsafe fn directive(
    cmd: *mut ffi::cmd_parms,
    config: *mut c_void,
    arg: *const c_char,
    body: impl FnOnce(&ffi::cmd_parms, &mut DirConfig, &str) -> Result<(), String>,
) -> *const c_char {
    let outcome = guard::catch(|| {
        // SAFETY: httpd passes its cmd_parms, this module's config for the section being parsed
        // and a NUL-terminated argument, all valid for the duration of the call.
        let (cmd_ref, config, arg) =
            unsafe { (&*cmd, &mut *(config as *mut DirConfig), CStr::from_ptr(arg)) };
        let arg = arg.to_str().map_err(|_| "argument is not valid UTF-8".to_owned())?;
        if let Some(location) = enclosing_location(cmd_ref) {
            config.location = Some(location);
        }
        body(cmd_ref, config, arg)
    });
    let message = match outcome {
        Ok(Ok(())) => return ptr::null(),
        Ok(Err(message)) => message,
        Err(panic) => format!("internal error (CLS00002): {panic}"),
    };
    // SAFETY: the error string must outlive this call: copy it into the command's pool.
    unsafe { pool_string((*cmd).pool, &message) }
}

/// Copies `text` into `pool` as a C string.
pub unsafe fn pool_string(pool: *mut ffi::apr_pool_t, text: &str) -> *const c_char {
    let c_text = CString::new(text.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: apr_pstrdup copies the NUL-terminated string into the live pool.
    unsafe { ffi::apr_pstrdup(pool, c_text.as_ptr()) }
}

take1_directive!(set_model, |cmd, config, arg| {
    let path = resolve_path(cmd, arg);
    let (model, fresh) = models::load(&path).map_err(|e| format!("ClassifyModel: {e}"))?;
    let load_seconds = model.source.load_ms / 1000.0;
    let section_model = model.clone();
    let shared: *const LoadedModel = Arc::as_ptr(&model);
    let owner = Box::into_raw(Box::new(model));
    // The configuration pool owns this reference: it is dropped when this generation ends.
    // SAFETY: cmd.pool is the live configuration pool; `owner` stays valid until the cleanup,
    // which runs once and frees it.
    unsafe {
        ffi::apr_pool_cleanup_register(
            cmd.pool,
            owner as *const c_void,
            Some(drop_model),
            Some(ffi::apr_pool_cleanup_null),
        );
    }
    config.model = NonNull::new(shared as *mut LoadedModel);
    note_model_section(config, fresh.then_some(load_seconds), &section_model);
    Ok(())
});

unsafe extern "C" fn drop_model(data: *mut c_void) -> ffi::apr_status_t {
    guard::unit("model cleanup", || {
        // SAFETY: `data` is the Box::into_raw pointer registered in set_model, and the pool runs
        // this cleanup exactly once.
        drop(unsafe { Box::from_raw(data as *mut Arc<LoadedModel>) });
    });
    ffi::APR_SUCCESS as ffi::apr_status_t
}

/// The path of the `<Location>` section the directive is in, if it is in one (a pool string that
/// lives as long as the configuration).
fn enclosing_location(cmd: &ffi::cmd_parms) -> Option<NonNull<c_char>> {
    // SAFETY: while a directive runs, cmd->directive is its node in the parsed configuration tree
    // and its parent (if any) is the enclosing section; both live in the configuration pool.
    let section = unsafe { cmd.directive.as_ref()?.parent.as_ref()? };
    // SAFETY: section names are NUL-terminated strings in the configuration pool.
    let name = unsafe { CStr::from_ptr(section.directive) };
    if name.to_bytes().eq_ignore_ascii_case(b"<Location") {
        NonNull::new(cmd.path)
    } else {
        None
    }
}

fn resolve_path(cmd: &ffi::cmd_parms, arg: &str) -> PathBuf {
    let Ok(c_arg) = CString::new(arg) else {
        return PathBuf::from(arg);
    };
    // SAFETY: ap_server_root_relative returns a pool string (or null for an invalid path).
    let resolved = unsafe { ffi::ap_server_root_relative(cmd.pool, c_arg.as_ptr()) };
    if resolved.is_null() {
        return PathBuf::from(arg);
    }
    // SAFETY: non-null result is a NUL-terminated pool string.
    let resolved = unsafe { CStr::from_ptr(resolved) };
    PathBuf::from(resolved.to_string_lossy().into_owned())
}

fn parse_size(directive: &str, arg: &str) -> Result<usize, String> {
    arg.parse::<usize>()
        .map_err(|_| format!("{directive}: {arg:?} is not a non-negative whole number"))
}

take1_directive!(set_max_body, |_, config, arg| {
    config.max_body = Some(parse_size("ClassifyMaxBodySize", arg)?);
    Ok(())
});

take1_directive!(set_max_batch, |_, config, arg| {
    config.max_batch = Some(parse_size("ClassifyMaxBatch", arg)?);
    Ok(())
});

take1_directive!(set_default_format, |_, config, arg| {
    config.prefer_json = Some(match arg.to_ascii_lowercase().as_str() {
        "text" => false,
        "json" => true,
        _ => return Err(format!("ClassifyDefaultFormat: {arg:?} is neither text nor json")),
    });
    Ok(())
});

take1_directive!(set_model_name, |cmd, config, arg| {
    if arg.is_empty() || arg.contains(['/', '"', '\\']) || arg.chars().any(char::is_control) {
        return Err(format!(
            "ClassifyModelName: {arg:?} is not a usable name (non-empty, no '/', '\"', \
                 '\\' or control characters)"
        ));
    }
    // SAFETY: cmd.pool is the live configuration pool, which outlives every use of the name.
    let name = unsafe { pool_string(cmd.pool, arg) };
    config.model_name = NonNull::new(name as *mut c_char);
    Ok(())
});

/// The sections of the configuration pass in progress that name a model (as addresses of their
/// pool-allocated `DirConfig`), with the duration of the load each one caused. `post_config`
/// gives them their metrics slots once every directive (`ClassifyModelName` too) has been read
/// and it knows the pass is not the start-up dry run.
static MODEL_SECTIONS: std::sync::Mutex<Vec<ModelSection>> = std::sync::Mutex::new(Vec::new());

struct ModelSection {
    /// The address of the section's DirConfig.
    config: usize,
    load_seconds: Option<f64>,
    model: Arc<LoadedModel>,
}

fn note_model_section(config: &mut DirConfig, load_seconds: Option<f64>, model: &Arc<LoadedModel>) {
    if let Ok(mut sections) = MODEL_SECTIONS.lock() {
        let config = config as *mut DirConfig as usize;
        sections.push(ModelSection { config, load_seconds, model: model.clone() });
    }
}

/// Gives each model section of this pass its counter slot, counts the loads, and publishes the
/// named models for the inference API (the first section to use a name keeps it).
fn finish_model_sections(sections: Vec<ModelSection>, server: *const ffi::server_rec) {
    let mut named: Vec<models::NamedModel> = Vec::new();
    for ModelSection { config: address, load_seconds, model } in sections {
        // SAFETY: the address is of a DirConfig in the configuration pool of the pass that is
        // finishing now (post_config runs before that pool can be cleared), written only here,
        // in the parent, before any child exists.
        let config = unsafe { &mut *(address as *mut DirConfig) };
        config.metrics_slot = config.model_name().and_then(|name| shared_counters::slot_for(&name));
        if let (Some(slot), Some(seconds)) = (config.metrics_slot, load_seconds) {
            shared_counters::record_load(slot, seconds);
        }
        let Some(name) = config.model_name() else { continue };
        match named.iter().find(|entry| entry.name == name) {
            Some(entry) if !Arc::ptr_eq(&entry.model, &model) => log::server(
                server,
                Level::Warning,
                &format!(
                    "CLS00005: model name {name:?} names both {} and {}; the inference API \
                     serves the first: give one a ClassifyModelName",
                    entry.model.source.path, model.source.path
                ),
            ),
            Some(_) => {}
            None => {
                named.push(models::NamedModel { name, model, metrics_slot: config.metrics_slot })
            }
        }
    }
    models::set_named(named);
}

/// Returns the heap pages freed while loading (the dry-run pass's models, the previous
/// generation's, the loaders' temporaries) to the kernel before the children fork. glibc keeps
/// free pages in the middle of its heap resident, and every child would share them: with a
/// 130 MB model that was 14 MB more memory than the model itself.
fn release_freed_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only hands free heap pages back to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub unsafe extern "C" fn post_config(
    _pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    server: *mut ffi::server_rec,
) -> std::os::raw::c_int {
    let outcome = guard::catch(|| {
        let lines = models::take_announcements();
        let sections =
            MODEL_SECTIONS.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default();
        // SAFETY: ap_state_query only reads httpd's global state.
        let state = unsafe { ffi::ap_state_query(ffi::AP_SQ_MAIN_STATE as std::os::raw::c_int) };
        // The first start-up pass is a dry run: its models are discarded, so stay quiet.
        if state == ffi::AP_SQ_MS_CREATE_PRE_CONFIG as std::os::raw::c_int {
            return;
        }
        for line in lines {
            log::server(server, Level::Notice, &line);
        }
        finish_model_sections(sections, server);
        release_freed_heap();
        code_pages::release_parent_pages();
    });
    if let Err(panic) = outcome {
        log::server(
            server,
            Level::Error,
            &format!("CLS00004: internal error in post_config: {panic}"),
        );
    }
    ffi::OK as std::os::raw::c_int
}
