//! Text → sparse feature row, exactly as the exported sklearn vectorizer (and an optional
//! `TfidfTransformer` step) computes it. The vocabulary is looked up per n-gram; nothing of the
//! vocabulary's size is allocated per document.

pub mod analyzer;
pub(crate) mod hashing;
pub mod pychar;
pub(crate) mod token_table;
mod unicode_ages;
pub(crate) mod vocabulary;
pub(crate) mod word_index;

use std::cell::Cell;

use rustc_hash::FxHashSet;

use crate::error::ModelError;
use crate::model::format::{AnalyzerKind, TfidfSpec, VectorizerKind, VectorizerSpec};
use crate::sparse::{Norm, SparseRow};
use analyzer::{StripAccents, TokenRule};
use pychar::UnicodeVersion;
use vocabulary::Vocabulary;
use word_index::{WordIndex, WordScratch};

/// A ready-to-use featurizer built from a validated model file.
#[derive(Debug)]
pub struct Featurizer {
    analyzer: Analyzer,
    min_n: usize,
    max_n: usize,
    lowercase: bool,
    strip_accents: Option<StripAccents>,
    /// The Unicode of the Python that trained the model, when the core's tables are newer.
    unicode: Option<UnicodeVersion>,
    terms: TermIndex,
    binary: bool,
    tfidf: Option<Tfidf>,
    n_features: usize,
}

#[derive(Debug)]
enum Analyzer {
    Word { rule: TokenRule, stop_words: FxHashSet<String> },
    Char,
    CharWb,
}

#[derive(Debug)]
enum TermIndex {
    /// A count vectorizer's vocabulary. With the word analyzer, n-grams are looked up by token
    /// in `words`; with the others, by their bytes in the vocabulary's own table.
    Vocabulary {
        vocabulary: Vocabulary,
        words: Option<Box<WordIndex>>,
    },
    Hashing {
        n_features: u32,
        alternate_sign: bool,
        norm: Option<Norm>,
    },
}

/// `TfidfTransformer`'s weighting: part of a vectorizer, or a later step of a pipeline.
#[derive(Debug)]
pub(crate) struct Tfidf {
    sublinear_tf: bool,
    idf: Option<Vec<f64>>,
    norm: Option<Norm>,
}

/// The large fitted arrays of a featurizer, kept apart from its settings so that the JSON and the
/// binary model forms can each supply them in their own shape.
#[derive(Debug, Default)]
pub(crate) struct FittedArrays {
    /// Count vectorizers: the vocabulary (`vocabulary` in the JSON form).
    pub(crate) vocabulary: Option<Vocabulary>,
    /// `idf_` when tf-idf weighting uses it (`tfidf.idf` in the JSON form).
    pub(crate) idf: Option<Vec<f64>>,
    /// The word analyzer's index of `vocabulary`, if the loader built or read it already (built
    /// here otherwise).
    pub(crate) word_index: Option<WordIndex>,
}

impl Featurizer {
    /// Builds the featurizer from a JSON-form spec that still carries its vocabulary and idf.
    pub fn from_spec(spec: &VectorizerSpec, tfidf: Option<&TfidfSpec>) -> Result<Self, ModelError> {
        let vocabulary = spec
            .vocabulary
            .as_ref()
            .map(|terms| Vocabulary::from_terms(terms.iter().map(String::as_str)))
            .transpose()?;
        let idf = tfidf.and_then(|t| t.idf.clone());
        Featurizer::new(spec, tfidf, FittedArrays { vocabulary, idf, word_index: None })
    }

