//! A sparse feature row: (feature index, value) pairs sorted by index with no duplicates, the same
//! order scipy's CSR rows have after sklearn's vectorizers, so dot products sum in sklearn's order.

/// One document's features, sorted by index, each index once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRow {
    pub entries: Vec<(u32, f64)>,
}

impl SparseRow {
    /// Builds a row from hashed hits (`index << 1 | 1 if the hit counts -1`, see
    /// `hashing::signed_hit`), sorting them: each index once, with its hits' sum. The sums of ±1
    /// are exact whatever the order; an index whose hits cancel keeps an explicit 0.0, as
    /// sklearn's FeatureHasher does. Plain integers sort faster than (index, value) pairs.
    pub(crate) fn from_signed_hits(hits: &mut [u64]) -> SparseRow {
        hits.sort_unstable();
        let mut entries: Vec<(u32, f64)> = Vec::with_capacity(hits.len());
        for &hit in hits.iter() {
            let index = (hit >> 1) as u32;
            let value = if hit & 1 == 1 { -1.0 } else { 1.0 };
            match entries.last_mut() {
                Some((last, sum)) if *last == index => *sum += value,
                _ => entries.push((index, value)),
            }
        }
        SparseRow { entries }
    }

    /// Builds a row of counts from sorted feature indices, one entry per distinct index.
    /// Without a branch on whether an index repeats the previous one: in a long document
    /// (character n-grams) that goes either way at random, and mispredicted half the time.
    pub fn count_sorted(indices: &[u32]) -> SparseRow {
        if indices.len() < RADIX_FROM {
            // A word document's few dozen: the branch is cheaper than zeroing the entries.
            let mut entries: Vec<(u32, f64)> = Vec::with_capacity(indices.len());
            for &index in indices {
                match entries.last_mut() {
                    Some((last, count)) if *last == index => *count += 1.0,
                    _ => entries.push((index, 1.0)),
                }
            }
            return SparseRow { entries };
        }
        let Some((&first, rest)) = indices.split_first() else {
            return SparseRow::default();
        };
        let mut entries = vec![(0, 0.0); indices.len()];
        entries[0] = (first, 1.0);
        let mut last = 0;
        for &index in rest {
            let same = entries[last].0 == index;
            let count = if same { entries[last].1 } else { 0.0 };
            last += usize::from(!same);
            entries[last] = (index, count + 1.0);
        }
        entries.truncate(last + 1);
        SparseRow { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops explicit zeros, as scipy's `eliminate_zeros` does after hashing with alternate signs.
    pub(crate) fn drop_zeros(&mut self) {
        self.entries.retain(|&(_, value)| value != 0.0);
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut f64> {
        self.entries.iter_mut().map(|(_, value)| value)
    }

    /// Normalizes the row as `sklearn.preprocessing.normalize` does (a zero row stays zero).
    pub(crate) fn normalize(&mut self, norm: Norm) {
        let total = match norm {
            Norm::L1 => self.entries.iter().map(|&(_, v)| v.abs()).sum::<f64>(),
            Norm::L2 => self.entries.iter().map(|&(_, v)| v * v).sum::<f64>().sqrt(),
        };
        self.divide(total);
    }

    /// Divides every value by a row's norm, unless it is 0 (an empty or all-zero row), as
    /// sklearn's `normalize` does.
    pub(crate) fn divide(&mut self, norm: f64) {
        if norm == 0.0 {
            return;
        }
        for value in self.values_mut() {
            *value /= norm;
        }
    }
}

/// Working space for `sort_indices`, reused across documents.
#[derive(Debug, Default)]
pub(crate) struct SortScratch {
    spare: Vec<u32>,
    /// Two digits' counts, `DIGITS` each.
    counts: Vec<u32>,
}

impl SortScratch {
    /// Bytes of capacity held, so that an outsized document's buffers can be let go.
    pub(crate) fn capacity_bytes(&self) -> usize {
        (self.spare.capacity() + self.counts.capacity()) * size_of::<u32>()
    }
}

/// Lists shorter than this are sorted by comparisons.
const RADIX_FROM: usize = 128;

/// Values of one digit: 11 bits, whose counts (8 KiB) stay in the first-level cache. Two digits
/// cover 4 million features.
const DIGITS: usize = 1 << 11;

/// Sorts feature indices, all below `n_features`. A long list (a document's character n-grams,
/// ~1,300 of them) is sorted by its two digits, the low one first, a counting pass each: a
/// comparison sort spends most of its time on mispredicted comparisons there, about three times
/// as long. A short list (a word document's few dozen), or indices too wide for two digits, is
/// sorted by comparisons.
pub(crate) fn sort_indices(indices: &mut [u32], n_features: usize, scratch: &mut SortScratch) {
    let bits = usize::BITS - n_features.saturating_sub(1).leading_zeros();
    let digit_bits = bits.div_ceil(2).max(1);
    if indices.len() < RADIX_FROM || 1 << digit_bits > DIGITS {
        indices.sort_unstable();
        return;
    }
    let SortScratch { spare, counts } = scratch;
    counts.clear();
    counts.resize(2 * DIGITS, 0);
    let (low, high) = counts.split_at_mut(DIGITS);
    // Fixed-size views, so that a masked digit needs no bounds check.
    let (Ok(low), Ok(high)) =
        (<&mut [u32; DIGITS]>::try_from(low), <&mut [u32; DIGITS]>::try_from(high))
    else {
        indices.sort_unstable();
        return;
    };
    let mask = (1u32 << digit_bits) - 1;
    let low_digit = |index: u32| (index & mask) as usize % DIGITS;
    let high_digit = |index: u32| ((index >> digit_bits) & mask) as usize % DIGITS;
    // Both digits are counted in one pass.
    for &index in indices.iter() {
        low[low_digit(index)] += 1;
        high[high_digit(index)] += 1;
    }
    let (mut low_total, mut high_total) = (0, 0);
    for digit in 0..=mask as usize {
        (low[digit], low_total) = (low_total, low_total + low[digit]);
        (high[digit], high_total) = (high_total, high_total + high[digit]);
    }
    spare.clear();
    spare.resize(indices.len(), 0);
    for &index in indices.iter() {
        let place = &mut low[low_digit(index)];
        spare[*place as usize] = index;
        *place += 1;
    }
    for &index in spare.iter() {
        let place = &mut high[high_digit(index)];
        indices[*place as usize] = index;
        *place += 1;
    }
}

/// Row normalization, as sklearn's `norm` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    L1,
    L2,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_indices_sorts_every_width_and_length() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut scratch = SortScratch::default();
        for n_features in [1usize, 2, 100, 2048, 2049, 345_930, 1 << 22, (1 << 22) + 1, 1 << 32] {
            for length in [0, 1, 5, RADIX_FROM - 1, RADIX_FROM, 1_300, 10_000] {
                let mut indices: Vec<u32> = (0..length)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        // Many repeats, as a document's n-grams have.
                        (state % (n_features as u64).min(3 * length as u64 + 1)) as u32
                    })
                    .collect();
                let mut expected = indices.clone();
                expected.sort_unstable();
                sort_indices(&mut indices, n_features, &mut scratch);
                assert_eq!(indices, expected, "{n_features} features, {length} indices");
            }
        }
    }

    #[test]
    fn count_sorted_counts_runs() {
        assert!(SparseRow::count_sorted(&[]).is_empty());
        let row = SparseRow::count_sorted(&[1, 1, 2, 5, 5, 5, 9]);
        assert_eq!(row.entries, vec![(1, 2.0), (2, 1.0), (5, 3.0), (9, 1.0)]);
        assert_eq!(SparseRow::count_sorted(&[0]).entries, vec![(0, 1.0)]);
    }

    #[test]
    fn signed_hits_are_sorted_and_summed() {
        let hits = [(7u32, -1.0), (2, 1.0), (7, 1.0), (3, -1.0), (7, -1.0), (2, 1.0), (9, 1.0)];
        let mut packed: Vec<u64> =
            hits.iter().map(|&(i, v)| u64::from(i) << 1 | u64::from(v < 0.0)).collect();
        let row = SparseRow::from_signed_hits(&mut packed);
        assert_eq!(row.entries, vec![(2, 2.0), (3, -1.0), (7, -1.0), (9, 1.0)]);
        // Cancelled hits stay as an explicit zero.
        let mut cancelled = vec![5 << 1, 5 << 1 | 1];
        assert_eq!(SparseRow::from_signed_hits(&mut cancelled).entries, vec![(5, 0.0)]);
        assert!(SparseRow::from_signed_hits(&mut []).is_empty());
    }

    #[test]
    fn l2_normalize_leaves_zero_rows_alone() {
        let mut row = SparseRow::default();
        row.normalize(Norm::L2);
        assert!(row.is_empty());
        let mut row = SparseRow { entries: vec![(0, 3.0), (1, 4.0)] };
        row.normalize(Norm::L2);
        assert_eq!(row.entries, vec![(0, 0.6), (1, 0.8)]);
    }
}
