//! sklearn's analyzer stages, one function each, mirroring `sklearn/feature_extraction/text.py`:
//! preprocess (lowercase, then strip accents) → tokenize → stop words → n-grams, or the character
//! n-gram analyzers. Each stage is public so the golden tests can compare it with sklearn's.

use unicode_normalization::{char::canonical_combining_class, UnicodeNormalization};

use super::pychar::{is_space, is_word_char_in, AsciiSet, UnicodeVersion};

/// How accents are removed, as sklearn's `strip_accents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StripAccents {
    /// NFKD, then drop every non-ASCII character.
    Ascii,
    /// NFKD, then drop combining characters; unchanged if NFKD changed nothing.
    Unicode,
}

/// The tokenizers whose `token_pattern` has an exact equivalent here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenRule {
    /// `\b\w{min_len,}\b` style patterns: maximal runs of Python word characters of at least
    /// `min_len` characters (sklearn's default `(?u)\b\w\w+\b` has `min_len` 2).
    WordRuns { min_len: usize },
    /// `\S+`: maximal runs of non-space characters.
    NonSpaceRuns,
}

impl TokenRule {
    /// Maps a Python `token_pattern` to its rule, or `None` if it has no exact equivalent.
    pub(crate) fn from_pattern(pattern: &str) -> Option<TokenRule> {
        let body = pattern.strip_prefix("(?u)").unwrap_or(pattern);
        match body {
            r"\b\w\w+\b" => Some(TokenRule::WordRuns { min_len: 2 }),
            r"\b\w+\b" | r"\w+" => Some(TokenRule::WordRuns { min_len: 1 }),
            r"\b\w\w\w+\b" => Some(TokenRule::WordRuns { min_len: 3 }),
            r"\S+" | r"[^\s]+" => Some(TokenRule::NonSpaceRuns),
            _ => None,
        }
    }
}

/// A byte range of a text: one token or one n-gram.
pub(crate) type Span = (usize, usize);

/// `preprocess`, appending to `out`. ASCII text, the common case, is lowercased byte by byte:
/// Python's `str.lower()` and both accent strippers agree with that on ASCII.
pub(crate) fn preprocess_into(
    text: &str,
    lowercase: bool,
    strip_accents: Option<StripAccents>,
    unicode: Option<UnicodeVersion>,
    out: &mut String,
) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        if lowercase {
            out[start..].make_ascii_lowercase();
        }
    } else {
        out.push_str(&preprocess(text, lowercase, strip_accents, unicode));
    }
}

/// sklearn's preprocessing: `str.lower()` first, then the accent stripper, as the Python of
/// Unicode `unicode` does them (`None`: the core's own, newer, tables).
pub fn preprocess(
    text: &str,
    lowercase: bool,
    strip_accents: Option<StripAccents>,
    unicode: Option<UnicodeVersion>,
) -> String {
    let Some(version) = unicode.filter(|version| !text.chars().all(|c| version.has(c))) else {
        return preprocess_known(text, lowercase, strip_accents);
    };
    // Characters that Python's Unicode lacks are caseless, are their own NFKD and have combining
    // class 0 there: they stay as they are, except that the ASCII stripper drops them as it drops
    // any non-ASCII character. The runs between them are preprocessed as usual; Python's final
    // sigma and canonical reordering stop at such a character as they stop at a run's end.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let known = rest.find(|c| !version.has(c)).unwrap_or(rest.len());
        out.push_str(&preprocess_known(&rest[..known], lowercase, strip_accents));
        rest = &rest[known..];
        let unknown = rest.find(|c| version.has(c)).unwrap_or(rest.len());
        if strip_accents != Some(StripAccents::Ascii) {
            out.push_str(&rest[..unknown]);
        }
        rest = &rest[unknown..];
    }
    out
}

/// `preprocess` of text whose characters Python's Unicode has.
fn preprocess_known(text: &str, lowercase: bool, strip_accents: Option<StripAccents>) -> String {
    let lowered = if lowercase { text.to_lowercase() } else { text.to_owned() };
    match strip_accents {
        None => lowered,
        Some(StripAccents::Ascii) => lowered.nfkd().filter(char::is_ascii).collect(),
        Some(StripAccents::Unicode) => strip_accents_unicode(&lowered),
    }
}

/// `sklearn.feature_extraction.text.strip_accents_unicode` (sklearn >= 0.22): an ASCII string is
/// returned as is; any other is NFKD-decomposed and every combining character (canonical combining
/// class != 0) dropped, including marks that were already decomposed in the input.
pub(crate) fn strip_accents_unicode(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    text.nfkd().filter(|&c| canonical_combining_class(c) == 0).collect()
}

