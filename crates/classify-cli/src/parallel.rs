//! Offline scoring on every CPU: a map over a slice whose results come back in input order.

/// `f` over `items` on up to `threads` scoped threads, each taking one contiguous block, the
/// results in `items`' order. One thread (or one item) runs on the caller's thread.
pub(crate) fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let block = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(block)
            .map(|chunk| scope.spawn(|| chunk.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        let mut results = Vec::with_capacity(items.len());
        for worker in workers {
            // A worker's panic is the caller's: re-raise it here.
            match worker.join() {
                Ok(block) => results.extend(block),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

/// The number of threads to use when none is given: every CPU the process may run on.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_on_any_number_of_threads() {
        let items: Vec<u32> = (0..1001).collect();
        for threads in [1, 2, 3, 8, 2000] {
            let squares = map_in_order(&items, threads, |x| x * x);
            assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>(), "{threads}");
        }
        assert!(map_in_order(&[] as &[u32], 4, |x| *x).is_empty());
    }
}
