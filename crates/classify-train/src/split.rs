//! Seeded held-out splits: one train/test split (`--test-split`) and k folds (`--cv`), both over a
//! shuffled order of the documents, as sklearn's `train_test_split` and `KFold(shuffle=True)`
//! (sizes as theirs; the shuffle is this crate's own, so the documents chosen differ).

use crate::rng::Rng;
use crate::TrainError;

/// Train and test document indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// `ceil(test_fraction · n)` documents for testing, the rest for training.
pub fn train_test(n: usize, test_fraction: f64, seed: u64) -> Result<Split, TrainError> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(TrainError::option(
            "--test-split",
            format!("{test_fraction} must be a fraction between 0 and 1, e.g. 0.2"),
        ));
    }
    let n_test = (test_fraction * n as f64).ceil() as usize;
    if n_test == 0 || n_test >= n {
        return Err(TrainError::option(
            "--test-split",
            format!("{test_fraction} of {n} documents leaves no documents to train or to test"),
        ));
    }
    let order = shuffled(n, seed);
    Ok(Split { test: order[..n_test].to_vec(), train: order[n_test..].to_vec() })
}

/// `k` folds; the first `n % k` folds have one document more.
pub fn k_fold(n: usize, k: usize, seed: u64) -> Result<Vec<Split>, TrainError> {
    if k < 2 || k > n {
        return Err(TrainError::option(
            "--cv",
            format!("{k} folds for {n} documents: expected 2 <= k <= number of documents"),
        ));
    }
    let order = shuffled(n, seed);
    let mut folds = Vec::with_capacity(k);
    let mut start = 0;
    for fold in 0..k {
        let size = n / k + usize::from(fold < n % k);
        let test = order[start..start + size].to_vec();
        let train = order[..start].iter().chain(&order[start + size..]).copied().collect();
        folds.push(Split { train, test });
        start += size;
    }
    Ok(folds)
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sizes_follow_sklearn() {
        let split = train_test(10, 0.25, 1).unwrap();
        assert_eq!((split.train.len(), split.test.len()), (7, 3));
        let folds = k_fold(10, 3, 1).unwrap();
        let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        assert_eq!(sizes, [4, 3, 3]);
        let mut all: Vec<usize> = folds.iter().flat_map(|f| f.test.clone()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(train_test(10, 1.0, 1).is_err());
        assert!(k_fold(3, 4, 1).is_err());
    }
}
