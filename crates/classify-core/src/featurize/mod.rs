//! Text → sparse feature row, exactly as the exported sklearn vectorizer (and an optional
//! `TfidfTransformer` step) computes it. The vocabulary is looked up per n-gram; nothing of the
//! vocabulary's size is allocated per document.

pub mod analyzer;
pub(crate) mod char_grams;
pub(crate) mod char_index;
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
use crate::sparse::{self, Norm, SortScratch, SparseRow};
use analyzer::{StripAccents, TokenRule};
use char_grams::{CharText, GramCursor};
use char_index::{CharIndex, CharScratch};
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
    /// A count vectorizer's vocabulary, and the index its analyzer's n-grams are looked up in.
    Vocabulary {
        vocabulary: Vocabulary,
        index: VocabularyIndex,
    },
    Hashing {
        n_features: u32,
        alternate_sign: bool,
        norm: Option<Norm>,
    },
}

/// How a vocabulary's terms are found from a document's n-grams.
#[derive(Debug)]
enum VocabularyIndex {
    /// The word analyzer's n-grams, by token ids.
    Words(Box<WordIndex>),
    /// The char analyzers' n-grams, by their bytes in the preprocessed text.
    Chars(Box<CharIndex>),
}

/// `TfidfTransformer`'s weighting: part of a vectorizer, or a later step of a pipeline.
#[derive(Debug)]
pub(crate) struct Tfidf {
    sublinear_tf: bool,
    /// `ln(k)` for the small counts `k` of most entries, read instead of computed (a call to
    /// libm's `log` per entry cost more than the decision on character n-gram rows); the same
    /// function computed them, so they are the same numbers.
    small_logs: Box<[f64; SMALL_LOGS]>,
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
                let vocabulary = arrays.vocabulary.ok_or_else(|| {
                    ModelError::invalid("vectorizer.vocabulary", "missing (required for \"count\")")
                })?;
                let n_features = vocabulary.len();
                let index = match analyzer {
                    Analyzer::Word { .. } => {
                        let range = (min_n as usize, max_n as usize);
                        let index = match arrays.word_index {
                            Some(index) if index.ngram_range() == range => index,
                            _ => WordIndex::new(&vocabulary, range.0, range.1)?,
                        };
                        VocabularyIndex::Words(Box::new(index))
                    }
                    Analyzer::Char | Analyzer::CharWb => {
                        VocabularyIndex::Chars(Box::new(CharIndex::new(&vocabulary)?))
                    }
                };
                (TermIndex::Vocabulary { vocabulary, index }, n_features)
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
            TermIndex::Vocabulary { index: VocabularyIndex::Words(words), .. } => Some(words),
            _ => None,
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
    pub(crate) fn word_ngram_places(&self, text: &str) -> Option<Vec<(String, usize, usize)>> {
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

    /// Prepares the character n-grams of `text` in `chars` (char analyzers only), through
    /// `grams.text`, which is left holding the preprocessed text.
    fn char_text_into(&self, text: &str, grams: &mut Grams, chars: &mut CharText) {
        self.tokenize_into(text, grams);
        if let Analyzer::CharWb = self.analyzer {
            chars.char_wb(&grams.text);
        } else {
            chars.char(&grams.text);
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
    pub(crate) fn transform_counted(&self, text: &str) -> (SparseRow, Option<NgramCounts>) {
        with_scratch(|scratch| {
            let row = self.transform_with(text, scratch);
            (row, scratch.counts.take())
        })
    }

    fn transform_with(&self, text: &str, scratch: &mut Scratch) -> SparseRow {
        let mut row = match &self.terms {
            TermIndex::Vocabulary { index, .. } => {
                let Scratch { grams, words: word_scratch, chars, indices, sort, .. } = scratch;
                indices.clear();
                let found = |index| indices.push(index);
                match index {
                    // Only the word analyzer has a word index, and it always tokenizes.
                    VocabularyIndex::Words(words) => {
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
                    VocabularyIndex::Chars(index) => {
                        let CharWork { text: chars, lookup } = &mut **chars.get_or_insert_default();
                        self.char_text_into(text, grams, chars);
                        let range = (self.min_n, self.max_n);
                        let total = index.lookup(chars, range, lookup, found);
                        scratch.counts = Some(NgramCounts { total, known: indices.len() });
                    }
                }
                sparse::sort_indices(indices, self.n_features, sort);
                let mut row = SparseRow::count_sorted(indices);
                if self.binary {
                    row.values_mut().for_each(|v| *v = 1.0);
                }
                row
            }
            TermIndex::Hashing { n_features, alternate_sign, norm } => {
                let Scratch { grams, chars, hits, .. } = scratch;
                hits.clear();
                let hit =
                    |text, span| hashing::signed_hit(text, span, *n_features, *alternate_sign);
                if let Analyzer::Word { .. } = self.analyzer {
                    self.analyze_into(text, grams);
                    grams.text.push_str(hashing::WINDOW_PADDING);
                    let text = grams.text.as_bytes();
                    hits.extend(grams.spans.iter().map(|&span| hit(text, span)));
                } else {
                    // Character n-grams are hashed where they lie in the prepared text.
                    let chars = &mut chars.get_or_insert_default().text;
                    self.char_text_into(text, grams, chars);
                    let text = chars.bytes();
                    let (mut cursor, range) = (GramCursor::default(), (self.min_n, self.max_n));
                    let grams = &mut grams.spans;
                    grams.clear();
                    while chars.next_grams(&mut cursor, range, grams, usize::MAX) {}
                    hits.extend(grams.iter().map(|&(start, len)| hit(text, (start, start + len))));
                }
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
    /// A char analyzer's buffers, boxed: the whole `Scratch` is moved in and out of its
    /// thread-local cell on every call, and the word path should not pay for moving these.
    chars: Option<Box<CharWork>>,
    indices: Vec<u32>,
    sort: SortScratch,
    /// Hashed n-grams, see `hashing::signed_hit`.
    hits: Vec<u64>,
    /// The last vocabulary lookup's counts, for `transform_counted`.
    counts: Option<NgramCounts>,
}

/// A char analyzer's prepared text, and the lookups' working space.
#[derive(Debug, Default)]
struct CharWork {
    text: CharText,
    lookup: CharScratch,
}

impl Scratch {
    /// Buffers grown by one very long document are given back, not kept for the thread's life.
    const KEPT_BYTES: usize = 256 * 1024;

    fn release_if_large(&mut self) {
        let grams = &self.grams;
        let bytes = grams.text.capacity()
            + (grams.tokens.capacity() + grams.spans.capacity()) * size_of::<analyzer::Span>()
            + self.words.capacity_bytes()
            + self
                .chars
                .as_ref()
                .map_or(0, |work| work.text.capacity_bytes() + work.lookup.capacity_bytes())
            + self.indices.capacity() * size_of::<u32>()
            + self.sort.capacity_bytes()
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

/// Counts below this have their logarithm in `Tfidf::small_logs`.
const SMALL_LOGS: usize = 64;

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
        let small_logs = Box::new(std::array::from_fn(|k| (k as f64).ln()));
        Ok(Tfidf { sublinear_tf: spec.sublinear_tf, small_logs, idf, norm: spec.norm })
    }

    /// `TfidfTransformer.transform`: sublinear tf, then idf weighting, then row normalization.
    /// One pass does the first two and sums the norm (each value is final before it is added,
    /// and the values are added in the row's order, as sklearn does), so that the other work
    /// hides in the wait on each addition; a second pass divides.
    pub(crate) fn apply(&self, row: &mut SparseRow) {
        let idf = self.idf.as_deref();
        let mut total = 0.0;
        for (index, value) in row.entries.iter_mut() {
            if self.sublinear_tf {
                let count = *value as usize;
                let log = match self.small_logs.get(count) {
                    Some(&log) if count as f64 == *value => log,
                    _ => value.ln(),
                };
                *value = log + 1.0;
            }
            if let Some(idf) = idf {
                *value *= idf[*index as usize];
            }
            total += match self.norm {
                Some(Norm::L2) => *value * *value,
                Some(Norm::L1) => value.abs(),
                None => 0.0,
            };
        }
        match self.norm {
            Some(Norm::L2) => row.divide(total.sqrt()),
            Some(Norm::L1) => row.divide(total),
            None => {}
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
