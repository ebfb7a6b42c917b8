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
    pub fn count_sorted(indices: &[u32]) -> SparseRow {
        let mut entries: Vec<(u32, f64)> = Vec::with_capacity(indices.len());
        for &index in indices {
            match entries.last_mut() {
                Some((last, count)) if *last == index => *count += 1.0,
                _ => entries.push((index, 1.0)),
            }
        }
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
        if total == 0.0 {
            return;
        }
        for value in self.values_mut() {
            *value /= total;
        }
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
