//! The vocabulary of a `char` / `char_wb` vectorizer, indexed for a document's n-grams.
//!
//! A document of median length has ~1,300 character n-grams, nearly all of at most 8 bytes
//! (`char_wb` (2, 5) on ASCII text: 2 to 5). Such a term is kept inline in its 16-byte slot, as
//! one zero-padded little-endian word beside its length and feature index, so that a lookup
//! reads one word of the document's buffer in place (no copy), masks it to the n-gram's length,
//! and compares two integers in the one cache line it loaded; no term's bytes are read from
//! elsewhere. The n-grams of a document are looked up in batches: first every n-gram's home
//! slot is prefetched (the cache misses overlap, and nothing waits on them), then the
//! candidates are checked. The few terms that do not fit (longer than 8 bytes, or empty) live in a
//! `Vocabulary` looked up by their bytes.

use rustc_hash::FxHashMap;

use super::char_grams::{CharText, GramCursor};
use super::vocabulary::{read_u64, Vocabulary};
use crate::error::ModelError;
use crate::large_array::LargeArray;
use crate::prefetch::prefetch;

/// Terms of 1 to this many bytes are kept inline.
const INLINE_BYTES: usize = 8;

/// N-grams whose home slots are read before any of them is checked: enough to keep the
/// processor's outstanding misses busy, few enough that their slots stay in cache.
const BATCH: usize = 64;

/// `[word, length << 32 | feature]`: the term's bytes zero-padded to a little-endian word, and
/// its length (never 0 inline, so a slot whose second word is 0 is empty) and feature index.
type Slot = [u64; 2];

#[derive(Debug, Clone)]
pub(crate) struct CharIndex {
    /// Open addressing with linear probing, at most half full; a term's home slot is its
    /// hash scaled to the table's length (any length, not only powers of two).
    slots: LargeArray<Slot>,
    /// The terms that are not inline, and their features (`long_features[i]` for term `i`).
    long: Vocabulary,
    long_features: Vec<u32>,
}

/// Working space for `CharIndex::lookup`, reused across documents.
#[derive(Debug, Default)]
pub(crate) struct CharScratch {
    /// The current batch of n-grams, as (start, length) in the document's buffer.
    grams: Vec<(usize, usize)>,
    /// Per n-gram of the batch that may be inline: its word, and its home slot << 8 | length.
    probes: Vec<(u64, u64)>,
}

impl CharScratch {
    /// Bytes of capacity held, so that an outsized document's buffers can be let go.
    pub(crate) fn capacity_bytes(&self) -> usize {
        (self.grams.capacity() + self.probes.capacity()) * size_of::<(u64, u64)>()
    }
}

impl CharIndex {
    /// Indexes every term of `vocabulary`, refusing duplicates.
    pub(crate) fn new(vocabulary: &Vocabulary) -> Result<Self, ModelError> {
        let inline_count = vocabulary.terms_bytes().filter(|term| is_inline(term.len())).count();
        let mut slots: LargeArray<Slot> = LargeArray::zeroed((inline_count * 2).max(16));
        let mut long_terms = String::new();
        let mut long_ends = Vec::new();
        let mut long_features = Vec::new();
        {
            let table: &mut [Slot] = &mut slots;
            for (feature, term) in vocabulary.terms_bytes().enumerate() {
                if !is_inline(term.len()) {
                    // Terms are cut from a validated `String` at character boundaries.
                    long_terms.push_str(std::str::from_utf8(term).unwrap_or_default());
                    long_ends.push(long_terms.len() as u32);
                    long_features.push(feature as u32);
                    continue;
                }
                let length = term.len() as u64;
                let word = padded_word(term);
                let mut slot = home_slot(word, length, table.len());
                loop {
                    let [existing, value] = table[slot];
                    if value == 0 {
                        break;
                    }
                    if existing == word && value >> 32 == length {
                        let first = value as u32;
                        return Err(ModelError::invalid(
                            "vectorizer.vocabulary",
                            format!(
                                "term {:?} appears twice (indices {first} and {feature})",
                                String::from_utf8_lossy(term)
                            ),
                        ));
                    }
                    slot = next_slot(slot, table.len());
                }
                table[slot] = [word, length << 32 | feature as u64];
            }
        }
        // Duplicates among the long terms are named here, by their feature indices (the long
        // vocabulary numbers its terms from 0).
        let mut seen: FxHashMap<&[u8], u32> = FxHashMap::default();
        let mut start = 0;
        for (&end, &feature) in long_ends.iter().zip(&long_features) {
            let term = &long_terms.as_bytes()[start..end as usize];
            start = end as usize;
            if let Some(first) = seen.insert(term, feature) {
                return Err(ModelError::invalid(
                    "vectorizer.vocabulary",
                    format!(
                        "term {:?} appears twice (indices {first} and {feature})",
                        String::from_utf8_lossy(term)
                    ),
                ));
            }
        }
        drop(seen);
        let mut long = Vocabulary::from_parts(long_terms, long_ends)?;
        long.index_bytes()?;
        Ok(CharIndex { slots, long, long_features })
    }

