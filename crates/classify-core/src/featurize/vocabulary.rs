//! The term → feature index map of a count vectorizer. Nothing is allocated per term, so a
//! million-term vocabulary loads in milliseconds and is shared copy-on-write by every Apache child.
//!
//! An open-addressing table of 8-byte slots holds a 32-bit tag of the term's hash and the term's
//! feature index; checking a candidate reads where the term ends (`ends`) and its bytes.
//!
//! The table is built by `index_bytes`, only for the few long terms of `token_table` and
//! `char_index`: a document's n-grams are looked up in those (the word analyzer's by token, the
//! char analyzers' inline in their slots). A model's own vocabulary is never looked up by bytes,
//! only named by index (explanations, `classify convert`), so it keeps nothing but the terms'
//! bytes and ends: the binary form's VTXT and VEND sections, at their size in the file.

use crate::error::ModelError;
use crate::large_array::LargeArray;

#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// `ends[i]` is the byte offset where term `i` ends in `text` (the binary form's VEND
    /// section over its VTXT section).
    ends: Vec<u32>,
    /// All terms' bytes, concatenated in index order.
    text: LargeArray<u8>,
    /// 0 = empty; else `(hash tag << 32) | (feature index + 1)`. Power-of-two size, at most
    /// half full; linear probing. Empty until `index_bytes`.
    slots: LargeArray<u64>,
}

impl Vocabulary {
    /// Builds from terms in index order, refusing duplicates.
    pub(crate) fn from_terms<'a>(
        terms: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ModelError> {
        let mut text = String::new();
        let mut ends = Vec::new();
        for term in terms {
            text.push_str(term);
            ends.push(end_offset(text.len())?);
        }
        Vocabulary::from_parts(text, ends)
    }

    /// Builds from all terms' text and where each ends in it, checking them.
    pub(crate) fn from_parts(text: String, ends: Vec<u32>) -> Result<Self, ModelError> {
        check_ends(&text, &ends)?;
        Ok(Vocabulary {
            ends,
            text: LargeArray::from_slice(text.as_bytes()),
            slots: LargeArray::zeroed(0),
        })
    }

    /// Builds from the binary form's VTXT and VEND sections, keeping the text where it was read
    /// (no copy), after checking that it is UTF-8 and that `ends` cut it into terms.
    pub(crate) fn from_sections(text: LargeArray<u8>, ends: Vec<u32>) -> Result<Self, ModelError> {
        let utf8 = std::str::from_utf8(&text).map_err(|e| {
            ModelError::invalid("VTXT", format!("not UTF-8 at byte {}", e.valid_up_to()))
        })?;
        check_ends(utf8, &ends)?;
        Ok(Vocabulary { ends, text, slots: LargeArray::zeroed(0) })
    }

    /// Builds the table that looks terms up by their bytes, refusing duplicates. Until then (and
    /// for a vocabulary that `WordIndex` looks up instead) lookups read every term.
    pub(crate) fn index_bytes(&mut self) -> Result<(), ModelError> {
        self.slots = LargeArray::zeroed((self.len() * 2).next_power_of_two().max(16));
        self.fill_table()
    }

    /// Writes every term's slot. Terms are placed in the order of their home slots, so the table
    /// is written front to back instead of at random: a million-term table fills in a fraction
    /// of the time.
    fn fill_table(&mut self) -> Result<(), ModelError> {
        // Per term: [hash, feature index]. A LargeArray, not a Vec: the table may be built on a
        // loader thread, and glibc keeps a thread arena's freed top resident (malloc_trim does
        // not trim it), in the Apache parent and all its children.
        let mut homes: LargeArray<[u64; 2]> = LargeArray::zeroed(self.ends.len());
        let terms = self.terms_bytes().zip(homes.iter_mut()).enumerate();
        for (index, (term, home)) in terms {
            *home = [term_hash(term), index as u64];
        }
        let mask = self.slots.len() - 1;
        homes.sort_unstable_by_key(|&[hash, index]| ((hash & mask as u64) << 32) | index);
        for &[hash, index] in homes.iter() {
            let index = index as u32;
            let mut slot = hash as usize & mask;
            loop {
                match self.slots[slot] {
                    0 => break,
                    // The term's bytes are read only when a tag matches: they are scattered
                    // over the text, and a million terms would cost a million cache misses.
                    entry if entry >> 32 == hash >> 32 => {
                        let table = self.table();
                        let term = table.term_bytes(index as usize);
                        if let Some(first) = table.candidate(term, hash, entry) {
                            let (first, index) = (first.min(index), first.max(index));
                            return Err(ModelError::invalid(
                                "vectorizer.vocabulary",
                                format!(
                                    "term {:?} appears twice (indices {first} and {index})",
                                    String::from_utf8_lossy(term)
                                ),
                            ));
                        }
                    }
                    _ => {}
                }
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = (hash & 0xffff_ffff_0000_0000) | (u64::from(index) + 1);
        }
        Ok(())
    }

    /// The feature index of `term`, if it is in the vocabulary.
    pub(crate) fn get(&self, term: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return self.scan(term.as_bytes());
        }
        let table = self.table();
        let hash = term_hash(term.as_bytes());
        table.probe(term.as_bytes(), hash, table.slot_index(hash))
    }

