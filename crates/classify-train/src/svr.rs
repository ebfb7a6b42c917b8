//! Linear support vector regression (sklearn `LinearSVR` with its defaults: the
//! epsilon-insensitive loss, `dual=True`), by dual coordinate descent as liblinear's solver
//! `L2R_L1LOSS_SVR_DUAL` does it (Ho and Lin, "Large-scale Linear Support Vector Regression",
//! JMLR 2012):
//!
//! - primal: `min_w ½‖w‖² + C Σ max(0, |y_i − wᵀx_i| − ε)`, the bias an extra constant feature
//!   of value 1 (`intercept_scaling=1`) regularized like the other weights;
//! - dual: one variable `β_i ∈ [−C, C]` per document, `w = Σ β_i x_i` kept up to date;
//! - each outer iteration visits the active variables in a fresh random order; a variable at 0
//!   or at a bound whose gradient points further out than the previous iteration's largest
//!   violation leaves the active set;
//! - stop when the summed violation is at most `tol` times the first iteration's (liblinear's
//!   criterion); if variables were shrunk, all are reactivated and checked once more; or after
//!   `max_iter` outer iterations (not converged, as sklearn's ConvergenceWarning reports).

use crate::csr::CsrMatrix;
use crate::rng::Rng;

/// The fitted weights and intercept, and how the solver ended.
#[derive(Debug, Clone)]
pub(crate) struct SvrFit {
    pub(crate) weights: Vec<f64>,
    pub(crate) intercept: f64,
    pub(crate) iterations: usize,
    pub(crate) converged: bool,
}

/// Settings of one fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SvrOptions {
    pub(crate) c: f64,
    /// The width of the tube inside which errors cost nothing (sklearn's `epsilon`).
    pub(crate) epsilon: f64,
    pub(crate) tol: f64,
    pub(crate) max_iter: usize,
}

pub(crate) fn solve(x: &CsrMatrix, y: &[f64], options: &SvrOptions, seed: u64) -> SvrFit {
    let n = x.n_rows();
    let upper = options.c;
    let mut w = vec![0.0; x.n_cols()];
    let mut bias = 0.0;
    let mut beta = vec![0.0; n];
    // Q_ii = ‖x_i‖² + 1 (the bias feature).
    let diagonal: Vec<f64> = (0..n).map(|i| x.norm_squared(i) + 1.0).collect();
    let mut index: Vec<usize> = (0..n).collect();
    let mut active = n;
    let mut rng = Rng::new(seed);
    let mut violation_max_old = f64::INFINITY;
    let mut violation_sum_first = 0.0;
    let (mut iterations, mut converged) = (0, false);
    while iterations < options.max_iter {
        let mut violation_max = 0.0f64;
        let mut violation_sum = 0.0;
        rng.shuffle(&mut index[..active]);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let g = x.dot(i, &w) + bias - y[i];
            let h = diagonal[i];
            // The gradients of the two halves of |β|·ε: moving β up, and moving it down.
            let (g_up, g_down) = (g + options.epsilon, g - options.epsilon);
            let b = beta[i];
            let shrink = |active: &mut usize, index: &mut [usize], s: usize| {
                *active -= 1;
                index.swap(s, *active);
            };
            let violation = if b == 0.0 {
                if g_up < 0.0 {
                    -g_up
                } else if g_down > 0.0 {
                    g_down
                } else if g_up > violation_max_old && g_down < -violation_max_old {
                    shrink(&mut active, &mut index, s);
                    continue;
                } else {
                    0.0
                }
            } else if b >= upper {
                if g_up > 0.0 {
                    g_up
                } else if g_up < -violation_max_old {
                    shrink(&mut active, &mut index, s);
                    continue;
                } else {
                    0.0
                }
            } else if b <= -upper {
                if g_down < 0.0 {
                    -g_down
                } else if g_down > violation_max_old {
                    shrink(&mut active, &mut index, s);
                    continue;
                } else {
                    0.0
                }
            } else if b > 0.0 {
                g_up.abs()
            } else {
                g_down.abs()
            };
            violation_max = violation_max.max(violation);
            violation_sum += violation;
            s += 1;
            // The Newton step of the one-variable problem, clipped to the box.
            let step = if g_up < h * b {
                -g_up / h
            } else if g_down > h * b {
                -g_down / h
            } else {
                -b
            };
            if step.abs() < 1e-12 {
                continue;
            }
            beta[i] = (b + step).clamp(-upper, upper);
            let moved = beta[i] - b;
            if moved != 0.0 {
                x.axpy(i, moved, &mut w);
                bias += moved;
            }
        }
        if iterations == 0 {
            violation_sum_first = violation_sum;
        }
        iterations += 1;
        if violation_sum <= options.tol * violation_sum_first {
            if active == n {
                converged = true;
                break;
            }
            active = n;
            violation_max_old = f64::INFINITY;
            continue;
        }
        violation_max_old = violation_max;
    }
    SvrFit { weights: w, intercept: bias, iterations, converged }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[(u32, f64)]], n_cols: usize) -> CsrMatrix {
        let mut x = CsrMatrix::new(n_cols);
        for row in rows {
            x.push_row(row.iter().copied());
        }
        x
    }

    #[test]
    fn fits_a_linear_function_within_the_tube() {
        // y = 2·a − b + 0.5 on a few points; a large C makes the fit (nearly) exact.
        let rows: Vec<Vec<(u32, f64)>> =
            (0..30).map(|i| vec![(0, (i % 5) as f64), (1, (i % 3) as f64)]).collect();
        let refs: Vec<&[(u32, f64)]> = rows.iter().map(Vec::as_slice).collect();
        let x = matrix(&refs, 2);
        let y: Vec<f64> = rows.iter().map(|r| 2.0 * r[0].1 - r[1].1 + 0.5).collect();
        let options = SvrOptions { c: 100.0, epsilon: 0.0, tol: 1e-6, max_iter: 10_000 };
        let fit = solve(&x, &y, &options, 0);
        assert!(fit.converged, "{fit:?}");
        for (i, row) in rows.iter().enumerate() {
            let predicted = fit.weights[0] * row[0].1 + fit.weights[1] * row[1].1 + fit.intercept;
            assert!((predicted - y[i]).abs() < 0.05, "row {i}: {predicted} vs {}", y[i]);
        }
    }

    #[test]
    fn errors_inside_epsilon_cost_nothing() {
        // Every target within 1 of 0: with epsilon 1 the best model is all zeros.
        let x = matrix(&[&[(0, 1.0)], &[(0, 2.0)], &[(0, 3.0)]], 1);
        let options = SvrOptions { c: 1.0, epsilon: 1.0, tol: 1e-4, max_iter: 100 };
        let fit = solve(&x, &[0.5, -0.5, 0.9], &options, 0);
        assert_eq!((fit.weights[0], fit.intercept), (0.0, 0.0));
    }
}
