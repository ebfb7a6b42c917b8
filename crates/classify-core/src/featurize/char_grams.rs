//! A document's character n-grams as byte ranges of one buffer, for the `char` and `char_wb`
//! analyzers, without copying any n-gram.
//!
//! sklearn cuts character n-grams out of rewritten text: `char` out of the text with whitespace
//! runs collapsed, `char_wb` out of each word padded with a space on either side. The buffer
//! holds exactly those characters once: for `char_wb` the words joined by single spaces with a
//! space before the first and after the last, so that each padded word is a slice of it (two
//! neighbours share the space between them). Every n-gram is then a window of a *segment* (a
//! padded word, or the whole collapsed text), and is passed on as its place in the buffer.
//!
//! The order differs from sklearn's (all windows of one start, shortest first, rather than all
//! windows of one length): a feature row counts n-grams, so the order changes nothing. `analyze`
//! keeps sklearn's order through `analyzer::char_ngrams` / `char_wb_ngrams`.

use super::analyzer::{self, Span, TokenRule};
use super::pychar::is_space;

/// Zero bytes after the last character, so that a fixed-size read at any n-gram's start stays
/// inside the buffer: 8 for `char_index`'s word, `hashing::HASH_WINDOW` for a hashed n-gram.
pub(crate) const PADDING: usize = 20;
const _: () = assert!(PADDING >= 8 && PADDING >= super::hashing::HASH_WINDOW);

/// The buffer of one document; reused across documents.
#[derive(Debug, Default)]
pub(crate) struct CharText {
    /// The characters n-grams are cut from, then `PADDING` zero bytes.
    bytes: Vec<u8>,
    /// For a buffer that is not all ASCII: where each character starts in `bytes`, then where
    /// the last one ends. Empty for ASCII, where a character is a byte.
    starts: Vec<usize>,
    /// Character ranges whose windows are the n-grams.
    segments: Vec<Span>,
    /// `char_wb`'s words, as spans of the preprocessed text.
    words: Vec<Span>,
    /// `char_wb`: a segment shorter than `min_n` is one n-gram, whole (sklearn's short words).
    whole_short_segments: bool,
}

