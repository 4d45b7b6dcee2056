//! Keras' weight initializers ([`Initializer`]), drawn from a seeded generator.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::error::Result;
use crate::size::checked_len;

/// The random generator every initializer and dropout mask draws from: xoshiro256++, whose
/// output is fixed by its specification, so a seed gives the same weights on every platform.
pub type Rng = Xoshiro256PlusPlus;

/// A generator seeded with `seed`: the same seed gives the same weights.
///
/// ```
/// use rand::RngExt;
/// let a: f32 = rnn_runtime::seeded_rng(7).random();
/// let b: f32 = rnn_runtime::seeded_rng(7).random();
/// assert_eq!(a, b);
/// ```
pub fn seeded_rng(seed: u64) -> Rng {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// How a weight starts: Keras' initializers with their arguments (Keras' class names; the
/// `model!` macro also takes Keras' string names such as `"glorot_uniform"`).
///
/// Fans are Keras': a `(rows, cols)` matrix has `fan_in = rows` and `fan_out = cols`, a
/// vector of `n` has both `n`. The variance-scaling normals (`GlorotNormal`, `HeNormal`,
/// `LecunNormal`) are truncated at two standard deviations, their standard deviation divided
/// by [`rnn_spec::TRUNCATION_STDDEV`] so that the draw has the intended variance.
///
/// ```
/// use rnn_runtime::{Initializer, seeded_rng};
/// let mut rng = seeded_rng(0);
/// assert_eq!(Initializer::Constant(0.1).fill(&[2, 3], &mut rng), vec![0.1; 6]);
/// assert_eq!(
///     Initializer::Identity { gain: 2.0 }.fill(&[2, 3], &mut rng),
///     [2.0, 0.0, 0.0, 0.0, 2.0, 0.0]
/// );
/// let w = Initializer::HeUniform.fill(&[50, 10], &mut rng);
/// assert!(w.iter().all(|v| v.abs() <= (6.0f32 / 50.0).sqrt()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Initializer {
    /// Every value `value` (Keras `Constant(value)`).
    Constant(f32),
    /// Zeros.
    Zeros,
    /// Ones.
    Ones,
    /// Uniform in `±sqrt(6 / (fan_in + fan_out))`: Keras' default kernel.
    GlorotUniform,
    /// Truncated normal with variance `2 / (fan_in + fan_out)`.
    GlorotNormal,
    /// Uniform in `±sqrt(6 / fan_in)`.
    HeUniform,
    /// Truncated normal with variance `2 / fan_in`.
    HeNormal,
    /// Uniform in `±sqrt(3 / fan_in)`.
    LecunUniform,
    /// Truncated normal with variance `1 / fan_in`.
    LecunNormal,
    /// A random orthogonal matrix times `gain`: Keras' default recurrent kernel. A matrix with
    /// fewer rows than columns has orthonormal rows, otherwise orthonormal columns. Keras
    /// refuses a vector; here a vector is initialised as a one-row matrix.
    Orthogonal {
        /// The factor applied to the orthogonal matrix (Keras' default 1).
        gain: f32,
    },
    /// Uniform in `[minval, maxval]` (Keras' default `-0.05, 0.05` is Embedding's default).
    /// Bounds given in the wrong order are swapped.
    RandomUniform {
        /// The lower bound.
        minval: f32,
        /// The upper bound.
        maxval: f32,
    },
    /// Normal with this mean and standard deviation.
    RandomNormal {
        /// The mean.
        mean: f32,
        /// The standard deviation.
        stddev: f32,
    },
    /// Normal with this mean and standard deviation, redrawn outside two standard deviations.
    TruncatedNormal {
        /// The mean, before truncation.
        mean: f32,
        /// The standard deviation, before truncation.
        stddev: f32,
    },
    /// `gain` on the diagonal, zeros elsewhere (rectangular matrices too). Keras refuses a
    /// vector; here a vector is initialised as a one-row matrix.
    Identity {
        /// The diagonal value (Keras' default 1).
        gain: f32,
    },
}

