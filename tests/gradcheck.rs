//! Finite-difference checks of the backward pass of every layer type, independent of the
//! Keras fixtures.
//!
//! Method. Each model gets random weights `w` (uniform, scaled so that the activations stay
//! in their responsive range) and a random input `x`; the scalar loss is
//! `L = sum_k sum(output_k * R_k)` over every output (states included) with a fixed random
//! `R_k` in [-1, 1], so the upstream gradient of output `k` is exactly `R_k`. The analytic
//! gradient `g` comes from one `forward` + `backward`. It is compared with central
//! differences of `L` along directions `d`:
//!
//! - over all weights: a random unit direction and the unit direction of `g` itself;
//! - over each weight array alone: its own gradient direction and a random direction;
//! - single coordinates of each weight array: the one with the largest gradient and two
//!   random ones;
//! - the same over the input, for real-valued inputs.
//!
//! The perturbed weights `w ± h d` are rounded to f32, so the steps actually taken,
//! `δ± = f32(w ± h d) - w`, are used on both sides: the analytic value is
//! `g · (δ+ - δ-) / 2h` and the numeric one `(L(w + δ+) - L(w + δ-)) / 2h`, with `L` summed
//! in f64 from the f32 outputs.
//!
//! Tolerance: `|numeric - analytic| <= 2e-3 |analytic| + floor`, from the two errors of
//! the numeric side:
//!
//! - truncation: the central difference is off by `h² L''' / 6`; at `h = 1e-2` on these
//!   unsaturated models that is at most about 1e-4 relative (the largest seen), so `2e-3`
//!   leaves a factor of 15 or more;
//! - rounding: the f32 forward pass gives every output a relative error of a few ulps, so
//!   `L` carries an absolute error of order `eps · S` with `S = sum |output · R|` and
//!   `eps = 2^-23`, which the difference divides by `2h`. The floor is `8 eps S / h`; the
//!   largest deviation seen on checks dominated by rounding is about `0.35 eps S / h`.
//!
//! Over all checks the largest `error / tolerance` is below 0.1. The gradient over all
//! weights (and over the input) must exceed the floor a hundredfold, so that these checks
//! mean something; `a_gradient_off_by_five_percent_is_caught` verifies that scaling the
//! analytic gradient of any single weight array, or of the input, by 1.05 fails the check.
//!
//! Piecewise-linear activations (relu, hard_sigmoid) have kinks where the central
//! difference is wrong; for them the step is `h = 1e-3` and the weights and inputs are drawn
//! again until every pre-activation is at least 0.05 away from a kink (much more than any
//! step moves it), with points on both sides of the kinks.

mod common;

use common::InputGrad;
use rnn::prelude::*;
use rnn::{ModelInput, ModelOutput};

// -------------------------------------------------------------------------------- random

/// A small deterministic generator (SplitMix64), so the checks do not depend on the
/// library's own random numbers.
struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [-a, a).
    fn sym(&mut self, a: f64) -> f64 {
        (2.0 * self.unit() - 1.0) * a
    }

    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ------------------------------------------------------------------------------- tensors

/// Model inputs whose values can be read and replaced (real-valued ones).
trait InputValues: Sized {
    fn values(&self) -> Option<Vec<f32>>;
    fn with_values(&self, values: &[f32]) -> Self;
}

impl<const D: usize> InputValues for Sequence<D> {
    fn values(&self) -> Option<Vec<f32>> {
        Some(self.to_batch_major())
    }
    fn with_values(&self, values: &[f32]) -> Self {
        Sequence::from_batch_major(values, self.batch(), self.time())
            .unwrap()
            .with_mask(self.mask().cloned())
    }
}

impl<const D: usize> InputValues for Features<D> {
    fn values(&self) -> Option<Vec<f32>> {
        Some(self.as_slice().to_vec())
    }
    fn with_values(&self, values: &[f32]) -> Self {
        Features::from_flat(values).unwrap()
    }
}

impl InputValues for TokenBatch {
    fn values(&self) -> Option<Vec<f32>> {
        None
    }
    fn with_values(&self, _: &[f32]) -> Self {
        unreachable!("token ids are not differentiable")
    }
}

const BATCH: usize = 3;
const TIME: usize = 5;

/// A random `(BATCH, TIME, D)` sequence, uniform in [-scale, scale].
fn seq<const D: usize>(seed: u64, scale: f64) -> Sequence<D> {
    let mut r = Rand(seed);
    let data: Vec<f32> = (0..BATCH * TIME * D).map(|_| r.sym(scale) as f32).collect();
    Sequence::from_batch_major(&data, BATCH, TIME).unwrap()
}