    /// The feature index of `term`, read term by term: for a vocabulary without its table.
    fn scan(&self, term: &[u8]) -> Option<u32> {
        let mut terms = self.terms_bytes();
        terms.position(|bytes| same_bytes(bytes, term)).map(|index| index as u32)
    }

    /// The slots, ends and text as plain slices, taken once per lookup: each access through
    /// `LargeArray` picks its storage and re-checks the cast.
    fn table(&self) -> Table<'_> {
        Table { slots: &self.slots, ends: &self.ends, text: &self.text }
    }

    /// The term of feature `index`.
    pub(crate) fn term(&self, index: usize) -> &str {
        // The text is a validated `String`, cut at character boundaries (`from_parts`).
        std::str::from_utf8(self.table().term_bytes(index)).unwrap_or_default()
    }

    /// Every term's bytes, in index order.
    pub(crate) fn terms_bytes(&self) -> impl Iterator<Item = &[u8]> {
        let text: &[u8] = &self.text;
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let bytes = &text[start..end as usize];
            start = end as usize;
            bytes
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// All terms' bytes concatenated in index order, and where each ends in them: the binary
    /// form's VTXT and VEND sections.
    pub(crate) fn parts(&self) -> (&[u8], &[u32]) {
        (&self.text, &self.ends)
    }
}

/// A vocabulary's lookup arrays, borrowed as slices.
struct Table<'v> {
    slots: &'v [u64],
    ends: &'v [u32],
    text: &'v [u8],
}

impl<'v> Table<'v> {
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn slot_index(&self, hash: u64) -> usize {
        hash as usize & self.mask()
    }

    /// Walks the probe sequence from `slot` until `term` or an empty slot.
    fn probe(&self, term: &[u8], hash: u64, mut slot: usize) -> Option<u32> {
        loop {
            match self.slots[slot] {
                0 => return None,
                entry => {
                    if let Some(index) = self.candidate(term, hash, entry) {
                        return Some(index);
                    }
                }
            }
            slot = (slot + 1) & self.mask();
        }
    }

    /// The feature index if the slot `entry` holds `term`.
    #[inline]
    fn candidate(&self, term: &[u8], hash: u64, entry: u64) -> Option<u32> {
        if entry >> 32 != hash >> 32 {
            return None;
        }
        let index = (entry & 0xffff_ffff) as u32 - 1;
        same_bytes(self.term_bytes(index as usize), term).then_some(index)
    }

    /// The bytes of term `index`.
    #[inline]
    fn term_bytes(&self, index: usize) -> &'v [u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] as usize };
        &self.text[start..self.ends[index] as usize]
    }
}

/// Checks that `ends` cut `text` into terms: each within the text, at a character boundary,
/// none before the previous one, the last at the text's end.
fn check_ends(text: &str, ends: &[u32]) -> Result<(), ModelError> {
    let mut start = 0usize;
    for (index, &end) in ends.iter().enumerate() {
        let end = end as usize;
        if end < start || end > text.len() || !text.is_char_boundary(end) {
            return Err(ModelError::invalid(
                "vocabulary",
                format!("term {index} ends at byte {end}, outside the term text or mid-character"),
            ));
        }
        start = end;
    }
    if start != text.len() {
        return Err(ModelError::invalid(
            "vocabulary",
            format!("{} bytes of term text after the last term", text.len() - start),
        ));
    }
    if ends.len() >= u32::MAX as usize {
        return Err(ModelError::invalid("vocabulary", "over 4 billion terms"));
    }
    Ok(())
}

fn end_offset(length: usize) -> Result<u32, ModelError> {
    u32::try_from(length).map_err(|_| {
        ModelError::invalid("vectorizer.vocabulary", "terms total more than 4 GiB of text")
    })
}

/// FxHash-style word-at-a-time hash: fast on short n-grams, and only used in memory. The low bits
/// pick the slot, the high 32 bits are the tag.
fn term_hash(bytes: &[u8]) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut hash: u64 = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        hash = (hash.rotate_left(5) ^ read_u64(word)).wrapping_mul(SEED);
    }
    hash = (hash.rotate_left(5) ^ tail_word(bytes, words.remainder().len())).wrapping_mul(SEED);
    // Mix the high bits into the low ones (which pick the slot) and vice versa.
    hash ^= hash >> 29;
    hash.wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (hash >> 32)
}