impl Initializer {
    /// Keras' `Orthogonal()`, the default recurrent kernel.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::Initializer::ORTHOGONAL, rnn_runtime::Initializer::Orthogonal { gain: 1.0 });
    /// ```
    pub const ORTHOGONAL: Initializer = Initializer::Orthogonal { gain: 1.0 };

    /// Keras' `RandomUniform()` (`-0.05, 0.05`), the default embeddings.
    ///
    /// ```
    /// use rnn_runtime::Initializer;
    /// assert_eq!(Initializer::RANDOM_UNIFORM, Initializer::RandomUniform { minval: -0.05, maxval: 0.05 });
    /// ```
    pub const RANDOM_UNIFORM: Initializer = Initializer::RandomUniform {
        minval: -0.05,
        maxval: 0.05,
    };

    /// Values for a weight of `shape` (one or two axes; a scalar is a vector of one), row-major,
    /// drawn from `rng`. Constant initializers draw nothing, so they leave the generator where
    /// it was.
    ///
    /// ```
    /// use rnn_runtime::{Initializer, seeded_rng};
    /// let w = Initializer::ORTHOGONAL.fill(&[3, 3], &mut seeded_rng(1));
    /// let dot: f32 = (0..3).map(|k| w[k] * w[3 + k]).sum();
    /// assert!(dot.abs() < 1e-6);
    /// ```
    ///
    /// # Panics
    /// If the shape holds more values than memory can address; [`Initializer::try_fill`]
    /// returns an error instead.
    pub fn fill(&self, shape: &[usize], rng: &mut Rng) -> Vec<f32> {
        match self.try_fill(shape, rng) {
            Ok(values) => values,
            Err(e) => panic!("Initializer::fill: {e}"),
        }
    }

    /// Like [`Initializer::fill`], or [`Error::TooLarge`](crate::Error::TooLarge) when the product of `shape`
    /// overflows.
    ///
    /// ```
    /// use rnn_runtime::{Initializer, seeded_rng};
    /// let mut rng = seeded_rng(1);
    /// assert_eq!(Initializer::Ones.try_fill(&[2, 3], &mut rng).unwrap(), [1.0; 6]);
    /// assert!(Initializer::Zeros.try_fill(&[1 << 40, 1 << 40], &mut rng).is_err());
    /// ```
    pub fn try_fill(&self, shape: &[usize], rng: &mut Rng) -> Result<Vec<f32>> {
        let len = checked_len("initializer", shape)?;
        // Fans as f64, exact for every size that fits in memory; their product over the
        // leading axes of an empty shape such as `(0, n, n, 1)` may not fit in `usize`.
        let dim = |d: usize| d as f64;
        let (fan_in, fan_out) = match shape {
            [] => (1.0, 1.0),
            [n] => (dim(*n), dim(*n)),
            [rows, cols] => (dim(*rows), dim(*cols)),
            // Keras' fans of a higher-rank kernel: the leading axes are its receptive field.
            [lead @ .., rows, cols] => {
                let field: f64 = lead.iter().map(|&d| dim(d)).product();
                (dim(*rows) * field, dim(*cols) * field)
            }
        };
        // A vector is a one-row matrix for the matrix-only initializers; with no columns
        // there are no values (and no rows to speak of).
        let (rows, cols) = match shape {
            [.., cols] if shape.len() >= 2 => (len.checked_div(*cols).unwrap_or(0), *cols),
            _ => (1, len),
        };
        let avg = (fan_in + fan_out) / 2.0;
        Ok(match *self {
            Initializer::Constant(v) => vec![v; len],
            Initializer::Zeros => vec![0.0; len],
            Initializer::Ones => vec![1.0; len],
            Initializer::GlorotUniform => variance_uniform(len, 1.0, avg, rng),
            Initializer::GlorotNormal => variance_normal(len, 1.0, avg, rng),
            Initializer::HeUniform => variance_uniform(len, 2.0, fan_in, rng),
            Initializer::HeNormal => variance_normal(len, 2.0, fan_in, rng),
            Initializer::LecunUniform => variance_uniform(len, 1.0, fan_in, rng),
            Initializer::LecunNormal => variance_normal(len, 1.0, fan_in, rng),
            Initializer::Orthogonal { gain } => {
                let mut q = orthogonal(rows, cols, rng);
                if gain != 1.0 {
                    q.iter_mut().for_each(|v| *v *= gain);
                }
                q
            }
            Initializer::RandomUniform { minval, maxval } => {
                uniform_between(len, minval, maxval, rng)
            }
            Initializer::RandomNormal { mean, stddev } => (0..len)
                .map(|_| normal(mean as f64, stddev as f64, rng))
                .collect(),
            Initializer::TruncatedNormal { mean, stddev } => (0..len)
                .map(|_| truncated_normal(mean as f64, stddev as f64, rng))
                .collect(),
            Initializer::Identity { gain } => {
                let mut w = vec![0.0; len];
                // Row `i` holds its diagonal entry at column `i`, for the first `min` rows.
                let diagonal = w
                    .chunks_exact_mut(cols.max(1))
                    .enumerate()
                    .take(rows.min(cols));
                for (i, row) in diagonal {
                    if let Some(v) = row.get_mut(i) {
                        *v = gain;
                    }
                }
                w
            }
        })
    }
}

