//! The vocabulary of a word-analyzer vectorizer, indexed by token: the form the request path
//! looks word n-grams up in.
//!
//! A word n-gram is its tokens joined by single spaces, and tokens are never empty and never hold
//! a space (see `TokenRule`), so an n-gram is equally well named by the sequence of its tokens.
//! Each distinct token of the vocabulary gets a token id (one lookup per token of a document, in
//! `TokenTable`, small enough to stay in cache), and every longer n-gram is named by a
//! pair of integers: the id of its first `n - 1` tokens (a *gram id*) and the id of its last
//! token. The pairs live in one open-addressing table whose entries hold their key, so checking
//! a bigram candidate is an integer comparison in the cache line that was loaded anyway, instead
//! of a second cache miss on the term's bytes.
//!
//! Gram ids: a token's gram id is its token id; an n-gram that begins a longer term of the
//! vocabulary gets a gram id of its own (from `FIRST_GRAM` on), stored in its pair entry.

use rustc_hash::FxHashMap;

use super::token_table::{TokenTable, TokenTableBuilder};
use super::vocabulary::Vocabulary;
use crate::error::ModelError;
use crate::large_array::LargeArray;
use crate::prefetch::prefetch;

/// Names the way a stored index is laid out (the hashes that place tokens and pairs, the entry
/// formats). A binary model file keeps it beside its stored index, and an index stored under
/// another layout is rebuilt instead of read: change it whenever any of those change.
pub(crate) const STORED_LAYOUT: u64 = 1;

/// No feature, no token, no gram.
const NONE: u32 = u32::MAX;

/// Terms inserted into the pair table together while it is built.
const INSERT_BATCH: usize = 64;

/// Gram ids of n-grams of two tokens or more count from here; token ids stay below it.
const FIRST_GRAM: u32 = 1 << 31;

/// A pair-table entry: `[key, value]`. The key is `(gram + 1) << 32 | (token + 1)`, never 0,
/// which marks an empty entry. The value is the n-gram's feature index (low half, `NONE` when
/// the n-gram is only the beginning of longer terms) and its gram id (high half, `NONE` when
/// no longer term begins with it).
pub(crate) type PairEntry = [u64; 2];

#[derive(Debug, Clone)]
pub(crate) struct WordIndex {
    /// The distinct tokens of the vocabulary's terms; a token's index here is its token id.
    tokens: TokenTable,
    /// Per token id: the feature index of the one-token term, or `NONE`.
    unigram_features: Vec<u32>,
    /// Linear probing, half full when the number of entries is known upfront (see
    /// `PairTable::with_room_for`), at most 80 % full.
    pairs: LargeArray<PairEntry>,
    min_n: usize,
    max_n: usize,
}

/// Working space for `WordIndex::lookup`, reused across documents.
#[derive(Debug, Default)]
pub(crate) struct WordScratch {
    token_ids: Vec<u32>,
    gram_ids: Vec<u32>,
    /// Per n-gram: its pair key (0: it has an unknown token), see `lookup`.
    pair_keys: Vec<u64>,
}

impl WordScratch {
    /// Bytes of capacity held, so that an outsized document's buffers can be let go.
    pub(crate) fn capacity_bytes(&self) -> usize {
        (self.token_ids.capacity() + self.gram_ids.capacity()) * size_of::<u32>()
            + self.pair_keys.capacity() * size_of::<u64>()
    }
}

