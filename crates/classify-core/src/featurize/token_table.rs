//! Token → token id, for `WordIndex`: the first lookup of every token of a document.
//!
//! Nearly every token is at most 16 bytes long. Those are kept inline in their slot, as two
//! zero-padded 8-byte words and the length, so a lookup reads two words of the document's text,
//! hashes them without a loop or a branch on the length, and compares three integers in the one
//! cache line it loaded. The few longer tokens live in a `Vocabulary`, looked up by their bytes.

use super::vocabulary::{read_u64, Vocabulary};
use crate::error::ModelError;
use crate::large_array::LargeArray;

/// Tokens up to this many bytes are stored inline.
pub(crate) const INLINE_BYTES: usize = 16;

/// `[first word, second word, length << 32 | (id + 1), unused]`; 0 in the third word marks an
/// empty slot. Four words, so that a slot never straddles two cache lines.
pub(crate) type Slot = [u64; 4];

#[derive(Debug, Clone)]
pub(crate) struct TokenTable {
    /// Power-of-two size, at most half full, linear probing.
    inline: LargeArray<Slot>,
    /// The tokens longer than `INLINE_BYTES`; `long_ids[i]` is the id of its term `i`.
    long: Vocabulary,
    long_ids: Vec<u32>,
    len: usize,
}

impl TokenTable {
    #[cfg(test)]
    /// Token `i` of `tokens` gets id `i`. Tokens must be distinct.
    pub(crate) fn new(tokens: &[&[u8]]) -> Result<Self, ModelError> {
        let mut builder = TokenTableBuilder::default();
        for (index, token) in tokens.iter().enumerate() {
            if builder.id(token) as usize != index {
                return Err(ModelError::invalid(
                    "vectorizer.vocabulary",
                    format!("token {:?} listed twice", String::from_utf8_lossy(token)),
                ));
            }
        }
        builder.finish()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The id of `token`, if it is in the table.
    pub(crate) fn get(&self, token: &[u8]) -> Option<u32> {
        if token.len() > INLINE_BYTES {
            return self
                .long
                .get(std::str::from_utf8(token).ok()?)
                .map(|i| self.long_ids[i as usize]);
        }
        let (words, len) = padded_words(token);
        self.find_inline(words, len)
    }

    /// Pushes onto `ids` the id of each token of `tokens` (spans of `text`), or `u32::MAX` for a
    /// token not in the table. Fastest when `text` goes on for `INLINE_BYTES` bytes past the last
    /// token (the words of a short token are then read in place).
    pub(crate) fn lookup_each(&self, text: &[u8], tokens: &[(usize, usize)], ids: &mut Vec<u32>) {
        for &(start, end) in tokens {
            let len = end - start;
            let id = match text.get(start..start + INLINE_BYTES) {
                Some(window) if len <= INLINE_BYTES => {
                    let words = [
                        read_u64(&window[..8]) & LOW_BYTES[len.min(8)],
                        read_u64(&window[8..]) & LOW_BYTES[len.saturating_sub(8)],
                    ];
                    self.find_inline(words, len as u64)
                }
                _ => self.get(&text[start..end]),
            };
            ids.push(id.unwrap_or(u32::MAX));
        }
    }

    /// The inline slots, as the binary model file stores them.
    pub(crate) fn inline_slots(&self) -> &[Slot] {
        &self.inline
    }

    /// The tokens longer than `INLINE_BYTES`, with their ids.
    pub(crate) fn long_tokens(&self) -> impl Iterator<Item = (&[u8], u32)> {
        self.long.terms_bytes().zip(self.long_ids.iter().copied())
    }

    /// A table of `len` tokens from stored parts (the binary model file's), checked so that
    /// every lookup ends and every id it gives is below `len`. `field` names the parts in errors.
    pub(crate) fn from_stored(
        inline: LargeArray<Slot>,
        long_tokens: Vec<(&str, u32)>,
        len: usize,
        field: &str,
    ) -> Result<Self, ModelError> {
        let invalid = |reason: String| ModelError::invalid(field, reason);
        if !inline.len().is_power_of_two() {
            return Err(invalid(format!("{} inline slots, not a power of two", inline.len())));
        }
        let mut used = 0;
        for (index, slot) in inline.iter().enumerate() {
            let Some(id) = slot_id(*slot) else { continue };
            let token_len = slot[2] >> 32;
            let padding_is_zero = token_len >= 1
                && token_len <= INLINE_BYTES as u64
                && slot[0] & !LOW_BYTES[token_len.min(8) as usize] == 0
                && slot[1] & !LOW_BYTES[token_len.saturating_sub(8) as usize] == 0;
            if id as usize >= len || !padding_is_zero {
                return Err(invalid(format!("inline slot {index} holds no valid token")));
            }
            used += 1;
        }
        // Half full at most, as the builder leaves it, so that every probe meets an empty slot.
        if used * 2 > inline.len() {
            return Err(invalid(format!("{used} of {} inline slots used", inline.len())));
        }
        if let Some((token, id)) = long_tokens
            .iter()
            .find(|(token, id)| token.len() <= INLINE_BYTES || *id as usize >= len)
        {
            return Err(invalid(format!("long token {token:?} with id {id}")));
        }
        let mut long = Vocabulary::from_terms(long_tokens.iter().map(|&(token, _)| token))?;
        long.index_bytes()?;
        let long_ids = long_tokens.iter().map(|&(_, id)| id).collect();
        Ok(TokenTable { inline, long, long_ids, len })
    }

    #[inline]
    fn find_inline(&self, words: [u64; 2], len: u64) -> Option<u32> {
        let slots: &[Slot] = &self.inline;
        slot_id(slots[probe_inline(slots, words, len)])
    }
}

/// Gives each distinct token an id, in order of first appearance, then becomes the table.
pub(crate) struct TokenTableBuilder<'t> {
    inline: LargeArray<Slot>,
    inline_len: usize,
    long: rustc_hash::FxHashMap<&'t [u8], u32>,
    long_list: Vec<&'t [u8]>,
    len: usize,
}