/// A random `(BATCH, D)` batch of vectors, uniform in [-scale, scale].
fn feats<const D: usize>(seed: u64, scale: f64) -> Features<D> {
    let mut r = Rand(seed);
    let data: Vec<f32> = (0..BATCH * D).map(|_| r.sym(scale) as f32).collect();
    Features::from_flat(&data).unwrap()
}

fn ids(rows: &[&[u32]]) -> TokenBatch {
    TokenBatch::from_rows(&rows.iter().map(|r| r.to_vec()).collect::<Vec<_>>()).unwrap()
}

/// Token ids without padding: every id but 0 and 10 of a vocabulary of 11, some repeated
/// (their embedding gradients add up).
fn plain_ids() -> TokenBatch {
    ids(&[&[3, 1, 4, 1, 5], &[9, 2, 6, 5, 3], &[5, 8, 9, 7, 9]])
}

/// Token ids with padding (id 0): pre-padded, post-padded, padded in the middle.
fn padded_ids() -> TokenBatch {
    ids(&[&[0, 0, 4, 1, 5], &[9, 2, 6, 0, 0], &[5, 0, 9, 7, 0]])
}

/// Replaces every weight by uniform values in [-scale, scale].
fn randomize<S>(model: &mut Sequential<S>, seed: u64, scale: f64)
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    let mut r = Rand(seed);
    let weights: Vec<Vec<f32>> = model
        .get_weights()
        .iter()
        .map(|w| w.values.iter().map(|_| r.sym(scale) as f32).collect())
        .collect();
    model.set_weights(&weights).unwrap();
}

// ------------------------------------------------------------------------------- checker

/// How a model is checked.
#[derive(Clone, Copy)]
struct Opts {
    /// Forward mode of every pass (Training, or InferenceGrad for dropout at inference).
    mode: Mode,
    /// Finite-difference step.
    h: f64,
    /// Seed of the directions, coordinates and `R`.
    seed: u64,
}

const SMOOTH: Opts = Opts {
    mode: Mode::Training,
    h: 1e-2,
    seed: 7,
};

/// Relative tolerance of every comparison.
const RTOL: f64 = 2e-3;
/// Rounding error of the f32 forward pass, in units of `eps · S` (see the top comment).
const NOISE: f64 = 8.0;
/// The directions along the gradient must exceed the noise floor this many times.
const RESOLUTION: f64 = 100.0;

/// What to falsify in the analytic gradient, to show that the checks catch it.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    None,
    /// Multiply the gradient of weight array `k` by the factor.
    Weight(usize, f64),
    /// Multiply the input gradient by the factor.
    Input(f64),
}

/// Largest `|numeric - analytic| / tolerance` seen, and the failures.
#[derive(Default)]
struct Outcome {
    worst: f64,
    checks: usize,
    failures: Vec<String>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `v / |v|`, or `None` for a zero vector.
fn unit(v: &[f64]) -> Option<Vec<f64>> {
    let n = norm(v);
    (n > 0.0).then(|| v.iter().map(|x| x / n).collect())
}

fn random_unit(r: &mut Rand, n: usize) -> Vec<f64> {
    // A layer without weights has no direction to draw (and no weight gradient to check).
    if n == 0 {
        return Vec::new();
    }
    loop {
        let v: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        if let Some(u) = unit(&v) {
            return u;
        }
    }
}

/// `f32(base + s h d)` and the step actually taken, per element.
fn step(base: &[f32], d: &[f64], h: f64, s: f64) -> (Vec<f32>, Vec<f64>) {
    let moved: Vec<f32> = base
        .iter()
        .zip(d)
        .map(|(&b, &di)| (f64::from(b) + s * h * di) as f32)
        .collect();
    let delta = moved
        .iter()
        .zip(base)
        .map(|(&m, &b)| f64::from(m) - f64::from(b))
        .collect();
    (moved, delta)
}

/// The loss and the gradients of one model at one point.
struct Problem<'a, S: Stack> {
    base: &'a Sequential<S>,
    x: &'a S::In,
    w0: Vec<Vec<f32>>,
    names: Vec<String>,
    r: Vec<Vec<f32>>,
    opts: Opts,
}