impl CharText {
    /// Bytes of capacity held, so that an outsized document's buffers can be let go.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.starts.capacity() * size_of::<usize>()
            + (self.segments.capacity() + self.words.capacity()) * size_of::<Span>()
    }

    /// The buffer, `PADDING` zero bytes included.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Prepares the n-grams of `char_wb` for the preprocessed `text`: sklearn's
    /// `_char_wb_ngrams` splits the text on whitespace (`str.split()`, after collapsing runs,
    /// which changes nothing for the split) and pads each word with one space on either side.
    pub(crate) fn char_wb(&mut self, text: &str) {
        self.clear();
        self.whole_short_segments = true;
        let CharText { bytes, segments, words, .. } = self;
        // Runs of non-space characters are the words; `\S` is the same in every Unicode.
        analyzer::tokenize_spans(text, TokenRule::NonSpaceRuns, None, words);
        let ascii = text.is_ascii();
        let mut chars = 0;
        for &(start, end) in words.iter() {
            let word = &text[start..end];
            let length = if ascii { word.len() } else { word.chars().count() };
            bytes.push(b' ');
            bytes.extend_from_slice(word.as_bytes());
            segments.push((chars, chars + length + 2));
            chars += length + 1;
        }
        if !words.is_empty() {
            bytes.push(b' ');
        }
        self.finish(ascii);
    }

    /// Prepares the n-grams of `char` for the preprocessed `text`: sklearn's `_char_ngrams`
    /// takes windows of the whole text after `collapse_whitespace`.
    pub(crate) fn char(&mut self, text: &str) {
        self.clear();
        self.whole_short_segments = false;
        let ascii = text.is_ascii();
        let bytes = &mut self.bytes;
        if ascii {
            let mut rest = text.as_bytes();
            while let Some((&byte, after)) = rest.split_first() {
                let run = rest.iter().take_while(|&&b| is_space(char::from(b))).count();
                if run >= 2 {
                    bytes.push(b' ');
                    rest = &rest[run..];
                } else {
                    bytes.push(byte);
                    rest = after;
                }
            }
        } else {
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                if is_space(c) && chars.peek().is_some_and(|&next| is_space(next)) {
                    while chars.next_if(|&next| is_space(next)).is_some() {}
                    bytes.push(b' ');
                } else {
                    bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
        }
        let length = if ascii { bytes.len() } else { 0 };
        self.segments.push((0, length));
        self.finish(ascii);
        if !ascii {
            // The whole text is the one segment: its length in characters is known now.
            self.segments[0].1 = self.starts.len() - 1;
        }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.starts.clear();
        self.segments.clear();
        self.words.clear();
    }

    /// Lists the character starts of a non-ASCII buffer, and pads it.
    fn finish(&mut self, ascii: bool) {
        if !ascii {
            // The buffer is built from whole characters of a `str`.
            let text = std::str::from_utf8(&self.bytes).unwrap_or_default();
            self.starts.extend(text.char_indices().map(|(offset, _)| offset));
            self.starts.push(self.bytes.len());
        }
        self.bytes.resize(self.bytes.len() + PADDING, 0);
    }

    /// Appends to `grams` the place in `bytes()` of n-grams of `min_n..=max_n` characters, as
    /// (start, length), from where `cursor` stands until `grams` holds at least `limit` of
    /// them or none is left, and moves `cursor` past them. Returns whether any is left. From a
    /// fresh cursor to the end, every n-gram comes once, in no particular order.
    pub(crate) fn next_grams(
        &self,
        cursor: &mut GramCursor,
        (min_n, max_n): (usize, usize),
        grams: &mut Vec<(usize, usize)>,
        limit: usize,
    ) -> bool {
        if self.starts.is_empty() {
            self.windows(cursor, (min_n, max_n), grams, limit, |char_index| char_index)
        } else {
            let starts = &self.starts[..];
            self.windows(cursor, (min_n, max_n), grams, limit, |char_index| starts[char_index])
        }
    }

    /// `next_grams`, with `offset` mapping a character index to its byte offset.
    #[inline(always)]
    fn windows(
        &self,
        cursor: &mut GramCursor,
        (min_n, max_n): (usize, usize),
        grams: &mut Vec<(usize, usize)>,
        limit: usize,
        offset: impl Fn(usize) -> usize,
    ) -> bool {
        let min_n = min_n.max(1);
        while let Some(&(first, end)) = self.segments.get(cursor.segment) {
            if end - first < min_n {
                if self.whole_short_segments {
                    grams.push((offset(first), offset(end) - offset(first)));
                }
            } else {
                let mut start = cursor.start.max(first);
                while start + min_n <= end {
                    if grams.len() >= limit {
                        cursor.start = start;
                        return true;
                    }
                    let byte = offset(start);
                    for n in min_n..=max_n.min(end - start) {
                        grams.push((byte, offset(start + n) - byte));
                    }
                    start += 1;
                }
            }
            cursor.segment += 1;
            cursor.start = 0;
        }
        false
    }

    #[cfg(test)]
    /// Calls `gram(start, length)` for every n-gram, as `next_grams` lists them; returns how
    /// many there were.
    pub(crate) fn for_each_gram(
        &self,
        min_n: usize,
        max_n: usize,
        mut gram: impl FnMut(usize, usize),
    ) -> usize {
        let (mut cursor, mut grams, mut count) = (GramCursor::default(), Vec::new(), 0);
        loop {
            grams.clear();
            // A small limit, so that the test crosses many batch boundaries.
            let more = self.next_grams(&mut cursor, (min_n, max_n), &mut grams, 3);
            grams.iter().for_each(|&(start, length)| gram(start, length));
            count += grams.len();
            if !more {
                return count;
            }
        }
    }
}

