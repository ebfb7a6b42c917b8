//! The module's configuration as httpd keeps it: a `DirConfig` per section (plain data in the
//! configuration pool, merged by httpd for each request) and a `ServerState` per virtual host
//! (owned by the configuration pool through a cleanup, so it lives exactly as long as the
//! configuration generation that built it, and, built in the parent before children fork, is
//! shared by every child). The directive table and its entry points are generated here; what each
//! directive means is `crate::directives`, safe code that works on a [`Directive`].

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::path::PathBuf;
use std::ptr::{self, NonNull};

use classify_serve::protocol::Limits;

use super::ffi;
use super::guard;
use super::hooks::module_record;
use super::request::str_field;
use crate::models::{ModelSection, NamedModel};

/// Settings of a section that are plain values.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DirSettings {
    pub(crate) max_body: Option<usize>,
    pub(crate) max_batch: Option<usize>,
    /// `ClassifyDefaultFormat json`: answer JSON even when the client does not ask for it.
    pub(crate) prefer_json: Option<bool>,
    /// `ClassifyPage On`: a browser's GET of the location gets the try-it page.
    pub(crate) page: Option<bool>,
}

impl DirSettings {
    fn merge(self, base: DirSettings) -> DirSettings {
        DirSettings {
            max_body: self.max_body.or(base.max_body),
            max_batch: self.max_batch.or(base.max_batch),
            prefer_json: self.prefer_json.or(base.prefer_json),
            page: self.page.or(base.page),
        }
    }
}

/// Per-directory configuration. Lives in a pool, so it holds only plain data; `None` means "not set
/// here" and is filled from the enclosing section when configurations merge.
#[derive(Clone, Copy)]
struct DirConfig {
    /// The innermost `<Location>` path with a mod_classify directive; texts in URL paths are read
    /// below it. `None` when the directives are elsewhere (`<Directory>`, server config,
    /// `<LocationMatch>`): then texts come from the query string or the body only.
    location: Option<NonNull<c_char>>,
    /// The section's model and name, owned by the `ServerState` of the virtual host whose
    /// configuration holds the section.
    section: Option<NonNull<ModelSection>>,
    settings: DirSettings,
}

/// The module's configuration for one request: the merged sections covering its URL.
pub(crate) struct Location<'a> {
    /// See `DirConfig::location`.
    pub(crate) path: Option<&'a str>,
    pub(crate) section: Option<&'a ModelSection>,
    pub(crate) settings: DirSettings,
}

impl Location<'_> {
    pub(crate) fn limits(&self) -> Limits {
        let defaults = Limits::default();
        Limits {
            max_body: self.settings.max_body.unwrap_or(defaults.max_body),
            max_batch: self.settings.max_batch.unwrap_or(defaults.max_batch),
            max_top: defaults.max_top,
        }
    }
}

/// The module's state for one virtual host in one configuration generation.
#[derive(Default)]
pub(crate) struct ServerState {
    /// Every section of this host's configuration with a mod_classify model directive, in
    /// configuration order. Boxes turned into pointers: `DirConfig`s point at them.
    sections: Vec<NonNull<ModelSection>>,
    /// The models the inference API serves by name (every host's, set by `post_config`).
    named: Vec<NamedModel>,
}

impl ServerState {
    pub(crate) fn sections_mut(&mut self) -> impl Iterator<Item = &mut ModelSection> {
        // SAFETY: each pointer is a Box this state owns (see `new_section`); `&mut self` makes
        // this the only access while the iterator lives (configuration runs on one thread).
        self.sections.iter_mut().map(|section| unsafe { section.as_mut() })
    }

    pub(crate) fn named(&self) -> &[NamedModel] {
        &self.named
    }

    pub(crate) fn set_named(&mut self, named: Vec<NamedModel>) {
        self.named = named;
    }

    fn new_section(&mut self) -> NonNull<ModelSection> {
        let section = NonNull::from(Box::leak(Box::new(ModelSection::default())));
        self.sections.push(section);
        section
    }
}

impl Drop for ServerState {
    fn drop(&mut self) {
        for section in self.sections.drain(..) {
            // SAFETY: made by Box::leak in new_section and freed only here, once.
            drop(unsafe { Box::from_raw(section.as_ptr()) });
        }
    }
}

