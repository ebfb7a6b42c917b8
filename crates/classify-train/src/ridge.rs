//! Ridge regression (sklearn `Ridge(alpha)` with `fit_intercept=True`): minimizes
//! `‖X w + b − y‖² + alpha ‖w‖²` with the intercept unpenalized. As sklearn does for sparse data,
//! the columns are centred implicitly (never densified): the problem becomes
//! `(Xcᵀ Xc + alpha I) w = Xcᵀ (y − ȳ)` with `Xc = X − 1 μᵀ`, solved by conjugate gradients
//! preconditioned with its diagonal, then `b = ȳ − μ · w`. Every product goes through the CSR
//! rows, so memory stays O(non-zeros + features).

use crate::csr::CsrMatrix;

/// The fitted weights and intercept, and how the solver ended.
#[derive(Debug, Clone)]
pub(crate) struct RidgeFit {
    pub(crate) weights: Vec<f64>,
    pub(crate) intercept: f64,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
}

/// Solves until the residual's norm is at most `tol` times the right-hand side's, or
/// `max_iter` iterations.
pub(crate) fn solve(x: &CsrMatrix, y: &[f64], alpha: f64, tol: f64, max_iter: usize) -> RidgeFit {
    let (n, d) = (x.n_rows(), x.n_cols());
    let y_mean = y.iter().sum::<f64>() / n.max(1) as f64;
    let mut means = vec![0.0; d];
    let mut squares = vec![0.0; d];
    for i in 0..n {
        let (indices, values) = x.row(i);
        for (&j, &v) in indices.iter().zip(values) {
            means[j as usize] += v;
            squares[j as usize] += v * v;
        }
    }
    for mean in &mut means {
        *mean /= n.max(1) as f64;
    }
    // diag(Xcᵀ Xc) = Σ x² − n μ², plus alpha: the Jacobi preconditioner.
    let diagonal: Vec<f64> = squares
        .iter()
        .zip(&means)
        .map(|(square, mean)| (square - n as f64 * mean * mean).max(0.0) + alpha)
        .collect();
    let centred_targets: Vec<f64> = y.iter().map(|value| value - y_mean).collect();
    let apply = |v: &[f64]| -> Vec<f64> {
        // Xc v = X v − (μ·v) 1, then Xcᵀ u = Xᵀ u − μ Σu.
        let shift: f64 = means.iter().zip(v).map(|(m, v)| m * v).sum();
        let u: Vec<f64> = (0..n).map(|i| x.dot(i, v) - shift).collect();
        transpose_product(x, &u, &means, alpha, v)
    };
    let b = transpose_product(x, &centred_targets, &means, 0.0, &[]);
    let b_norm = norm(&b);
    let mut weights = vec![0.0; d];
    if b_norm == 0.0 {
        return RidgeFit { weights, intercept: y_mean, iterations: 0, converged: true };
    }
    let mut residual = b;
    let mut z: Vec<f64> = residual.iter().zip(&diagonal).map(|(r, m)| r / m).collect();
    let mut direction = z.clone();
    let mut rz: f64 = dot(&residual, &z);
    let (mut iterations, mut converged) = (0, false);
    while iterations < max_iter {
        iterations += 1;
        let product = apply(&direction);
        let step = rz / dot(&direction, &product);
        for j in 0..d {
            weights[j] += step * direction[j];
            residual[j] -= step * product[j];
        }
        if norm(&residual) <= tol * b_norm {
            converged = true;
            break;
        }
        z = residual.iter().zip(&diagonal).map(|(r, m)| r / m).collect();
        let rz_next = dot(&residual, &z);
        let beta = rz_next / rz;
        rz = rz_next;
        for j in 0..d {
            direction[j] = z[j] + beta * direction[j];
        }
    }
    let intercept = y_mean - dot(&means, &weights);
    RidgeFit { weights, intercept, iterations, converged }
}

/// `Xcᵀ u + alpha v` (`v` empty: no alpha term).
fn transpose_product(x: &CsrMatrix, u: &[f64], means: &[f64], alpha: f64, v: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.n_cols()];
    for (i, &ui) in u.iter().enumerate() {
        x.axpy(i, ui, &mut out);
    }
    let total: f64 = u.iter().sum();
    for (j, value) in out.iter_mut().enumerate() {
        *value -= means[j] * total;
        if let Some(vj) = v.get(j) {
            *value += alpha * vj;
        }
    }
    out
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| a * b).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(n_cols: usize, rows: &[&[(u32, f64)]]) -> CsrMatrix {
        let mut x = CsrMatrix::new(n_cols);
        for row in rows {
            x.push_row(row.iter().copied());
        }
        x
    }

    /// X = [[1,0],[0,1],[1,1]], y = [1,2,4], alpha = 1, by hand: μ = (2/3, 2/3), ȳ = 7/3,
    /// Xcᵀ Xc = [[2/3, −1/3], [−1/3, 2/3]] and Xcᵀ (y − ȳ) = [1/3, 4/3], so
    /// [[5/3, −1/3], [−1/3, 5/3]] w = [1/3, 4/3]: w = [3/8, 7/8], b = 7/3 − 2/3 · (w₀ + w₁) = 3/2.
    #[test]
    fn conjugate_gradients_reach_the_closed_form() {
        let x = matrix(2, &[&[(0, 1.0)], &[(1, 1.0)], &[(0, 1.0), (1, 1.0)]]);
        let fit = solve(&x, &[1.0, 2.0, 4.0], 1.0, 1e-12, 100);
        assert!(fit.converged && fit.iterations <= 2, "{fit:?}");
        for (got, want) in fit.weights.iter().zip([3.0 / 8.0, 7.0 / 8.0]) {
            assert!((got - want).abs() < 1e-12, "{fit:?}");
        }
        assert!((fit.intercept - 1.5).abs() < 1e-12, "{fit:?}");
    }

    #[test]
    fn constant_targets_give_their_mean() {
        let x = matrix(2, &[&[(0, 1.0)], &[(1, 3.0)]]);
        let fit = solve(&x, &[5.0, 5.0], 1.0, 1e-10, 10);
        assert_eq!((fit.weights, fit.intercept, fit.converged), (vec![0.0, 0.0], 5.0, true));
    }
}
