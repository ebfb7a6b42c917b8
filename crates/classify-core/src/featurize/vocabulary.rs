//! The term → feature index map of a count vectorizer, stored as two flat arrays (all terms'
//! bytes, and where each term ends) plus an open-addressing table of term indices. Nothing is
//! allocated per term, so a million-term vocabulary loads in milliseconds, costs little memory,
//! and is shared copy-on-write by every Apache child.

use crate::error::ModelError;

#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// Every term's UTF-8 bytes, in feature-index order.
    text: String,
    /// `ends[i]` is the byte offset in `text` where term `i` ends (term `i` starts at `ends[i-1]`).
    ends: Vec<u32>,
    /// Open addressing with linear probing: `slot = term index + 1`, 0 = empty. Power-of-two size,
    /// at most half full.
    slots: Vec<u32>,
}

impl Vocabulary {
    /// Builds from terms in index order, refusing duplicates.
    pub fn from_terms<'a>(terms: impl IntoIterator<Item = &'a str>) -> Result<Self, ModelError> {
        let mut text = String::new();
        let mut ends = Vec::new();
        for term in terms {
            text.push_str(term);
            ends.push(end_offset(text.len())?);
        }
        Vocabulary::from_parts(text, ends)
    }

    /// Builds from the flat arrays of a binary model file, checking them.
    pub fn from_parts(text: String, ends: Vec<u32>) -> Result<Self, ModelError> {
        let mut start = 0usize;
        for (index, &end) in ends.iter().enumerate() {
            let end = end as usize;
            if end < start || end > text.len() || !text.is_char_boundary(end) {
                return Err(ModelError::invalid(
                    "vocabulary",
                    format!(
                        "term {index} ends at byte {end}, outside the term text or mid-character"
                    ),
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
        let size = (ends.len() * 2).next_power_of_two().max(16);
        let mut vocabulary = Vocabulary { text, ends, slots: vec![0; size] };
        for index in 0..vocabulary.ends.len() {
            vocabulary.insert(index)?;
        }
        Ok(vocabulary)
    }

    /// The feature index of `term`, if it is in the vocabulary.
    pub fn get(&self, term: &str) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut slot = term_hash(term.as_bytes()) as usize & mask;
        loop {
            match self.slots[slot] {
                0 => return None,
                entry if self.term(entry as usize - 1) == term => return Some(entry - 1),
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    /// The term of feature `index`.
    pub fn term(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.ends[index - 1] as usize };
        &self.text[start..self.ends[index] as usize]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The flat arrays, for writing a binary model file.
    pub fn parts(&self) -> (&str, &[u32]) {
        (&self.text, &self.ends)
    }

    fn insert(&mut self, index: usize) -> Result<(), ModelError> {
        let term = self.term(index);
        let mask = self.slots.len() - 1;
        let mut slot = term_hash(term.as_bytes()) as usize & mask;
        loop {
            match self.slots[slot] {
                0 => {
                    self.slots[slot] = index as u32 + 1;
                    return Ok(());
                }
                entry if self.term(entry as usize - 1) == term => {
                    return Err(ModelError::invalid(
                        "vectorizer.vocabulary",
                        format!("term {term:?} appears twice (indices {} and {index})", entry - 1),
                    ));
                }
                _ => slot = (slot + 1) & mask,
            }
        }
    }
}

fn end_offset(length: usize) -> Result<u32, ModelError> {
    u32::try_from(length).map_err(|_| {
        ModelError::invalid("vectorizer.vocabulary", "terms total more than 4 GiB of text")
    })
}

/// FxHash-style word-at-a-time hash: fast on short n-grams, and only used in memory.
fn term_hash(bytes: &[u8]) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut hash: u64 = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let value = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        hash = (hash.rotate_left(5) ^ value).wrapping_mul(SEED);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    hash = (hash.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(SEED);
    // Fold the high bits down: the table index uses the low bits.
    hash ^ (hash >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_term_and_nothing_else() {
        let terms = ["good", "good phone", "bad", "", "phone", "日本語"];
        let vocabulary = Vocabulary::from_terms(terms).unwrap();
        for (index, term) in terms.iter().enumerate() {
            assert_eq!(vocabulary.get(term), Some(index as u32), "{term:?}");
            assert_eq!(vocabulary.term(index), *term);
        }
        assert_eq!(vocabulary.get("goo"), None);
        assert_eq!(vocabulary.get("good phone "), None);
    }

    #[test]
    fn duplicates_are_refused_with_both_indices() {
        let err = Vocabulary::from_terms(["a", "b", "a"]).unwrap_err();
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
    fn large_vocabularies_stay_findable() {
        let terms: Vec<String> = (0..100_000).map(|i| format!("term{i}")).collect();
        let vocabulary = Vocabulary::from_terms(terms.iter().map(String::as_str)).unwrap();
        assert!(terms.iter().enumerate().all(|(i, t)| vocabulary.get(t) == Some(i as u32)));
    }
}