/// Where `CharText::next_grams` goes on from: a segment, and a character in it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct GramCursor {
    segment: usize,
    start: usize,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Texts that exercise sklearn's char analyzers: whitespace runs of every kind, words
    /// shorter than n, non-ASCII letters of 2, 3 and 4 bytes, Python-only spaces.
    pub(crate) const TORTURE: &[&str] = &[
        "",
        " ",
        "a",
        "ab",
        "  a  ",
        "a\tb",
        "a\t\tb\n",
        "x\u{1C}y\u{1F}\u{1F}z",
        "\u{85}lead\u{A0}and\u{2028}\u{2029}trail\u{3000}",
        "the quick  brown fox jumps over the lazy dog",
        "café naïve façade Ærøskøbing straße",
        "日本語のテキスト 中文 한국어",
        "emoji 😀😃 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and a\u{0}nul",
        "a b c d e f g h i j k l m n o p",
        "averyveryverylongwordthatgoesonandonforeverandeverwithoutanyspace",
        "\u{301}combining e\u{301} marks",
    ];

    /// Random texts over an alphabet with spaces of several kinds and multi-byte characters.
    pub(crate) fn random_texts(count: usize, seed: u64) -> Vec<String> {
        let alphabet = [
            "a", "b", "e", "t", " ", " ", " ", "  ", "\t", "\n", "\u{1F}", "é", "ß", "日", "😀",
            "\u{A0}", "\u{2003}", "x", "\u{0}", ".",
        ];
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let length = (next() % 40) as usize;
                (0..length).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect()
            })
            .collect()
    }

    fn sorted_grams(text: &CharText, min_n: usize, max_n: usize) -> Vec<String> {
        let mut grams = Vec::new();
        let count = text.for_each_gram(min_n, max_n, |start, length| {
            grams.push(String::from_utf8(text.bytes()[start..start + length].to_vec()).unwrap())
        });
        assert_eq!(count, grams.len());
        grams.sort();
        grams
    }

    /// `analyzer::char_ngrams` or `char_wb_ngrams`.
    type Analyze = fn(&str, usize, usize, &mut dyn FnMut(&str));

    fn reference(analyze: Analyze, text: &str, min_n: usize, max_n: usize) -> Vec<String> {
        let mut grams = Vec::new();
        analyze(text, min_n, max_n, &mut |gram| grams.push(gram.to_owned()));
        grams.sort();
        grams
    }

    #[test]
    fn the_same_grams_as_sklearns_order_on_torture_and_random_texts() {
        let wb: Analyze = |t, a, b, emit| analyzer::char_wb_ngrams(t, a, b, emit);
        let plain: Analyze = |t, a, b, emit| analyzer::char_ngrams(t, a, b, emit);
        let texts: Vec<String> = TORTURE
            .iter()
            .map(|t| t.to_string())
            .chain(random_texts(400, 0x9e37_79b9_7f4a_7c15))
            .collect();
        let mut buffer = CharText::default();
        for text in &texts {
            for (min_n, max_n) in [(1, 1), (1, 3), (2, 5), (3, 3), (4, 7), (5, 5), (2, 12)] {
                buffer.char_wb(text);
                assert_eq!(
                    sorted_grams(&buffer, min_n, max_n),
                    reference(wb, text, min_n, max_n),
                    "char_wb ({min_n}, {max_n}) {text:?}"
                );
                buffer.char(text);
                assert_eq!(
                    sorted_grams(&buffer, min_n, max_n),
                    reference(plain, text, min_n, max_n),
                    "char ({min_n}, {max_n}) {text:?}"
                );
            }
        }
    }

    #[test]
    fn the_buffer_is_padded_with_zeros() {
        let mut buffer = CharText::default();
        buffer.char_wb("ab cd");
        assert_eq!(&buffer.bytes()[..7], b" ab cd ");
        assert!(buffer.bytes()[7..].iter().all(|&b| b == 0));
        assert_eq!(buffer.bytes().len(), 7 + PADDING);
    }
}
