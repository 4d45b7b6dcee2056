//! Tolerances against the float64 references and the asserts that apply them. All of them
//! are the mixed test `|got - want| <= atol + rtol |want|`: a purely relative one is
//! meaningless for the exact zeros of relu, masked steps and clipped gradients.

/// Output tolerance of f32 results against the float64 references (fixtures README).
pub const OUT_ATOL: f64 = 1e-6;
pub const OUT_RTOL: f64 = 1e-5;
/// Gradient tolerance (fixtures README).
pub const GRAD_ATOL: f64 = 1e-5;
pub const GRAD_RTOL: f64 = 1e-4;

/// Asserts `|got - want| <= atol + rtol * |want|` element-wise, reporting the worst element.
pub fn assert_close(what: &str, got: &[f32], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut worst = (0usize, 0.0f64);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let excess = (g as f64 - w).abs() - (atol + rtol * w.abs());
        if excess > worst.1 || (i == 0 && excess > 0.0) {
            worst = (i, excess);
        }
    }
    let (i, excess) = worst;
    assert!(
        excess <= 0.0,
        "{what}: element {i}: got {}, want {} (tolerance {atol} + {rtol}*|want|)",
        got[i],
        want[i]
    );
}

/// A single value within the output tolerance.
pub fn assert_value(what: &str, got: f32, want: f64) {
    assert_close(what, &[got], &[want], OUT_ATOL, OUT_RTOL);
}

/// Asserts `|got - want| <= atol + rtol * |want|` for one value already widened to f64.
pub fn assert_close_f64(what: &str, got: f64, want: f64, atol: f64, rtol: f64) {
    assert!(
        (got - want).abs() <= atol + rtol * want.abs(),
        "{what}: got {got}, Keras {want}"
    );
}

/// f32 values as f64.
pub fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// Collects every mismatch of a case, so that one failure lists all of them.
#[derive(Default)]
pub struct Report {
    failures: Vec<String>,
}

impl Report {
    /// `|got - want| <= atol + rtol |want|` element-wise, with a per-element `atol`;
    /// records the worst element. NaN fails.
    pub fn close(&mut self, what: &str, got: &[f64], want: &[f64], atol: &[f64], rtol: f64) {
        if got.len() != want.len() {
            self.failures
                .push(format!("{what}: {} values, want {}", got.len(), want.len()));
            return;
        }
        let mut worst: Option<(usize, f64)> = None;
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let tol = atol[i] + rtol * w.abs();
            let err = (g - w).abs();
            // NaN fails too.
            if err.is_nan() || err > tol {
                let ratio = if tol > 0.0 { err / tol } else { f64::INFINITY };
                if worst.is_none_or(|(_, r)| ratio > r || ratio.is_nan()) {
                    worst = Some((i, ratio));
                }
            }
        }
        if let Some((i, _)) = worst {
            self.failures.push(format!(
                "{what}: element {i}: got {:e}, want {:e} (error {:e}, tolerance {:e})",
                got[i],
                want[i],
                (got[i] - want[i]).abs(),
                atol[i] + rtol * want[i].abs()
            ));
        }
    }

    /// Records a mismatch described by the caller.
    pub fn fail(&mut self, msg: String) {
        self.failures.push(msg);
    }

    /// Fails with every recorded mismatch, if any.
    pub fn assert_ok(self, case: &str) {
        assert!(
            self.failures.is_empty(),
            "{case}: {} mismatch(es):\n  {}",
            self.failures.len(),
            self.failures.join("\n  ")
        );
    }
}