#[cfg(test)]
/// Splits preprocessed text into tokens with the given rule, in order of appearance, with the
/// character classes of the Python of Unicode `unicode` (`None`: the core's own tables).
pub(crate) fn tokenize(text: &str, rule: TokenRule, unicode: Option<UnicodeVersion>) -> Vec<&str> {
    let mut spans = Vec::new();
    tokenize_spans(text, rule, unicode, &mut spans);
    spans.into_iter().map(|(start, end)| &text[start..end]).collect()
}

/// `tokenize`, appending each token's span of `text` to `tokens`.
pub(crate) fn tokenize_spans(
    text: &str,
    rule: TokenRule,
    unicode: Option<UnicodeVersion>,
    tokens: &mut Vec<Span>,
) {
    let (min_len, token_bytes) = match rule {
        TokenRule::WordRuns { min_len } => (min_len, AsciiSet::WORD),
        TokenRule::NonSpaceRuns => (1, AsciiSet::NON_SPACE),
    };
    if text.is_ascii() {
        ascii_token_spans(text.as_bytes(), token_bytes, min_len, tokens);
        return;
    }
    match rule {
        // Every character, assigned or not, is either a space or not: `\S` needs no version.
        TokenRule::NonSpaceRuns => char_token_spans(text, |c| !is_space(c), min_len, tokens),
        TokenRule::WordRuns { .. } => {
            char_token_spans(text, |c| is_word_char_in(c, unicode), min_len, tokens)
        }
    }
}

/// `tokenize_spans` on any text, a character at a time.
fn char_token_spans(
    text: &str,
    is_token_char: impl Fn(char) -> bool,
    min_len: usize,
    tokens: &mut Vec<Span>,
) {
    let mut start: Option<(usize, usize)> = None; // (byte offset, chars so far)
    for (offset, c) in text.char_indices() {
        match (is_token_char(c), start.as_mut()) {
            (true, Some((_, count))) => *count += 1,
            (true, None) => start = Some((offset, 1)),
            (false, Some(&mut (begin, count))) => {
                if count >= min_len {
                    tokens.push((begin, offset));
                }
                start = None;
            }
            (false, None) => {}
        }
    }
    if let Some((begin, count)) = start {
        if count >= min_len {
            tokens.push((begin, text.len()));
        }
    }
}

/// `tokenize_spans` on ASCII text, where a character is a byte. Runs are found 64 bytes at a
/// time: a bit per byte says whether it belongs to a token, and the bits where that changes are
/// where tokens start and end, so the work is per token rather than a branch per byte.
fn ascii_token_spans(bytes: &[u8], token_bytes: &AsciiSet, min_len: usize, tokens: &mut Vec<Span>) {
    let mut open_token: Option<usize> = None;
    let mut previous_is_token = 0u64;
    for (block_index, block) in bytes.chunks(64).enumerate() {
        let mut words = block.chunks_exact(8);
        let mut members = 0u64;
        for (i, word) in (&mut words).enumerate() {
            let word = u64::from_le_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]);
            members |= token_bytes.word_bits(word) << (8 * i);
        }
        let tail_start = block.len() - words.remainder().len();
        for (i, &byte) in words.remainder().iter().enumerate() {
            members |= token_bytes.bit(byte) << (tail_start + i);
        }
        let valid = if block.len() == 64 { u64::MAX } else { (1 << block.len()) - 1 };
        let mut changes = (members ^ (members << 1 | previous_is_token)) & valid;
        previous_is_token = (members >> (block.len() - 1)) & 1;
        while changes != 0 {
            let at = block_index * 64 + changes.trailing_zeros() as usize;
            changes &= changes - 1;
            match open_token.take() {
                None => open_token = Some(at),
                Some(start) if at - start >= min_len => tokens.push((start, at)),
                Some(_) => {}
            }
        }
    }
    if let Some(start) = open_token {
        if bytes.len() - start >= min_len {
            tokens.push((start, bytes.len()));
        }
    }
}

/// sklearn's `_word_ngrams` (after stop words are removed): n-grams of `min_n..=max_n` tokens
/// joined with one space, unigrams first, then bigrams, and so on; each is appended to `grams` as
/// a span of `text`. Most n-grams are slices of the text already (their tokens are one space
/// apart), so only the others are joined, at the end of `text`, past its original length.
pub(crate) fn word_ngram_spans(
    text: &mut String,
    tokens: &[Span],
    min_n: usize,
    max_n: usize,
    grams: &mut Vec<Span>,
) {
    for n in min_n.max(1)..=max_n {
        if n > tokens.len() {
            break;
        }
        for window in tokens.windows(n) {
            let one_space_apart =
                window.windows(2).all(|pair| text.as_bytes()[pair[0].1..pair[1].0] == *b" ");
            if one_space_apart {
                grams.push((window[0].0, window[n - 1].1));
                continue;
            }
            let start = text.len();
            for (i, &(token_start, token_end)) in window.iter().enumerate() {
                if i > 0 {
                    text.push(' ');
                }
                text.extend_from_within(token_start..token_end);
            }
            grams.push((start, text.len()));
        }
    }
}

