//! The binary form of model format v1: the same content as the JSON form, laid out so that loading
//! is a bounds check, a checksum and a few bulk copies, with no per-feature parsing. `classify
//! convert` writes it; `Model::load` reads either form. Layout (all integers little-endian):
//!
//! ```text
//! header   0  magic "MCLSMODL"
//!          8  u32 format version (1)
//!         12  u32 number of sections
//!         16  u64 XXH3-64 of every byte after the header
//!         24  u64 total file length
//! table   32  per section: [u8; 4] tag, u32 reserved (0), u64 offset, u64 length
//! sections, each at an 8-byte aligned offset:
//!   META  JSON: the JSON form without vocabulary, tfidf.idf, classifier.coef,
//!         classifier.support_vectors' arrays and classifier.dual_coef
//!   VTXT  vocabulary terms' UTF-8 bytes, concatenated in feature-index order  (count only)
//!   VEND  u32 per term: byte offset in VTXT where the term ends                (count only)
//!   WIXP  u64 × 4: stored index layout, min_n, max_n, number of tokens        (word analyzer)
//!   WTOK  u64 × 4 per token table slot                                        (word analyzer)
//!   WLTX  the tokens longer than 16 bytes, joined by spaces                   (word analyzer)
//!   WLID  u32 per long token: its token id                                    (word analyzer)
//!   WUNI  u32 per token id: the feature of the one-token term, or u32::MAX    (word analyzer)
//!   WPAR  u64 × 2 per pair table entry: key, value                            (word analyzer)
//!   IDF_  f64 per feature                                                     (when use_idf)
//!   COEF  f64 weights, feature-major: weight of feature f in row r at f * rows + r  (linear)
//!   SVPT  u64 per support vector + 1: CSR indptr of support_vectors           (svc, svr)
//!   SVIX  u32 per stored value: CSR feature indices                           (svc, svr)
//!   SVVL  f64 per stored value: CSR values                                    (svc, svr)
//!   DUAL  f64 dual_coef, row-major: (classes - 1) rows of one per support vector (svc), or
//!         the one row (svr)
//! ```
//!
//! The W*** sections are the word analyzer's index of the vocabulary (`WordIndex`), as built
//! in memory: reading them is a few bulk copies and a range check of every entry, where
//! building it takes longer than reading the rest of a large model. An index stored under
//! another layout than this build's (`word_index::STORED_LAYOUT`), or a file without these
//! sections, has its index built from the vocabulary instead.
//!
//! The small per-pair arrays of a kernel SVM (intercept, prob_a, prob_b) and n_support, and a
//! kernel regressor's intercept, stay in META: JSON floats round-trip bit-exactly (serde_json's
//! `float_roundtrip`).

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::ops::DerefMut;
use std::path::PathBuf;

use xxhash_rust::xxh3::Xxh3;

use crate::error::ModelError;
use crate::featurize::token_table::{Slot, TokenTable};
use crate::featurize::vocabulary::Vocabulary;
use crate::featurize::word_index::{self, PairEntry, WordIndex};
use crate::featurize::{Featurizer, FittedArrays};
use crate::large_array::LargeArray;
use crate::model::feature_chain::FeatureChain;
use crate::model::format::{
    AnalyzerKind, ClassifierSpec, CsrSpec, ModelFile, VectorizerKind, FORMAT_VERSION,
    OLDEST_FORMAT_VERSION,
};
use crate::model::kernel::SupportVectors;
use crate::model::linear::{LinearClassifier, Shape};
use crate::model::multi_label::MultiLabel;
use crate::model::{kernel_classifier, kernel_regressor, Classifier, Model};

/// The first bytes of every binary model file.
pub(crate) const MAGIC: &[u8; 8] = b"MCLSMODL";
const HEADER_LEN: usize = 32;
const ENTRY_LEN: usize = 24;
const MAX_SECTIONS: usize = 64;
/// The binary layout's version (the header's). The META section's own `format_version` says
/// which model format version its settings follow.
const LAYOUT_VERSION: u64 = 1;

/// Whether `bytes` start like a binary model file.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Serializes a model into the binary form.
pub fn write(model: &Model) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a vector cannot fail.
    let _ = write_to(model, &mut bytes);
    bytes
}

