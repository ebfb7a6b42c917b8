//! A sparse feature row: (feature index, value) pairs sorted by index with no duplicates, the same
//! order scipy's CSR rows have after sklearn's vectorizers, so dot products sum in sklearn's order.

/// One document's features, sorted by index, each index once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRow {
    pub entries: Vec<(u32, f64)>,
}

impl SparseRow {
    /// Builds a row from raw feature hits (index, value), summing repeated indices.
    pub fn from_hits(mut hits: Vec<(u32, f64)>) -> SparseRow {
        hits.sort_unstable_by_key(|&(index, _)| index);
        // Sums repeats in place, left to right (`dedup_by` passes the later duplicate first).
        hits.dedup_by(|later, kept| {
            let repeat = later.0 == kept.0;
            if repeat {
                kept.1 += later.1;
            }
            repeat
        });
        SparseRow { entries: hits }
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

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops explicit zeros, as scipy's `eliminate_zeros` does after hashing with alternate signs.
    pub fn drop_zeros(&mut self) {
        self.entries.retain(|&(_, value)| value != 0.0);
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut f64> {
        self.entries.iter_mut().map(|(_, value)| value)
    }

    /// Normalizes the row as `sklearn.preprocessing.normalize` does (a zero row stays zero).
    pub fn normalize(&mut self, norm: Norm) {
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
    fn from_hits_sums_repeats_and_sorts() {
        let row = SparseRow::from_hits(vec![(5, 1.0), (2, 1.0), (5, 1.0)]);
        assert_eq!(row.entries, vec![(2, 1.0), (5, 2.0)]);
    }

    #[test]
    fn l2_normalize_leaves_zero_rows_alone() {
        let mut row = SparseRow::default();
        row.normalize(Norm::L2);
        assert!(row.is_empty());
        let mut row = SparseRow::from_hits(vec![(0, 3.0), (1, 4.0)]);
        row.normalize(Norm::L2);
        assert_eq!(row.entries, vec![(0, 0.6), (1, 0.8)]);
    }
}
