//! Python's character classes, as `re` and `str` methods see them. sklearn's analyzers are defined in
//! terms of these, and Rust's own `char::is_alphanumeric`/`is_whitespace` disagree with them (Rust
//! counts combining marks as alphabetic and misses the ASCII separators U+001C..U+001F as spaces).

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

/// Python's `\w` in a `str` pattern: `str.isalnum()` (letters and all numbers) or `_`.
/// Combining marks (Mn, Mc, Me) are not word characters.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    matches!(
        get_general_category(c),
        Gc::UppercaseLetter
            | Gc::LowercaseLetter
            | Gc::TitlecaseLetter
            | Gc::ModifierLetter
            | Gc::OtherLetter
            | Gc::DecimalNumber
            | Gc::LetterNumber
            | Gc::OtherNumber
    )
}

/// Python's `str.isspace()`, which is also `\s` in a `str` pattern and what `str.split()` splits on:
/// Unicode category Zs or bidirectional class WS, B or S.
pub fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{1C}'..='\u{1F}'
            | ' '
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202F}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

/// A set of ASCII bytes, for classifying ASCII text a byte at a time: a table lookup per byte,
/// which compilers turn into plain loads with no branches.
#[derive(Debug, Clone, Copy)]
pub struct AsciiSet([u8; 256]);

impl AsciiSet {
    /// `is_word_char` on ASCII.
    pub const WORD: &AsciiSet = &AsciiSet::of(false);
    /// Not `is_space` on ASCII.
    pub const NON_SPACE: &AsciiSet = &AsciiSet::of(true);

    const fn of(non_space: bool) -> AsciiSet {
        let mut table = [0u8; 256];
        let mut byte = 0u8;
        while byte < 128 {
            let member = if non_space {
                !matches!(byte, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | 0x1C..=0x1F | b' ')
            } else {
                byte.is_ascii_alphanumeric() || byte == b'_'
            };
            table[byte as usize] = member as u8;
            byte += 1;
        }
        AsciiSet(table)
    }

    /// 1 if `byte` is in the set, else 0 (bytes above 127 never are).
    pub fn bit(&self, byte: u8) -> u64 {
        u64::from(self.0[usize::from(byte)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_sets_agree_with_the_char_classes() {
        for byte in 0..=255u8 {
            let c = char::from(byte);
            let word = byte < 128 && is_word_char(c);
            let non_space = byte < 128 && !is_space(c);
            assert_eq!(AsciiSet::WORD.bit(byte), u64::from(word), "{byte}");
            assert_eq!(AsciiSet::NON_SPACE.bit(byte), u64::from(non_space), "{byte}");
        }
    }

    #[test]
    fn combining_marks_are_not_word_chars() {
        assert!(!is_word_char('\u{301}'));
        assert!(is_word_char('é'));
    }

    #[test]
    fn all_unicode_numbers_are_word_chars() {
        for c in ['²', '½', 'Ⅻ', '٣', '①'] {
            assert!(is_word_char(c), "{c:?}");
        }
    }

    #[test]
    fn underscore_is_a_word_char_but_punctuation_is_not() {
        assert!(is_word_char('_'));
        assert!(!is_word_char('-'));
        assert!(!is_word_char('\u{1F600}'));
    }

    #[test]
    fn ascii_information_separators_are_python_spaces() {
        for c in ['\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}', '\u{85}', '\u{3000}'] {
            assert!(is_space(c), "{c:?}");
        }
        assert!(!is_space('\u{200B}'));
    }
}