impl<S> Problem<'_, S>
where
    S: Stack + Clone,
    S::In: ModelInput + InputValues,
    S::Out: ModelOutput,
    <S::In as rnn::Tensor>::Grad: InputGrad,
{
    /// `L` at the given weights and input, on a fresh copy of the model (so that a dropout
    /// layer draws the same mask every time).
    fn loss(&self, w: &[Vec<f32>], x: &S::In) -> f64 {
        let mut m = self.base.clone();
        m.set_weights(w).unwrap();
        let out = m.forward(x, self.opts.mode).unwrap();
        out.iter()
            .zip(&self.r)
            .map(|(o, r)| {
                o.data
                    .iter()
                    .zip(r)
                    .map(|(&a, &b)| f64::from(a) * f64::from(b))
                    .sum::<f64>()
            })
            .sum()
    }
}

/// Runs every check of one model at its current weights; returns the outcome.
fn run<S>(name: &str, base: &Sequential<S>, x: &S::In, opts: Opts, tamper: Tamper) -> Outcome
where
    S: Stack + Clone,
    S::In: ModelInput + InputValues,
    S::Out: ModelOutput,
    <S::In as rnn::Tensor>::Grad: InputGrad,
{
    let mut rng = Rand(opts.seed);
    let weights = base.get_weights();
    let w0: Vec<Vec<f32>> = weights.iter().map(|w| w.values.clone()).collect();
    let names: Vec<String> = weights.iter().map(|w| w.name.clone()).collect();

    // Analytic gradients, with R drawn to the shapes of the outputs.
    let mut m = base.clone();
    let out = m.forward(x, opts.mode).unwrap();
    let r: Vec<Vec<f32>> = out
        .iter()
        .map(|o| o.data.iter().map(|_| rng.sym(1.0) as f32).collect())
        .collect();
    let scale: f64 = out
        .iter()
        .zip(&r)
        .map(|(o, r)| {
            o.data
                .iter()
                .zip(r)
                .map(|(&a, &b)| f64::from(a).abs() * f64::from(b).abs())
                .sum::<f64>()
        })
        .sum();
    m.zero_grad();
    let refs: Vec<&[f32]> = r.iter().map(Vec::as_slice).collect();
    let dx = m.backward(&refs).unwrap();
    let mut g: Vec<Vec<f64>> = m
        .gradients()
        .iter()
        .map(|w| w.values.iter().map(|&v| f64::from(v)).collect())
        .collect();
    let mut gx: Option<Vec<f64>> = dx.flat().map(|v| v.iter().map(|&e| f64::from(e)).collect());
    match tamper {
        Tamper::None => {}
        Tamper::Weight(k, f) => g[k].iter_mut().for_each(|v| *v *= f),
        Tamper::Input(f) => gx
            .as_mut()
            .expect("real input")
            .iter_mut()
            .for_each(|v| *v *= f),
    }

    let p = Problem {
        base,
        x,
        w0,
        names,
        r,
        opts,
    };
    let h = opts.h;
    let floor = NOISE * f64::from(f32::EPSILON) * scale / h;
    let mut outcome = Outcome::default();
    let mut other_failures: Vec<String> = Vec::new();
    let mut compare = |what: String, analytic: f64, numeric: f64| {
        let tol = RTOL * analytic.abs() + floor;
        let err = (numeric - analytic).abs();
        outcome.checks += 1;
        outcome.worst = outcome.worst.max(err / tol);
        if err.is_nan() || err > tol {
            outcome.failures.push(format!(
                "{name}: {what}: analytic {analytic:.6e}, numeric {numeric:.6e} \
                 (error {err:.2e}, tolerance {tol:.2e})"
            ));
        }
    };

    // A direction over the weights: per-array vectors (all zeros for untouched arrays).
    let weight_check = |d: &[Vec<f64>]| -> (f64, f64) {
        let mut plus = Vec::new();
        let mut minus = Vec::new();
        let mut analytic = 0.0;
        for ((w, dk), gk) in p.w0.iter().zip(d).zip(&g) {
            let (wp, dp) = step(w, dk, h, 1.0);
            let (wm, dm) = step(w, dk, h, -1.0);
            let delta: Vec<f64> = dp.iter().zip(&dm).map(|(a, b)| a - b).collect();
            analytic += dot(gk, &delta) / (2.0 * h);
            plus.push(wp);
            minus.push(wm);
        }
        let numeric = (p.loss(&plus, p.x) - p.loss(&minus, p.x)) / (2.0 * h);
        (analytic, numeric)
    };
    let zeros: Vec<Vec<f64>> = p.w0.iter().map(|w| vec![0.0; w.len()]).collect();
    let only = |k: usize, v: Vec<f64>| {
        let mut d = zeros.clone();
        d[k] = v;
        d
    };

    // All weights: random, then along the gradient (which must stand out of the noise).
    let sizes: Vec<usize> = p.w0.iter().map(Vec::len).collect();
    let total: usize = sizes.iter().sum();
    let flat_random = random_unit(&mut rng, total);
    let mut d = Vec::new();
    let mut at = 0;
    for &n in &sizes {
        d.push(flat_random[at..at + n].to_vec());
        at += n;
    }
    if total > 0 {
        let (a, n) = weight_check(&d);
        compare("all weights, random direction".into(), a, n);
    }
    let g_norm = g.iter().map(|gk| dot(gk, gk)).sum::<f64>().sqrt();
    if total == 0 {
        // Nothing to check: a layer without weights.
    } else if g_norm < RESOLUTION * floor {
        other_failures.push(format!(
            "{name}: the gradient ({g_norm:.2e}) does not stand out of the noise floor \
             ({floor:.2e}): the check would be meaningless"
        ));
    } else {
        let d: Vec<Vec<f64>> = g
            .iter()
            .map(|gk| gk.iter().map(|v| v / g_norm).collect())
            .collect();
        let (a, n) = weight_check(&d);
        compare("all weights, along the gradient".into(), a, n);
    }

    // Each weight array: along its gradient, a random direction, and single coordinates.
    for k in 0..p.w0.len() {
        let wname = &p.names[k];
        let len = sizes[k];
        if let Some(u) = unit(&g[k]) {
            let (a, n) = weight_check(&only(k, u));
            compare(format!("{wname}, along its gradient"), a, n);
        }
        let (a, n) = weight_check(&only(k, random_unit(&mut rng, len)));
        compare(format!("{wname}, random direction"), a, n);
        let largest = (0..len)
            .max_by(|&i, &j| g[k][i].abs().total_cmp(&g[k][j].abs()))
            .unwrap();
        for i in [largest, rng.below(len), rng.below(len)] {
            let mut e = vec![0.0; len];
            e[i] = 1.0;
            let (a, n) = weight_check(&only(k, e));
            compare(format!("{wname}[{i}]"), a, n);
        }
    }

    // The input, if real-valued.
    if let (Some(x0), Some(gx)) = (p.x.values(), gx.as_ref()) {
        let input_check = |d: &[f64]| -> (f64, f64) {
            let (xp, dp) = step(&x0, d, h, 1.0);
            let (xm, dm) = step(&x0, d, h, -1.0);
            let delta: Vec<f64> = dp.iter().zip(&dm).map(|(a, b)| a - b).collect();
            let analytic = dot(gx, &delta) / (2.0 * h);
            let numeric = (p.loss(&p.w0, &p.x.with_values(&xp))
                - p.loss(&p.w0, &p.x.with_values(&xm)))
                / (2.0 * h);
            (analytic, numeric)
        };
        let (a, n) = input_check(&random_unit(&mut rng, x0.len()));
        compare("input, random direction".into(), a, n);
        let gx_norm = norm(gx);
        match unit(gx) {
            Some(_) if gx_norm < RESOLUTION * floor => other_failures.push(format!(
                "{name}: the input gradient ({gx_norm:.2e}) does not stand out of the noise \
                 floor ({floor:.2e}): the check would be meaningless"
            )),
            Some(u) => {
                let (a, n) = input_check(&u);
                compare("input, along its gradient".into(), a, n);
            }
            None => other_failures.push(format!("{name}: the input gradient is zero")),
        }
        let largest = (0..x0.len())
            .max_by(|&i, &j| gx[i].abs().total_cmp(&gx[j].abs()))
            .unwrap();
        for i in [largest, rng.below(x0.len()), rng.below(x0.len())] {
            let mut e = vec![0.0; x0.len()];
            e[i] = 1.0;
            let (a, n) = input_check(&e);
            compare(format!("input[{i}]"), a, n);
        }
    }
    outcome.failures.extend(other_failures);
    outcome
}