/// Writes a model's binary form to `out`; returns the number of bytes written. The large arrays
/// (weights, vocabulary index, support vectors) are written from where the model keeps them, not
/// copied first, so writing costs little memory beyond the model itself.
pub fn write_to(model: &Model, out: &mut impl Write) -> io::Result<u64> {
    let mut sections: Vec<([u8; 4], Cow<'_, [u8]>)> = Vec::new();
    let settings = model.meta_settings();
    let meta = serde_json::to_vec(&settings).unwrap_or_default();
    sections.push((*b"META", Cow::Owned(meta)));
    if let Some(vocabulary) = model.featurizer().vocabulary() {
        let (text, ends) = vocabulary.parts();
        sections.push((*b"VTXT", Cow::Borrowed(text)));
        sections.push((*b"VEND", le_bytes(ends)));
    }
    if let Some(index) = model.featurizer().word_index() {
        let (min_n, max_n) = index.ngram_range();
        let tokens = index.tokens();
        let params = [word_index::STORED_LAYOUT, min_n as u64, max_n as u64, tokens.len() as u64];
        sections.push((*b"WIXP", Cow::Owned(le_bytes(&params).into_owned())));
        sections.push((*b"WTOK", le_bytes(tokens.inline_slots().as_flattened())));
        let (long_tokens, long_ids): (Vec<&[u8]>, Vec<u32>) = tokens.long_tokens().unzip();
        sections.push((*b"WLTX", Cow::Owned(long_tokens.join(&b' '))));
        sections.push((*b"WLID", Cow::Owned(le_bytes(&long_ids).into_owned())));
        sections.push((*b"WUNI", le_bytes(index.unigram_features())));
        sections.push((*b"WPAR", le_bytes(index.pair_entries().as_flattened())));
    }
    if let Some(idf) = model.featurizer().idf() {
        sections.push((*b"IDF_", le_bytes(idf)));
    }
    match model.classifier() {
        Classifier::Linear(linear) => sections.push((*b"COEF", le_bytes(linear.weights()))),
        // A multi-label model's stacked members: one row per label.
        Classifier::MultiLabel(multi) => {
            if let Some(stacked) = multi.stacked() {
                sections.push((*b"COEF", le_bytes(stacked.weights())));
            }
        }
        // Wrappers keep their arrays in META.
        Classifier::Kernel(kernel) if matches!(settings.classifier, ClassifierSpec::Svc { .. }) => {
            let parts = kernel.parts();
            push_kernel_sections(&mut sections, &parts.support_vectors, &parts.dual_coef);
        }
        Classifier::KernelRegression(regressor) => {
            push_kernel_sections(&mut sections, regressor.support_vectors(), regressor.dual_coef());
        }
        _ => {}
    }
    write_sections(&sections, out)
}

/// A kernel model's SVPT, SVIX, SVVL and DUAL sections.
fn push_kernel_sections(
    sections: &mut Vec<([u8; 4], Cow<'_, [u8]>)>,
    support_vectors: &SupportVectors,
    dual_coef: &[f64],
) {
    // The support vectors are the caller's temporaries: owned copies (they are small).
    sections.push((*b"SVPT", Cow::Owned(le_bytes(&support_vectors.indptr).into_owned())));
    sections.push((*b"SVIX", Cow::Owned(le_bytes(&support_vectors.indices).into_owned())));
    sections.push((*b"SVVL", Cow::Owned(le_bytes(&support_vectors.data).into_owned())));
    sections.push((*b"DUAL", Cow::Owned(le_bytes(dual_coef).into_owned())));
}

/// Lays sections out as a binary model file: header, table, then each section 8-byte aligned.
/// The header's checksum covers everything after it: it is computed in a first pass over the
/// sections, which are then written in a second.
fn write_sections(sections: &[([u8; 4], Cow<'_, [u8]>)], out: &mut impl Write) -> io::Result<u64> {
    let table_end = HEADER_LEN + ENTRY_LEN * sections.len();
    let mut offset = align8(table_end);
    let mut table = Vec::with_capacity(ENTRY_LEN * sections.len());
    let mut placed = Vec::with_capacity(sections.len());
    for (tag, content) in sections {
        table.extend_from_slice(tag);
        table.extend_from_slice(&0u32.to_le_bytes());
        table.extend_from_slice(&(offset as u64).to_le_bytes());
        table.extend_from_slice(&(content.len() as u64).to_le_bytes());
        placed.push(offset);
        offset = align8(offset + content.len());
    }
    // Zero padding before each section (and after the table) up to its offset.
    let padding = |position: usize, section: usize| placed[section] - position;
    let total = sections.last().map_or(table_end, |(_, c)| placed[sections.len() - 1] + c.len());
    const ZEROS: [u8; 8] = [0; 8];
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(&table);
    let mut position = table_end;
    for (index, (_, content)) in sections.iter().enumerate() {
        hasher.update(&ZEROS[..padding(position, index)]);
        hasher.update(content);
        position = placed[index] + content.len();
    }
    out.write_all(MAGIC)?;
    out.write_all(&(LAYOUT_VERSION as u32).to_le_bytes())?;
    out.write_all(&(sections.len() as u32).to_le_bytes())?;
    out.write_all(&hasher.digest().to_le_bytes())?;
    out.write_all(&(total as u64).to_le_bytes())?;
    out.write_all(&table)?;
    let mut position = table_end;
    for (index, (_, content)) in sections.iter().enumerate() {
        out.write_all(&ZEROS[..padding(position, index)])?;
        out.write_all(content)?;
        position = placed[index] + content.len();
    }
    Ok(total as u64)
}

/// Where a loaded model's word index came from (`classify inspect` says it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordIndexOrigin {
    /// Read from the file's WIXP…WPAR sections, stored under this layout.
    Stored { layout: u64 },
    /// Built from the vocabulary while loading: a JSON file, or a binary one without a stored
    /// index or with one under another layout (see `read_from` and `take_stored_index`).
    Built,
}

impl std::fmt::Display for WordIndexOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WordIndexOrigin::Stored { layout } => write!(f, "stored (layout {layout})"),
            WordIndexOrigin::Built => f.write_str("built at load"),
        }
    }
}

/// Where the word index of `model`, loaded from the file `source`, came from; `None` when the
/// model has none (no count vectorizer with the word analyzer). The loader reads a stored index
/// when the file has both WIXP and WPAR, WIXP names this build's layout, and its n-gram range
/// is the vectorizer's; this reads the section table and WIXP again to tell.
pub fn word_index_origin(
    mut source: impl Read + std::io::Seek,
    model: &Model,
) -> io::Result<Option<WordIndexOrigin>> {
    let Some(index) = model.featurizer().word_index() else { return Ok(None) };
    let mut header = [0u8; HEADER_LEN];
    if source.read_exact(&mut header).is_err() || !is_binary(&header) {
        return Ok(Some(WordIndexOrigin::Built));
    }
    let count = (u32_at(&header, 12) as usize).min(MAX_SECTIONS);
    let mut table = vec![0u8; count * ENTRY_LEN];
    source.read_exact(&mut table)?;
    let section = |tag: &[u8; 4]| {
        let mut entries = table.chunks_exact(ENTRY_LEN);
        entries.find(|entry| &entry[..4] == tag).map(|entry| (u64_at(entry, 8), u64_at(entry, 16)))
    };
    let (Some((offset, 32)), Some(_)) = (section(b"WIXP"), section(b"WPAR")) else {
        return Ok(Some(WordIndexOrigin::Built));
    };
    source.seek(io::SeekFrom::Start(offset))?;
    let mut params = [0u8; 32];
    source.read_exact(&mut params)?;
    let layout = u64_at(&params, 0);
    let range = (u64_at(&params, 8) as usize, u64_at(&params, 16) as usize);
    Ok(Some(if layout == word_index::STORED_LAYOUT && range == index.ngram_range() {
        WordIndexOrigin::Stored { layout }
    } else {
        WordIndexOrigin::Built
    }))
}

/// Reads and validates a binary model file held in memory.
pub(crate) fn read(bytes: &[u8]) -> Result<Model, ModelError> {
    read_from(bytes, bytes.len() as u64)
}