    /// Calls `found` with the feature index of every n-gram of `text` with `min_n..=max_n`
    /// characters that is in the vocabulary, in no particular order. Returns the number of
    /// n-grams.
    pub(crate) fn lookup(
        &self,
        text: &CharText,
        range: (usize, usize),
        scratch: &mut CharScratch,
        mut found: impl FnMut(u32),
    ) -> usize {
        let slots: &[Slot] = &self.slots;
        let bytes = text.bytes();
        let CharScratch { grams, probes } = scratch;
        let mut cursor = GramCursor::default();
        let mut total = 0;
        loop {
            grams.clear();
            let more = text.next_grams(&mut cursor, range, grams, BATCH);
            total += grams.len();
            // First pass: every n-gram's home slot, asked for without waiting on one another.
            probes.clear();
            for &(start, length) in grams.iter() {
                if length > INLINE_BYTES {
                    continue;
                }
                // `text` is padded: a word can be read at any n-gram's start.
                let word = read_u64(&bytes[start..]) & LOW_BYTES[length];
                let home = home_slot(word, length as u64, slots.len());
                prefetch(&slots[home]);
                probes.push((word, (home as u64) << 8 | length as u64));
            }
            // Second pass: the home slots are in cache; probe further only past another term.
            for &(word, home_and_length) in probes.iter() {
                let (home, length) = ((home_and_length >> 8) as usize, home_and_length & 0xff);
                if let Some(feature) = find(slots, word, length, home) {
                    found(feature);
                }
            }
            if self.long.len() > 0 {
                for &(start, length) in grams.iter().filter(|&&(_, length)| length > INLINE_BYTES) {
                    if let Some(feature) = self.find_long(&bytes[start..start + length]) {
                        found(feature);
                    }
                }
            }
            if !more {
                return total;
            }
        }
    }

    fn find_long(&self, term: &[u8]) -> Option<u32> {
        let index = self.long.get(std::str::from_utf8(term).ok()?)?;
        Some(self.long_features[index as usize])
    }

    #[cfg(test)]
    /// The feature index of `term`, if the vocabulary has it.
    pub(crate) fn get(&self, term: &str) -> Option<u32> {
        let term = term.as_bytes();
        if !is_inline(term.len()) {
            return self.find_long(term);
        }
        let slots: &[Slot] = &self.slots;
        let (word, length) = (padded_word(term), term.len() as u64);
        find(slots, word, length, home_slot(word, length, slots.len()))
    }
}

/// The feature of the term with this word and length, probing from `slot`.
fn find(slots: &[Slot], word: u64, length: u64, mut slot: usize) -> Option<u32> {
    loop {
        let [existing, value] = slots[slot];
        if value == 0 {
            return None;
        }
        if existing == word && value >> 32 == length {
            return Some(value as u32);
        }
        slot = next_slot(slot, slots.len());
    }
}

fn is_inline(length: usize) -> bool {
    (1..=INLINE_BYTES).contains(&length)
}

/// `LOW_BYTES[k]` keeps the low `k` bytes of a little-endian word.
const LOW_BYTES: [u64; INLINE_BYTES + 1] = {
    let mut masks = [u64::MAX; INLINE_BYTES + 1];
    let mut k = 0;
    while k < 8 {
        masks[k] = (1u64 << (8 * k)) - 1;
        k += 1;
    }
    masks
};

/// A short term as a zero-padded little-endian word.
fn padded_word(term: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..term.len()].copy_from_slice(term);
    u64::from_le_bytes(bytes)
}

/// The slot a term is looked for first: its word and length mixed by one wide multiplication
/// (the high and low halves folded together, so every input bit reaches every output bit),
/// then scaled to the table's length.
#[inline]
fn home_slot(word: u64, length: u64, size: usize) -> usize {
    let product =
        u128::from(word ^ length.wrapping_mul(0x9e37_79b9_7f4a_7c15)) * 0xbf58_476d_1ce4_e5b9_u128;
    let mixed = (product as u64) ^ (product >> 64) as u64;
    ((u128::from(mixed) * size as u128) >> 64) as usize
}