/// Checks a model at its current weights and panics with every failing comparison.
fn check<S>(name: &str, base: &Sequential<S>, x: &S::In, opts: Opts)
where
    S: Stack + Clone,
    S::In: ModelInput + InputValues,
    S::Out: ModelOutput,
    <S::In as rnn::Tensor>::Grad: InputGrad,
{
    let outcome = run(name, base, x, opts, Tamper::None);
    assert!(
        outcome.failures.is_empty(),
        "{} of {} checks failed:\n  {}",
        outcome.failures.len(),
        outcome.checks,
        outcome.failures.join("\n  ")
    );
}

/// Randomizes a model's weights (uniform in [-0.5, 0.5]) and checks it on `x` with the
/// smooth settings.
fn smooth<S>(name: &str, mut model: Sequential<S>, x: S::In)
where
    S: Stack + Clone,
    S::In: ModelInput + InputValues,
    S::Out: ModelOutput,
    <S::In as rnn::Tensor>::Grad: InputGrad,
{
    randomize(&mut model, 1, 0.5);
    check(name, &model, &x, SMOOTH);
}

/// One test per model: `name: input => (layers)`.
macro_rules! smooth_cases {
    ($($test:ident: $x:expr => ($($layers:tt)*),)*) => {
        $(
            #[test]
            fn $test() {
                smooth(stringify!($test), model!($($layers)*).into_inner(), $x);
            }
        )*
    };
}

