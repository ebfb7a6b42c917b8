//! The feature hashing of sklearn's `HashingVectorizer`: signed 32-bit MurmurHash3 (x86, seed 0) of
//! the token's UTF-8 bytes, `abs(h) % n_features` as the index and the sign of `h` as the value's
//! sign when `alternate_sign` is on.

/// MurmurHash3_x86_32 of `bytes`, as `sklearn.utils.murmurhash3_32(..., positive=False)`.
pub fn murmurhash3_32(bytes: &[u8], seed: u32) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut blocks = bytes.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    let mut k = 0u32;
    for (i, &byte) in tail.iter().enumerate() {
        k |= u32::from(byte) << (8 * i);
    }
    if !tail.is_empty() {
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }
    h ^= bytes.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// The (index, sign) sklearn's `_hashing_fast` gives a token.
pub fn hashed_feature(token: &str, n_features: u32, alternate_sign: bool) -> (u32, f64) {
    let h = murmurhash3_32(token.as_bytes(), 0);
    // sklearn special-cases i32::MIN, whose abs overflows, as (2**31 - 1 - (n - 1)) % n.
    let index = if h == i32::MIN {
        (i32::MAX as u32 - (n_features - 1)) % n_features
    } else if n_features.is_power_of_two() {
        // The usual 2**k width: a mask instead of a division per n-gram.
        h.unsigned_abs() & (n_features - 1)
    } else {
        h.unsigned_abs() % n_features
    };
    let sign = if alternate_sign && h < 0 { -1.0 } else { 1.0 };
    (index, sign)
}

/// `hashed_feature` as one sortable integer: the index above a sign bit (1 for -1.0). Sorting
/// such hits groups each index's hits together, ordered by index as the row must be.
pub fn signed_hit(token: &str, n_features: u32, alternate_sign: bool) -> u64 {
    let (index, sign) = hashed_feature(token, n_features, alternate_sign);
    u64::from(index) << 1 | u64::from(sign < 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
                let h = i64::from(murmurhash3_32(token.as_bytes(), 0));
                let (index, _) = hashed_feature(token, n_features, true);
                assert_eq!(i64::from(index), h.abs() % i64::from(n_features), "{token:?}");
            }
        }
    }
}
