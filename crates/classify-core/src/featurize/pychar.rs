//! Python's character classes, as `re` and `str` methods see them. sklearn's analyzers are defined in
//! terms of these, and Rust's own `char::is_alphanumeric`/`is_whitespace` disagree with them (Rust
//! counts combining marks as alphabetic and misses the ASCII separators U+001C..U+001F as spaces).

use unicode_general_category::{get_general_category, GeneralCategory as Gc};

use super::unicode_ages;

/// Python's `\w` in a `str` pattern: `str.isalnum()` (letters and all numbers) or `_`.
/// Combining marks (Mn, Mc, Me) are not word characters.
pub(crate) fn is_word_char(c: char) -> bool {
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

/// A version of the Unicode database, as Python's `unicodedata.unidata_version` names it
/// ("14.0.0" for Python 3.11). Characters assigned after the version a model was trained with
/// are unassigned to that model's Python: no `\w`, caseless, their own NFKD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnicodeVersion {
    major: u8,
    minor: u8,
}

impl UnicodeVersion {
    pub(crate) const fn new(major: u8, minor: u8) -> UnicodeVersion {
        UnicodeVersion { major, minor }
    }

    /// Parses `unidata_version` ("15.1.0"), checking it is one a Python or `unicodedata2`
    /// release shipped and this build has the history of.
    pub fn parse(text: &str) -> Result<UnicodeVersion, String> {
        let mut parts = text.split('.').map(|part| part.parse::<u8>());
        let (Some(Ok(major)), Some(Ok(minor)), Ok(0)) =
            (parts.next(), parts.next(), parts.next().unwrap_or(Ok(0)))
        else {
            return Err(format!("{text:?} is not a Unicode version such as \"14.0.0\""));
        };
        let version = UnicodeVersion::new(major, minor);
        if version > unicode_ages::NEWEST || unicode_ages::KNOWN.contains(&version) {
            return Ok(version);
        }
        let known: Vec<String> = unicode_ages::KNOWN.iter().map(|v| v.to_string()).collect();
        Err(format!(
            "Unicode {text} is not a version this build knows the characters of; it knows {}",
            known.join(", ")
        ))
    }

    /// Whether Python's `unicodedata` at this version has `c` assigned, as far as the core's
    /// own tables know `c` at all.
    pub(crate) fn has(self, c: char) -> bool {
        let code = u32::from(c);
        let ranges = unicode_ages::ASSIGNED_AFTER_OLDEST;
        if code < ranges.first().map_or(u32::MAX, |&(first, _, _)| first) {
            return true;
        }
        match ranges.binary_search_by(|&(first, last, _)| {
            if last < code {
                std::cmp::Ordering::Less
            } else if first > code {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        }) {
            Ok(at) => ranges[at].2 <= self,
            Err(_) => true,
        }
    }

    /// `None` for a version newer than every one this build knows: its Python knows every
    /// character the core's tables know.
    pub(crate) fn older_than_the_core(self) -> Option<UnicodeVersion> {
        (self <= unicode_ages::NEWEST).then_some(self)
    }
}

impl std::fmt::Display for UnicodeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.0", self.major, self.minor)
    }
}

/// `is_word_char` as a model's Python sees it: characters its Unicode lacks are not word
/// characters. `None`: the core's own tables.
pub fn is_word_char_in(c: char, unicode: Option<UnicodeVersion>) -> bool {
    is_word_char(c) && unicode.is_none_or(|version| version.has(c))
}

/// A set of ASCII bytes, for classifying ASCII text a byte at a time: a table lookup per byte,
/// which compilers turn into plain loads with no branches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AsciiSet {
    table: [u8; 256],
    non_space: bool,
}