// ------------------------------------------------------------------------- smooth models

smooth_cases! {
    embedding: plain_ids() => (Embedding(11, 4, input_length = 5)),
    embedding_dense: plain_ids() => (Embedding(11, 4, input_length = 5) => Dense(3, tanh)),
    dense_linear: feats(2, 1.0) => (Input(4) => Dense(5)),
    dense_sigmoid: feats(2, 1.0) => (Input(4) => Dense(5, sigmoid)),
    dense_tanh: feats(2, 1.0) => (Input(4) => Dense(5, tanh)),
    dense_softmax: feats(2, 1.0) => (Input(4) => Dense(5, softmax)),
    dense_on_sequence_tanh: seq(2, 1.0) => (Input(5, 4) => Dense(3, tanh)),
    time_distributed_dense: seq(2, 1.0) => (Input(5, 4) => TimeDistributed(Dense(3, sigmoid))),
    time_distributed_dense_softmax: seq(2, 1.0) => (Input(_, 4) => TimeDistributed(Dense(3, softmax))),
    simple_rnn_last: seq(2, 1.0) => (Input(5, 3) => SimpleRNN(4)),
    simple_rnn_seq: seq(2, 1.0) => (Input(5, 3) => SimpleRNN(4, return_sequences = true)),
    simple_rnn_no_bias: seq(2, 1.0) => (Input(5, 3) => SimpleRNN(4, use_bias = false, return_sequences = true)),
    lstm_last: seq(2, 1.0) => (Input(5, 3) => LSTM(4)),
    lstm_seq: seq(2, 1.0) => (Input(5, 3) => LSTM(4, return_sequences = true)),
    gru_last: seq(2, 1.0) => (Input(5, 3) => GRU(4)),
    gru_seq: seq(2, 1.0) => (Input(5, 3) => GRU(4, return_sequences = true)),
    gru_reset_before_last: seq(2, 1.0) => (Input(5, 3) => GRU(4, reset_after = false)),
    gru_reset_before_seq: seq(2, 1.0) => (Input(5, 3) => GRU(4, reset_after = false, return_sequences = true)),
    simple_rnn_go_backwards_seq: seq(2, 1.0) => (Input(5, 3) => SimpleRNN(4, go_backwards = true, return_sequences = true)),
    lstm_go_backwards_seq: seq(2, 1.0) => (Input(5, 3) => LSTM(4, go_backwards = true, return_sequences = true)),
    lstm_go_backwards_last: seq(2, 1.0) => (Input(5, 3) => LSTM(4, go_backwards = true)),
    gru_go_backwards_seq: seq(2, 1.0) => (Input(5, 3) => GRU(4, go_backwards = true, return_sequences = true)),
    gru_reset_before_go_backwards_state: seq(2, 1.0) => (Input(5, 3) => GRU(4, reset_after = false, go_backwards = true, return_state = true)),
    simple_rnn_return_state: seq(2, 1.0) => (Input(5, 3) => SimpleRNN(4, return_state = true)),
    lstm_return_state: seq(2, 1.0) => (Input(5, 3) => LSTM(4, return_state = true)),
    lstm_seq_state: seq(2, 1.0) => (Input(5, 3) => LSTM(4, return_sequences = true, return_state = true)),
    gru_seq_state: seq(2, 1.0) => (Input(5, 3) => GRU(4, return_sequences = true, return_state = true)),
    bidir_lstm_concat_seq: seq(2, 1.0) => (Input(5, 3) => Bidirectional(LSTM(3, return_sequences = true))),
    bidir_gru_concat_last: seq(2, 1.0) => (Input(5, 3) => Bidirectional(GRU(3))),
    bidir_simple_rnn_sum_seq: seq(2, 1.0) => (Input(5, 3) => Bidirectional(SimpleRNN(3, return_sequences = true), merge_mode = sum)),
    bidir_gru_sum_state: seq(2, 1.0) => (Input(5, 3) => Bidirectional(GRU(3, return_state = true), merge_mode = sum)),
    bidir_lstm_mul_seq: seq(2, 1.0) => (Input(5, 3) => Bidirectional(LSTM(3, return_sequences = true), merge_mode = mul)),
    bidir_gru_reset_before_ave_seq: seq(2, 1.0) => (Input(5, 3) => Bidirectional(GRU(3, reset_after = false, return_sequences = true), merge_mode = ave)),
    bidir_lstm_none_seq_state: seq(2, 1.0) => (Input(5, 3) => Bidirectional(LSTM(3, return_sequences = true, return_state = true), merge_mode = none)),
    bidir_simple_rnn_none_last: seq(2, 1.0) => (Input(5, 3) => Bidirectional(SimpleRNN(3), merge_mode = none)),
    global_average_pooling: seq(2, 1.0) => (Input(5, 3) => GlobalAveragePooling1D),
    lstm_global_average_pooling: seq(2, 1.0) => (Input(5, 3) => LSTM(4, return_sequences = true) => GlobalAveragePooling1D => Dense(2, tanh)),
    masked_lstm_seq_state: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4, return_sequences = true, return_state = true)),
    masked_lstm_last: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4)),
    masked_gru_seq_state: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => GRU(4, return_sequences = true, return_state = true)),
    masked_gru_reset_before_go_backwards: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => GRU(4, reset_after = false, go_backwards = true, return_sequences = true)),
    masked_simple_rnn_seq: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => SimpleRNN(4, return_sequences = true)),
    masked_global_average_pooling: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => GlobalAveragePooling1D),
    masked_dense_global_average_pooling: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => Dense(4, tanh) => GlobalAveragePooling1D => Dense(2, softmax)),
    masked_bidir_lstm_concat_seq: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => Bidirectional(LSTM(3, return_sequences = true))),
    masked_bidir_gru_ave_state: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => Bidirectional(GRU(3, return_state = true), merge_mode = ave)),
    masked_lstm_stack_time_distributed: padded_ids() => (Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4, return_sequences = true) => TimeDistributed(Dense(2, sigmoid))),
    dropout_inference: seq(2, 1.0) => (Input(5, 3) => Dropout(0.5) => LSTM(3)),
}

