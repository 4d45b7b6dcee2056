//! The orthogonal factor of a QR factorisation, for the orthogonal initializer: blocked
//! Householder reflections (LAPACK's `geqrf` then `orgqr`, compact WY form), so that nearly
//! all the work is matrix products through [`gemm`], which is cache-blocked, SIMD and threaded.
//! An unblocked QR (nalgebra's) streams the whole trailing matrix once per column and takes
//! seconds for a `2048 x 8192` recurrent kernel.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Hot loops over buffers whose bounds the entry points check with checked \
              arithmetic (see the `# Safety`/`# Panics` sections): every index stays below them"
)]
use super::gemm::{MatRef, gemm};

/// Columns per block: the panel is factored column by column, the rest of the matrix updated
/// once per block by matrix products.
const BLOCK: usize = 128;

/// The reflections of one block of columns: `H = I - V T V^T`.
struct Block {
    /// First column (and row) of the block.
    j0: usize,
    /// Columns in the block.
    jb: usize,
    /// `(m - j0) x jb`, column-major: unit lower trapezoidal.
    v: Vec<f32>,
    /// `jb x jb`, row-major, upper triangular.
    t: Vec<f32>,
}

/// Replaces the column-major `m x n` matrix `a` (`m >= n`) by the `Q` of `a = Q R` with the
/// signs of `diag(R)` folded into `Q`'s columns: the unique orthonormal basis for which `R`
/// has a non-negative diagonal, as Keras' `Orthogonal` computes it.
///
/// # Panics
/// If `m < n` or `a.len() != m * n`: internal invariants of the initializer.
pub(crate) fn orthonormalize(a: &mut [f32], m: usize, n: usize) {
    assert!(
        m >= n && a.len() == m * n,
        "QR of a wide or mis-sized matrix"
    );
    let (blocks, diag) = factor(a, m, n);
    a.fill(0.0);
    for j in 0..n {
        a[j * m + j] = 1.0;
    }
    for b in blocks.iter().rev() {
        apply(a, m, n, b, b.j0, false);
    }
    for (j, r) in diag.iter().enumerate() {
        if *r < 0.0 {
            a[j * m..(j + 1) * m].iter_mut().for_each(|v| *v = -*v);
        }
    }
}

/// Householder QR in place: `R` on and above the diagonal, the reflectors below it. Returns
/// each block's `V` and `T`, and `diag(R)`.
fn factor(a: &mut [f32], m: usize, n: usize) -> (Vec<Block>, Vec<f32>) {
    let mut blocks = Vec::with_capacity(n.div_ceil(BLOCK));
    let mut diag = vec![0.0f32; n];
    for j0 in (0..n).step_by(BLOCK) {
        let jb = BLOCK.min(n - j0);
        let mm = m - j0;
        let mut taus = [0.0f32; BLOCK];
        for (k, tau_k) in taus.iter_mut().enumerate().take(jb) {
            let col = j0 + k;
            let (head, tail) = a.split_at_mut((col + 1) * m);
            let x = &mut head[col * m + col..];
            let (beta, tau) = reflect(x);
            diag[col] = beta;
            *tau_k = tau;
            if tau == 0.0 {
                continue;
            }
            // The rest of the panel, one column at a time (they are contiguous).
            for c in 0..j0 + jb - col - 1 {
                let y = &mut tail[c * m + col..(c + 1) * m];
                let w = tau * (y[0] + dot(&x[1..], &y[1..]));
                y[0] -= w;
                y[1..]
                    .iter_mut()
                    .zip(&x[1..])
                    .for_each(|(y, v)| *y -= w * v);
            }
        }
        let mut v = vec![0.0f32; mm * jb];
        for i in 0..jb {
            v[i * mm + i] = 1.0;
            let below = (j0 + i) * m + j0 + i + 1..(j0 + i + 1) * m;
            v[i * mm + i + 1..(i + 1) * mm].copy_from_slice(&a[below]);
        }
        let t = triangular_factor(&v, mm, jb, &taus[..jb]);
        let block = Block { j0, jb, v, t };
        if j0 + jb < n {
            apply(a, m, n, &block, j0 + jb, true);
        }
        blocks.push(block);
    }
    (blocks, diag)
}