impl WordIndex {
    /// Indexes the terms of `vocabulary` that a word analyzer with `ngram_range = (min_n, max_n)`
    /// can produce. Any other term (an empty part, or a number of tokens outside the range) can
    /// never be found in a document, so leaving it out changes no feature row.
    pub(crate) fn new(
        vocabulary: &Vocabulary,
        min_n: usize,
        max_n: usize,
    ) -> Result<Self, ModelError> {
        let mut tokens = TokenTableBuilder::default();
        // Terms no document can produce are only checked for duplicates.
        let mut unreachable: FxHashMap<&[u8], u32> = FxHashMap::default();
        // First the tokens of every term that a document can produce, as token ids, in
        // `part_ids[first..first + len]` for `[feature, first, len]` in `terms`; the pair table
        // is then filled in a loop of its own, whose cache misses overlap.
        // Both are LargeArrays sized for the worst case, not Vecs: only the pages written become
        // resident, and they go back to the system when dropped instead of staying on the heap.
        let mut term_storage: LargeArray<[u32; 3]> = LargeArray::zeroed(vocabulary.len());
        let mut part_id_storage: LargeArray<u32> = LargeArray::zeroed(vocabulary.len() * max_n);
        // Borrowed once: each `LargeArray` access picks its storage and checks the cast.
        let terms: &mut [[u32; 3]] = &mut term_storage;
        let part_ids: &mut [u32] = &mut part_id_storage;
        let (mut term_count, mut part_count, mut unigram_count) = (0, 0, 0);
        // sklearn's vocabularies are sorted, so a term mostly begins with the previous one's
        // first tokens: those are taken from it instead of looked up again.
        let mut previous: Vec<(&[u8], u32)> = Vec::with_capacity(max_n);
        'terms: for (feature, term) in vocabulary.terms_bytes().enumerate() {
            let first = part_count;
            let mut same_beginning = true;
            for (position, part) in term.split(|&byte| byte == b' ').enumerate() {
                if part.is_empty() || position == max_n {
                    part_count = first;
                    previous.clear();
                    if let Some(earlier) = unreachable.insert(term, feature as u32) {
                        return Err(duplicate(vocabulary, earlier, feature as u32));
                    }
                    continue 'terms;
                }
                same_beginning &= previous.get(position).is_some_and(|&(text, _)| text == part);
                let id = if same_beginning {
                    previous[position].1
                } else {
                    previous.truncate(position);
                    let id = tokens.id(part);
                    previous.push((part, id));
                    id
                };
                part_ids[part_count] = id;
                part_count += 1;
            }
            let len = part_count - first;
            if len < min_n {
                part_count = first;
                if let Some(earlier) = unreachable.insert(term, feature as u32) {
                    return Err(duplicate(vocabulary, earlier, feature as u32));
                }
                continue;
            }
            terms[term_count] = [feature as u32, first as u32, len as u32];
            term_count += 1;
            unigram_count += usize::from(len == 1);
        }
        drop(unreachable);
        if tokens.len() >= FIRST_GRAM as usize {
            return Err(ModelError::invalid("vectorizer.vocabulary", "over 2 billion tokens"));
        }
        let mut unigram_features = vec![NONE; tokens.len()];
        // Every term of two tokens or more has its own entry; the beginnings of longer terms
        // that are not terms themselves are few, and grow the table if they must.
        let mut pairs = PairTable::with_room_for(term_count - unigram_count);
        let mut next_gram = FIRST_GRAM;
        // The gram id of the previous term's first tokens, which the next term mostly shares.
        let mut previous_prefix: (&[u32], u32) = (&[], NONE);
        // Terms go in by batches: their keys first, then one read of every key's home slot
        // (independent loads whose cache misses overlap), then the insertions, which find those
        // slots in cache.
        let mut batch: Vec<(u64, u32)> = Vec::with_capacity(INSERT_BATCH);
        for terms in terms[..term_count].chunks(INSERT_BATCH) {
            batch.clear();
            for &[feature, first, len] in terms {
                let ids = &part_ids[first as usize..(first + len) as usize];
                let (&last, prefix) = ids.split_last().unwrap_or((&NONE, &[]));
                let Some((&first, middle)) = prefix.split_first() else {
                    let slot = &mut unigram_features[last as usize];
                    if *slot != NONE {
                        return Err(duplicate(vocabulary, *slot, feature));
                    }
                    *slot = feature;
                    continue;
                };
                let gram = match previous_prefix {
                    (ids, gram) if ids == prefix => gram,
                    _ => {
                        let mut gram = first;
                        for &token in middle {
                            let value = pairs.entry_by_key(pair_key(gram, token));
                            if *value >> 32 == u64::from(NONE) {
                                *value = (*value & 0xffff_ffff) | u64::from(next_gram) << 32;
                                next_gram += 1;
                            }
                            gram = (*value >> 32) as u32;
                        }
                        previous_prefix = (prefix, gram);
                        gram
                    }
                };
                batch.push((pair_key(gram, last), feature));
            }
            let entries: &[PairEntry] = &pairs.entries;
            let homes = batch.iter().map(|&(key, _)| entries[home_slot(key, entries.len())][0]);
            std::hint::black_box(homes.fold(0, |all, key| all ^ key));
            for &(key, feature) in &batch {
                let value = pairs.entry_by_key(key);
                if *value as u32 != NONE {
                    return Err(duplicate(vocabulary, *value as u32, feature));
                }
                *value = (*value & !0xffff_ffff) | u64::from(feature);
            }
        }
        if next_gram == NONE {
            return Err(ModelError::invalid("vectorizer.vocabulary", "over 2 billion n-grams"));
        }
        let tokens = tokens.finish()?;
        Ok(WordIndex { tokens, unigram_features, pairs: pairs.entries, min_n, max_n })
    }

    /// Calls `found` with the feature index of every n-gram of the document whose tokens are
    /// `tokens` (spans of `text`) that is in the vocabulary, in no particular order.
    pub(crate) fn lookup(
        &self,
        text: &[u8],
        tokens: &[(usize, usize)],
        scratch: &mut WordScratch,
        mut found: impl FnMut(u32),
    ) {
        let WordScratch { token_ids, gram_ids, pair_keys } = scratch;
        token_ids.clear();
        self.tokens.lookup_each(text, tokens, token_ids);
        if self.min_n <= 1 {
            let unigram_features = &self.unigram_features[..];
            for &id in token_ids.iter().filter(|&&id| id != NONE) {
                let feature = unigram_features[id as usize];
                if feature != NONE {
                    found(feature);
                }
            }
        }
        let pairs: &[PairEntry] = &self.pairs;
        gram_ids.clear();
        gram_ids.extend_from_slice(token_ids);
        for n in 2..=self.max_n.min(tokens.len()) {
            let count = tokens.len() + 1 - n;
            // First pass: every pair's home entry, asked for without waiting on one another.
            pair_keys.clear();
            pair_keys.extend((0..count).map(|start| {
                match (gram_ids[start], token_ids[start + n - 1]) {
                    (NONE, _) | (_, NONE) => 0,
                    (gram, token) => {
                        let key = pair_key(gram, token);
                        prefetch(&pairs[home_slot(key, pairs.len())]);
                        key
                    }
                }
            }));
            // Second pass: the home entries are in cache (or on their way).
            for (start, &key) in pair_keys.iter().enumerate() {
                let value = match key {
                    0 => u64::MAX,
                    _ => find_pair(pairs, key).unwrap_or(u64::MAX),
                };
                if n >= self.min_n && value as u32 != NONE {
                    found(value as u32);
                }
                gram_ids[start] = (value >> 32) as u32;
            }
            gram_ids.truncate(count);
        }
    }

    /// The token table, as the binary model file stores it.
    pub(crate) fn tokens(&self) -> &TokenTable {
        &self.tokens
    }

    /// Per token id, the feature index of the one-token term or `u32::MAX`.
    pub(crate) fn unigram_features(&self) -> &[u32] {
        &self.unigram_features
    }

    /// The pair table's entries, as the binary model file stores them.
    pub(crate) fn pair_entries(&self) -> &[PairEntry] {
        &self.pairs
    }

    /// An index from stored parts (the binary model file's), for a vocabulary of `n_features`
    /// terms. Checked so that every lookup ends and every feature it gives is below
    /// `n_features`; that the parts index this vocabulary's terms is the file checksum's job.
    /// `field` names the parts in errors.
    pub(crate) fn from_stored(
        tokens: TokenTable,
        unigram_features: Vec<u32>,
        pairs: LargeArray<PairEntry>,
        (min_n, max_n): (usize, usize),
        n_features: usize,
        field: &str,
    ) -> Result<Self, ModelError> {
        let invalid = |reason: String| ModelError::invalid(field, reason);
        if min_n < 1 || min_n > max_n {
            return Err(invalid(format!("ngram_range ({min_n}, {max_n})")));
        }
        let is_feature = |value: u32| value == NONE || (value as usize) < n_features;
        if unigram_features.len() != tokens.len() {
            let (found, expected) = (unigram_features.len(), tokens.len());
            return Err(invalid(format!("{found} unigram features for {expected} tokens")));
        }
        if let Some(token) = unigram_features.iter().position(|&feature| !is_feature(feature)) {
            return Err(invalid(format!("token {token}'s feature is out of range")));
        }
        let is_gram = |gram: u64| gram < tokens.len() as u64 || gram >= u64::from(FIRST_GRAM);
        let mut empty = 0;
        for (index, &[key, value]) in pairs.iter().enumerate() {
            if key == 0 {
                empty += 1;
                continue;
            }
            let (gram, token) = ((key >> 32).wrapping_sub(1), (key & 0xffff_ffff).wrapping_sub(1));
            let (feature, next_gram) = (value as u32, (value >> 32) as u32);
            let valid = token < tokens.len() as u64
                && is_gram(gram)
                && is_feature(feature)
                && (next_gram == NONE || next_gram >= FIRST_GRAM);
            if !valid {
                return Err(invalid(format!("pair entry {index} holds no valid n-gram")));
            }
        }
        // Every probe must meet an empty entry.
        if empty == 0 {
            return Err(invalid(format!("all {} pair entries are used", pairs.len())));
        }
        Ok(WordIndex { tokens, unigram_features, pairs, min_n, max_n })
    }

    /// The `(min_n, max_n)` it was built for.
    pub(crate) fn ngram_range(&self) -> (usize, usize) {
        (self.min_n, self.max_n)
    }

    #[cfg(test)]
    /// The feature index of `term`, if the vocabulary has it and a document can produce it.
    pub(crate) fn get(&self, term: &str) -> Option<u32> {
        let parts: Vec<&str> = term.split(' ').collect();
        if parts.len() < self.min_n || parts.len() > self.max_n {
            return None;
        }
        let ids: Option<Vec<u32>> =
            parts.iter().map(|part| self.tokens.get(part.as_bytes())).collect();
        let ids = ids?;
        let (&last, prefix) = ids.split_last()?;
        let Some((&first, middle)) = prefix.split_first() else {
            return Some(self.unigram_features[last as usize]).filter(|&f| f != NONE);
        };
        let pairs: &[PairEntry] = &self.pairs;
        let mut gram = first;
        for &token in middle {
            let value = find_pair(pairs, pair_key(gram, token))?;
            gram = (value >> 32) as u32;
            if gram == NONE {
                return None;
            }
        }
        let value = find_pair(pairs, pair_key(gram, last))?;
        Some(value as u32).filter(|&f| f != NONE)
    }
}

