//! numpy's `argsort(kind="quicksort")` for integer keys, reimplemented so that `max_features`
//! breaks ties between equally frequent terms exactly as sklearn does: `_limit_features` keeps
//! `(-tfs[mask]).argsort()[:limit]`, and numpy's default argsort is an introsort (median-of-three
//! quicksort, insertion sort up to 16 elements, heapsort past a depth limit), which is not
//! stable. This follows numpy's generic (non-SIMD) `aquicksort` of numpy <= 1.24; numpy 1.25+ on
//! AVX-512 machines uses a different argsort whose tie order can differ.

/// Partitions of at most this many elements (plus one) are insertion-sorted (numpy's
/// `SMALL_QUICKSORT`; checked against numpy by the test below).
const SMALL_QUICKSORT: usize = 15;

/// The permutation that sorts `keys`, in numpy's quicksort order among equal keys.
pub(crate) fn argsort_quicksort(keys: &[i64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    let n = order.len();
    if n < 2 {
        return order;
    }
    let v = |slot: usize, order: &[usize]| keys[order[slot]];
    // (low, high, depth) of partitions still to sort, inclusive bounds.
    let mut stack: Vec<(usize, usize, i32)> = Vec::new();
    let (mut pl, mut pr) = (0usize, n - 1);
    let mut depth = 2 * (usize::BITS - 1 - n.leading_zeros()) as i32;
    loop {
        if depth < 0 {
            heapsort(keys, &mut order[pl..=pr]);
        } else {
            while pr - pl > SMALL_QUICKSORT {
                let pm = pl + ((pr - pl) >> 1);
                if v(pm, &order) < v(pl, &order) {
                    order.swap(pm, pl);
                }
                if v(pr, &order) < v(pm, &order) {
                    order.swap(pr, pm);
                }
                if v(pm, &order) < v(pl, &order) {
                    order.swap(pm, pl);
                }
                let pivot = v(pm, &order);
                let mut pi = pl;
                let mut pj = pr - 1;
                order.swap(pm, pj);
                loop {
                    // Sentinels: keys[pl] <= pivot and the pivot itself sits at pr - 1.
                    pi += 1;
                    while v(pi, &order) < pivot {
                        pi += 1;
                    }
                    pj -= 1;
                    while pivot < v(pj, &order) {
                        pj -= 1;
                    }
                    if pi >= pj {
                        break;
                    }
                    order.swap(pi, pj);
                }
                order.swap(pi, pr - 1);
                depth -= 1;
                // Sort the smaller side now, the larger one later.
                if pi - pl < pr - pi {
                    stack.push((pi + 1, pr, depth));
                    pr = pi - 1;
                } else {
                    stack.push((pl, pi - 1, depth));
                    pl = pi + 1;
                }
            }
            for i in pl + 1..=pr {
                let item = order[i];
                let key = keys[item];
                let mut j = i;
                while j > pl && key < keys[order[j - 1]] {
                    order[j] = order[j - 1];
                    j -= 1;
                }
                order[j] = item;
            }
        }
        match stack.pop() {
            Some((low, high, d)) => (pl, pr, depth) = (low, high, d),
            None => break,
        }
    }
    order
}

/// numpy's `aheapsort` on one partition (1-based heap indexing as numpy's).
fn heapsort(keys: &[i64], part: &mut [usize]) {
    let mut n = part.len();
    let less = |a: usize, b: usize| keys[a] < keys[b];
    // a[k] is part[k - 1].
    let sift = |part: &mut [usize], start: usize, n: usize, item: usize| {
        let (mut i, mut j) = (start, start << 1);
        while j <= n {
            if j < n && less(part[j - 1], part[j]) {
                j += 1;
            }
            if less(item, part[j - 1]) {
                part[i - 1] = part[j - 1];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        part[i - 1] = item;
    };
    for l in (1..=n >> 1).rev() {
        let item = part[l - 1];
        sift(part, l, n, item);
    }
    while n > 1 {
        let item = part[n - 1];
        part[n - 1] = part[0];
        n -= 1;
        sift(part, 1, n, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn sorts_and_matches_numpy_on_ties() {
        let mut rng = Rng::new(1);
        let keys: Vec<i64> = (0..3000).map(|_| -(rng.below(7) as i64)).collect();
        let order = argsort_quicksort(&keys);
        assert!(order.windows(2).all(|w| keys[w[0]] <= keys[w[1]]));
        // numpy itself, when this machine has it.
        let script = "import sys, json, numpy as np\n\
                      keys = np.array(json.load(sys.stdin), dtype=np.int64)\n\
                      print(json.dumps(keys.argsort().tolist()))";
        let expected = crate::vectorize::tests::python(script, &keys);
        let expected: Vec<usize> = serde_json::from_str(&expected).unwrap();
        assert_eq!(order, expected);
    }

    #[test]
    fn heapsort_fallback_sorts() {
        let keys: Vec<i64> = (0..100).map(|i| (i * 37 % 11) as i64).collect();
        let mut part: Vec<usize> = (0..100).collect();
        heapsort(&keys, &mut part);
        assert!(part.windows(2).all(|w| keys[w[0]] <= keys[w[1]]));
    }
}