// ---------------------------------------------------------------------- special cases

/// A deeper stack attenuates the input gradient; larger weights keep it well above the
/// noise floor.
#[test]
fn stacked_lstm_gru_dense() {
    let mut model =
        model!(Input(5, 3) => LSTM(4, return_sequences = true) => GRU(3) => Dense(3, softmax))
            .into_inner();
    randomize(&mut model, 1, 1.0);
    check("stacked_lstm_gru_dense", &model, &seq(2, 1.0), SMOOTH);
}

/// Dropout at inference is the identity, forward and backward, under `InferenceGrad`.
#[test]
fn dropout_inference_identity() {
    let mut model = model!(Input(5, 3) => Dropout(0.5)).into_inner();
    let x = seq::<3>(2, 1.0);
    let out = model.forward(&x, Mode::InferenceGrad).unwrap();
    assert_eq!(out.main().data, x.to_batch_major());
    let opts = Opts {
        mode: Mode::InferenceGrad,
        ..SMOOTH
    };
    check("dropout_inference_identity", &model, &x, opts);
    let dy: Vec<f32> = (0..BATCH * TIME * 3).map(|i| i as f32 - 7.0).collect();
    let dx = model.backward(&[&dy]).unwrap();
    assert_eq!(dx.to_batch_major(), dy);
}

/// Dropout while training, with its drop pattern held fixed: every evaluation runs on a
/// copy of the same model, whose generator is in the same state, so it drops the same
/// elements; the backward pass must scale by that pattern.
#[test]
fn dropout_training_fixed_mask() {
    let mut model =
        model!(Input(5, 3) => Dense(4, tanh) => Dropout(0.4) => GRU(3, return_sequences = true))
            .into_inner();
    randomize(&mut model, 1, 0.5);
    let x = seq::<3>(2, 1.0);
    // The training pass really drops something, and copies drop the same elements.
    let trained = model.clone().forward(&x, Mode::Training).unwrap();
    let again = model.clone().forward(&x, Mode::Training).unwrap();
    let inferred = model.clone().forward(&x, Mode::InferenceGrad).unwrap();
    assert_eq!(trained, again, "copies draw the same drop pattern");
    assert_ne!(trained, inferred, "training mode drops");
    check("dropout_training_fixed_mask", &model, &x, SMOOTH);
}