impl Initializer {
    /// Keras' initializer class with its arguments in Keras' order, missing ones at Keras'
    /// defaults (`value`; `gain`; `minval, maxval`; `mean, stddev`); extra ones are ignored.
    ///
    /// ```
    /// use rnn_runtime::Initializer;
    /// let spec = rnn_spec::Initializer::RandomNormal;
    /// assert_eq!(Initializer::keras(spec, &[1.0]), Initializer::RandomNormal { mean: 1.0, stddev: 0.05 });
    /// assert_eq!(Initializer::from(rnn_spec::Initializer::Orthogonal), Initializer::ORTHOGONAL);
    /// ```
    pub fn keras(class: rnn_spec::Initializer, args: &[f32]) -> Initializer {
        use rnn_spec::Initializer as K;
        let defaults = class.args();
        let arg = |i: usize| {
            args.get(i)
                .copied()
                .unwrap_or_else(|| defaults.get(i).map_or(0.0, |a| a.default as f32))
        };
        match class {
            K::Constant => Initializer::Constant(arg(0)),
            K::Zeros => Initializer::Zeros,
            K::Ones => Initializer::Ones,
            K::GlorotUniform => Initializer::GlorotUniform,
            K::GlorotNormal => Initializer::GlorotNormal,
            K::HeUniform => Initializer::HeUniform,
            K::HeNormal => Initializer::HeNormal,
            K::LecunUniform => Initializer::LecunUniform,
            K::LecunNormal => Initializer::LecunNormal,
            K::Orthogonal => Initializer::Orthogonal { gain: arg(0) },
            K::RandomUniform => Initializer::RandomUniform {
                minval: arg(0),
                maxval: arg(1),
            },
            K::RandomNormal => Initializer::RandomNormal {
                mean: arg(0),
                stddev: arg(1),
            },
            K::TruncatedNormal => Initializer::TruncatedNormal {
                mean: arg(0),
                stddev: arg(1),
            },
            K::Identity => Initializer::Identity { gain: arg(0) },
        }
    }
}

/// Keras' initializer with its default arguments.
impl From<rnn_spec::Initializer> for Initializer {
    fn from(class: rnn_spec::Initializer) -> Self {
        Initializer::keras(class, &[])
    }
}