/// Reads and validates a binary model file of `file_len` bytes from `source`. Each section is
/// read once, straight into the vector that keeps it, and checksummed on the way: loading needs
/// no copy of the whole file, so its peak memory is the model's own size.
pub(crate) fn read_from(mut source: impl Read, file_len: u64) -> Result<Model, ModelError> {
    let mut header = [0u8; HEADER_LEN];
    if file_len < HEADER_LEN as u64 {
        return Err(ModelError::NotAModel { reason: "binary header missing or truncated".into() });
    }
    source.read_exact(&mut header).map_err(io_error)?;
    if !is_binary(&header) {
        return Err(ModelError::NotAModel { reason: "binary header missing or truncated".into() });
    }
    let version = u64::from(u32_at(&header, 8));
    if version != LAYOUT_VERSION {
        return Err(ModelError::UnsupportedVersion { found: version, supported: LAYOUT_VERSION });
    }
    let section_count = u32_at(&header, 12) as usize;
    let checksum = u64_at(&header, 16);
    let declared_length = u64_at(&header, 24);
    if declared_length != file_len {
        return Err(ModelError::Syntax(format!(
            "binary model is {file_len} bytes but its header says {declared_length}: truncated or \
             appended to; re-run `classify convert`"
        )));
    }
    let table_len = section_count * ENTRY_LEN;
    if section_count > MAX_SECTIONS || (HEADER_LEN + table_len) as u64 > file_len {
        return Err(ModelError::Syntax(format!("section table of {section_count} entries")));
    }
    let mut table = vec![0u8; table_len];
    source.read_exact(&mut table).map_err(io_error)?;
    let mut stream = ChecksummedReader {
        source,
        hasher: Xxh3::new(),
        position: (HEADER_LEN + table_len) as u64,
    };
    stream.hasher.update(&table);

    let mut entries = Vec::with_capacity(section_count);
    for entry in table.chunks_exact(ENTRY_LEN) {
        let tag: [u8; 4] = [entry[0], entry[1], entry[2], entry[3]];
        let (offset, length) = (u64_at(entry, 8), u64_at(entry, 16));
        let name = String::from_utf8_lossy(&tag).into_owned();
        if offset.checked_add(length).is_none_or(|end| end > file_len) {
            return Err(ModelError::Syntax(format!(
                "section {name} ({length} bytes at {offset}) lies outside the file"
            )));
        }
        entries.push((offset, length, tag, name));
    }
    entries.sort_by_key(|&(offset, ..)| offset);
    // With the word index stored, the vocabulary's thread only builds the vocabulary.
    let index_stored = entries.iter().any(|(_, _, tag, _)| tag == b"WPAR");
    // The vocabulary, and the word index unless the file stores it, are built on a second
    // thread while the weights are still being read: on a million-term model without a stored
    // index the two take about as long as each other.
    std::thread::scope(|scope| {
        let mut sections = Sections::default();
        let mut seen: Vec<[u8; 4]> = Vec::new();
        let mut vocabulary_build = None;
        for (offset, length, tag, name) in entries {
            if offset < stream.position {
                return Err(ModelError::Syntax(format!(
                    "section {name} (at {offset}) overlaps the section table or another \
                     section; re-run `classify convert`"
                )));
            }
            if seen.contains(&tag) {
                return Err(ModelError::Syntax(format!("section {name} appears twice")));
            }
            seen.push(tag);
            stream.skip(offset - stream.position)?;
            let length = length as usize;
            let slot = match &tag {
                b"META" => Some(Section::Bytes(&mut sections.meta)),
                b"VTXT" => Some(Section::LargeBytes(&mut sections.terms)),
                b"VEND" => Some(Section::U32(&mut sections.term_ends)),
                b"WIXP" => Some(Section::U64(&mut sections.word_params)),
                b"WTOK" => Some(Section::TokenSlots(&mut sections.token_slots)),
                b"WLTX" => Some(Section::Bytes(&mut sections.long_tokens)),
                b"WLID" => Some(Section::U32(&mut sections.long_token_ids)),
                b"WUNI" => Some(Section::U32(&mut sections.unigram_features)),
                b"WPAR" => Some(Section::PairEntries(&mut sections.pair_entries)),
                b"IDF_" => Some(Section::F64(&mut sections.idf)),
                b"COEF" => Some(Section::LargeF64(&mut sections.coef)),
                b"SVPT" => Some(Section::U64(&mut sections.sv_indptr)),
                b"SVIX" => Some(Section::U32(&mut sections.sv_indices)),
                b"SVVL" => Some(Section::F64(&mut sections.sv_data)),
                b"DUAL" => Some(Section::F64(&mut sections.dual_coef)),
                // Sections this version does not know are skipped (and still checksummed).
                _ => None,
            };
            match slot {
                None => stream.skip(length as u64)?,
                Some(Section::Bytes(slot)) => stream.fill(slot, length, &name, zeroed_vec)?,
                Some(Section::U32(slot)) => stream.fill(slot, length, &name, zeroed_vec)?,
                Some(Section::U64(slot)) => stream.fill(slot, length, &name, zeroed_vec)?,
                Some(Section::F64(slot)) => stream.fill(slot, length, &name, zeroed_vec)?,
                Some(Section::LargeBytes(slot)) => {
                    stream.fill(slot, length, &name, LargeArray::zeroed)?
                }
                Some(Section::LargeF64(slot)) => {
                    stream.fill(slot, length, &name, LargeArray::zeroed)?
                }
                Some(Section::TokenSlots(slot)) => {
                    stream.fill(slot, length, &name, LargeArray::zeroed)?
                }
                Some(Section::PairEntries(slot)) => {
                    stream.fill(slot, length, &name, LargeArray::zeroed)?
                }
            }
            if sections.terms.is_some() && sections.term_ends.is_some() {
                let (text, ends) = (sections.terms.take(), sections.term_ends.take());
                let (text, ends) = (text.unwrap_or_default(), ends.unwrap_or_default());
                let word_ngrams = sections.meta.as_deref().and_then(word_ngram_range);
                let word_ngrams = word_ngrams.filter(|_| !index_stored);
                vocabulary_build = Some(VocabularyBuild::start(scope, text, ends, word_ngrams));
            }
        }
        stream.skip(file_len - stream.position)?;
        let built = vocabulary_build.map(VocabularyBuild::finish).transpose()?;
        let (vocabulary, mut word_index) =
            built.map_or((None, None), |(v, index)| (Some(v), index));
        if stream.hasher.digest() != checksum {
            return Err(ModelError::Syntax(
                "binary model checksum mismatch: the file is corrupted; re-run `classify convert`"
                    .into(),
            ));
        }
        // After the checksum: a corrupted file is reported as such, not as a bad entry.
        if let (None, Some(vocabulary)) = (&word_index, &vocabulary) {
            word_index = sections.take_stored_index(vocabulary.len())?;
        }
        sections.into_model(vocabulary, word_index, checksum)
    })
}