/// Turns `x` into `[beta, v_1, ..]` for the reflection `I - tau v v^T` (`v_0 = 1`) that maps
/// `x` to `beta e_0`; returns `(beta, tau)`, `tau = 0` when `x` is already a multiple of `e_0`.
fn reflect(x: &mut [f32]) -> (f32, f32) {
    let alpha = x[0];
    let norm = x[1..]
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt() as f32;
    if norm == 0.0 {
        return (alpha, 0.0);
    }
    let beta = -alpha.hypot(norm).copysign(alpha);
    let tau = (beta - alpha) / beta;
    let scale = 1.0 / (alpha - beta);
    x[1..].iter_mut().for_each(|v| *v *= scale);
    x[0] = beta;
    (beta, tau)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// LAPACK's `larft`: the upper triangular `T` with `H_1 .. H_jb = I - V T V^T`.
fn triangular_factor(v: &[f32], mm: usize, jb: usize, taus: &[f32]) -> Vec<f32> {
    let vt = MatRef::new(v, jb, mm);
    let mut g = vec![0.0f32; jb * jb];
    gemm(1.0, vt, vt.t(), 0.0, &mut g, jb);
    let mut t = vec![0.0f32; jb * jb];
    for i in 0..jb {
        t[i * jb + i] = taus[i];
        for l in 0..i {
            let s: f32 = (l..i).map(|p| t[l * jb + p] * g[p * jb + i]).sum();
            t[l * jb + i] = -taus[i] * s;
        }
    }
    t
}

/// Applies `H^T` (`transpose`, while factoring) or `H` (forming `Q`) of `block` to columns
/// `c0..n`, rows `j0..m`, of the column-major `m x n` matrix `a`. Column-major `C` is a
/// row-major `C^T`, so with `W = C^T V`: `H^T C` is `C^T - W T V^T` and `H C` is
/// `C^T - W T^T V^T`.
fn apply(a: &mut [f32], m: usize, n: usize, block: &Block, c0: usize, transpose: bool) {
    let (j0, jb) = (block.j0, block.jb);
    let (mm, nc) = (m - j0, n - c0);
    let vt = MatRef::new(&block.v, jb, mm);
    let start = c0 * m + j0;
    let mut w = vec![0.0f32; nc * jb];
    gemm(
        1.0,
        MatRef::with_ld(&a[start..], nc, mm, m),
        vt.t(),
        0.0,
        &mut w,
        jb,
    );
    let t = MatRef::new(&block.t, jb, jb);
    let t = if transpose { t } else { t.t() };
    let mut wt = vec![0.0f32; nc * jb];
    gemm(1.0, MatRef::new(&w, nc, jb), t, 0.0, &mut wt, jb);
    gemm(-1.0, MatRef::new(&wt, nc, jb), vt, 1.0, &mut a[start..], m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    /// `m x n` column-major values that are not orthogonal.
    fn matrix(m: usize, n: usize) -> Vec<f32> {
        (0..m * n)
            .map(|i| {
                ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) + if i % (m + 1) == 0 { 2.0 } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn matches_an_unblocked_qr_with_the_signs_folded_in() {
        // Miri, which interprets every instruction, checks the sizes below 70.
        let sizes: &[_] = if cfg!(miri) {
            &[(1, 1), (5, 1), (7, 7), (40, 33)]
        } else {
            &[(1, 1), (5, 1), (7, 7), (40, 33), (100, 70), (70, 70)]
        };
        for &(m, n) in sizes {
            let mut a = matrix(m, n);
            let reference = DMatrix::from_column_slice(m, n, &a).map(f64::from).qr();
            let (mut q, r) = (reference.q(), reference.r());
            for j in 0..n {
                if r[(j, j)] < 0.0 {
                    q.column_mut(j).neg_mut();
                }
            }
            orthonormalize(&mut a, m, n);
            for j in 0..n {
                for i in 0..m {
                    let (got, want) = (a[j * m + i], q[(i, j)]);
                    assert!(
                        (f64::from(got) - want).abs() < 2e-5,
                        "{m}x{n} ({i}, {j}): {got} {want}"
                    );
                }
            }
        }
    }
}
