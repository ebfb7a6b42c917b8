//! A compressed sparse row matrix, documents × features, like scipy's `csr_matrix`: the training
//! set's only representation. Each row's indices are sorted and unique.

use classify_core::prefetch::prefetch;

/// Rows of (feature index, value) pairs stored end to end.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CsrMatrix {
    /// Row `i` is `indices[indptr[i]..indptr[i + 1]]` (and the same range of `values`).
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f64>,
    n_cols: usize,
}

impl CsrMatrix {
    /// An empty matrix with no rows.
    pub(crate) fn new(n_cols: usize) -> Self {
        CsrMatrix { indptr: vec![0], indices: Vec::new(), values: Vec::new(), n_cols }
    }

    /// Appends a row given as sorted, unique (index, value) pairs.
    pub(crate) fn push_row(&mut self, entries: impl IntoIterator<Item = (u32, f64)>) {
        for (index, value) in entries {
            debug_assert!((index as usize) < self.n_cols || self.n_cols == 0);
            self.indices.push(index);
            self.values.push(value);
        }
        self.indptr.push(self.indices.len());
    }

    pub(crate) fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub(crate) fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored values.
    pub(crate) fn nnz(&self) -> usize {
        self.indices.len()
    }

    pub(crate) fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// `x_i · w` over the first `n_cols` entries of `w`. Four partial sums, so that the loads of
    /// `w` (scattered, often cache misses) overlap instead of waiting on one addition chain.
    #[inline]
    pub(crate) fn dot(&self, i: usize, w: &[f64]) -> f64 {
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

    /// The rows of each column, ascending (the pattern of the CSC form): column `j`'s rows are
    /// `rows[starts[j]..starts[j + 1]]`.
    pub(crate) fn column_rows(&self) -> (Vec<usize>, Vec<u32>) {
        let mut starts = vec![0usize; self.n_cols + 1];
        for &j in &self.indices {
            starts[j as usize + 1] += 1;
        }
        for j in 0..self.n_cols {
            starts[j + 1] += starts[j];
        }
        let mut next = starts.clone();
        let mut rows = vec![0u32; self.indices.len()];
        for i in 0..self.n_rows() {
            for &j in &self.indices[self.indptr[i]..self.indptr[i + 1]] {
                rows[next[j as usize]] = i as u32;
                next[j as usize] += 1;
            }
        }
        (starts, rows)
    }

    /// `w += a · x_i`.
    #[inline]
    pub(crate) fn axpy(&self, i: usize, a: f64, w: &mut [f64]) {
        let (indices, values) = self.row(i);
        for (&j, &v) in indices.iter().zip(values) {
            w[j as usize] += a * v;
        }
    }

    /// `‖x_i‖²`.
    pub(crate) fn norm_squared(&self, i: usize) -> f64 {
        self.row(i).1.iter().map(|v| v * v).sum()
    }

    /// Rewrites every row in place: `map` gives a column's new index or `None` to drop it; each
    /// row is re-sorted, so any renumbering works. Sets the new column count.
    pub(crate) fn remap_columns(&mut self, map: impl Fn(u32) -> Option<u32>, n_cols: usize) {
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
    pub(crate) fn for_each_row_mut(&mut self, mut f: impl FnMut(&[u32], &mut [f64])) {
        for i in 0..self.n_rows() {
            let range = self.indptr[i]..self.indptr[i + 1];
            f(&self.indices[range.clone()], &mut self.values[range]);
        }
    }
}

/// A value of a [`Rows`] matrix, converted exactly to `f64` where it is used.
pub(crate) trait Value: Copy + Send + Sync + 'static {
    fn get(self) -> f64;
}

impl Value for u8 {
    #[inline(always)]
    fn get(self) -> f64 {
        f64::from(self)
    }
}

impl Value for u16 {
    #[inline(always)]
    fn get(self) -> f64 {
        f64::from(self)
    }
}

impl Value for f64 {
    #[inline(always)]
    fn get(self) -> f64 {
        self
    }
}

/// A read-only copy of a [`CsrMatrix`] for the solvers' inner loops, with the values in the
/// smallest type that holds them exactly: raw counts (`CountVectorizer`) are small integers, and
/// one byte per value instead of eight leaves more of the cache to the weights. Each row lists
/// first the columns whose value is 1 (most of them, in count matrices), whose products need
/// neither the value nor a multiplication, then the others.
///
/// Columns with a single stored value ("singletons": most word bigrams occur in one document)
/// are not in the rows but in `singletons`. In the dual solver `w = Σ_k y_k α_k x_k`, so a
/// singleton `j` of row `i` has `w_j = y_i α_i x_ij` and adds `α_i x_ij²` to `y_i (w · x_i)`: the
/// solver accounts for all of them at once with [`Rows::singleton_norm`] and writes their
/// weights once at the end ([`Rows::fill_singletons`]). On bigram counts that leaves 10% fewer
/// entries to visit per row and 60% of the weights out of the cache.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rows<V> {
    /// Row `i` is `indices[indptr[i]..indptr[i + 1]]` (and the same range of `values`).
    indptr: Vec<usize>,
    /// How many of row `i`'s entries, at its start, have the value 1.
    ones: Vec<u32>,
    indices: Vec<u32>,
    values: Vec<V>,
    /// `Σ x_ij²` over row `i`'s singleton columns.
    singleton_norm: Vec<f64>,
    singletons: Vec<Singleton>,
    n_cols: usize,
}