/// What a directive's body may read and change: its section's settings and model, and paths
/// relative to `ServerRoot`.
pub(crate) struct Directive<'a> {
    cmd: &'a ffi::cmd_parms,
    config: &'a mut DirConfig,
}

impl Directive<'_> {
    pub(crate) fn settings(&mut self) -> &mut DirSettings {
        &mut self.config.settings
    }

    /// The model section of the configuration section being read, created on first use.
    pub(crate) fn section(&mut self) -> Result<&mut ModelSection, String> {
        let section = match self.config.section {
            Some(section) => section,
            None => {
                // SAFETY: cmd->server is the server being configured; its ServerState was made
                // by create_server_config in the configuration pool.
                let state = unsafe { server_state_mut(self.cmd.server) }
                    .ok_or("internal error (CLS00002): no server configuration")?;
                let section = state.new_section();
                self.config.section = Some(section);
                section
            }
        };
        // SAFETY: a Box owned by the ServerState, which lives as long as the configuration pool;
        // directives run one at a time, so this is the only reference.
        Ok(unsafe { &mut *section.as_ptr() })
    }

    /// `path` relative to `ServerRoot` unless absolute, as httpd resolves file directives.
    pub(crate) fn server_relative(&self, path: &str) -> PathBuf {
        let Ok(c_path) = CString::new(path) else {
            return PathBuf::from(path);
        };
        // SAFETY: ap_server_root_relative returns a pool string (or null for an invalid path).
        let resolved = unsafe { ffi::ap_server_root_relative(self.cmd.pool, c_path.as_ptr()) };
        match str_field(resolved) {
            Some(resolved) => PathBuf::from(resolved),
            None => PathBuf::from(path),
        }
    }

    /// The path of the `<Location>` section the directive is in, if it is in one (a pool string
    /// that lives as long as the configuration).
    fn enclosing_location(&self) -> Option<NonNull<c_char>> {
        // SAFETY: while a directive runs, cmd->directive is its node in the parsed configuration
        // tree and its parent (if any) is the enclosing section; both live in the configuration
        // pool.
        let section = unsafe { self.cmd.directive.as_ref()?.parent.as_ref()? };
        // SAFETY: section names are NUL-terminated strings in the configuration pool.
        let name = unsafe { CStr::from_ptr(section.directive) };
        if name.to_bytes().eq_ignore_ascii_case(b"<Location") {
            NonNull::new(self.cmd.path)
        } else {
            None
        }
    }
}

/// The module's merged configuration in a request's config vector.
///
/// # Safety
/// `per_dir_config` must be a live request's config vector, whose slot for this module holds a
/// DirConfig made by create_dir_config/merge_dir_config (or null).
pub(super) unsafe fn location<'a>(
    per_dir_config: *mut ffi::ap_conf_vector_t,
) -> Option<Location<'a>> {
    // ap_get_module_config is a macro in C; httpd also exports it as a function.
    // SAFETY: the caller's contract.
    let config =
        unsafe { ffi::ap_get_module_config(per_dir_config, module_record()) } as *const DirConfig;
    // SAFETY: pool memory that outlives the request (see above).
    let config = unsafe { config.as_ref()? };
    Some(Location {
        // SAFETY: section paths are NUL-terminated strings in the configuration pool.
        path: config.location.and_then(|p| unsafe { CStr::from_ptr(p.as_ptr()) }.to_str().ok()),
        // SAFETY: a Box owned by a ServerState of the configuration generation serving the
        // request; only read once configuration is over.
        section: config.section.map(|section| unsafe { &*section.as_ptr() }),
        settings: config.settings,
    })
}

/// The ServerState of `server`.
///
/// # Safety
/// `server` must be null or a live server_rec whose module config was made by this module's
/// create_server_config; the state must not be changed while the reference lives.
pub(super) unsafe fn server_state<'a>(server: *const ffi::server_rec) -> Option<&'a ServerState> {
    // SAFETY: the caller's contract.
    unsafe { (server_state_mut(server as *mut _)).map(|state| &*state) }
}