    /// Builds the featurizer, checking that every setting is one this build reproduces exactly.
    /// The spec's own `vocabulary` and `idf` fields are ignored in favour of `arrays`.
    pub(crate) fn new(
        spec: &VectorizerSpec,
        tfidf: Option<&TfidfSpec>,
        arrays: FittedArrays,
    ) -> Result<Self, ModelError> {
        let [min_n, max_n] = spec.ngram_range;
        if min_n == 0 || min_n > max_n {
            return Err(ModelError::invalid(
                "vectorizer.ngram_range",
                format!("[{min_n}, {max_n}] must satisfy 1 <= min_n <= max_n"),
            ));
        }
        let analyzer = match spec.analyzer {
            AnalyzerKind::Word => {
                let pattern = spec.token_pattern.as_deref().unwrap_or(r"(?u)\b\w\w+\b");
                let rule = TokenRule::from_pattern(pattern).ok_or_else(|| {
                    ModelError::invalid(
                        "vectorizer.token_pattern",
                        format!("{pattern:?} has no exact equivalent in mod_classify"),
                    )
                })?;
                let stop_words = spec.stop_words.iter().flatten().cloned().collect();
                Analyzer::Word { rule, stop_words }
            }
            AnalyzerKind::Char => Analyzer::Char,
            AnalyzerKind::CharWb => Analyzer::CharWb,
        };
        let (terms, n_features) = match spec.kind {
            VectorizerKind::Count => {
                let mut vocabulary = arrays.vocabulary.ok_or_else(|| {
                    ModelError::invalid("vectorizer.vocabulary", "missing (required for \"count\")")
                })?;
                let n_features = vocabulary.len();
                let words = match analyzer {
                    Analyzer::Word { .. } => {
                        let range = (min_n as usize, max_n as usize);
                        let index = match arrays.word_index {
                            Some(index) if index.ngram_range() == range => index,
                            _ => WordIndex::new(&vocabulary, range.0, range.1)?,
                        };
                        Some(Box::new(index))
                    }
                    Analyzer::Char | Analyzer::CharWb => {
                        vocabulary.index_bytes()?;
                        None
                    }
                };
                (TermIndex::Vocabulary { vocabulary, words }, n_features)
            }
            VectorizerKind::Hashing => {
                let n_features = spec.n_features.ok_or_else(|| {
                    ModelError::invalid(
                        "vectorizer.n_features",
                        "missing (required for \"hashing\")",
                    )
                })?;
                if n_features == 0 || n_features > i32::MAX as usize {
                    return Err(ModelError::invalid(
                        "vectorizer.n_features",
                        format!("{n_features} is outside 1..=2147483647"),
                    ));
                }
                let terms = TermIndex::Hashing {
                    n_features: n_features as u32,
                    alternate_sign: spec.alternate_sign.unwrap_or(true),
                    norm: spec.norm,
                };
                (terms, n_features)
            }
        };
        if let (VectorizerKind::Count, Some(declared)) = (spec.kind, spec.n_features) {
            if declared != n_features {
                return Err(ModelError::invalid(
                    "vectorizer.n_features",
                    format!("{declared} but the vocabulary has {n_features} terms"),
                ));
            }
        }
        let tfidf = tfidf.map(|t| Tfidf::new(t, arrays.idf, n_features)).transpose()?;
        let unicode = spec
            .unicode_version
            .as_deref()
            .map(UnicodeVersion::parse)
            .transpose()
            .map_err(|problem| ModelError::invalid("vectorizer.unicode_version", problem))?
            .and_then(UnicodeVersion::older_than_the_core);
        Ok(Featurizer {
            analyzer,
            min_n: min_n as usize,
            max_n: max_n as usize,
            lowercase: spec.lowercase,
            strip_accents: spec.strip_accents,
            unicode,
            terms,
            binary: spec.binary,
            tfidf,
            n_features,
        })
    }

    /// The vocabulary of a count vectorizer.
    pub fn vocabulary(&self) -> Option<&Vocabulary> {
        match &self.terms {
            TermIndex::Vocabulary { vocabulary, .. } => Some(vocabulary),
            TermIndex::Hashing { .. } => None,
        }
    }

    /// The word analyzer's index of the vocabulary.
    pub(crate) fn word_index(&self) -> Option<&WordIndex> {
        match &self.terms {
            TermIndex::Vocabulary { words, .. } => words.as_deref(),
            TermIndex::Hashing { .. } => None,
        }
    }

    /// The idf weights, when tf-idf weighting uses them.
    pub(crate) fn idf(&self) -> Option<&[f64]> {
        self.tfidf.as_ref().and_then(|t| t.idf.as_deref())
    }

    /// Number of features (columns) this featurizer produces.
    pub(crate) fn n_features(&self) -> usize {
        self.n_features
    }