/// A vocabulary, and the word analyzer's index of it, built from its VTXT and VEND sections.
type BuiltVocabulary = (Vocabulary, Option<WordIndex>);

/// A vocabulary being built, on its own thread when one can be started.
enum VocabularyBuild<'scope> {
    Running(std::thread::ScopedJoinHandle<'scope, Result<BuiltVocabulary, ModelError>>),
    Done(Box<Result<BuiltVocabulary, ModelError>>),
}

impl<'scope> VocabularyBuild<'scope> {
    fn start<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        text: LargeArray<u8>,
        ends: Vec<u32>,
        word_ngrams: Option<(usize, usize)>,
    ) -> Self {
        let thread = std::thread::Builder::new().name("classify-vocabulary".into());
        // `spawn_scoped` hands the closure back only by running it, so the inputs wait in a
        // slot the closure empties; if no thread can be started they are still there.
        let inputs = std::sync::Arc::new(std::sync::Mutex::new(Some((text, ends))));
        let thread_inputs = std::sync::Arc::clone(&inputs);
        let spawned = thread.spawn_scoped(scope, move || {
            let taken = thread_inputs.lock().ok().and_then(|mut slot| slot.take());
            let (text, ends) = taken.unwrap_or_default();
            vocabulary_from_sections(text, ends, word_ngrams)
        });
        match spawned {
            Ok(handle) => VocabularyBuild::Running(handle),
            Err(_) => {
                let taken = inputs.lock().ok().and_then(|mut slot| slot.take());
                let (text, ends) = taken.unwrap_or_default();
                VocabularyBuild::Done(Box::new(vocabulary_from_sections(text, ends, word_ngrams)))
            }
        }
    }

    fn finish(self) -> Result<BuiltVocabulary, ModelError> {
        match self {
            // A panic while building is a bug: let it reach the caller's panic guard.
            VocabularyBuild::Running(handle) => {
                handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }
            VocabularyBuild::Done(result) => *result,
        }
    }
}

fn vocabulary_from_sections(
    text: LargeArray<u8>,
    ends: Vec<u32>,
    word_ngrams: Option<(usize, usize)>,
) -> Result<BuiltVocabulary, ModelError> {
    let vocabulary = Vocabulary::from_sections(text, ends)?;
    let word_index = match word_ngrams {
        Some((min_n, max_n)) if 1 <= min_n && min_n <= max_n => {
            Some(WordIndex::new(&vocabulary, min_n, max_n)?)
        }
        _ => None,
    };
    Ok((vocabulary, word_index))
}

/// The `ngram_range` of a count vectorizer with the word analyzer, read from the META section
/// ahead of the full parse, so that the word index is built on the vocabulary's thread while
/// the weights are read. Anything unexpected gives `None`: the full parse reports it, and the
/// featurizer builds the index itself if it has to.
fn word_ngram_range(meta: &[u8]) -> Option<(usize, usize)> {
    #[derive(serde::Deserialize)]
    struct Meta {
        vectorizer: Option<MetaVectorizer>,
        union: Option<MetaUnion>,
    }
    #[derive(serde::Deserialize)]
    struct MetaUnion {
        branches: Vec<MetaBranch>,
    }
    #[derive(serde::Deserialize)]
    struct MetaBranch {
        vectorizer: MetaVectorizer,
    }
    #[derive(serde::Deserialize)]
    struct MetaVectorizer {
        kind: VectorizerKind,
        analyzer: AnalyzerKind,
        ngram_range: [u32; 2],
    }
    let meta: Meta = serde_json::from_slice(meta).ok()?;
    let first_branch = || meta.union?.branches.into_iter().next().map(|branch| branch.vectorizer);
    let MetaVectorizer { kind, analyzer, ngram_range: [min_n, max_n] } =
        meta.vectorizer.or_else(first_branch)?;
    (kind == VectorizerKind::Count && analyzer == AnalyzerKind::Word)
        .then_some((min_n as usize, max_n as usize))
}

/// The arrays of a binary model file, each read into its own vector.
#[derive(Default)]
struct Sections {
    meta: Option<Vec<u8>>,
    terms: Option<LargeArray<u8>>,
    term_ends: Option<Vec<u32>>,
    idf: Option<Vec<f64>>,
    coef: Option<LargeArray<f64>>,
    sv_indptr: Option<Vec<u64>>,
    sv_indices: Option<Vec<u32>>,
    sv_data: Option<Vec<f64>>,
    dual_coef: Option<Vec<f64>>,
    word_params: Option<Vec<u64>>,
    token_slots: Option<LargeArray<Slot>>,
    long_tokens: Option<Vec<u8>>,
    long_token_ids: Option<Vec<u32>>,
    unigram_features: Option<Vec<u32>>,
    pair_entries: Option<LargeArray<PairEntry>>,
}

