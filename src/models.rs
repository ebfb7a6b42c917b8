//! The models the configuration passes have loaded. Each distinct model file (same device, inode,
//! size and modification time) is loaded once however many `<Location>`s name it; every location
//! shares the one `Arc`. The configuration owns those `Arc`s (each section's `ModelSection` lives
//! in its virtual host's state in the configuration pool), and the models of the running
//! generation are also retained here until the next generation's `post_config` replaces them:
//! httpd clears the old configuration before it reads the new one. So a graceful restart keeps a
//! model whose file did not change (no reload, logged as kept), loads any replaced file afresh,
//! and frees what no longer appears. The registry itself holds only weak references. No Apache
//! types here: this is safe Rust.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use classify_core::Model;
use classify_serve::protocol::ModelSource;

/// A model loaded for a configuration generation, with where it came from.
pub(crate) struct LoadedModel {
    pub(crate) model: Model,
    pub(crate) source: ModelSource,
}

/// What one configuration section says about its model: `ClassifyModel` and
/// `ClassifyModelName`, and what `post_config` derived from them.
#[derive(Default)]
pub(crate) struct ModelSection {
    pub(crate) model: Option<Arc<LoadedModel>>,
    /// `ClassifyModelName`.
    pub(crate) name: Option<String>,
    /// How long `ClassifyModel` took to load the file, if this section loaded it (rather than
    /// sharing a model already loaded).
    pub(crate) load_seconds: Option<f64>,
    /// The shared-memory counter slot of the model's name (given by `post_config`).
    pub(crate) metrics_slot: Option<usize>,
}

impl ModelSection {
    pub(crate) fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// The model's name: `ClassifyModelName`, or the model file's stem.
    pub(crate) fn model_name(&self) -> Option<String> {
        if let Some(name) = &self.name {
            return Some(name.clone());
        }
        let path = Path::new(&self.model.as_ref()?.source.path);
        let stem = path.file_name()?.to_string_lossy();
        // "sections.model.json" and "sections.model" are both named "sections".
        Some(stem.split('.').next().unwrap_or(&stem).to_owned())
    }
}

/// Identifies one version of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileKey {
    device: u64,
    inode: u64,
    size: u64,
    modified_ns: i128,
}

impl FileKey {
    fn of(path: &Path) -> Option<FileKey> {
        let metadata = std::fs::metadata(path).ok()?;
        let modified_ns =
            i128::from(metadata.mtime()) * 1_000_000_000 + i128::from(metadata.mtime_nsec());
        Some(FileKey {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.size(),
            modified_ns,
        })
    }
}

struct Registry {
    loaded: Vec<(FileKey, Weak<LoadedModel>)>,
    /// Log lines for models loaded or kept in the pass in progress, written by `post_config`
    /// once the server's error log is open.
    announcements: Vec<String>,
    /// Files already announced in the pass in progress.
    announced: Vec<FileKey>,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { loaded: Vec::new(), announcements: Vec::new(), announced: Vec::new() });

/// Loads (or shares, if this pass already loaded the same file) the model at `path`; says whether
/// it was loaded now. The error is the directive's message, without the directive name.
pub(crate) fn load(path: &Path) -> Result<(Arc<LoadedModel>, bool), String> {
    let key = FileKey::of(path);
    let mut registry =
        REGISTRY.lock().map_err(|_| "model registry poisoned by an earlier panic")?;
    registry.loaded.retain(|(_, model)| model.strong_count() > 0);
    if let Some(key) = &key {
        let shared = registry.loaded.iter().find(|(k, _)| k == key).and_then(|(_, m)| m.upgrade());
        if let Some(shared) = shared {
            if !registry.announced.contains(key) {
                // Loaded by an earlier generation and unchanged since.
                registry.announced.push(key.clone());
                registry.announcements.push(format!(
                    "CLS00006: kept model {}: unchanged since it was loaded, checksum {:016x}",
                    shared.source.path,
                    shared.model.checksum()
                ));
            }
            return Ok((shared, false));
        }
    }
    let started = Instant::now();
    let model = Model::load(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let loaded_at_unix = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let path_text = path.display().to_string();
    // A nearest-neighbour model holds its training rows: say how much memory they take.
    let rows = model.classifier().as_neighbors().map(|n| format!(", {}", n.memory()));
    registry.announcements.push(format!(
        "CLS00003: loaded model {path_text}: {} ({} classes, {} features{}) in {load_ms:.1} ms, \
         checksum {:016x}",
        model.estimator(),
        model.classes().len(),
        model.n_features(),
        rows.unwrap_or_default(),
        model.checksum()
    ));
    let loaded = Arc::new(LoadedModel {
        model,
        source: ModelSource { path: path_text, loaded_at_unix, load_ms },
    });
    if let Some(key) = key {
        registry.announced.push(key.clone());
        registry.loaded.push((key, Arc::downgrade(&loaded)));
    }
    Ok((loaded, true))
}

/// Takes the log lines of the models loaded or kept since the last call (one configuration pass).
pub(crate) fn take_announcements() -> Vec<String> {
    REGISTRY
        .lock()
        .map(|mut registry| {
            registry.announced.clear();
            std::mem::take(&mut registry.announcements)
        })
        .unwrap_or_default()
}

/// A model as the inference API names it, with its metrics slot.
#[derive(Clone)]
pub(crate) struct NamedModel {
    pub(crate) name: String,
    pub(crate) model: Arc<LoadedModel>,
    pub(crate) metrics_slot: Option<usize>,
}

/// The models of the running configuration generation (see the top of this file).
static RETAINED: Mutex<Vec<Arc<LoadedModel>>> = Mutex::new(Vec::new());

/// Keeps `models` loaded until the next generation calls this (dropping the previous ones).
pub(crate) fn retain_until_next_generation(models: Vec<Arc<LoadedModel>>) {
    let previous = match RETAINED.lock() {
        Ok(mut retained) => std::mem::replace(&mut *retained, models),
        Err(_) => Vec::new(),
    };
    // Dropped outside the lock: freeing a large model takes a while.
    drop(previous);
}