    /// The analyzer's output for `text`: every n-gram, in sklearn's order.
    pub fn analyze(&self, text: &str, mut emit: impl FnMut(&str)) {
        with_scratch(|scratch| {
            let grams = &mut scratch.grams;
            self.analyze_into(text, grams);
            for &(start, end) in &grams.spans {
                emit(&grams.text[start..end]);
            }
        })
    }

    /// Every word n-gram of `text` with the characters of `text` it was read from, as
    /// (n-gram, first character, one past the last character), counting characters as Unicode
    /// scalar values. `None` for character analyzers, and when preprocessing changed the text's
    /// characters other than one for one (a ligature spread into two letters, say), since the
    /// n-grams' places in the original text are then unknown.
    pub fn word_ngram_places(&self, text: &str) -> Option<Vec<(String, usize, usize)>> {
        let mut grams = Grams::default();
        if !self.tokenize_into(text, &mut grams) {
            return None;
        }
        let preprocessed = &grams.text;
        // Byte offset in the preprocessed text → character index, valid when every original
        // character became exactly one character.
        if preprocessed.chars().count() != text.chars().count() {
            return None;
        }
        if !text.is_ascii() {
            let one_for_one = text.chars().zip(preprocessed.chars()).all(|(original, made)| {
                let mut alone = String::new();
                analyzer::preprocess_into(
                    original.encode_utf8(&mut [0; 4]),
                    self.lowercase,
                    self.strip_accents,
                    self.unicode,
                    &mut alone,
                );
                alone.chars().eq(std::iter::once(made))
            });
            if !one_for_one {
                return None;
            }
        }
        let mut char_at = vec![0usize; preprocessed.len() + 1];
        let mut chars = 0;
        for (byte, c) in preprocessed.char_indices() {
            char_at[byte..byte + c.len_utf8()].fill(chars);
            chars += 1;
        }
        char_at[preprocessed.len()] = chars;
        let tokens = &grams.tokens;
        let mut places = Vec::new();
        for n in self.min_n.max(1)..=self.max_n {
            for window in tokens.windows(n) {
                let gram: Vec<&str> = window.iter().map(|&(s, e)| &preprocessed[s..e]).collect();
                places.push((gram.join(" "), char_at[window[0].0], char_at[window[n - 1].1]));
            }
        }
        Some(places)
    }

    /// Runs the analyzer on `text`, leaving every n-gram in `grams`.
    fn analyze_into(&self, text: &str, grams: &mut Grams) {
        if self.tokenize_into(text, grams) {
            let Grams { text, tokens, spans } = grams;
            analyzer::word_ngram_spans(text, tokens, self.min_n, self.max_n, spans);
            return;
        }
        let Grams { text, spans, .. } = grams;
        // Character n-grams are copied out of the preprocessed text, which is then dropped.
        let preprocessed = std::mem::take(text);
        let emit = |gram: &str| {
            let start = text.len();
            text.push_str(gram);
            spans.push((start, text.len()));
        };
        if let Analyzer::CharWb = self.analyzer {
            analyzer::char_wb_ngrams(&preprocessed, self.min_n, self.max_n, emit);
        } else {
            analyzer::char_ngrams(&preprocessed, self.min_n, self.max_n, emit);
        }
    }

    /// Preprocesses `text` into `grams.text` and, for the word analyzer, lists its tokens (stop
    /// words removed) in `grams.tokens` and returns true.
    fn tokenize_into(&self, text: &str, grams: &mut Grams) -> bool {
        grams.clear();
        analyzer::preprocess_into(
            text,
            self.lowercase,
            self.strip_accents,
            self.unicode,
            &mut grams.text,
        );
        let Analyzer::Word { rule, stop_words } = &self.analyzer else { return false };
        let Grams { text, tokens, .. } = grams;
        analyzer::tokenize_spans(text, *rule, self.unicode, tokens);
        if !stop_words.is_empty() {
            tokens.retain(|&(start, end)| !stop_words.contains(&text[start..end]));
        }
        true
    }

    /// The feature row sklearn's `transform` gives `text`.
    pub fn transform(&self, text: &str) -> SparseRow {
        with_scratch(|scratch| self.transform_with(text, scratch))
    }

