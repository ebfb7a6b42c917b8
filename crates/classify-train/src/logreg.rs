//! L2-regularized logistic regression on one binary problem, solved in the primal by a truncated
//! Newton method (Newton-CG with a backtracking line search, as in Lin, Weng and Keerthi,
//! "Trust Region Newton Method for Large-Scale Logistic Regression", JMLR 2008, with the trust
//! region replaced by an Armijo line search):
//!
//! `min_w f(w) = ½‖w‖² + Σ C_i log(1 + exp(−y_i wᵀx_i))`, the bias again an extra constant
//! feature of value 1 that is regularized (liblinear's, so sklearn `solver="liblinear"`'s,
//! convention). Gradient `∇f = w + Xᵀ(C ∘ (σ(y∘z) − 1) ∘ y)`, Hessian-vector product
//! `Hv = v + Xᵀ(D ∘ Xv)`, `D_i = C_i σ_i (1 − σ_i)`; only sparse products, never a dense matrix.
//! Stops when `‖∇f(w)‖ ≤ tol · ‖∇f(0)‖` or after `max_iter` Newton steps.

use crate::{BinaryProblem, BinarySolution};

/// Conjugate-gradient steps per Newton step, at most.
const MAX_CG: usize = 250;

/// Solves one binary problem.
pub(crate) fn solve(problem: &BinaryProblem<'_>, tol: f64, max_iter: usize) -> BinarySolution {
    let x = problem.x;
    let n = x.n_rows();
    let dim = x.n_cols() + 1;
    let mut w = vec![0.0; dim];
    let mut z = vec![0.0; n];
    let mut f = objective(problem, &w, &z);
    let mut g = vec![0.0; dim];
    let mut d = vec![0.0; n];
    gradient(problem, &w, &z, &mut g, &mut d);
    let g0 = norm(&g);
    let mut iterations = 0;
    let mut converged = g0 == 0.0;
    while !converged && iterations < max_iter {
        let step = newton_direction(problem, &g, &d);
        // Backtracking (Armijo) along the Newton direction; step 1 is almost always taken.
        let slope: f64 = g.iter().zip(&step).map(|(a, b)| a * b).sum();
        let mut xs = vec![0.0; n];
        multiply(problem, &step, &mut xs);
        let mut eta = 1.0;
        let mut moved = false;
        let mut trial_w = vec![0.0; dim];
        let mut trial_z = vec![0.0; n];
        for _ in 0..30 {
            for k in 0..dim {
                trial_w[k] = w[k] + eta * step[k];
            }
            for i in 0..n {
                trial_z[i] = z[i] + eta * xs[i];
            }
            let trial_f = objective(problem, &trial_w, &trial_z);
            if trial_f <= f + 0.01 * eta * slope {
                std::mem::swap(&mut w, &mut trial_w);
                std::mem::swap(&mut z, &mut trial_z);
                f = trial_f;
                moved = true;
                break;
            }
            eta *= 0.5;
        }
        iterations += 1;
        gradient(problem, &w, &z, &mut g, &mut d);
        if norm(&g) <= tol * g0 {
            converged = true;
        } else if !moved {
            // No decrease along a descent direction: at the limits of floating point.
            converged = norm(&g) <= 1e-6 * g0.max(1.0);
            break;
        }
    }
    let bias = w.pop().unwrap_or(0.0);
    BinarySolution { weights: w, bias, iterations, converged }
}

/// `f(w)` given the margins `z = Xw + b`.
fn objective(problem: &BinaryProblem<'_>, w: &[f64], z: &[f64]) -> f64 {
    let regularizer = 0.5 * w.iter().map(|v| v * v).sum::<f64>();
    let loss: f64 =
        z.iter().enumerate().map(|(i, &zi)| problem.c(i) * log1p_exp(-problem.y(i) * zi)).sum();
    regularizer + loss
}

/// Writes `∇f(w)` into `g` and the Hessian's diagonal weights into `d`.
fn gradient(problem: &BinaryProblem<'_>, w: &[f64], z: &[f64], g: &mut [f64], d: &mut [f64]) {
    g.copy_from_slice(w);
    let bias = g.len() - 1;
    for (i, &zi) in z.iter().enumerate() {
        let y = problem.y(i);
        let sigma = sigmoid(y * zi);
        let coefficient = problem.c(i) * (sigma - 1.0) * y;
        problem.x.axpy(i, coefficient, &mut g[..bias]);
        g[bias] += coefficient;
        d[i] = problem.c(i) * sigma * (1.0 - sigma);
    }
}

/// `out = X v` (with the bias feature).
fn multiply(problem: &BinaryProblem<'_>, v: &[f64], out: &mut [f64]) {
    let bias = v[v.len() - 1];
    for (i, value) in out.iter_mut().enumerate() {
        *value = problem.x.dot(i, v) + bias;
    }
}

/// Approximately solves `H s = −g` by conjugate gradients, to a residual of `0.1 ‖g‖`.
fn newton_direction(problem: &BinaryProblem<'_>, g: &[f64], d: &[f64]) -> Vec<f64> {
    let dim = g.len();
    let n = d.len();
    let mut s = vec![0.0; dim];
    let mut r: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut p = r.clone();
    let mut hp = vec![0.0; dim];
    let mut xp = vec![0.0; n];
    let mut rr: f64 = r.iter().map(|v| v * v).sum();
    let target = 0.1 * norm(g);
    for _ in 0..MAX_CG {
        if rr.sqrt() <= target {
            break;
        }
        // hp = p + Xᵀ(D ∘ X p)
        multiply(problem, &p, &mut xp);
        hp.copy_from_slice(&p);
        for i in 0..n {
            let coefficient = d[i] * xp[i];
            problem.x.axpy(i, coefficient, &mut hp[..dim - 1]);
            hp[dim - 1] += coefficient;
        }
        let php: f64 = p.iter().zip(&hp).map(|(a, b)| a * b).sum();
        let alpha = rr / php;
        for k in 0..dim {
            s[k] += alpha * p[k];
            r[k] -= alpha * hp[k];
        }
        let rr_new: f64 = r.iter().map(|v| v * v).sum();
        let beta = rr_new / rr;
        for k in 0..dim {
            p[k] = r[k] + beta * p[k];
        }
        rr = rr_new;
    }
    s
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// `log(1 + exp(t))` without overflow.
fn log1p_exp(t: f64) -> f64 {
    if t > 0.0 {
        t + (-t).exp().ln_1p()
    } else {
        t.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::CsrMatrix;

    #[test]
    fn symmetric_pair_reaches_the_stationary_point() {
        // Points x = ∓1: by symmetry b = 0 and w solves w = 2C·σ(−w).
        let mut x = CsrMatrix::new(1);
        x.push_row([(0, -1.0)]);
        x.push_row([(0, 1.0)]);
        let positive = [false, true];
        let c = 2.0;
        let problem = BinaryProblem { x: &x, positive: &positive, c_positive: c, c_negative: c };
        let solution = solve(&problem, 1e-10, 100);
        assert!(solution.converged);
        let w = solution.weights[0];
        assert!((w - 2.0 * c * sigmoid(-w)).abs() < 1e-8, "{solution:?}");
        assert!(solution.bias.abs() < 1e-10);
    }
}