/// sklearn's `_white_spaces.sub(" ", text)`: every run of two or more Python spaces becomes one
/// space; a single space character (a lone tab, say) is kept as it is.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_space(chars[i]) && i + 1 < chars.len() && is_space(chars[i + 1]) {
            while i < chars.len() && is_space(chars[i]) {
                i += 1;
            }
            out.push(' ');
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// sklearn's `_char_ngrams` on already preprocessed text.
pub(crate) fn char_ngrams(text: &str, min_n: usize, max_n: usize, mut emit: impl FnMut(&str)) {
    let text = collapse_whitespace(text);
    let boundaries: Vec<usize> =
        text.char_indices().map(|(offset, _)| offset).chain([text.len()]).collect();
    let length = boundaries.len() - 1;
    for n in min_n.max(1)..=max_n.min(length) {
        for start in 0..=(length - n) {
            emit(&text[boundaries[start]..boundaries[start + n]]);
        }
    }
}

/// sklearn's `_char_wb_ngrams`: n-grams inside words padded with one space on each side; a padded
/// word shorter than `n` is emitted once, whole.
pub(crate) fn char_wb_ngrams(text: &str, min_n: usize, max_n: usize, mut emit: impl FnMut(&str)) {
    let text = collapse_whitespace(text);
    let mut padded = String::new();
    for word in text.split(is_space).filter(|w| !w.is_empty()) {
        padded.clear();
        padded.push(' ');
        padded.push_str(word);
        padded.push(' ');
        let boundaries: Vec<usize> =
            padded.char_indices().map(|(offset, _)| offset).chain([padded.len()]).collect();
        let length = boundaries.len() - 1;
        for n in min_n..=max_n {
            // Mirrors sklearn's loop: the first window is always emitted, even if shorter than n.
            let mut offset = 0;
            emit(&padded[boundaries[0]..boundaries[n.min(length)]]);
            while offset + n < length {
                offset += 1;
                emit(&padded[boundaries[offset]..boundaries[offset + n]]);
            }
            // A word that fit in one window is counted once, not once per larger n.
            if offset == 0 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::featurize::pychar::is_word_char;

    fn collect(f: impl FnOnce(&mut dyn FnMut(&str))) -> Vec<String> {
        let mut out = Vec::new();
        f(&mut |s: &str| out.push(s.to_owned()));
        out
    }

    #[test]
    fn default_pattern_keeps_runs_of_two_or_more_word_chars() {
        let rule = TokenRule::from_pattern(r"(?u)\b\w\w+\b").unwrap();
        assert_eq!(tokenize("a bc, d_e 1 22", rule, None), vec!["bc", "d_e", "22"]);
    }

    #[test]
    fn ascii_runs_match_the_character_loop_across_64_byte_blocks() {
        let alphabet = [b'a', b'Z', b'7', b'_', b' ', b'-', b'\t', 0x1F, b'.'];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for length in (0..140).chain([191, 192, 193, 300]) {
            for _ in 0..20 {
                let text: String = (0..length)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        char::from(alphabet[(state % alphabet.len() as u64) as usize])
                    })
                    .collect();
                for (token_bytes, is_token_char, min_len) in [
                    (AsciiSet::WORD, is_word_char as fn(char) -> bool, 2),
                    (AsciiSet::WORD, is_word_char, 1),
                    (AsciiSet::NON_SPACE, |c| !is_space(c), 1),
                ] {
                    let (mut fast, mut reference) = (Vec::new(), Vec::new());
                    ascii_token_spans(text.as_bytes(), token_bytes, min_len, &mut fast);
                    char_token_spans(&text, is_token_char, min_len, &mut reference);
                    assert_eq!(fast, reference, "{text:?}, min_len {min_len}");
                }
            }
        }
    }

    #[test]
    fn combining_mark_splits_a_token() {
        let rule = TokenRule::WordRuns { min_len: 2 };
        // "cafe" + COMBINING ACUTE + "xy": the mark is not \w, so it ends the first token.
        assert_eq!(tokenize("cafe\u{301}xy", rule, None), vec!["cafe", "xy"]);
    }

    #[test]
    fn unknown_token_patterns_are_refused() {
        assert_eq!(TokenRule::from_pattern(r"[a-z]+"), None);
    }

    #[test]
    fn lowercase_handles_final_sigma() {
        assert_eq!(preprocess("ΟΔΟΣ", true, None, None), "οδος");
    }

    #[test]
    fn strip_accents_unicode_drops_already_decomposed_marks() {
        // sklearn 0.22+ strips marks even when NFKD changes nothing (the pre-0.22 bug kept them).
        assert_eq!(strip_accents_unicode("e\u{301}"), "e");
        assert_eq!(strip_accents_unicode("\u{301}"), "");
        assert_eq!(strip_accents_unicode("\u{e9}"), "e");
        // Devanagari: the virama (combining class 9) goes, spacing vowel signs (class 0) stay.
        assert_eq!(
            strip_accents_unicode("\u{939}\u{93f}\u{928}\u{94d}\u{926}\u{940}"),
            "\u{939}\u{93f}\u{928}\u{926}\u{940}"
        );
        assert_eq!(strip_accents_unicode("plain ascii"), "plain ascii");
    }

    #[test]
    fn strip_accents_ascii_drops_what_has_no_ascii_form() {
        assert_eq!(preprocess("Ñandú 東京", false, Some(StripAccents::Ascii), None), "Nandu ");
    }

    // U+1C89 CYRILLIC CAPITAL LETTER TJE (lowercase U+1C8A) arrived in Unicode 16.0, U+1E030
    // MODIFIER LETTER CYRILLIC SMALL A in 15.0: Python 3.11 (Unicode 14.0) has neither.
    const PYTHON_3_11: Option<UnicodeVersion> = Some(UnicodeVersion::new(14, 0));

    #[test]
    fn characters_newer_than_the_models_python_are_not_word_characters() {
        let rule = TokenRule::WordRuns { min_len: 2 };
        assert_eq!(tokenize("ab\u{1E030}cd", rule, None), vec!["ab\u{1E030}cd"]);
        assert_eq!(tokenize("ab\u{1E030}cd", rule, PYTHON_3_11), vec!["ab", "cd"]);
        let non_space = TokenRule::NonSpaceRuns;
        assert_eq!(tokenize("ab\u{1E030} cd", non_space, PYTHON_3_11), vec!["ab\u{1E030}", "cd"]);
    }

    #[test]
    fn characters_newer_than_the_models_python_keep_their_case_and_form() {
        assert_eq!(preprocess("Ab\u{1C89}Σ", true, None, None), "ab\u{1C8A}ς");
        // Python 3.11 cannot lowercase TJE; the sigma before it still ends a word.
        assert_eq!(preprocess("AΣ\u{1C89}Σ", true, None, PYTHON_3_11), "aς\u{1C89}σ");
        assert_eq!(preprocess("Ab\u{1C89}Σ", true, None, PYTHON_3_11), "ab\u{1C89}σ");
        let unicode = Some(StripAccents::Unicode);
        assert_eq!(preprocess("É\u{1C89}é", true, unicode, PYTHON_3_11), "e\u{1C89}e");
        let ascii = Some(StripAccents::Ascii);
        assert_eq!(preprocess("É\u{1C89}é", false, ascii, PYTHON_3_11), "Ee");
        assert_eq!(
            preprocess("É\u{1C89}é", false, None, Some(UnicodeVersion::new(16, 0))),
            "É\u{1C89}é"
        );
    }

    fn word_ngrams(text: &str, min_n: usize, max_n: usize) -> Vec<String> {
        let mut text = text.to_owned();
        let (mut tokens, mut grams) = (Vec::new(), Vec::new());
        tokenize_spans(&text, TokenRule::WordRuns { min_len: 1 }, None, &mut tokens);
        word_ngram_spans(&mut text, &tokens, min_n, max_n, &mut grams);
        grams.iter().map(|&(start, end)| text[start..end].to_owned()).collect()
    }

    #[test]
    fn word_bigrams_join_with_one_space_after_unigrams() {
        assert_eq!(word_ngrams("a b c", 1, 2), vec!["a", "b", "c", "a b", "b c"]);
    }

    #[test]
    fn word_ngrams_of_tokens_not_one_space_apart_are_joined_with_one_space() {
        let got = word_ngrams("a,  b\tc d", 2, 3);
        assert_eq!(got, vec!["a b", "b c", "c d", "a b c", "b c d"]);
    }

    #[test]
    fn word_ngrams_longer_than_the_text_are_skipped() {
        assert!(word_ngrams("a", 2, 3).is_empty());
    }

    #[test]
    fn collapse_whitespace_keeps_single_tabs() {
        assert_eq!(collapse_whitespace("a\tb  c\n\n"), "a\tb c ");
    }

    #[test]
    fn char_ngrams_cover_every_window() {
        let got = collect(|emit| char_ngrams("abc", 2, 3, emit));
        assert_eq!(got, vec!["ab", "bc", "abc"]);
    }

    #[test]
    fn char_wb_pads_short_words_once() {
        let got = collect(|emit| char_wb_ngrams("a", 2, 5, emit));
        assert_eq!(got, vec![" a", "a ", " a "]);
        let got = collect(|emit| char_wb_ngrams("ab", 3, 3, emit));
        assert_eq!(got, vec![" ab", "ab "]);
    }
}