    /// `transform`, and how many of the text's n-grams the vocabulary knows (`None` for a
    /// hashing vectorizer, which has no vocabulary).
    pub fn transform_counted(&self, text: &str) -> (SparseRow, Option<NgramCounts>) {
        with_scratch(|scratch| {
            let row = self.transform_with(text, scratch);
            (row, scratch.counts.take())
        })
    }

    fn transform_with(&self, text: &str, scratch: &mut Scratch) -> SparseRow {
        let mut row = match &self.terms {
            TermIndex::Vocabulary { vocabulary, words } => {
                let Scratch { grams, words: word_scratch, probes, indices, .. } = scratch;
                indices.clear();
                let found = |index| indices.push(index);
                match words {
                    // `words` exists only for the word analyzer, which always tokenizes.
                    Some(words) => {
                        self.tokenize_into(text, grams);
                        // Room to read every short token as whole words in place.
                        grams.text.push_str(TOKEN_PADDING);
                        words.lookup(grams.text.as_bytes(), &grams.tokens, word_scratch, found);
                        let tokens = grams.tokens.len();
                        let total = (self.min_n.max(1)..=self.max_n)
                            .map(|n| (tokens + 1).saturating_sub(n))
                            .sum();
                        scratch.counts = Some(NgramCounts { total, known: indices.len() });
                    }
                    None => {
                        self.analyze_into(text, grams);
                        let text = grams.text.as_bytes();
                        let terms = grams.spans.iter().map(|&(start, end)| &text[start..end]);
                        vocabulary.lookup_all(terms, probes, found);
                        let total = grams.spans.len();
                        scratch.counts = Some(NgramCounts { total, known: indices.len() });
                    }
                }
                indices.sort_unstable();
                let mut row = SparseRow::count_sorted(indices);
                if self.binary {
                    row.values_mut().for_each(|v| *v = 1.0);
                }
                row
            }
            TermIndex::Hashing { n_features, alternate_sign, norm } => {
                self.analyze_into(text, &mut scratch.grams);
                let Scratch { grams, hits, .. } = scratch;
                grams.text.push_str(hashing::WINDOW_PADDING);
                let text = grams.text.as_bytes();
                hits.clear();
                let hit = |&span| hashing::signed_hit(text, span, *n_features, *alternate_sign);
                hits.extend(grams.spans.iter().map(hit));
                let mut row = SparseRow::from_signed_hits(hits);
                // sklearn's FeatureHasher sums duplicates but keeps the explicit zeros left by
                // alternate signs cancelling, so HashingVectorizer's binary `X.data.fill(1)` turns
                // them into ones. Without `binary` a zero adds nothing and is dropped.
                if self.binary {
                    row.values_mut().for_each(|v| *v = 1.0);
                } else {
                    row.drop_zeros();
                }
                if let Some(norm) = norm {
                    row.normalize(*norm);
                }
                row
            }
        };
        if let Some(tfidf) = &self.tfidf {
            tfidf.apply(&mut row);
        }
        row
    }
}

/// How many n-grams a text has and how many of them are in the vocabulary (each occurrence
/// counts): `1 − known / total` is its out-of-vocabulary share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NgramCounts {
    pub total: usize,
    pub known: usize,
}

impl NgramCounts {
    /// The share of n-grams the vocabulary does not know; `None` for a text without n-grams.
    pub fn oov_ratio(&self) -> Option<f64> {
        (self.total > 0).then(|| 1.0 - self.known as f64 / self.total as f64)
    }
}

/// Appended after a document's text before its tokens are looked up (see `token_table`).
const TOKEN_PADDING: &str = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
const _: () = assert!(TOKEN_PADDING.len() == token_table::INLINE_BYTES);

/// One document's n-grams: spans of `text`, which holds the preprocessed document followed by
/// the n-grams that are not slices of it.
#[derive(Debug, Default)]
struct Grams {
    text: String,
    tokens: Vec<analyzer::Span>,
    spans: Vec<analyzer::Span>,
}

impl Grams {
    fn clear(&mut self) {
        self.text.clear();
        self.tokens.clear();
        self.spans.clear();
    }
}