/// The one stored value of a singleton column.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Singleton {
    row: u32,
    column: u32,
    value: f64,
}

/// One row of a [`Rows`] matrix, as stored there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a, V> {
    /// The columns whose value is 1.
    pub(crate) ones: &'a [u32],
    /// The other columns and their values.
    pub(crate) indices: &'a [u32],
    pub(crate) values: &'a [V],
}

/// Where a row of a [`Rows`] matrix is stored (for [`Rows::row_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowPlace {
    pub(crate) start: usize,
    pub(crate) ones: u32,
    pub(crate) len: u32,
}

impl<V: Value> Rows<V> {
    fn convert(x: &CsrMatrix, value: impl Fn(f64) -> V) -> Self {
        let mut stored_per_column = vec![0u8; x.n_cols];
        for &j in &x.indices {
            let count = &mut stored_per_column[j as usize];
            *count = count.saturating_add(1);
        }
        let singleton = |j: u32| stored_per_column[j as usize] == 1;
        let n_singletons = x.indices.iter().filter(|&&j| singleton(j)).count();
        let mut rows = Rows {
            indptr: Vec::with_capacity(x.n_rows() + 1),
            ones: Vec::with_capacity(x.n_rows()),
            indices: Vec::with_capacity(x.nnz() - n_singletons),
            values: Vec::with_capacity(x.nnz() - n_singletons),
            singleton_norm: Vec::with_capacity(x.n_rows()),
            singletons: Vec::with_capacity(n_singletons),
            n_cols: x.n_cols,
        };
        rows.indptr.push(0);
        for i in 0..x.n_rows() {
            let (indices, values) = x.row(i);
            let mut ones = 0;
            let mut norm = 0.0;
            for (&j, &v) in indices.iter().zip(values) {
                if singleton(j) {
                    rows.singletons.push(Singleton { row: i as u32, column: j, value: v });
                    norm += v * v;
                } else if v == 1.0 {
                    rows.indices.push(j);
                    rows.values.push(value(v));
                    ones += 1;
                }
            }
            for (&j, &v) in indices.iter().zip(values) {
                if v != 1.0 && !singleton(j) {
                    rows.indices.push(j);
                    rows.values.push(value(v));
                }
            }
            rows.ones.push(ones);
            rows.singleton_norm.push(norm);
            rows.indptr.push(rows.indices.len());
        }
        rows
    }

    pub(crate) fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub(crate) fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Where row `i` is stored.
    pub(crate) fn place(&self, i: usize) -> RowPlace {
        let start = self.indptr[i];
        RowPlace { start, ones: self.ones[i], len: (self.indptr[i + 1] - start) as u32 }
    }

    #[inline(always)]
    pub(crate) fn row(&self, i: usize) -> Row<'_, V> {
        self.row_at(self.place(i))
    }

    /// The row stored at `place` (from [`Rows::place`]).
    #[inline(always)]
    pub(crate) fn row_at(&self, place: RowPlace) -> Row<'_, V> {
        let split = place.start + place.ones as usize;
        let end = place.start + place.len as usize;
        Row {
            ones: &self.indices[place.start..split],
            indices: &self.indices[split..end],
            values: &self.values[split..end],
        }
    }

    /// Asks the processor to bring the row stored at `place` into the cache, without waiting
    /// for it: every 64-byte line of its columns and the first line of its values. Called for
    /// a row visited a few steps later, so that its cache misses overlap the current step's
    /// work.
    #[inline(always)]
    pub(crate) fn prefetch(&self, place: RowPlace) {
        // A row's columns are contiguous: the ones, then the others.
        let columns = &self.indices[place.start..place.start + place.len as usize];
        // The row need not start on a line: its last column may be on one more.
        for column in columns.iter().step_by(16).chain(columns.last()) {
            prefetch(column);
        }
        if let Some(value) = self.row_at(place).values.first() {
            prefetch(value);
        }
    }

    /// `‖x_i‖²`, singleton columns included.
    pub(crate) fn norm_squared(&self, i: usize) -> f64 {
        let row = self.row(i);
        row.ones.len() as f64
            + row.values.iter().map(|v| v.get() * v.get()).sum::<f64>()
            + self.singleton_norm[i]
    }

    /// `Σ x_ij²` over the singleton columns of row `i` (see [`Rows`]).
    pub(crate) fn singleton_norm(&self, i: usize) -> f64 {
        self.singleton_norm[i]
    }

    /// Sets the weight of each singleton column `j`, whose one value is `x_ij`, to
    /// `row_factor(i) · x_ij` (the solver's `y_i α_i`).
    pub(crate) fn fill_singletons(&self, w: &mut [f64], row_factor: impl Fn(usize) -> f64) {
        for entry in &self.singletons {
            w[entry.column as usize] = row_factor(entry.row as usize) * entry.value;
        }
    }

    #[cfg(test)]
    /// `x_i · w`, singleton columns included, `w` at least `n_cols` long.
    pub(crate) fn dot(&self, i: usize, w: &[f64]) -> f64 {
        let singletons: f64 = self
            .singletons
            .iter()
            .filter(|entry| entry.row as usize == i)
            .map(|entry| w[entry.column as usize] * entry.value)
            .sum();
        self.row(i).dot(w) + singletons
    }

    #[cfg(test)]
    /// `w += a · x_i`, singleton columns included.
    pub(crate) fn axpy(&self, i: usize, a: f64, w: &mut [f64]) {
        self.row(i).axpy(a, w);
        for entry in self.singletons.iter().filter(|entry| entry.row as usize == i) {
            w[entry.column as usize] += a * entry.value;
        }
    }
}