/// Keras' `VarianceScaling(scale, distribution="uniform")` over `fan` (already chosen by mode):
/// uniform in `±sqrt(3 scale / fan)`.
fn variance_uniform(len: usize, scale: f64, fan: f64, rng: &mut Rng) -> Vec<f32> {
    let limit = (3.0 * scale / fan.max(1.0)).sqrt() as f32;
    uniform(len, limit, rng)
}

/// Keras' `VarianceScaling(scale, distribution="truncated_normal")` over `fan`.
fn variance_normal(len: usize, scale: f64, fan: f64, rng: &mut Rng) -> Vec<f32> {
    let stddev = (scale / fan.max(1.0)).sqrt() / rnn_spec::TRUNCATION_STDDEV;
    (0..len)
        .map(|_| truncated_normal(0.0, stddev, rng))
        .collect()
}

/// One normal sample.
fn normal(mean: f64, stddev: f64, rng: &mut Rng) -> f32 {
    let z: f64 = StandardNormal.sample(rng);
    (mean + stddev * z) as f32
}

/// One normal sample within two standard deviations of the mean, as Keras' (JAX's, NumPy's)
/// truncated normal: samples outside are redrawn.
fn truncated_normal(mean: f64, stddev: f64, rng: &mut Rng) -> f32 {
    loop {
        let z: f64 = StandardNormal.sample(rng);
        if z.abs() <= 2.0 {
            return (mean + stddev * z) as f32;
        }
    }
}

/// Uniform samples in `[lo, hi]`, the bounds swapped if given in the wrong order; bounds that
/// are not finite give non-finite values rather than a panic.
fn uniform_between(len: usize, lo: f32, hi: f32, rng: &mut Rng) -> Vec<f32> {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if lo.is_finite() && hi.is_finite() && (hi - lo).is_finite() {
        (0..len).map(|_| rng.random_range(lo..=hi)).collect()
    } else {
        (0..len)
            .map(|_| lo + (hi - lo) * rng.random::<f32>())
            .collect()
    }
}

/// `uniform(-limit, limit)` samples.
pub(crate) fn uniform(len: usize, limit: f32, rng: &mut Rng) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-limit..=limit)).collect()
}

/// Keras `GlorotUniform` for a kernel of shape `(fan_in, fan_out)`.
#[cfg(test)]
pub(crate) fn glorot_uniform(fan_in: usize, fan_out: usize, rng: &mut Rng) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
    uniform(fan_in * fan_out, limit, rng)
}