/// # Safety
/// As [`server_state`], and no other reference to the state may live meanwhile.
pub(super) unsafe fn server_state_mut<'a>(
    server: *mut ffi::server_rec,
) -> Option<&'a mut ServerState> {
    // SAFETY: the caller's contract: a live server_rec.
    let server = unsafe { server.as_ref()? };
    // SAFETY: this module's slot holds a ServerState made by create_server_config (or null).
    let state = unsafe { ffi::ap_get_module_config(server.module_config, module_record()) }
        as *mut ServerState;
    // SAFETY: see above.
    unsafe { state.as_mut() }
}

/// Every server (the main one, then each virtual host) of the configuration that `main` heads.
pub(super) fn servers(main: *mut ffi::server_rec) -> impl Iterator<Item = *mut ffi::server_rec> {
    std::iter::successors(NonNull::new(main), |server| {
        // SAFETY: httpd links the servers of one configuration through `next`, ending in null.
        NonNull::new(unsafe { server.as_ref() }.next)
    })
    .map(NonNull::as_ptr)
}

pub(super) unsafe extern "C" fn create_dir_config(
    pool: *mut ffi::apr_pool_t,
    _dir: *mut c_char,
) -> *mut c_void {
    let config = DirConfig { location: None, section: None, settings: DirSettings::default() };
    let created = guard::catch(|| {
        // SAFETY: `pool` is a live pool.
        unsafe { pool_alloc(pool, config) }
    });
    created.unwrap_or(ptr::null_mut())
}

pub(super) unsafe extern "C" fn merge_dir_config(
    pool: *mut ffi::apr_pool_t,
    base: *mut c_void,
    new: *mut c_void,
) -> *mut c_void {
    let merged = guard::catch(|| {
        // SAFETY: httpd passes two configs this module created with create_dir_config.
        let (base, new) = unsafe { (*(base as *const DirConfig), *(new as *const DirConfig)) };
        // A section with only ClassifyModelName does not hide the model of an enclosing one.
        // SAFETY: sections are Boxes owned by a ServerState of this configuration generation.
        let has_model = |section: NonNull<ModelSection>| unsafe { section.as_ref() }.has_model();
        let config = DirConfig {
            location: new.location.or(base.location),
            section: new.section.filter(|&s| has_model(s)).or(base.section).or(new.section),
            settings: new.settings.merge(base.settings),
        };
        // SAFETY: `pool` is a live pool.
        unsafe { pool_alloc(pool, config) }
    });
    merged.unwrap_or(new)
}

pub(super) unsafe extern "C" fn create_server_config(
    pool: *mut ffi::apr_pool_t,
    _server: *mut ffi::server_rec,
) -> *mut c_void {
    let created = guard::catch(|| {
        let state = Box::into_raw(Box::<ServerState>::default());
        // The configuration pool owns the state: it is dropped when this generation ends.
        // SAFETY: `pool` is the live configuration pool; `state` stays valid until the cleanup,
        // which runs once and frees it.
        unsafe {
            ffi::apr_pool_cleanup_register(
                pool,
                state as *const c_void,
                Some(drop_server_state),
                Some(ffi::apr_pool_cleanup_null),
            );
        }
        state as *mut c_void
    });
    created.unwrap_or(ptr::null_mut())
}

unsafe extern "C" fn drop_server_state(data: *mut c_void) -> ffi::apr_status_t {
    guard::unit("server configuration cleanup", || {
        // SAFETY: `data` is the Box::into_raw pointer registered in create_server_config, and
        // the pool runs this cleanup exactly once.
        drop(unsafe { Box::from_raw(data as *mut ServerState) });
    });
    ffi::APR_SUCCESS as ffi::apr_status_t
}

/// Copies plain data into pool memory.
///
/// # Safety
/// `pool` must be a live pool.
unsafe fn pool_alloc<T: Copy>(pool: *mut ffi::apr_pool_t, value: T) -> *mut c_void {
    // SAFETY: APR aligns allocations to 8 bytes, enough for the plain data stored here, which is
    // written in place before anyone reads it.
    unsafe {
        let memory = ffi::apr_palloc(pool, std::mem::size_of::<T>() as ffi::apr_size_t) as *mut T;
        memory.write(value);
        memory as *mut c_void
    }
}