impl Default for TokenTableBuilder<'_> {
    fn default() -> Self {
        TokenTableBuilder {
            inline: LargeArray::zeroed(1024),
            inline_len: 0,
            long: Default::default(),
            long_list: Vec::new(),
            len: 0,
        }
    }
}

impl<'t> TokenTableBuilder<'t> {
    /// The id of `token`, a new one if it is new.
    pub(crate) fn id(&mut self, token: &'t [u8]) -> u32 {
        if token.len() > INLINE_BYTES {
            let next = self.len as u32;
            let id = *self.long.entry(token).or_insert(next);
            if id == next {
                self.long_list.push(token);
                self.len += 1;
            }
            return id;
        }
        if (self.inline_len + 1) * 2 > self.inline.len() {
            self.grow();
        }
        let (words, len) = padded_words(token);
        let slots: &mut [Slot] = &mut self.inline;
        let slot = probe_inline(slots, words, len);
        if let Some(id) = slot_id(slots[slot]) {
            return id;
        }
        let id = self.len as u32;
        slots[slot] = [words[0], words[1], len << 32 | (u64::from(id) + 1), 0];
        self.inline_len += 1;
        self.len += 1;
        id
    }

    /// The number of distinct tokens so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn grow(&mut self) {
        let mut inline: LargeArray<Slot> = LargeArray::zeroed(self.inline.len() * 2);
        for &entry in self.inline.iter().filter(|slot| slot[2] != 0) {
            let slot = probe_inline(&inline, [entry[0], entry[1]], entry[2] >> 32);
            inline[slot] = entry;
        }
        self.inline = inline;
    }

    pub(crate) fn finish(self) -> Result<TokenTable, ModelError> {
        // Parts of valid UTF-8 terms, cut at spaces, are valid UTF-8.
        let long_terms = self.long_list.iter().map(|t| std::str::from_utf8(t).unwrap_or_default());
        let mut long = Vocabulary::from_terms(long_terms)?;
        long.index_bytes()?;
        let long_ids = self.long_list.iter().map(|token| self.long[token]).collect();
        Ok(TokenTable { inline: self.inline, long, long_ids, len: self.len })
    }
}