/// Keras `Orthogonal(gain = 1)` for a `(rows, cols)` matrix, row-major.
///
/// As in Keras: QR of a normal matrix of shape `(max, min)`, the sign of `diag(R)` folded into
/// `Q` so the result is uniformly distributed, transposed when there are fewer rows than
/// columns (a recurrent kernel `(H, 4H)` then has orthonormal rows). The normal samples are
/// drawn in `f64`, column after column; the QR is computed in `f32`, as Keras does, in blocks
/// (`kernels::qr`).
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "`rows * cols` is the length of a weight whose shape `checked_len` accepted, and \
              `i < rows`, `j < cols` index within it"
)]
pub(crate) fn orthogonal(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f32> {
    let (big, small) = (rows.max(cols), rows.min(cols));
    // Column-major `(big, small)`: each column's samples in turn.
    let mut q: Vec<f32> = (0..big * small)
        .map(|_| StandardNormal.sample(rng))
        .map(|v: f64| v as f32)
        .collect();
    if small == 0 {
        return q;
    }
    crate::kernels::qr::orthonormalize(&mut q, big, small);
    if rows < cols {
        // Column-major `Q` is row-major `Q^T`.
        return q;
    }
    let mut out = vec![0.0f32; rows * cols];
    for (j, column) in q.chunks_exact(big).enumerate() {
        for (i, v) in column.iter().enumerate() {
            out[i * cols + j] = *v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    /// The orthogonal initializer as first written: nalgebra's unblocked QR in `f64`.
    fn orthogonal_f64(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f32> {
        let (big, small) = (rows.max(cols), rows.min(cols));
        let a = DMatrix::<f64>::from_fn(big, small, |_, _| StandardNormal.sample(rng));
        let qr = a.qr();
        let (mut q, r) = (qr.q(), qr.r());
        for j in 0..small {
            if r[(j, j)] < 0.0 {
                q.column_mut(j).neg_mut();
            }
        }
        let mut out = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                let v = if rows >= cols { q[(i, j)] } else { q[(j, i)] };
                out.push(v as f32);
            }
        }
        out
    }

    /// Seconds of the blocked `f32` QR against the unblocked `f64` one, interleaved:
    /// `cargo test -p rnn-runtime --lib -- --ignored --nocapture orthogonal_speed`.
    #[test]
    #[ignore = "a timing run, not a check"]
    fn orthogonal_speed() {
        for units in [256, 512, 1024, 2048] {
            let time = |f: &dyn Fn() -> Vec<f32>| {
                let start = std::time::Instant::now();
                std::hint::black_box(f());
                start.elapsed().as_secs_f64()
            };
            let fast = time(&|| orthogonal(units, 4 * units, &mut seeded_rng(1)));
            let slow = time(&|| orthogonal_f64(units, 4 * units, &mut seeded_rng(1)));
            let fast2 = time(&|| orthogonal(units, 4 * units, &mut seeded_rng(1)));
            let fast = fast.min(fast2);
            println!(
                "({units}, {}): blocked f32 {fast:.3} s, unblocked f64 {slow:.3} s, {:.1}x",
                4 * units,
                slow / fast
            );
        }
    }

    #[test]
    fn blocked_orthogonal_draws_what_the_f64_qr_drew() {
        for (rows, cols) in [(1, 1), (1, 9), (9, 1), (7, 7), (33, 33), (20, 80), (80, 20)] {
            let fast = orthogonal(rows, cols, &mut seeded_rng(5));
            let slow = orthogonal_f64(rows, cols, &mut seeded_rng(5));
            let worst = fast
                .iter()
                .zip(&slow)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(worst < 1e-5, "{rows}x{cols}: {worst}");
            // The same number of draws: the next layer's weights do not move.
            let (mut a, mut b) = (seeded_rng(5), seeded_rng(5));
            orthogonal(rows, cols, &mut a);
            orthogonal_f64(rows, cols, &mut b);
            assert_eq!(a.random::<u64>(), b.random::<u64>());
        }
    }

    #[test]
    fn orthogonal_rows_or_columns_are_orthonormal() {
        let mut rng = seeded_rng(3);
        for (rows, cols) in [(4, 16), (16, 4), (5, 5)] {
            let w = orthogonal(rows, cols, &mut rng);
            let m = DMatrix::from_row_slice(rows, cols, &w).map(|v| v as f64);
            let gram = if rows <= cols {
                &m * m.transpose()
            } else {
                m.transpose() * &m
            };
            let n = rows.min(cols);
            assert!((gram - DMatrix::identity(n, n)).abs().max() < 1e-5);
        }
    }

    #[test]
    fn glorot_respects_its_limit_and_seed() {
        let w = glorot_uniform(10, 30, &mut seeded_rng(1));
        let limit = (6.0f32 / 40.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= limit));
        assert!(w.iter().any(|v| v.abs() > limit * 0.9));
        assert_eq!(w, glorot_uniform(10, 30, &mut seeded_rng(1)));
    }

    /// Mean, standard deviation, least and greatest value.
    fn stats(v: &[f32]) -> (f64, f64, f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        let min = v.iter().fold(f64::INFINITY, |m, &x| m.min(f64::from(x)));
        let max = v
            .iter()
            .fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
        (mean, var.sqrt(), min, max)
    }

    /// A draw of `shape` from `init` has Keras' mean and standard deviation (to 5 standard
    /// errors of the mean, 1.5 % of the deviation) and stays within `[lo, hi]`, reaching
    /// within 2 % of both ends.
    fn check(init: Initializer, shape: &[usize], mean: f64, std: f64, lo: f64, hi: f64) {
        let v = init.fill(shape, &mut seeded_rng(42));
        let (m, s, min, max) = stats(&v);
        let n = v.len() as f64;
        assert!(
            (m - mean).abs() <= 5.0 * std / n.sqrt(),
            "{init:?}: mean {m}, want {mean}"
        );
        assert!(
            (s - std).abs() <= 0.015 * std,
            "{init:?}: std {s}, want {std}"
        );
        let slack = 1e-6 * (hi - lo);
        assert!(
            min >= lo - slack && max <= hi + slack,
            "{init:?}: [{min}, {max}]"
        );
        let span = hi - lo;
        assert!(
            min <= lo + 0.02 * span && max >= hi - 0.02 * span,
            "{init:?}: [{min}, {max}]"
        );
    }

    #[test]
    fn random_initializers_follow_keras_formulas() {
        let (fan_in, fan_out) = (300.0f64, 500.0f64);
        let shape = [300, 500];
        // Uniform in ±limit: standard deviation limit / sqrt(3).
        let uniform =
            |init, limit: f64| check(init, &shape, 0.0, limit / 3f64.sqrt(), -limit, limit);
        uniform(
            Initializer::GlorotUniform,
            (6.0 / (fan_in + fan_out)).sqrt(),
        );
        uniform(Initializer::HeUniform, (6.0 / fan_in).sqrt());
        uniform(Initializer::LecunUniform, (3.0 / fan_in).sqrt());
        // Variance scaling's truncated normal: the intended variance after truncation, cut at
        // two of the pre-truncation deviations.
        let normal = |init, variance: f64| {
            let std = variance.sqrt();
            let cut = 2.0 * std / rnn_spec::TRUNCATION_STDDEV;
            check(init, &shape, 0.0, std, -cut, cut)
        };
        normal(Initializer::GlorotNormal, 2.0 / (fan_in + fan_out));
        normal(Initializer::HeNormal, 2.0 / fan_in);
        normal(Initializer::LecunNormal, 1.0 / fan_in);
        let (mean, sd) = (1.0, 0.5);
        let uniform = Initializer::RandomUniform {
            minval: -0.3,
            maxval: 0.7,
        };
        check(uniform, &shape, 0.2, 1.0 / 12f64.sqrt(), -0.3, 0.7);
        let truncated = Initializer::TruncatedNormal {
            mean: 1.0,
            stddev: 0.5,
        };
        let sd_truncated = sd * rnn_spec::TRUNCATION_STDDEV;
        check(
            truncated,
            &shape,
            mean,
            sd_truncated,
            mean - 2.0 * sd,
            mean + 2.0 * sd,
        );
        // An untruncated normal: 150 000 draws reach beyond 4 deviations, rarely beyond 5.5.
        let v = Initializer::RandomNormal {
            mean: 1.0,
            stddev: 0.5,
        }
        .fill(&shape, &mut seeded_rng(42));
        let (m, s, min, max) = stats(&v);
        assert!(
            (m - mean).abs() <= 5.0 * sd / (v.len() as f64).sqrt(),
            "mean {m}"
        );
        assert!((s - sd).abs() <= 0.015 * sd, "std {s}");
        assert!(
            min < mean - 4.0 * sd && max > mean + 4.0 * sd,
            "[{min}, {max}]"
        );
        assert!(
            min > mean - 5.5 * sd && max < mean + 5.5 * sd,
            "[{min}, {max}]"
        );
        // A vector's fans are its length, as in Keras.
        let he = Initializer::HeUniform.fill(&[50], &mut seeded_rng(1));
        assert!(he.iter().all(|v| v.abs() <= (6.0f32 / 50.0).sqrt()));
    }

    #[test]
    fn constant_initializers_are_exact_and_draw_nothing() {
        let mut rng = seeded_rng(9);
        assert_eq!(
            Initializer::Constant(-0.25).fill(&[2, 2], &mut rng),
            [-0.25; 4]
        );
        assert_eq!(Initializer::Zeros.fill(&[3], &mut rng), [0.0; 3]);
        assert_eq!(Initializer::Ones.fill(&[3, 1], &mut rng), [1.0; 3]);
        let eye = Initializer::Identity { gain: 0.5 }.fill(&[3, 2], &mut rng);
        assert_eq!(eye, [0.5, 0.0, 0.0, 0.5, 0.0, 0.0]);
        let wide = Initializer::Identity { gain: 1.0 }.fill(&[2, 3], &mut rng);
        assert_eq!(wide, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        // A vector is a one-row matrix.
        let row = Initializer::Identity { gain: 1.0 }.fill(&[3], &mut rng);
        assert_eq!(row, [1.0, 0.0, 0.0]);
        assert_eq!(rng.random::<u64>(), seeded_rng(9).random::<u64>());
    }

    #[test]
    fn orthogonal_is_orthonormal_at_odd_sizes() {
        let shapes = [
            (1, 1),
            (7, 7),
            (33, 33),
            (257, 257),
            (1, 5),
            (5, 1),
            (33, 132),
            (257, 65),
            (129, 200),
        ];
        for (rows, cols) in shapes {
            let gain = 1.5f32;
            let w = Initializer::Orthogonal { gain }.fill(&[rows, cols], &mut seeded_rng(2));
            let m = DMatrix::from_row_slice(rows, cols, &w).map(|v| f64::from(v / gain));
            let gram = if rows <= cols {
                &m * m.transpose()
            } else {
                m.transpose() * &m
            };
            let n = rows.min(cols);
            let err = (gram - DMatrix::identity(n, n)).abs().max();
            assert!(err < 1e-5, "{rows}x{cols}: {err}");
        }
        // A vector is a one-row matrix: a unit vector.
        let v = Initializer::ORTHOGONAL.fill(&[6], &mut seeded_rng(2));
        let norm: f32 = v.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-6);
    }

    #[test]
    fn keras_defaults_and_odd_uniform_bounds() {
        let k = |class| Initializer::from(class);
        assert_eq!(
            k(rnn_spec::defaults::EMBEDDINGS_INITIALIZER),
            Initializer::RANDOM_UNIFORM
        );
        assert_eq!(
            k(rnn_spec::Initializer::Constant),
            Initializer::Constant(0.0)
        );
        assert_eq!(
            k(rnn_spec::Initializer::Identity),
            Initializer::Identity { gain: 1.0 }
        );
        // Bounds in the wrong order are swapped; infinite ones give non-finite values, not a panic.
        let swapped = Initializer::RandomUniform {
            minval: 1.0,
            maxval: -1.0,
        };
        assert!(
            swapped
                .fill(&[100], &mut seeded_rng(0))
                .iter()
                .all(|v| v.abs() <= 1.0)
        );
        let infinite = Initializer::RandomUniform {
            minval: 0.0,
            maxval: f32::INFINITY,
        };
        assert!(
            infinite
                .fill(&[4], &mut seeded_rng(0))
                .iter()
                .all(|v| !v.is_finite() || *v >= 0.0)
        );
        // The default Embedding draw is the one it always was.
        let old = uniform(12, 0.05, &mut seeded_rng(4));
        assert_eq!(
            Initializer::RANDOM_UNIFORM.fill(&[3, 4], &mut seeded_rng(4)),
            old
        );
        assert_eq!(
            Initializer::GlorotUniform.fill(&[3, 4], &mut seeded_rng(4)),
            glorot_uniform(3, 4, &mut seeded_rng(4))
        );
    }
}