/// `dropout` and `recurrent_dropout` while training: as with `Dropout`, every evaluation
/// runs on a copy whose generators are in the same state, so the masks are the same on
/// every pass; the backward pass must apply them where the forward pass did (input masks
/// shared by the gates or one per gate, one recurrent mask per gate).
#[test]
fn recurrent_dropout_training_fixed_masks() {
    fn case<S>(name: &str, mut model: Sequential<S>, x: S::In)
    where
        S: Stack + Clone,
        S::In: ModelInput + InputValues,
        S::Out: ModelOutput + PartialEq + std::fmt::Debug,
        <S::In as rnn::Tensor>::Grad: InputGrad,
    {
        randomize(&mut model, 1, 0.5);
        let trained = model.clone().forward(&x, Mode::Training).unwrap();
        let again = model.clone().forward(&x, Mode::Training).unwrap();
        let inferred = model.clone().forward(&x, Mode::InferenceGrad).unwrap();
        assert_eq!(trained, again, "{name}: copies draw the same masks");
        assert_ne!(trained, inferred, "{name}: training mode drops");
        check(name, &model, &x, SMOOTH);
    }
    let x = || seq::<3>(2, 1.0);
    case("simple_rnn", model!(Input(5, 3) => SimpleRNN(4, dropout = 0.3, recurrent_dropout = 0.3, return_sequences = true)).into_inner(), x());
    case(
        "simple_rnn_input_only",
        model!(Input(5, 3) => SimpleRNN(4, dropout = 0.4)).into_inner(),
        x(),
    );
    case(
        "lstm_input_only",
        model!(Input(5, 3) => LSTM(4, dropout = 0.4, return_sequences = true)).into_inner(),
        x(),
    );
    case(
        "lstm_recurrent_only",
        model!(Input(5, 3) => LSTM(4, recurrent_dropout = 0.4)).into_inner(),
        x(),
    );
    case("lstm_both_state", model!(Input(5, 3) => LSTM(4, dropout = 0.3, recurrent_dropout = 0.3, return_sequences = true, return_state = true)).into_inner(), x());
    case("gru_both_seq", model!(Input(5, 3) => GRU(4, dropout = 0.3, recurrent_dropout = 0.3, return_sequences = true)).into_inner(), x());
    case("gru_reset_before_both_backwards", model!(Input(5, 3) => GRU(4, reset_after = false, dropout = 0.3, recurrent_dropout = 0.3, go_backwards = true, return_sequences = true)).into_inner(), x());
    case(
        "gru_reset_before_recurrent_only",
        model!(Input(5, 3) => GRU(4, reset_after = false, recurrent_dropout = 0.4)).into_inner(),
        x(),
    );
    case("bidir_lstm", model!(Input(5, 3) => Bidirectional(LSTM(3, dropout = 0.3, recurrent_dropout = 0.3, return_sequences = true))).into_inner(), x());
    case("masked_gru", model!(Embedding(11, 3, mask_zero = true, input_length = 5) => GRU(4, dropout = 0.3, recurrent_dropout = 0.3, return_sequences = true)).into_inner(), padded_ids());
}

/// Kinks of the piecewise-linear activations, where a central difference is wrong.
fn kinks(activation: &str) -> &'static [f32] {
    match activation {
        "relu" => &[0.0],
        // Keras 3: clip(x / 6 + 0.5, 0, 1).
        "hard_sigmoid" => &[-3.0, 3.0],
        other => panic!("{other}"),
    }
}

