//! Float64 reference formulas, written for clarity rather than speed or stability, and
//! central finite differences.

/// Element-wise logistic sigmoid.
pub fn sigmoid64(z: &[f64]) -> Vec<f64> {
    z.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect()
}

/// Softmax of each row of `classes` values.
pub fn softmax64(z: &[f64], classes: usize) -> Vec<f64> {
    z.chunks(classes)
        .flat_map(|row| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = row.iter().map(|&v| (v - max).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| v / s)
        })
        .collect()
}

/// Central finite differences of `f` at `x`.
pub fn numeric_grad(f: impl Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut x = x.to_vec();
    (0..x.len())
        .map(|i| {
            let x0 = x[i];
            x[i] = x0 + h;
            let up = f(&x);
            x[i] = x0 - h;
            let down = f(&x);
            x[i] = x0;
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// Deterministic numbers in `[lo, hi)` (xorshift), for inputs away from any clip bound.
pub fn uniform(seed: u64, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// Rounds to f32 and back, so that float64 references see exactly what the crate sees.
pub fn round32(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x as f32 as f64).collect()
}
