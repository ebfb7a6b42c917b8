//! Asking the processor for a cache line ahead of its use.

/// Asks the processor to bring `value`'s cache line in, without waiting for it: a prefetch
/// changes nothing but timing. Reading the line instead would start the miss as well, but a load
/// holds up every instruction behind it until its line arrives, so loops that look up data a
/// few steps ahead (the linear SVM's next rows, a document's n-grams in the vocabulary) ask with
/// this. `safe_arch` wraps x86-64's `prefetcht0` safely; elsewhere this does nothing.
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    safe_arch::prefetch_t0(value);
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