fn pair_key(gram: u32, token: u32) -> u64 {
    (u64::from(gram) + 1) << 32 | (u64::from(token) + 1)
}

fn duplicate(vocabulary: &Vocabulary, earlier: u32, feature: u32) -> ModelError {
    let term = vocabulary.term(feature as usize);
    ModelError::invalid(
        "vectorizer.vocabulary",
        format!("term {term:?} appears twice (indices {earlier} and {feature})"),
    )
}

/// The slot a pair key is looked for first: the key's bits mixed (both ids are small, dense
/// integers), then scaled to the table's size.
#[inline]
fn home_slot(key: u64, size: usize) -> usize {
    let mixed = (key ^ key >> 31).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((u128::from(mixed ^ mixed >> 32) * size as u128) >> 64) as usize
}

#[inline]
fn next_slot(slot: usize, size: usize) -> usize {
    if slot + 1 == size {
        0
    } else {
        slot + 1
    }
}

/// The slot holding `key`, or else the empty slot that ends its probe sequence.
fn probe_pair(pairs: &[PairEntry], key: u64) -> usize {
    let mut slot = home_slot(key, pairs.len());
    while pairs[slot][0] != key && pairs[slot][0] != 0 {
        slot = next_slot(slot, pairs.len());
    }
    slot
}