/// The buffers one featurizing call works in. Each thread keeps one, so a warmed-up server
/// thread featurizes without allocating.
#[derive(Debug, Default)]
struct Scratch {
    grams: Grams,
    words: WordScratch,
    probes: Vec<(u64, u64)>,
    indices: Vec<u32>,
    /// Hashed n-grams, see `hashing::signed_hit`.
    hits: Vec<u64>,
    /// The last vocabulary lookup's counts, for `transform_counted`.
    counts: Option<NgramCounts>,
}

impl Scratch {
    /// Buffers grown by one very long document are given back, not kept for the thread's life.
    const KEPT_BYTES: usize = 256 * 1024;

    fn release_if_large(&mut self) {
        let grams = &self.grams;
        let bytes = grams.text.capacity()
            + (grams.tokens.capacity() + grams.spans.capacity()) * size_of::<analyzer::Span>()
            + self.words.capacity_bytes()
            + self.probes.capacity() * size_of::<(u64, u64)>()
            + self.indices.capacity() * size_of::<u32>()
            + self.hits.capacity() * size_of::<u64>();
        if bytes > Scratch::KEPT_BYTES {
            *self = Scratch::default();
        }
    }
}

thread_local! {
    static SCRATCH: Cell<Scratch> = Cell::new(Scratch::default());
}

/// Runs `work` with this thread's scratch buffers. A nested call, or one while the thread exits,
/// finds them taken and works in fresh ones.
fn with_scratch<R>(work: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = SCRATCH.try_with(Cell::take).unwrap_or_default();
    let result = work(&mut scratch);
    scratch.release_if_large();
    let _ = SCRATCH.try_with(|cell| cell.set(scratch));
    result
}

impl Tfidf {
    pub(crate) fn new(
        spec: &TfidfSpec,
        idf: Option<Vec<f64>>,
        n_features: usize,
    ) -> Result<Self, ModelError> {
        let idf = match (idf, spec.use_idf) {
            (Some(idf), true) => {
                if idf.len() != n_features {
                    return Err(ModelError::invalid(
                        "tfidf.idf",
                        format!("has {} values but there are {n_features} features", idf.len()),
                    ));
                }
                if let Some(position) = idf.iter().position(|v| !v.is_finite()) {
                    return Err(ModelError::invalid(
                        format!("tfidf.idf[{position}]"),
                        "is not a finite number",
                    ));
                }
                Some(idf)
            }
            (None, true) => {
                return Err(ModelError::invalid("tfidf.idf", "missing while use_idf is true"))
            }
            (_, false) => None,
        };
        Ok(Tfidf { sublinear_tf: spec.sublinear_tf, idf, norm: spec.norm })
    }

    /// `TfidfTransformer.transform`: sublinear tf, then idf weighting, then row normalization.
    pub(crate) fn apply(&self, row: &mut SparseRow) {
        if self.sublinear_tf {
            row.values_mut().for_each(|v| *v = v.ln() + 1.0);
        }
        if let Some(idf) = &self.idf {
            for (index, value) in row.entries.iter_mut() {
                *value *= idf[*index as usize];
            }
        }
        if let Some(norm) = self.norm {
            row.normalize(norm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashing_spec(binary: bool) -> VectorizerSpec {
        serde_json::from_value(serde_json::json!({
            "kind": "hashing", "analyzer": "word", "ngram_range": [1, 1], "lowercase": true,
            "binary": binary, "n_features": 4, "alternate_sign": true, "norm": null
        }))
        .unwrap()
    }

    #[test]
    fn hashing_binary_counts_cancelled_collisions_as_sklearn_does() {
        // "aa" and "ab" hash to column 1 with opposite signs: the sum is an explicit zero, which
        // HashingVectorizer(binary=True) sets to 1 (sklearn: indices [1], data [1.]).
        let featurizer = Featurizer::from_spec(&hashing_spec(true), None).unwrap();
        assert_eq!(featurizer.transform("aa ab").entries, vec![(1, 1.0)]);
        let featurizer = Featurizer::from_spec(&hashing_spec(false), None).unwrap();
        assert!(featurizer.transform("aa ab").is_empty());
    }
}