/// Where one section's values go.
enum Section<'a> {
    Bytes(&'a mut Option<Vec<u8>>),
    LargeBytes(&'a mut Option<LargeArray<u8>>),
    U32(&'a mut Option<Vec<u32>>),
    U64(&'a mut Option<Vec<u64>>),
    F64(&'a mut Option<Vec<f64>>),
    LargeF64(&'a mut Option<LargeArray<f64>>),
    TokenSlots(&'a mut Option<LargeArray<Slot>>),
    PairEntries(&'a mut Option<LargeArray<PairEntry>>),
}

fn required<T>(section: Option<T>, tag: &str) -> Result<T, ModelError> {
    section.ok_or_else(|| ModelError::Syntax(format!("section {tag} is missing")))
}

/// A kernel model's support vectors (SVPT, SVIX, SVVL) and dual coefficients (DUAL).
fn kernel_arrays(
    indptr: Option<Vec<u64>>,
    indices: Option<Vec<u32>>,
    data: Option<Vec<f64>>,
    dual_coef: Option<Vec<f64>>,
) -> Result<(SupportVectors, Vec<f64>), ModelError> {
    let support = SupportVectors {
        indptr: required(indptr, "SVPT")?,
        indices: required(indices, "SVIX")?,
        data: required(data, "SVVL")?,
    };
    Ok((support, required(dual_coef, "DUAL")?))
}

impl Sections {
    /// The word index stored in the W*** sections for a vocabulary of `n_features` terms, or
    /// `None` when there is none or it was stored under another layout (it is then built).
    fn take_stored_index(&mut self, n_features: usize) -> Result<Option<WordIndex>, ModelError> {
        let Some(params) = self.word_params.take() else { return Ok(None) };
        let [layout, min_n, max_n, token_count] = params[..] else {
            return Err(ModelError::invalid("WIXP", format!("{} values, not 4", params.len())));
        };
        if layout != word_index::STORED_LAYOUT {
            return Ok(None);
        }
        let slots = required(self.token_slots.take(), "WTOK")?;
        let long_text = required(self.long_tokens.take(), "WLTX")?;
        let long_ids = required(self.long_token_ids.take(), "WLID")?;
        let long_text = std::str::from_utf8(&long_text).map_err(|e| {
            ModelError::invalid("WLTX", format!("not UTF-8 at byte {}", e.valid_up_to()))
        })?;
        let long_tokens: Vec<&str> =
            if long_text.is_empty() { Vec::new() } else { long_text.split(' ').collect() };
        if long_tokens.len() != long_ids.len() {
            let (tokens, ids) = (long_tokens.len(), long_ids.len());
            return Err(ModelError::invalid("WLID", format!("{ids} ids for {tokens} long tokens")));
        }
        let long_tokens = long_tokens.into_iter().zip(long_ids).collect();
        let as_usize = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);
        let tokens =
            TokenTable::from_stored(slots, long_tokens, as_usize(token_count), "WTOK/WLTX/WLID")?;
        let index = WordIndex::from_stored(
            tokens,
            required(self.unigram_features.take(), "WUNI")?,
            required(self.pair_entries.take(), "WPAR")?,
            (as_usize(min_n), as_usize(max_n)),
            n_features,
            "WIXP/WUNI/WPAR",
        )?;
        Ok(Some(index))
    }

    fn into_model(
        self,
        vocabulary: Option<Vocabulary>,
        word_index: Option<WordIndex>,
        checksum: u64,
    ) -> Result<Model, ModelError> {
        let mut settings: ModelFile = serde_json::from_slice(&required(self.meta, "META")?)
            .map_err(|e| ModelError::Syntax(format!("META section: {e}")))?;
        if vocabulary.is_none() && (self.terms.is_some() || self.term_ends.is_some()) {
            return Err(ModelError::invalid("VTXT/VEND", "one of the pair is missing"));
        }

        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&settings.format_version) {
            return Err(ModelError::UnsupportedVersion {
                found: settings.format_version,
                supported: FORMAT_VERSION,
            });
        }
        // The META copy is authoritative for the primary vectorizer's settings only: drop any
        // arrays a writer left in it. A union's other branches keep theirs in META.
        let (vectorizer, tfidf) = settings
            .primary_mut()
            .ok_or_else(|| ModelError::invalid("vectorizer", "missing in META"))?;
        vectorizer.vocabulary = None;
        if let Some(tfidf) = tfidf {
            tfidf.idf = None;
        }
        let arrays = FittedArrays { vocabulary, idf: self.idf, word_index };
        let (vectorizer, tfidf) = settings
            .primary_mut()
            .ok_or_else(|| ModelError::invalid("vectorizer", "missing in META"))?;
        let featurizer = Featurizer::new(vectorizer, tfidf.as_deref(), arrays)?;
        let chain = FeatureChain::build(&mut settings, &featurizer)?;
        let n_features = chain.n_features();
        let classifier = match &mut settings.classifier {
            ClassifierSpec::Linear { classes, coef, intercept, probability, estimator } => {
                coef.clear();
                let weights = required(self.coef, "COEF")?;
                let n_classes = classes.len();
                let n_rows = intercept.len();
                let shape = Shape { n_rows, n_features, n_classes };
                Classifier::Linear(
                    LinearClassifier::from_feature_major(
                        weights,
                        intercept.clone(),
                        shape,
                        *probability,
                    )?
                    .with_estimator(estimator),
                )
            }
            ClassifierSpec::Svc { support_vectors, dual_coef, .. } => {
                *support_vectors = CsrSpec::default();
                dual_coef.clear();
                let (support, dual) =
                    kernel_arrays(self.sv_indptr, self.sv_indices, self.sv_data, self.dual_coef)?;
                Classifier::Kernel(kernel_classifier(
                    &settings.classifier,
                    support,
                    dual,
                    n_features,
                )?)
            }
            ClassifierSpec::Svr { support_vectors, dual_coef, .. } => {
                *support_vectors = CsrSpec::default();
                dual_coef.clear();
                let (support, dual) =
                    kernel_arrays(self.sv_indptr, self.sv_indices, self.sv_data, self.dual_coef)?;
                Classifier::KernelRegression(kernel_regressor(
                    &settings.classifier,
                    support,
                    dual,
                    n_features,
                )?)
            }
            ClassifierSpec::MultiLabel { .. } if self.coef.is_some() => {
                let weights = required(self.coef, "COEF")?;
                Classifier::MultiLabel(MultiLabel::from_stacked(
                    &settings.classifier,
                    weights,
                    n_features,
                )?)
            }
            spec => Classifier::nested(spec, n_features, chain.is_dense(), "classifier")?,
        };
        let mut model = Model::assemble(settings, featurizer, chain, classifier)?;
        model.checksum = checksum;
        Ok(model)
    }
}

/// Reads a file front to back, hashing every byte after the header.
struct ChecksummedReader<R> {
    source: R,
    hasher: Xxh3,
    position: u64,
}

impl<R: Read> ChecksummedReader<R> {
    /// Reads `length` bytes of section `name` as little-endian values into `slot`, in storage
    /// that `zeroed` makes for a given number of values.
    fn fill<T: FileValue, S: DerefMut<Target = [T]>>(
        &mut self,
        slot: &mut Option<S>,
        length: usize,
        name: &str,
        zeroed: fn(usize) -> S,
    ) -> Result<(), ModelError> {
        let width = size_of::<T>();
        if !length.is_multiple_of(width) {
            return Err(ModelError::invalid(
                name,
                format!("{length} bytes is not a whole number of {width}-byte values"),
            ));
        }
        let mut values = zeroed(length / width);
        let bytes = bytemuck::cast_slice_mut(&mut values);
        self.source.read_exact(bytes).map_err(io_error)?;
        self.hasher.update(bytes);
        self.position += length as u64;
        if cfg!(target_endian = "big") {
            values.iter_mut().for_each(|value| *value = value.little_endian_to_native());
        }
        *slot = Some(values);
        Ok(())
    }

    /// Reads and hashes `length` bytes that no section keeps (padding, unknown sections).
    fn skip(&mut self, mut length: u64) -> Result<(), ModelError> {
        let mut buffer = [0u8; 4096];
        while length > 0 {
            let chunk = &mut buffer[..length.min(4096) as usize];
            self.source.read_exact(chunk).map_err(io_error)?;
            self.hasher.update(chunk);
            length -= chunk.len() as u64;
            self.position += chunk.len() as u64;
        }
        Ok(())
    }
}

fn zeroed_vec<T: FileValue>(len: usize) -> Vec<T> {
    vec![T::zeroed(); len]
}

/// A value stored little-endian in a section.
trait FileValue: bytemuck::Pod {
    fn little_endian_to_native(self) -> Self;
}

impl FileValue for u8 {
    fn little_endian_to_native(self) -> Self {
        self
    }
}

impl FileValue for u32 {
    fn little_endian_to_native(self) -> Self {
        u32::from_le(self)
    }
}

impl FileValue for u64 {
    fn little_endian_to_native(self) -> Self {
        u64::from_le(self)
    }
}

impl<const N: usize> FileValue for [u64; N]
where
    [u64; N]: bytemuck::Pod,
{
    fn little_endian_to_native(self) -> Self {
        self.map(u64::from_le)
    }
}

impl FileValue for f64 {
    fn little_endian_to_native(self) -> Self {
        f64::from_bits(u64::from_le(self.to_bits()))
    }
}

/// Read errors carry no path here; `Model::load` adds it.
fn io_error(error: std::io::Error) -> ModelError {
    ModelError::Io { path: PathBuf::new(), error }
}

/// Values as the file stores them, little-endian: the values' own memory on a little-endian
/// machine (no copy), a converted copy elsewhere.
fn le_bytes<T: FileValue>(values: &[T]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytemuck::cast_slice(values))
    } else {
        // Swapping to native and swapping to little-endian are the same byte reversal.
        Cow::Owned(
            values
                .iter()
                .flat_map(|&v| bytemuck::bytes_of(&v.little_endian_to_native()).to_vec())
                .collect(),
        )
    }
}

fn align8(offset: usize) -> usize {
    offset.div_ceil(8) * 8
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"{
        "format": "mod_classify-model", "format_version": 1,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 2],
                       "lowercase": true, "vocabulary": ["good", "good phone", "bad", "phone"]},
        "tfidf": {"norm": "l2", "use_idf": true, "smooth_idf": true, "sublinear_tf": false,
                  "idf": [1.5, 2.0, 1.25, 1.0]},
        "classifier": {"kind": "linear", "estimator": "LogisticRegression",
                       "classes": ["neg", "pos", "meh"], "probability": "softmax",
                       "coef": [[1.0, 0.5, -2.0, 0.0], [0.1, 0.2, 0.3, 0.4], [-1, -2, -3, 0.5]],
                       "intercept": [-0.1, 0.2, 0.0]}
    }"#;

    #[test]
    fn binary_round_trip_predicts_identically() {
        let json = Model::from_json(TINY.as_bytes()).unwrap();
        let bytes = write(&json);
        let binary = Model::from_bytes(&bytes).unwrap();
        for text in ["good phone", "bad bad phone", "", "meh"] {
            assert_eq!(json.predict(text), binary.predict(text), "{text:?}");
        }
        assert_eq!(
            binary.to_file().vectorizer.unwrap().vocabulary,
            json.to_file().vectorizer.unwrap().vocabulary
        );
        // Writing again gives the same bytes: the form is canonical.
        assert_eq!(write(&binary), bytes);
    }

    const TINY_SVC: &str = r#"{
        "format": "mod_classify-model", "format_version": 1,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 1],
                       "lowercase": true, "vocabulary": ["good", "bad", "phone", "meh"]},
        "classifier": {"kind": "svc", "estimator": "SVC", "classes": ["neg", "pos", "meh"],
                       "kernel": "rbf", "gamma": 0.7, "coef0": 0.0, "degree": 3,
                       "decision_function_shape": "ovo", "break_ties": false, "n_support": [1, 2, 1],
                       "support_vectors": {"indptr": [0, 1, 3, 3, 5], "indices": [1, 0, 2, 2, 3],
                                           "data": [1.0, 1.0, 0.5, 2.0, 1.0]},
                       "dual_coef": [[-1.0, 0.5, 0.5, -0.25], [0.75, -1.0, 0.1, 1.0]],
                       "intercept": [0.1, -0.2, 0.3],
                       "prob_a": [-2.0, -1.5, -3.0], "prob_b": [0.1, 0.0, -0.2]}
    }"#;

    #[test]
    fn svc_binary_round_trip_predicts_identically() {
        let json = Model::from_json(TINY_SVC.as_bytes()).unwrap();
        let bytes = write(&json);
        let binary = Model::from_bytes(&bytes).unwrap();
        for text in ["good phone", "bad bad phone", "", "meh meh", "unknown"] {
            let prediction = json.predict(text);
            assert_eq!(prediction.scores.len(), 3);
            assert!(prediction.probabilities.is_some());
            assert_eq!(prediction, binary.predict(text), "{text:?}");
        }
        let back = serde_json::to_value(binary.to_file()).unwrap();
        let original: serde_json::Value = serde_json::from_str(TINY_SVC).unwrap();
        assert_eq!(back["classifier"], original["classifier"]);
        assert_eq!(write(&binary), bytes);
    }

    const TINY_SVR: &str = r#"{
        "format": "mod_classify-model", "format_version": 2,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 1],
                       "lowercase": true, "vocabulary": ["good", "bad", "phone", "meh"]},
        "classifier": {"kind": "svr", "estimator": "NuSVR", "kernel": "poly", "gamma": 0.7,
                       "coef0": 0.5, "degree": 3,
                       "support_vectors": {"indptr": [0, 1, 3, 3], "indices": [1, 0, 2],
                                           "data": [1.0, 1.0, 0.5]},
                       "dual_coef": [-1.0, 0.75, 0.125], "intercept": 2.5}
    }"#;

    #[test]
    fn svr_binary_round_trip_answers_identically() {
        let json = Model::from_json(TINY_SVR.as_bytes()).unwrap();
        assert_eq!(json.task(), crate::Task::Regression);
        assert!(json.classes().is_empty() && !json.has_probabilities());
        let bytes = write(&json);
        let binary = Model::from_bytes(&bytes).unwrap();
        for text in ["good phone", "bad bad phone", "", "meh meh", "unknown"] {
            let prediction = json.predict(text);
            assert_eq!(prediction.scores.len(), 1);
            assert_eq!(json.answer(&prediction), crate::Answer::Value(prediction.scores[0]));
            assert_eq!(prediction, binary.predict(text), "{text:?}");
        }
        // "bad": K = (0.7 x·sv + 0.5)³ = 1.2³, 0.5³ and 0.5³ (the empty third vector).
        let cube = |v: f64| v * v * v;
        let expected = -cube(1.2) + 0.75 * cube(0.5) + 0.125 * cube(0.5) + 2.5;
        assert_eq!(json.predict("bad").scores, vec![expected]);
        let back = serde_json::to_value(binary.to_file()).unwrap();
        let original: serde_json::Value = serde_json::from_str(TINY_SVR).unwrap();
        assert_eq!(back["classifier"], original["classifier"]);
        assert_eq!(write(&binary), bytes);
        // The arrays live in their sections, not in META.
        let meta = &sections_of(&bytes)[0];
        assert_eq!(&meta.0, b"META");
        assert!(!String::from_utf8_lossy(&meta.1).contains("0.125"));
        let without_dual: FileSections =
            sections_of(&bytes).into_iter().filter(|(tag, _)| tag != b"DUAL").collect();
        let err = Model::from_bytes(&file_from_sections(&without_dual)).unwrap_err();
        assert!(err.to_string().contains("section DUAL is missing"), "{err}");
    }

    #[test]
    fn corruption_is_caught_by_the_checksum() {
        let mut bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }

    #[test]
    fn truncation_names_both_lengths() {
        let bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        let err = Model::from_bytes(&bytes[..bytes.len() - 8]).unwrap_err();
        assert!(err.to_string().contains("header says"), "{err}");
        assert!(Model::from_bytes(&bytes[..20]).is_err());
    }

    /// A file's sections: tag and content.
    type FileSections = Vec<([u8; 4], Vec<u8>)>;

    /// A file of exactly these sections, laid out as `write` lays them out.
    fn file_from_sections(sections: &[([u8; 4], Vec<u8>)]) -> Vec<u8> {
        let borrowed: Vec<([u8; 4], Cow<'_, [u8]>)> = sections
            .iter()
            .map(|(tag, content)| (*tag, Cow::Borrowed(content.as_slice())))
            .collect();
        let mut file = Vec::new();
        write_sections(&borrowed, &mut file).expect("writing into a vector");
        file
    }

    /// The sections of a file `write` made, for files built by hand.
    fn sections_of(bytes: &[u8]) -> FileSections {
        let count = u32_at(bytes, 12) as usize;
        (0..count)
            .map(|index| {
                let entry = HEADER_LEN + index * ENTRY_LEN;
                let (offset, length) =
                    (u64_at(bytes, entry + 8) as usize, u64_at(bytes, entry + 16) as usize);
                let tag = [bytes[entry], bytes[entry + 1], bytes[entry + 2], bytes[entry + 3]];
                (tag, bytes[offset..offset + length].to_vec())
            })
            .collect()
    }

    fn tiny_sections() -> FileSections {
        sections_of(&write(&Model::from_json(TINY.as_bytes()).unwrap()))
    }

    #[test]
    fn unknown_sections_are_skipped_and_repeated_ones_refused() {
        let mut sections = tiny_sections();
        sections.insert(1, (*b"XTRA", vec![7; 13]));
        let model = Model::from_bytes(&file_from_sections(&sections)).unwrap();
        assert_eq!(
            model.predict("good phone"),
            Model::from_json(TINY.as_bytes()).unwrap().predict("good phone")
        );

        let coef = sections.iter().find(|(tag, _)| tag == b"COEF").unwrap().clone();
        sections.push(coef);
        let err = Model::from_bytes(&file_from_sections(&sections)).unwrap_err();
        assert!(err.to_string().contains("section COEF appears twice"), "{err}");
    }

    #[test]
    fn overlapping_sections_are_refused() {
        let mut bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        // Point the second section at the first one's bytes.
        let first_offset = bytes[HEADER_LEN + 8..HEADER_LEN + 16].to_vec();
        let second = HEADER_LEN + ENTRY_LEN;
        bytes[second + 8..second + 16].copy_from_slice(&first_offset);
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("overlaps the section table or another"), "{err}");
    }

    #[test]
    fn a_file_loads_as_its_bytes_do() {
        let bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.model");
        std::fs::write(&path, &bytes).unwrap();
        let loaded = Model::load(&path).unwrap();
        assert_eq!(write(&loaded), bytes);
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let err = Model::load(&path).unwrap_err();
        assert!(err.to_string().contains("header says"), "{err}");
    }

    /// A word model with trigrams and tokens too long to be kept inline (over 16 bytes).
    const WORDY: &str = r#"{
        "format": "mod_classify-model", "format_version": 1,
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": [1, 3],
                       "lowercase": true,
                       "vocabulary": ["bad", "bad phone", "electroencephalography",
                                      "electroencephalography machine", "good",
                                      "good electroencephalography machine", "good phone",
                                      "machine", "phone", "phone supercalifragilistic", "z z z"]},
        "classifier": {"kind": "linear", "estimator": "LinearSVC", "classes": ["neg", "pos"],
                       "coef": [[-1.0, -0.5, 0.25, 0.75, 1.0, 2.0, 0.5, 0.1, 0.0, -0.3, 0.9]],
                       "intercept": [0.05]}
    }"#;

    const WORDY_TEXTS: [&str; 6] = [
        "good electroencephalography machine",
        "Bad phone supercalifragilistic",
        "electroencephalography machine good phone",
        "z z z z",
        "",
        "phone",
    ];

    /// WORDY written, with `change` applied to its sections.
    fn wordy_file(change: impl FnOnce(&mut FileSections)) -> Vec<u8> {
        let mut sections = sections_of(&write(&Model::from_json(WORDY.as_bytes()).unwrap()));
        change(&mut sections);
        file_from_sections(&sections)
    }

    fn section<'a>(sections: &'a mut [([u8; 4], Vec<u8>)], tag: &[u8; 4]) -> &'a mut Vec<u8> {
        &mut sections.iter_mut().find(|(t, _)| t == tag).unwrap().1
    }

    fn assert_predicts_like_wordy(model: &Model) {
        let json = Model::from_json(WORDY.as_bytes()).unwrap();
        for text in WORDY_TEXTS {
            assert_eq!(model.predict(text), json.predict(text), "{text:?}");
        }
    }

    #[test]
    fn the_word_index_is_stored_and_read_back_as_built() {
        let json = Model::from_json(WORDY.as_bytes()).unwrap();
        let bytes = write(&json);
        let binary = Model::from_bytes(&bytes).unwrap();
        assert_predicts_like_wordy(&binary);
        let (built, read) =
            (json.featurizer().word_index().unwrap(), binary.featurizer().word_index().unwrap());
        assert_eq!(read.pair_entries(), built.pair_entries());
        assert_eq!(read.unigram_features(), built.unigram_features());
        assert_eq!(read.tokens().inline_slots(), built.tokens().inline_slots());
        let long: Vec<(&[u8], u32)> = read.tokens().long_tokens().collect();
        assert_eq!(long.len(), 2, "the two tokens over 16 bytes");
        assert_eq!(long, built.tokens().long_tokens().collect::<Vec<_>>());
        assert_eq!(write(&binary), bytes);
    }

    #[test]
    fn without_a_stored_index_or_under_another_layout_the_index_is_built() {
        let without = wordy_file(|sections| sections.retain(|(tag, _)| tag[0] != b'W'));
        assert_predicts_like_wordy(&Model::from_bytes(&without).unwrap());
        let other_layout = wordy_file(|sections| {
            let params = section(sections, b"WIXP");
            params[..8].copy_from_slice(&(word_index::STORED_LAYOUT + 1).to_le_bytes());
            // The stored tables would be wrong under another layout: they must not be read.
            section(sections, b"WPAR").fill(0xff);
        });
        assert_predicts_like_wordy(&Model::from_bytes(&other_layout).unwrap());
    }

    #[test]
    fn the_word_index_origin_says_whether_the_stored_index_was_read() {
        let origin = |bytes: &[u8]| {
            let model = Model::from_bytes(bytes).unwrap();
            word_index_origin(io::Cursor::new(bytes), &model).unwrap()
        };
        let stored = WordIndexOrigin::Stored { layout: word_index::STORED_LAYOUT };
        assert_eq!(origin(&wordy_file(|_| ())), Some(stored));
        assert_eq!(stored.to_string(), "stored (layout 1)");
        let without = wordy_file(|sections| sections.retain(|(tag, _)| tag[0] != b'W'));
        assert_eq!(origin(&without), Some(WordIndexOrigin::Built));
        let other_layout = wordy_file(|sections| {
            let params = section(sections, b"WIXP");
            params[..8].copy_from_slice(&(word_index::STORED_LAYOUT + 1).to_le_bytes());
        });
        assert_eq!(origin(&other_layout), Some(WordIndexOrigin::Built));
        let json = Model::from_json(WORDY.as_bytes()).unwrap();
        assert_eq!(
            word_index_origin(io::Cursor::new(WORDY.as_bytes()), &json).unwrap(),
            Some(WordIndexOrigin::Built)
        );
        // A model without the word analyzer has no word index.
        let chars = r#"{"format": "mod_classify-model", "format_version": 1,
            "vectorizer": {"kind": "count", "analyzer": "char_wb", "ngram_range": [2, 3],
                           "lowercase": true, "vocabulary": ["ab", "bc"]},
            "classifier": {"kind": "linear", "estimator": "LinearSVC", "classes": ["a", "b"],
                           "coef": [[1.0, -1.0]], "intercept": [0.0]}}"#;
        assert_eq!(origin(&write(&Model::from_json(chars.as_bytes()).unwrap())), None);
    }

    #[test]
    fn a_stored_index_that_could_misbehave_is_refused_by_section() {
        let error = |change: fn(&mut FileSections)| {
            Model::from_bytes(&wordy_file(change)).unwrap_err().to_string()
        };
        // A pair entry naming a feature past the vocabulary's end.
        let err = error(|sections| {
            let pairs = section(sections, b"WPAR");
            let used = pairs.chunks(16).position(|entry| entry[..8] != [0; 8]).unwrap();
            pairs[16 * used + 8..16 * used + 12].copy_from_slice(&11u32.to_le_bytes());
        });
        assert!(err.contains("WIXP/WUNI/WPAR") && err.contains("pair entry"), "{err}");
        // No empty entry: a probe for an absent pair would never end.
        let err = error(|sections| {
            let pairs = section(sections, b"WPAR");
            for entry in pairs.chunks_mut(16) {
                entry[..8].copy_from_slice(&(1u64 << 32 | 1).to_le_bytes());
                entry[8..].copy_from_slice(&u64::MAX.to_le_bytes());
            }
        });
        assert!(err.contains("pair entries are used"), "{err}");
        // A token slot with an id past the number of tokens.
        let err = error(|sections| {
            let slots = section(sections, b"WTOK");
            let used = slots.chunks(32).position(|slot| slot[16..24] != [0; 8]).unwrap();
            slots[32 * used + 16..32 * used + 20].copy_from_slice(&1000u32.to_le_bytes());
        });
        assert!(err.contains("WTOK/WLTX/WLID") && err.contains("inline slot"), "{err}");
        let err = error(|sections| section(sections, b"WLID").clear());
        assert!(err.contains("0 ids for 2 long tokens"), "{err}");
        let err = error(|sections| section(sections, b"WUNI").truncate(4));
        assert!(err.contains("unigram features for"), "{err}");
    }

    #[test]
    fn other_versions_are_refused_by_number() {
        let mut bytes = write(&Model::from_json(TINY.as_bytes()).unwrap());
        bytes[8] = 2;
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(err.to_string().contains("version 2 is not supported"), "{err}");
    }
}