impl<V: Value> Row<'_, V> {
    /// `x · w`, `w` at least as long as the largest index. Four partial sums, so that the loads
    /// of `w` (scattered, often cache misses) overlap instead of waiting on one addition chain.
    #[inline(always)]
    pub(crate) fn dot(&self, w: &[f64]) -> f64 {
        let mut sums = [0.0; 4];
        let mut one_chunks = self.ones.chunks_exact(4);
        for js in &mut one_chunks {
            for k in 0..4 {
                sums[k] += w[js[k] as usize];
            }
        }
        for &j in one_chunks.remainder() {
            sums[0] += w[j as usize];
        }
        let mut index_chunks = self.indices.chunks_exact(4);
        let mut value_chunks = self.values.chunks_exact(4);
        for (js, vs) in (&mut index_chunks).zip(&mut value_chunks) {
            for k in 0..4 {
                sums[k] += w[js[k] as usize] * vs[k].get();
            }
        }
        for (&j, &v) in index_chunks.remainder().iter().zip(value_chunks.remainder()) {
            sums[1] += w[j as usize] * v.get();
        }
        (sums[0] + sums[1]) + (sums[2] + sums[3])
    }

    /// `w += a · x`.
    #[inline(always)]
    pub(crate) fn axpy(&self, a: f64, w: &mut [f64]) {
        for &j in self.ones {
            w[j as usize] += a;
        }
        for (&j, &v) in self.indices.iter().zip(self.values) {
            w[j as usize] += a * v.get();
        }
    }
}

/// A [`CsrMatrix`] in the narrowest exact [`Rows`] form, singleton columns apart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CompactRows {
    /// Every value is an integer in 0..=255.
    U8(Rows<u8>),
    /// Every value is an integer in 0..=65535.
    U16(Rows<u16>),
    /// Anything else (TF-IDF weights).
    F64(Rows<f64>),
}

impl CompactRows {
    pub(crate) fn new(x: &CsrMatrix) -> Self {
        let integral_up_to =
            |limit: f64| x.values.iter().all(|&v| v >= 0.0 && v <= limit && v.fract() == 0.0);
        if integral_up_to(f64::from(u8::MAX)) {
            CompactRows::U8(Rows::convert(x, |v| v as u8))
        } else if integral_up_to(f64::from(u16::MAX)) {
            CompactRows::U16(Rows::convert(x, |v| v as u16))
        } else {
            CompactRows::F64(Rows::convert(x, |v| v))
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

    #[test]
    fn compact_rows_keep_values_exactly() {
        let mut m = CsrMatrix::new(6);
        m.push_row([(0, 1.0), (2, 2.0), (3, 3.0), (4, 1.0), (5, 7.0)]);
        m.push_row([(1, 255.0)]);
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let CompactRows::U8(rows) = CompactRows::new(&m) else { panic!("counts fit in u8") };
        for i in 0..2 {
            assert_eq!(rows.dot(i, &w), m.dot(i, &w));
            assert_eq!(rows.norm_squared(i), m.norm_squared(i));
        }
        m.push_row([(0, 256.0)]);
        assert!(matches!(CompactRows::new(&m), CompactRows::U16(_)));
        m.push_row([(0, 0.5)]);
        let CompactRows::F64(rows) = CompactRows::new(&m) else { panic!("0.5 is no count") };
        let mut v = vec![0.0; 6];
        rows.axpy(0, 2.0, &mut v);
        assert_eq!(v, [2.0, 0.0, 4.0, 6.0, 2.0, 14.0]);
    }
}
