//! A compressed sparse row matrix, documents × features, like scipy's `csr_matrix`: the training
//! set's only representation. Each row's indices are sorted and unique.

/// Rows of (feature index, value) pairs stored end to end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsrMatrix {
    /// Row `i` is `indices[indptr[i]..indptr[i + 1]]` (and the same range of `values`).
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
    n_cols: usize,
}

impl CsrMatrix {
    /// An empty matrix with no rows.
    pub fn new(n_cols: usize) -> Self {
        CsrMatrix { indptr: vec![0], indices: Vec::new(), values: Vec::new(), n_cols }
    }

    /// Appends a row given as sorted, unique (index, value) pairs.
    pub fn push_row(&mut self, entries: impl IntoIterator<Item = (u32, f64)>) {
        for (index, value) in entries {
            debug_assert!((index as usize) < self.n_cols || self.n_cols == 0);
            self.indices.push(index);
            self.values.push(value);
        }
        self.indptr.push(self.indices.len());
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored values.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// `x_i · w` over the first `n_cols` entries of `w`. Four partial sums, so that the loads of
    /// `w` (scattered, often cache misses) overlap instead of waiting on one addition chain.
    #[inline]
    pub fn dot(&self, i: usize, w: &[f64]) -> f64 {
        let (indices, values) = self.row(i);
        let mut sums = [0.0; 4];
        let mut index_chunks = indices.chunks_exact(4);
        let mut value_chunks = values.chunks_exact(4);
        for (js, vs) in (&mut index_chunks).zip(&mut value_chunks) {
            for k in 0..4 {
                sums[k] += w[js[k] as usize] * vs[k];
            }
        }
        let tail: f64 = index_chunks
            .remainder()
            .iter()
            .zip(value_chunks.remainder())
            .map(|(&j, &v)| w[j as usize] * v)
            .sum();
        (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail
    }

    /// How many rows have a value in each column (document frequency for count matrices).
    pub fn column_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.n_cols];
        for &j in &self.indices {
            counts[j as usize] += 1;
        }
        counts
    }

    /// `w += a · x_i`.
    #[inline]
    pub fn axpy(&self, i: usize, a: f64, w: &mut [f64]) {
        let (indices, values) = self.row(i);
        for (&j, &v) in indices.iter().zip(values) {
            w[j as usize] += a * v;
        }
    }

    /// `‖x_i‖²`.
    pub fn norm_squared(&self, i: usize) -> f64 {
        self.row(i).1.iter().map(|v| v * v).sum()
    }

    /// Rewrites every row in place: `map` gives a column's new index or `None` to drop it; each
    /// row is re-sorted, so any renumbering works. Sets the new column count.
    pub fn remap_columns(&mut self, map: impl Fn(u32) -> Option<u32>, n_cols: usize) {
        let mut write = 0;
        let mut row_buffer: Vec<(u32, f64)> = Vec::new();
        for i in 0..self.n_rows() {
            let (start, end) = (self.indptr[i], self.indptr[i + 1]);
            row_buffer.clear();
            for k in start..end {
                if let Some(j) = map(self.indices[k]) {
                    row_buffer.push((j, self.values[k]));
                }
            }
            row_buffer.sort_unstable_by_key(|&(j, _)| j);
            // `write <= start`: rows only shrink, so the rewrite never overtakes the reading.
            self.indptr[i] = write;
            for &(j, v) in &row_buffer {
                self.indices[write] = j;
                self.values[write] = v;
                write += 1;
            }
        }
        let n_rows = self.n_rows();
        self.indptr[n_rows] = write;
        self.indices.truncate(write);
        self.values.truncate(write);
        self.indices.shrink_to_fit();
        self.values.shrink_to_fit();
        self.n_cols = n_cols;
    }

    /// Applies `f(row, values)` to each row's values.
    pub fn for_each_row_mut(&mut self, mut f: impl FnMut(&[u32], &mut [f64])) {
        for i in 0..self.n_rows() {
            let range = self.indptr[i]..self.indptr[i + 1];
            f(&self.indices[range.clone()], &mut self.values[range]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remap_drops_and_reorders_columns() {
        let mut m = CsrMatrix::new(4);
        m.push_row([(0, 1.0), (2, 2.0), (3, 3.0)]);
        m.push_row([(1, 4.0)]);
        m.push_row([(2, 5.0), (3, 6.0)]);
        // Keep 3 -> 0 and 2 -> 1, drop 0 and 1.
        m.remap_columns(|j| [None, None, Some(1), Some(0)][j as usize], 2);
        assert_eq!(m.row(0), (&[0u32, 1][..], &[3.0, 2.0][..]));
        assert_eq!(m.row(1), (&[][..], &[][..]));
        assert_eq!(m.row(2), (&[0u32, 1][..], &[6.0, 5.0][..]));
        assert_eq!((m.n_rows(), m.n_cols(), m.nnz()), (3, 2, 4));
        assert_eq!(m.dot(2, &[1.0, 10.0]), 56.0);
    }
}