impl AsciiSet {
    /// `is_word_char` on ASCII.
    pub(crate) const WORD: &AsciiSet = &AsciiSet::of(false);
    /// Not `is_space` on ASCII.
    pub(crate) const NON_SPACE: &AsciiSet = &AsciiSet::of(true);

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
        AsciiSet { table, non_space }
    }

    /// 1 if `byte` is in the set, else 0 (bytes above 127 never are).
    pub(crate) fn bit(&self, byte: u8) -> u64 {
        u64::from(self.table[usize::from(byte)])
    }

    /// `bit` of 8 ASCII bytes at once (a little-endian word, every byte below 0x80): bit i is
    /// byte i's. Range tests on all 8 bytes in a few word operations, in place of 8 lookups.
    pub(crate) fn word_bits(&self, word: u64) -> u64 {
        let members = if self.non_space {
            !(bytes_in(word, 0x09, 0x0D) | bytes_in(word, 0x1C, 0x20))
        } else {
            // Setting bit 5 folds A-Z onto a-z and moves nothing else into a-z.
            bytes_in(word | 0x2020_2020_2020_2020, b'a', b'z')
                | bytes_in(word, b'0', b'9')
                | bytes_in(word, b'_', b'_')
        };
        // The high bit of each byte, gathered into the top byte, then moved down.
        (((members & HIGH_BITS) >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }
}

const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of every byte of `word` (each below 0x80) that lies in `low..=high`. Adding
/// `0x7F - high` sets a byte's high bit above `high`, adding `0x80 - low` at or above `low`;
/// neither sum can carry into the next byte.
fn bytes_in(word: u64, low: u8, high: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let above_high = word + ONES * u64::from(0x7F - high);
    let at_least_low = word + ONES * u64::from(0x80 - low);
    at_least_low & !above_high & HIGH_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_bits_are_the_byte_bits_of_every_ascii_byte_in_every_position() {
        for set in [AsciiSet::WORD, AsciiSet::NON_SPACE] {
            for byte in 0..0x80u8 {
                for position in 0..8 {
                    // The byte among neighbours of the other class, so no bit leaks over.
                    for filler in [b' ', b'a'] {
                        let mut bytes = [filler; 8];
                        bytes[position] = byte;
                        let expected = bytes
                            .iter()
                            .enumerate()
                            .fold(0, |bits, (i, &b)| bits | set.bit(b) << i);
                        assert_eq!(set.word_bits(u64::from_le_bytes(bytes)), expected, "{byte}");
                    }
                }
            }
            let mut state = 0x9E37_79B9_7F4A_7C15u64;
            for _ in 0..100_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let bytes = (state & 0x7F7F_7F7F_7F7F_7F7F).to_le_bytes();
                let expected =
                    bytes.iter().enumerate().fold(0, |bits, (i, &b)| bits | set.bit(b) << i);
                assert_eq!(set.word_bits(u64::from_le_bytes(bytes)), expected, "{bytes:?}");
            }
        }
    }

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
    fn versions_parse_as_python_names_them() {
        assert_eq!(UnicodeVersion::parse("14.0.0"), Ok(UnicodeVersion::new(14, 0)));
        assert_eq!(UnicodeVersion::parse("15.1.0"), Ok(UnicodeVersion::new(15, 1)));
        assert_eq!(UnicodeVersion::parse("99.0.0"), Ok(UnicodeVersion::new(99, 0)));
        assert_eq!(UnicodeVersion::new(14, 0).to_string(), "14.0.0");
        for bad in ["", "14", "14.x.0", "14.0.1", "10.0.0", "8.0.0"] {
            assert!(UnicodeVersion::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn characters_are_assigned_from_their_version_on() {
        // U+1E030 MODIFIER LETTER CYRILLIC SMALL A arrived in Unicode 15.0.
        let (v14, v15) = (UnicodeVersion::new(14, 0), UnicodeVersion::new(15, 0));
        assert!(!v14.has('\u{1E030}') && v15.has('\u{1E030}'));
        assert!(v14.has('a') && v14.has('é') && v14.has('\u{10FFFD}'));
        assert!(is_word_char_in('\u{1E030}', None));
        assert!(!is_word_char_in('\u{1E030}', Some(v14)));
        assert_eq!(UnicodeVersion::new(18, 0).older_than_the_core(), None);
        // Unassigned in every known version: hidden even from the newest.
        assert!(!UnicodeVersion::new(17, 0).has('\u{E0080}'));
        assert_eq!(v14.older_than_the_core(), Some(v14));
    }

    #[test]
    fn ascii_information_separators_are_python_spaces() {
        for c in ['\u{1C}', '\u{1D}', '\u{1E}', '\u{1F}', '\u{85}', '\u{3000}'] {
            assert!(is_space(c), "{c:?}");
        }
        assert!(!is_space('\u{200B}'));
    }
}
