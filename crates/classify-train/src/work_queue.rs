//! The one way training spreads independent problems (one-vs-rest classes, one-vs-one pairs) over
//! threads: scoped workers take the next index from a shared counter, so a long problem never
//! holds up the ones queued behind a short one, and results come back in index order whatever
//! the scheduling was.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Solves problems `0..count` on at most `threads` threads and returns their results in index
/// order. `finished(index)` runs on the worker right after problem `index` is solved (progress
/// bars). A panic in `solve` propagates to the caller once every worker has stopped.
pub(crate) fn solve_all<T: Send>(
    count: usize,
    threads: usize,
    solve: impl Fn(usize) -> T + Sync,
    finished: impl Fn(usize) + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..count).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, count.max(1)) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let result = solve(index);
                // A poisoned lock means another worker panicked; `scope` re-raises that panic.
                if let Ok(mut slots) = results.lock() {
                    slots[index] = Some(result);
                }
                finished(index);
            });
        }
    });
    let slots = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    // Each index below `count` was taken by exactly one worker, and a worker's panic would have
    // propagated out of `scope` before this line, so every slot is filled.
    slots.into_iter().map(|slot| slot.expect("every problem solved")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_index_order_on_any_number_of_threads() {
        for threads in [1, 2, 7] {
            let results = solve_all(20, threads, |index| index * index, |_| {});
            assert_eq!(results, (0..20).map(|index| index * index).collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_problem_reports_finishing_once() {
        let finished = Mutex::new(Vec::new());
        solve_all(5, 3, |index| index, |index| finished.lock().unwrap().push(index));
        let mut finished = finished.into_inner().unwrap();
        finished.sort_unstable();
        assert_eq!(finished, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn no_problems_means_no_results() {
        assert!(solve_all(0, 4, |index| index, |_| {}).is_empty());
    }
}