/// Dense with a piecewise-linear activation: weights and inputs are drawn until every
/// pre-activation (computed by a linear copy of the layer) is at least `MARGIN` from a kink,
/// with pre-activations on every side of the kinks, then checked with a step of 1e-3.
fn kinked_dense<S>(name: &str, activation: &str, mut model: Sequential<S>, weight_scale: f64)
where
    S: Stack<In = Features<4>> + Clone,
    S::Out: ModelOutput,
{
    const MARGIN: f32 = 0.05;
    let mut linear = model!(Input(4) => Dense(5)).into_inner();
    let kinks = kinks(activation);
    for seed in 0..200 {
        randomize(&mut model, seed, weight_scale);
        let x = feats::<4>(1000 + seed, 1.0);
        let w: Vec<Vec<f32>> = model.get_weights().into_iter().map(|w| w.values).collect();
        linear.set_weights(&w).unwrap();
        let z = linear.predict(&x).unwrap().main().data.clone();
        let clear = z
            .iter()
            .all(|&v| kinks.iter().all(|&k| (v - k).abs() >= MARGIN));
        // Every region (below, between and above the kinks) is visited.
        let regions = kinks.len() + 1;
        let visited = (0..regions).all(|region| {
            z.iter()
                .any(|&v| kinks.iter().filter(|&&k| v > k).count() == region)
        });
        if clear && visited {
            let opts = Opts { h: 1e-3, ..SMOOTH };
            check(name, &model, &x, opts);
            return;
        }
    }
    panic!("{name}: no draw keeps the pre-activations away from the kinks");
}

#[test]
fn dense_relu() {
    kinked_dense(
        "dense_relu",
        "relu",
        model!(Input(4) => Dense(5, relu)).into_inner(),
        0.5,
    );
}

#[test]
fn dense_hard_sigmoid() {
    // Larger weights, so that some pre-activations are beyond ±3.
    kinked_dense(
        "dense_hard_sigmoid",
        "hard_sigmoid",
        model!(Input(4) => Dense(5, hard_sigmoid)).into_inner(),
        2.5,
    );
}

/// Embedding rows of ids that never occur, and of padding under `mask_zero` when the padded
/// steps are all consumed by a masking layer, get exactly zero gradient.
#[test]
fn embedding_unused_and_padding_rows_have_zero_gradient() {
    let mut model =
        model!(Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4)).into_inner();
    randomize(&mut model, 1, 0.5);
    let x = padded_ids();
    let out = model.forward(&x, Mode::Training).unwrap();
    let r: Vec<f32> = (0..out.main().data.len())
        .map(|i| (i % 5) as f32 - 2.0)
        .collect();
    model.zero_grad();
    model.backward(&[&r]).unwrap();
    let g = &model.gradients()[0];
    let used = [1, 2, 4, 5, 6, 7, 9];
    for row in 0..11 {
        let values = &g.values[row * 3..row * 3 + 3];
        if used.contains(&row) {
            assert!(values.iter().any(|&v| v != 0.0), "row {row}: {values:?}");
        } else {
            assert!(values.iter().all(|&v| v == 0.0), "row {row}: {values:?}");
        }
    }
}

/// The checker itself: scaling the analytic gradient of any single weight array, or of the
/// input, by 1.05 must make some comparison fail.
#[test]
fn a_gradient_off_by_five_percent_is_caught() {
    fn each_array<S>(name: &str, mut model: Sequential<S>, x: S::In)
    where
        S: Stack + Clone,
        S::In: ModelInput + InputValues,
        S::Out: ModelOutput,
        <S::In as rnn::Tensor>::Grad: InputGrad,
    {
        randomize(&mut model, 1, 0.5);
        let honest = run(name, &model, &x, SMOOTH, Tamper::None);
        assert!(honest.failures.is_empty(), "{:?}", honest.failures);
        let mut tampers: Vec<Tamper> = (0..model.get_weights().len())
            .map(|k| Tamper::Weight(k, 1.05))
            .collect();
        if x.values().is_some() {
            tampers.push(Tamper::Input(1.05));
        }
        for t in tampers {
            let outcome = run(name, &model, &x, SMOOTH, t);
            assert!(
                !outcome.failures.is_empty(),
                "{name}: {t:?} went unnoticed (worst ratio {:.3})",
                outcome.worst
            );
        }
    }
    each_array(
        "lstm_seq_state",
        model!(Input(5, 3) => LSTM(4, return_sequences = true, return_state = true)).into_inner(),
        seq(2, 1.0),
    );
    each_array(
        "bidir_gru_reset_before_ave_seq",
        model!(Input(5, 3) => Bidirectional(GRU(3, reset_after = false, return_sequences = true), merge_mode = ave))
            .into_inner(),
        seq(2, 1.0),
    );
    each_array(
        "masked_bidir_lstm_dense",
        model!(Embedding(11, 3, mask_zero = true, input_length = 5)
            => Bidirectional(LSTM(3, return_sequences = true)) => Dense(2, tanh))
        .into_inner(),
        padded_ids(),
    );
}
