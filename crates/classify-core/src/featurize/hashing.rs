//! The feature hashing of sklearn's `HashingVectorizer`: signed 32-bit MurmurHash3 (x86, seed 0) of
//! the token's UTF-8 bytes, `abs(h) % n_features` as the index and the sign of `h` as the value's
//! sign when `alternate_sign` is on.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// MurmurHash3_x86_32 of `bytes`, as `sklearn.utils.murmurhash3_32(..., positive=False)`.
pub(crate) fn murmurhash3_32(bytes: &[u8], seed: u32) -> i32 {
    let mut h = seed;
    let mut blocks = bytes.chunks_exact(4);
    for block in &mut blocks {
        h = mix_block(h, u32::from_le_bytes([block[0], block[1], block[2], block[3]]));
    }
    let tail = blocks.remainder();
    let mut k = 0u32;
    for (i, &byte) in tail.iter().enumerate() {
        k |= u32::from(byte) << (8 * i);
    }
    // An empty tail leaves k = 0, which scrambles to 0: no need to test for it.
    finish(h ^ scramble(k), bytes.len())
}

/// Bytes `murmurhash3_32_window` reads: the blocks of a gram of up to `SHORT_GRAM` bytes and the
/// 4 bytes after them.
pub(crate) const HASH_WINDOW: usize = 20;

/// Appended after a document's n-grams so that every short one can be hashed from a window.
pub(crate) const WINDOW_PADDING: &str = "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
const _: () = assert!(WINDOW_PADDING.len() == HASH_WINDOW);

/// Grams up to this long are hashed from a window.
const SHORT_GRAM: usize = 16;

/// `murmurhash3_32(&window[..len], 0)` for `len <= SHORT_GRAM`, whatever bytes follow the gram
/// in `window`. Every length runs the same instructions: the four possible blocks are all mixed
/// and kept or dropped by a select, and the tail is masked out of the word after the last
/// block. A document's grams have lengths in no predictable order, and a loop over their blocks
/// and tail bytes mispredicted its exits about once per gram.
fn murmurhash3_32_window(window: &[u8; HASH_WINDOW], len: usize) -> i32 {
    let word = |at: usize| {
        u32::from_le_bytes([window[at], window[at + 1], window[at + 2], window[at + 3]])
    };
    let blocks = len / 4;
    let mut h = 0u32;
    for block in 0..SHORT_GRAM / 4 {
        let mixed = mix_block(h, word(4 * block));
        h = if block < blocks { mixed } else { h };
    }
    let tail_mask = ((1u64 << (8 * (len % 4))) - 1) as u32;
    finish(h ^ scramble(word(4 * blocks.min(SHORT_GRAM / 4)) & tail_mask), len)
}

fn scramble(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn mix_block(h: u32, k: u32) -> u32 {
    (h ^ scramble(k)).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}

fn finish(mut h: u32, len: usize) -> i32 {
    h ^= len as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// The feature index sklearn's `_hashing_fast` gives hash `h`, and whether the hit counts -1.
fn feature_of_hash(h: i32, n_features: u32, alternate_sign: bool) -> (u32, bool) {
    // sklearn special-cases i32::MIN, whose abs overflows, as (2**31 - 1 - (n - 1)) % n.
    let index = if h == i32::MIN {
        (i32::MAX as u32 - (n_features - 1)) % n_features
    } else if n_features.is_power_of_two() {
        // The usual 2**k width: a mask instead of a division per n-gram.
        h.unsigned_abs() & (n_features - 1)
    } else {
        h.unsigned_abs() % n_features
    };
    (index, alternate_sign && h < 0)
}

/// The gram `text[start..end]` hashed as one sortable integer: its feature index above a sign
/// bit (1 when the hit counts -1). Sorting such hits groups each index's hits together, ordered
/// by index as the row must be. Fastest when `text` goes on for `HASH_WINDOW` bytes past the
/// gram's start (see `WINDOW_PADDING`).
pub(crate) fn signed_hit(
    text: &[u8],
    (start, end): (usize, usize),
    n_features: u32,
    alternate_sign: bool,
) -> u64 {
    let len = end - start;
    let window =
        text.get(start..start + HASH_WINDOW).and_then(|w| <&[u8; HASH_WINDOW]>::try_from(w).ok());
    let h = match window {
        Some(window) if len <= SHORT_GRAM => murmurhash3_32_window(window, len),
        _ => murmurhash3_32(&text[start..end], 0),
    };
    let (index, negative) = feature_of_hash(h, n_features, alternate_sign);
    u64::from(index) << 1 | u64::from(negative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_hash_matches_the_reference_at_every_length_and_padding() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in 0..=SHORT_GRAM + 8 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len + HASH_WINDOW)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                let expected = murmurhash3_32(&bytes[..len], 0);
                let hit = signed_hit(&bytes, (0, len), 1 << 20, true);
                let (index, negative) = feature_of_hash(expected, 1 << 20, true);
                assert_eq!(hit, u64::from(index) << 1 | u64::from(negative), "length {len}");
                if len <= SHORT_GRAM {
                    let window: &[u8; HASH_WINDOW] = bytes[..HASH_WINDOW].try_into().unwrap();
                    assert_eq!(murmurhash3_32_window(window, len), expected, "length {len}");
                }
                // At the very end of the text (no window), the general hash serves.
                assert_eq!(signed_hit(&bytes[..len], (0, len), 1 << 20, true), hit);
            }
        }
    }

    #[test]
    fn matches_sklearn_murmurhash3_32_reference_values() {
        // sklearn.utils.murmurhash3_32(b"foo", seed=0) == -156908512
        assert_eq!(murmurhash3_32(b"foo", 0), -156_908_512);
        assert_eq!(murmurhash3_32(b"", 0), 0);
        // sklearn.utils.murmurhash3_32(b"foo", seed=42) == -1322301282
        assert_eq!(murmurhash3_32(b"foo", 42), -1_322_301_282);
    }

    #[test]
    fn indices_are_sklearns_abs_modulo_for_every_width() {
        for n_features in [1u32, 2, 3, 1000, 1 << 10, (1 << 20) + 7, 1 << 20, i32::MAX as u32] {
            for token in ["foo", "bar baz", "", "é", "a longer n-gram of words"] {
                let h = murmurhash3_32(token.as_bytes(), 0);
                let (index, _) = feature_of_hash(h, n_features, true);
                assert_eq!(
                    i64::from(index),
                    i64::from(h).abs() % i64::from(n_features),
                    "{token:?}"
                );
            }
        }
    }
}
