//! Storage for a model's large arrays (the weights, the vocabulary's slots and records). Every
//! prediction reads a few dozen random places in them; in ordinary 4 KB pages each of those reads
//! also misses the TLB, so large arrays get their own mapping with transparent huge pages
//! requested (`MADV_HUGEPAGE`; Debian enables THP only where asked). The mapping is private and
//! anonymous, so Apache children share it copy-on-write exactly as they share the heap.

use std::fmt;
use std::ops::{Deref, DerefMut};

use bytemuck::Pod;

/// Arrays smaller than one huge page stay on the heap.
const MIN_MAPPED_BYTES: usize = 2 << 20;

/// A fixed-length array of plain values, in huge pages when large.
pub(crate) struct LargeArray<T> {
    storage: Storage<T>,
}

enum Storage<T> {
    Heap(Vec<T>),
    Mapped { map: memmap2::MmapMut, len: usize },
}

impl<T: Pod> LargeArray<T> {
    /// `len` zero values. If the mapping cannot be made, the heap serves instead.
    pub(crate) fn zeroed(len: usize) -> LargeArray<T> {
        let bytes = len.saturating_mul(size_of::<T>());
        if bytes >= MIN_MAPPED_BYTES {
            if let Ok(map) = memmap2::MmapMut::map_anon(bytes) {
                // Only a hint: without THP the pages are simply 4 KB.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                return LargeArray { storage: Storage::Mapped { map, len } };
            }
        }
        LargeArray { storage: Storage::Heap(vec![T::zeroed(); len]) }
    }

    /// A copy of `values`.
    pub(crate) fn from_slice(values: &[T]) -> LargeArray<T> {
        let mut array = LargeArray::zeroed(values.len());
        array.copy_from_slice(values);
        array
    }

    /// Whether the values live in their own (huge-page) mapping.
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self.storage, Storage::Mapped { .. })
    }
}

impl<T: Pod> Deref for LargeArray<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.storage {
            Storage::Heap(values) => values,
            Storage::Mapped { map, len } => bytemuck::cast_slice(&map[..len * size_of::<T>()]),
        }
    }
}

impl<T: Pod> DerefMut for LargeArray<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.storage {
            Storage::Heap(values) => values,
            Storage::Mapped { map, len } => {
                bytemuck::cast_slice_mut(&mut map[..*len * size_of::<T>()])
            }
        }
    }
}

/// An empty array.
impl<T: Pod> Default for LargeArray<T> {
    fn default() -> Self {
        LargeArray::zeroed(0)
    }
}

impl<T: Pod> Clone for LargeArray<T> {
    fn clone(&self) -> Self {
        LargeArray::from_slice(self)
    }
}

impl<T: Pod> fmt::Debug for LargeArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LargeArray({} values, mapped: {})", self.len(), self.is_mapped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_arrays_stay_on_the_heap_and_large_ones_are_mapped() {
        let small = LargeArray::<f64>::zeroed(1000);
        assert!(!small.is_mapped());
        let mut large = LargeArray::<f64>::zeroed(MIN_MAPPED_BYTES / 8 + 3);
        assert!(large.is_mapped());
        assert!(large.iter().all(|&v| v == 0.0));
        let last = large.len() - 1;
        large[last] = 2.5;
        let copy = large.clone();
        assert_eq!(copy[last], 2.5);
        assert_eq!(copy.len(), large.len());
    }

    #[test]
    fn empty_arrays_work() {
        let empty = LargeArray::<u64>::zeroed(0);
        assert!(empty.is_empty());
    }
}