/// The value of the pair entry with `key`.
fn find_pair(pairs: &[PairEntry], key: u64) -> Option<u64> {
    let [existing, value] = pairs[probe_pair(pairs, key)];
    (existing == key).then_some(value)
}

/// The pair table while it is filled.
struct PairTable {
    entries: LargeArray<PairEntry>,
    len: usize,
}

impl PairTable {
    /// Room for `count` entries at half load. A document's n-grams mostly miss the vocabulary,
    /// and a miss probes on to an empty entry: about 6 entries at 70 % load, 2.5 at 50 %, each
    /// a branch that goes either way. Half load costs 16 bytes × 0.6 more per term (+5.5 MB
    /// on the 740k-feature model) and saves about 10 % of featurize+predict over rotating texts.
    fn with_room_for(count: usize) -> Self {
        PairTable { entries: LargeArray::zeroed((count * 2).max(16)), len: 0 }
    }

    /// The value of the entry with `key`, inserted with no feature and no gram id if absent.
    fn entry_by_key(&mut self, key: u64) -> &mut u64 {
        if (self.len + 1) * 5 > self.entries.len() * 4 {
            self.grow();
        }
        let entries: &mut [PairEntry] = &mut self.entries;
        let slot = probe_pair(entries, key);
        if entries[slot][0] == 0 {
            entries[slot] = [key, u64::MAX];
            self.len += 1;
        }
        &mut entries[slot][1]
    }