#[inline]
fn next_slot(slot: usize, size: usize) -> usize {
    if slot + 1 == size {
        0
    } else {
        slot + 1
    }
}

#[cfg(test)]
mod tests {
    use super::super::char_grams::tests::{random_texts, TORTURE};
    use super::*;

    /// The features of a document's n-grams the slow way: each n-gram copied out and looked up
    /// by its bytes.
    fn expected(vocabulary: &Vocabulary, grams: &[String]) -> Vec<u32> {
        let mut found: Vec<u32> = grams.iter().filter_map(|gram| vocabulary.get(gram)).collect();
        found.sort_unstable();
        found
    }

    fn indexed(terms: &[String]) -> (Vocabulary, CharIndex) {
        let mut vocabulary = Vocabulary::from_terms(terms.iter().map(String::as_str)).unwrap();
        let index = CharIndex::new(&vocabulary).unwrap();
        vocabulary.index_bytes().unwrap();
        (vocabulary, index)
    }

    #[test]
    fn finds_the_same_features_as_the_vocabulary_on_torture_and_random_texts() {
        let texts: Vec<String> = TORTURE
            .iter()
            .map(|t| t.to_string())
            .chain(random_texts(300, 0x2545_f491_4f6c_dd1d))
            .collect();
        for (wb, min_n, max_n) in [(true, 2, 5), (false, 1, 3), (true, 1, 12), (false, 3, 9)] {
            let analyze = |text: &str, emit: &mut dyn FnMut(&str)| {
                if wb {
                    super::super::analyzer::char_wb_ngrams(text, min_n, max_n, emit)
                } else {
                    super::super::analyzer::char_ngrams(text, min_n, max_n, emit)
                }
            };
            // A vocabulary of every other n-gram of the first half of the texts (a pruned
            // vocabulary), looked up in all of them.
            let mut terms: Vec<String> = Vec::new();
            for text in &texts[..texts.len() / 2] {
                analyze(text, &mut |gram| terms.push(gram.to_owned()));
            }
            terms.sort();
            terms.dedup();
            let terms: Vec<String> = terms.into_iter().step_by(2).chain([String::new()]).collect();
            let (vocabulary, index) = indexed(&terms);
            for (feature, term) in terms.iter().enumerate() {
                assert_eq!(index.get(term), Some(feature as u32), "{term:?}");
            }
            let mut buffer = CharText::default();
            let mut scratch = CharScratch::default();
            for text in &texts {
                let mut grams = Vec::new();
                analyze(text, &mut |gram| grams.push(gram.to_owned()));
                if wb {
                    buffer.char_wb(text);
                } else {
                    buffer.char(text);
                }
                let mut found = Vec::new();
                let total = index.lookup(&buffer, (min_n, max_n), &mut scratch, |f| found.push(f));
                found.sort_unstable();
                assert_eq!(total, grams.len(), "{text:?}");
                assert_eq!(found, expected(&vocabulary, &grams), "({min_n}, {max_n}) {text:?}");
            }
        }
    }

    #[test]
    fn many_terms_of_every_inline_length_stay_findable() {
        let terms: Vec<String> = (0..50_000u32)
            .map(|i| format!("{i:x}").chars().cycle().take(1 + i as usize % 12).collect())
            .collect::<std::collections::BTreeSet<String>>()
            .into_iter()
            .collect();
        let (_, index) = indexed(&terms);
        for (feature, term) in terms.iter().enumerate() {
            assert_eq!(index.get(term), Some(feature as u32), "{term:?}");
        }
        assert_eq!(index.get("zz"), None);
        assert_eq!(index.get("\0"), None);
    }

    #[test]
    fn duplicates_are_refused_with_both_indices() {
        for (terms, indices) in [
            (vec!["a", "bc", "a"], "indices 0 and 2"),
            (vec!["x", "a much longer term", "y", "a much longer term"], "indices 1 and 3"),
        ] {
            let vocabulary = Vocabulary::from_terms(terms.iter().copied()).unwrap();
            let err = CharIndex::new(&vocabulary).unwrap_err();
            assert!(err.to_string().contains(indices), "{terms:?}: {err}");
        }
    }

    #[test]
    fn zero_bytes_and_lengths_are_part_of_a_term() {
        let terms: Vec<String> = ["a", "a\0", "a\0\0", "\0a", "\0"].map(String::from).to_vec();
        let (_, index) = indexed(&terms);
        for (feature, term) in terms.iter().enumerate() {
            assert_eq!(index.get(term), Some(feature as u32), "{term:?}");
        }
    }
}