/// The last `tail` (< 8) bytes of `bytes` as one word, read without a byte-by-byte copy (which
/// costs a store-forwarding stall on every n-gram): overlapping reads, as wyhash does. Distinct
/// tails of one length give distinct words, and the hash has the length already.
fn tail_word(bytes: &[u8], tail: usize) -> u64 {
    let len = bytes.len();
    match tail {
        0 => 0,
        _ if len >= 8 => read_u64(&bytes[len - 8..]) >> (64 - 8 * tail),
        4.. => {
            let rest = &bytes[len - tail..];
            u64::from(read_u32(rest)) << 32 | u64::from(read_u32(&rest[tail - 4..]))
        }
        _ => {
            let rest = &bytes[len - tail..];
            u64::from(rest[0]) << 16 | u64::from(rest[tail / 2]) << 8 | u64::from(rest[tail - 1])
        }
    }
}

/// `a == b`, a word at a time and inlined: n-grams are short, and a call to `memcmp` per
/// candidate costs more than the comparison.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a_words, mut b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let words_equal = (&mut a_words).zip(&mut b_words).all(|(x, y)| read_u64(x) == read_u64(y));
    let tail = a_words.remainder().len();
    words_equal && tail_word(a, tail) == tail_word(b, tail)
}

/// The little-endian word in the first 8 bytes of `bytes`.
pub(crate) fn read_u64(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

fn read_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indexed<'a>(terms: impl IntoIterator<Item = &'a str>) -> Vocabulary {
        let mut vocabulary = Vocabulary::from_terms(terms).unwrap();
        vocabulary.index_bytes().unwrap();
        vocabulary
    }

    #[test]
    fn finds_every_term_and_nothing_else_with_and_without_the_table() {
        let terms = ["good", "good phone", "bad", "", "phone", "日本語"];
        let unindexed = Vocabulary::from_terms(terms).unwrap();
        for vocabulary in [&unindexed, &indexed(terms)] {
            for (index, term) in terms.iter().enumerate() {
                assert_eq!(vocabulary.get(term), Some(index as u32), "{term:?}");
                assert_eq!(vocabulary.term(index), *term);
            }
            assert_eq!(vocabulary.get("goo"), None);
            assert_eq!(vocabulary.get("good phone "), None);
        }
        let bytes: Vec<&[u8]> = unindexed.terms_bytes().collect();
        assert_eq!(bytes, terms.map(str::as_bytes));
    }

    #[test]
    fn duplicates_are_refused_with_both_indices() {
        let mut vocabulary = Vocabulary::from_terms(["a", "b", "a"]).unwrap();
        let err = vocabulary.index_bytes().unwrap_err();
        assert!(err.to_string().contains("indices 0 and 2"), "{err}");
    }

    #[test]
    fn ends_outside_the_text_are_refused() {
        assert!(Vocabulary::from_parts("abc".into(), vec![2, 5]).is_err());
        assert!(Vocabulary::from_parts("abc".into(), vec![2, 1]).is_err());
        assert!(Vocabulary::from_parts("é".into(), vec![1]).is_err());
        assert!(Vocabulary::from_parts("abc".into(), vec![1]).is_err());
    }

    #[test]
    fn same_bytes_is_slice_equality() {
        for len in 0..=20usize {
            let base: Vec<u8> = (0..len as u8).map(|b| b'a' + b).collect();
            assert!(same_bytes(&base, &base.clone()));
            assert!(!same_bytes(&base, &base[..len.saturating_sub(1)]) || len == 0);
            for position in 0..len {
                let mut changed = base.clone();
                changed[position] ^= 0x20;
                assert!(!same_bytes(&base, &changed), "len {len} byte {position}");
            }
        }
    }

    #[test]
    fn every_tail_length_distinguishes_its_bytes() {
        for len in 0..=24usize {
            let base: Vec<u8> = (0..len as u8).map(|b| b'a' + b).collect();
            for position in 0..len {
                let mut changed = base.clone();
                changed[position] = b'Z';
                assert_ne!(term_hash(&base), term_hash(&changed), "len {len} byte {position}");
            }
        }
    }

    #[test]
    fn large_vocabularies_stay_findable() {
        let terms: Vec<String> = (0..100_000).map(|i| format!("term{i}")).collect();
        let vocabulary = indexed(terms.iter().map(String::as_str));
        assert!(terms.iter().enumerate().all(|(i, t)| vocabulary.get(t) == Some(i as u32)));
    }
}