/// Runs a directive body; a returned error or a panic becomes the directive's error string,
/// which httpd prints as "Syntax error on line N of FILE: ...".
///
/// # Safety
/// httpd's arguments to a TAKE1 directive handler: its cmd_parms, this module's DirConfig for the
/// section being read, and a NUL-terminated argument.
unsafe fn directive(
    cmd: *mut ffi::cmd_parms,
    config: *mut c_void,
    arg: *const c_char,
    body: fn(&mut Directive<'_>, &str) -> Result<(), String>,
) -> *const c_char {
    let outcome = guard::catch(|| {
        // SAFETY: the caller's contract; all valid for the duration of the call.
        let (cmd, config, arg) =
            unsafe { (&*cmd, &mut *(config as *mut DirConfig), CStr::from_ptr(arg)) };
        let arg = arg.to_str().map_err(|_| "argument is not valid UTF-8".to_owned())?;
        let mut directive = Directive { cmd, config };
        if let Some(location) = directive.enclosing_location() {
            directive.config.location = Some(location);
        }
        body(&mut directive, arg)
    });
    let message = match outcome {
        Ok(Ok(())) => return ptr::null(),
        Ok(Err(message)) => message,
        Err(panic) => format!("internal error (CLS00002): {panic}"),
    };
    let c_message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: the error string must outlive this call: apr_pstrdup copies it into the command's
    // pool.
    unsafe { ffi::apr_pstrdup((*cmd).pool, c_message.as_ptr()) }
}

/// The directive table, terminated by an all-null entry as httpd expects.
pub(super) struct CommandTable<const N: usize>(pub(super) [ffi::command_rec; N]);

// SAFETY: the table is immutable and only read by httpd; its raw pointers point to 'static data.
unsafe impl<const N: usize> Sync for CommandTable<N> {}

/// Where the directives may appear: server config, virtual hosts, `<Location>`, `<Directory>`.
const WHERE: c_int = (ffi::RSRC_CONF | ffi::ACCESS_CONF) as c_int;

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

const END_OF_TABLE: ffi::command_rec = ffi::command_rec {
    name: ptr::null(),
    func: ffi::cmd_func { take1: None },
    cmd_data: ptr::null_mut(),
    req_override: 0,
    args_how: 0,
    errmsg: ptr::null(),
};

/// Defines each one-argument directive's entry point (through `directive`, so none can skip the
/// guard) and the table httpd reads them from.
macro_rules! take1_directives {
    ($($entry:ident: $name:literal => $body:path, $help:literal;)*) => {
        $(
            unsafe extern "C" fn $entry(
                cmd: *mut ffi::cmd_parms,
                config: *mut c_void,
                arg: *const c_char,
            ) -> *const c_char {
                // SAFETY: httpd calls directive handlers with its cmd_parms, this module's
                // config for the section being read and a NUL-terminated argument.
                unsafe { directive(cmd, config, arg, $body) }
            }
        )*
        pub(super) static COMMANDS: CommandTable<{ 1 $(+ { stringify!($entry); 1 })* }> =
            CommandTable([$(take1($name, $entry, $help),)* END_OF_TABLE]);
    };
}

take1_directives! {
    classify_model: c"ClassifyModel" => crate::directives::model,
        c"Path of the mod_classify model file this location serves (checked at config time)";
    classify_max_body_size: c"ClassifyMaxBodySize" => crate::directives::max_body_size,
        c"Largest request body accepted, in bytes (default 1048576)";
    classify_max_batch: c"ClassifyMaxBatch" => crate::directives::max_batch,
        c"Most texts in one JSON batch (default 1000)";
    classify_model_name: c"ClassifyModelName" => crate::directives::model_name,
        c"Name of this location's model in metrics and the inference API (default: file stem)";
    classify_default_format: c"ClassifyDefaultFormat" => crate::directives::default_format,
        c"Answer format when the client does not ask for JSON: text (the label) or json";
    classify_page: c"ClassifyPage" => crate::directives::page,
        c"On: a browser's GET of the location answers a page to try the model (default Off)";
}