    fn grow(&mut self) {
        let mut entries: LargeArray<PairEntry> = LargeArray::zeroed(self.entries.len() * 3 / 2);
        for &entry in self.entries.iter().filter(|entry| entry[0] != 0) {
            let slot = probe_pair(&entries, entry[0]);
            entries[slot] = entry;
        }
        self.entries = entries;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every n-gram of `tokens` with `min_n..=max_n` tokens that is a term, the slow way.
    fn expected(vocabulary: &Vocabulary, tokens: &[&str], min_n: usize, max_n: usize) -> Vec<u32> {
        let mut found: Vec<u32> = (min_n..=max_n)
            .flat_map(|n| tokens.windows(n))
            .filter_map(|window| vocabulary.get(&window.join(" ")))
            .collect();
        found.sort_unstable();
        found
    }

    fn lookup(index: &WordIndex, tokens: &[&str]) -> Vec<u32> {
        let text = tokens.join(" ");
        let mut spans = Vec::new();
        let mut start = 0;
        for token in tokens {
            spans.push((start, start + token.len()));
            start += token.len() + 1;
        }
        let mut found = Vec::new();
        index.lookup(text.as_bytes(), &spans, &mut WordScratch::default(), |f| found.push(f));
        found.sort_unstable();
        found
    }

    /// A small pseudo-random generator, so that the test is the same on every run.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn finds_the_same_ngrams_as_joining_tokens() {
        let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let mut state = 0x2545_f491_4f6c_dd1d;
        let mut terms: Vec<String> = Vec::new();
        for _ in 0..3_000 {
            let n = 1 + (next(&mut state) % 3) as usize;
            let term: Vec<&str> =
                (0..n).map(|_| words[(next(&mut state) % 40) as usize].as_str()).collect();
            terms.push(term.join(" "));
        }
        terms.sort();
        terms.dedup();
        let vocabulary = Vocabulary::from_terms(terms.iter().map(String::as_str)).unwrap();
        for (min_n, max_n) in [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 3)] {
            let index = WordIndex::new(&vocabulary, min_n, max_n).unwrap();
            for _ in 0..200 {
                let len = (next(&mut state) % 12) as usize;
                // Some tokens outside the vocabulary break n-grams.
                let tokens: Vec<&str> = (0..len)
                    .map(|_| match next(&mut state) % 45 {
                        i @ 0..40 => words[i as usize].as_str(),
                        _ => "unknown",
                    })
                    .collect();
                assert_eq!(
                    lookup(&index, &tokens),
                    expected(&vocabulary, &tokens, min_n, max_n),
                    "ngram_range ({min_n}, {max_n}), {tokens:?}"
                );
            }
        }
    }

    #[test]
    fn terms_no_document_can_produce_are_never_found() {
        let terms = ["a", "a b", " a", "a  b", "a b ", "a b c", ""];
        let vocabulary = Vocabulary::from_terms(terms).unwrap();
        let index = WordIndex::new(&vocabulary, 1, 2).unwrap();
        assert_eq!(lookup(&index, &["a", "b", "c"]), vec![0, 1]);
        assert_eq!(index.get("a b"), Some(1));
        assert_eq!(index.get("a b c"), None);
        assert_eq!(index.get(" a"), None);
    }

    #[test]
    fn duplicates_are_refused_with_both_indices() {
        let cases = [
            (["x", "a b", "a b"], "indices 1 and 2"),
            (["a", "x", "a"], "indices 0 and 2"),
            (["a  b", "x", "a  b"], "indices 0 and 2"),
        ];
        for (terms, indices) in cases {
            let vocabulary = Vocabulary::from_terms(terms).unwrap();
            let err = WordIndex::new(&vocabulary, 1, 2).unwrap_err();
            assert!(err.to_string().contains(indices), "{terms:?}: {err}");
        }
    }

    #[test]
    fn the_table_grows_past_the_entries_it_was_sized_for() {
        // Each trigram's first two tokens are an entry of their own, which the table was not
        // sized for: it has to grow twice over.
        let terms: Vec<String> = (0..2_000).map(|i| format!("a{i} b{i} c{i}")).collect();
        let vocabulary = Vocabulary::from_terms(terms.iter().map(String::as_str)).unwrap();
        let index = WordIndex::new(&vocabulary, 3, 3).unwrap();
        for (feature, term) in terms.iter().enumerate() {
            let tokens: Vec<&str> = term.split(' ').collect();
            assert_eq!(lookup(&index, &tokens), vec![feature as u32]);
            assert_eq!(index.get(term), Some(feature as u32));
        }
        assert_eq!(lookup(&index, &["a1", "b1", "c2"]), Vec::<u32>::new());
    }

    #[test]
    fn prefixes_that_are_not_terms_still_lead_to_longer_terms() {
        // "b c" is only the beginning of "b c d", and "c d" is not a term.
        let terms = ["b c d", "d"];
        let vocabulary = Vocabulary::from_terms(terms).unwrap();
        let index = WordIndex::new(&vocabulary, 1, 3).unwrap();
        assert_eq!(lookup(&index, &["a", "b", "c", "d"]), vec![0, 1]);
        assert_eq!(lookup(&index, &["b", "c"]), Vec::<u32>::new());
    }
}