/// `LOW_BYTES[k]` keeps the low `k` bytes of a little-endian word.
const LOW_BYTES: [u64; 9] = {
    let mut masks = [u64::MAX; 9];
    let mut k = 0;
    while k < 8 {
        masks[k] = (1u64 << (8 * k)) - 1;
        k += 1;
    }
    masks
};

/// A short token as two zero-padded little-endian words, and its length.
fn padded_words(token: &[u8]) -> ([u64; 2], u64) {
    let mut bytes = [0u8; INLINE_BYTES];
    bytes[..token.len()].copy_from_slice(token);
    ([read_u64(&bytes[..8]), read_u64(&bytes[8..])], token.len() as u64)
}

/// The slot holding the token with these words and length, or else the empty slot that ends
/// its probe sequence.
#[inline]
fn probe_inline(slots: &[Slot], words: [u64; 2], len: u64) -> usize {
    let mask = slots.len() - 1;
    let mut slot = slot_of(words, len, mask);
    loop {
        let [first, second, length_and_id, _] = slots[slot];
        if length_and_id == 0
            || first == words[0] && second == words[1] && length_and_id >> 32 == len
        {
            return slot;
        }
        slot = (slot + 1) & mask;
    }
}

/// The id held by a slot, or `None` for an empty one.
fn slot_id(slot: Slot) -> Option<u32> {
    (slot[2] != 0).then(|| (slot[2] as u32).wrapping_sub(1))
}

fn slot_of(words: [u64; 2], len: u64, mask: usize) -> usize {
    let mixed = (words[0] ^ words[1].rotate_left(29) ^ len.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_mul(0xbf58_476d_1ce4_e5b9);
    (mixed ^ mixed >> 31) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_token_of_every_length_and_nothing_else() {
        let tokens: Vec<String> = (0..40)
            .map(|len| (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect())
            .chain(["x\0".to_string(), "x".to_string(), "日本語".to_string()])
            .collect();
        let bytes: Vec<&[u8]> = tokens.iter().map(String::as_bytes).collect();
        let table = TokenTable::new(&bytes).unwrap();
        assert_eq!(table.len(), tokens.len());
        for (id, token) in bytes.iter().enumerate() {
            assert_eq!(table.get(token), Some(id as u32), "{token:?}");
        }
        assert_eq!(table.get(b"y"), None);
        assert_eq!(table.get(b"abcdefghijklmnopq "), None);
        assert_eq!(table.get(b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq"), None);

        // The same tokens in a text, with and without room to read past the last one.
        let mut text = Vec::new();
        let mut spans = Vec::new();
        for token in &bytes {
            spans.push((text.len(), text.len() + token.len()));
            text.extend_from_slice(token);
            text.push(b' ');
        }
        let expected: Vec<u32> = (0..bytes.len() as u32).collect();
        for padding in [0, INLINE_BYTES] {
            let mut padded = text.clone();
            padded.resize(text.len() + padding, 0);
            let mut ids = Vec::new();
            table.lookup_each(&padded, &spans, &mut ids);
            assert_eq!(ids, expected, "padding {padding}");
        }
        let mut ids = Vec::new();
        table.lookup_each(b"abc abd", &[(0, 3), (4, 7)], &mut ids);
        assert_eq!(ids, vec![3, u32::MAX]);
    }

    #[test]
    fn a_token_listed_twice_is_refused() {
        assert!(TokenTable::new(&[b"ab", b"cd", b"ab"]).is_err());
    }
}
