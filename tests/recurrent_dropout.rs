//! `dropout` and `recurrent_dropout` of SimpleRNN, LSTM and GRU: inference is unaffected,
//! the masks are drawn once per sequence and scaled, given masks go where Keras 3's cells
//! apply them (against float64 references of those cells), the mean training-mode output
//! matches Keras' over many masks, and the usual IMDB recipe trains.
//!
//! The training-mode gradients with fixed masks are checked by finite differences in
//! `gradcheck.rs` (`recurrent_dropout_training_fixed_masks`).

mod common;

use common::*;
use rnn::prelude::*;
use rnn::{ModelOutput, Recurrent, RnnConfig, Sequences, seeded_rng};
use serde_json::Value;

use rand::RngExt as _;

model! {
    struct LstmDrop = Input(6, 3) => LSTM(5, dropout = 0.3, recurrent_dropout = 0.3, return_sequences = true) => Dense(2);
    struct LstmPlain = Input(6, 3) => LSTM(5, return_sequences = true) => Dense(2);
    struct GruDrop = Input(6, 3) => GRU(5, dropout = 0.3, recurrent_dropout = 0.3, return_state = true);
    struct GruPlain = Input(6, 3) => GRU(5, return_state = true);
    struct SimpleDrop = Input(6, 3) => SimpleRNN(5, dropout = 0.5, recurrent_dropout = 0.5) => Dense(1);
    struct SimplePlain = Input(6, 3) => SimpleRNN(5) => Dense(1);
    struct BiDrop = Input(6, 3) => Bidirectional(LSTM(4, dropout = 0.2, recurrent_dropout = 0.4, return_sequences = true));
    struct BiPlain = Input(6, 3) => Bidirectional(LSTM(4, return_sequences = true));
}

/// Deterministic rows of `time` steps of `features` values in [-1, 1).
fn rows(n: usize, time: usize, features: usize, seed: u64) -> Vec<Vec<Vec<f32>>> {
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| {
            (0..time)
                .map(|_| (0..features).map(|_| rng.random_range(-1.0..1.0)).collect())
                .collect()
        })
        .collect()
}

/// Inference (`predict`, `Mode::Inference`) and stepping of a model with dropout give what
/// the same weights give without it, bit for bit; training mode does not.
macro_rules! inference_case {
    ($test:ident, $drop:ident, $plain:ident, $steps:expr) => {
        #[test]
        fn $test() {
            let mut drop = $drop::new(5);
            let mut plain = $plain::new(6);
            plain.set_weights(&drop.get_weights()).unwrap();
            let x = rows(4, 6, 3, 1);
            let a = drop.predict(&x).unwrap();
            let b = plain.predict(&x).unwrap();
            assert_eq!(a, b, "predict");
            let xs = Sequence::<3>::from_nested(&x).unwrap();
            let trained = drop.forward(&xs, Mode::Training).unwrap();
            let inferred = drop.forward(&xs, Mode::InferenceGrad).unwrap();
            assert_ne!(trained, inferred, "training drops");
            assert_eq!(inferred, plain.forward(&xs, Mode::InferenceGrad).unwrap());
            if $steps {
                let (mut sa, mut sb) = (drop.step_state(4).unwrap(), plain.step_state(4).unwrap());
                for t in 0..6 {
                    let step: Vec<f32> = x.iter().flat_map(|r| r[t].clone()).collect();
                    let ya = drop.step(&mut sa, &step).unwrap().to_vec();
                    let yb = plain.step(&mut sb, &step).unwrap().to_vec();
                    assert_eq!(ya, yb, "step {t}");
                }
            }
        }
    };
}

inference_case!(lstm_inference_is_unaffected, LstmDrop, LstmPlain, true);
inference_case!(gru_inference_is_unaffected, GruDrop, GruPlain, true);
inference_case!(
    simple_rnn_inference_is_unaffected,
    SimpleDrop,
    SimplePlain,
    true
);
inference_case!(
    bidirectional_inference_is_unaffected,
    BiDrop,
    BiPlain,
    false
);

model! {
    /// `h_t = (h_{t-1} * r) U + (x_t * m) W` with `W = U = I` and no bias: the output shows
    /// the masks themselves.
    struct Identity = Input(4, 64) => SimpleRNN(64, activation = linear, use_bias = false, dropout = 0.5, recurrent_dropout = 0.25, return_sequences = true);
}

fn identity_model() -> Identity {
    let mut m = Identity::new(0);
    let eye: Vec<f32> = (0..64 * 64)
        .map(|i| if i / 64 == i % 64 { 1.0 } else { 0.0 })
        .collect();
    m.set_weights(&[eye.clone(), eye]).unwrap();
    m
}

/// Kept fraction of `n` draws with keep probability `p`: within 5 binomial standard
/// deviations (a false failure has probability below 1e-6).
fn assert_fraction(what: &str, kept: usize, n: usize, p: f64) {
    let sd = (p * (1.0 - p) / n as f64).sqrt();
    let got = kept as f64 / n as f64;
    assert!(
        (got - p).abs() <= 5.0 * sd,
        "{what}: kept {got}, want {p} +- {}",
        5.0 * sd
    );
}

#[test]
fn the_input_mask_is_drawn_per_row_and_reused_at_every_step() {
    let mut m = identity_model();
    let (batch, time, h) = (256, 4, 64);
    // Ones at the first step, zeros after: the state is the input mask, then carried.
    let mut x = vec![vec![vec![0.0f32; h]; time]; batch];
    x.iter_mut().for_each(|r| r[0].fill(1.0));
    let xs = Sequence::<64>::from_nested(&x).unwrap();
    let y = m.forward(&xs, Mode::Training).unwrap().main().data.clone();
    let at = |b: usize, t: usize, j: usize| y[(b * time + t) * h + j];
    let mut kept = 0;
    for b in 0..batch {
        for j in 0..h {
            let m0 = at(b, 0, j);
            assert!(m0 == 0.0 || m0 == 2.0, "scaled by 1/(1-0.5): {m0}");
            kept += usize::from(m0 != 0.0);
        }
    }
    assert_fraction("input mask", kept, batch * h, 0.5);
    // Rows draw their own masks.
    assert_ne!(&y[..time * h], &y[time * h..2 * time * h]);

    // Ones at every step and a zero state kernel: every step shows the input mask, the same
    // at every step of a row.
    let mut m = identity_model();
    let eye: Vec<f32> = (0..h * h)
        .map(|i| if i / h == i % h { 1.0 } else { 0.0 })
        .collect();
    m.set_weights(&[eye, vec![0.0; h * h]]).unwrap();
    let ones = Sequence::<64>::from_nested(&vec![vec![vec![1.0f32; h]; time]; batch]).unwrap();
    let y = m
        .forward(&ones, Mode::Training)
        .unwrap()
        .main()
        .data
        .clone();
    for b in 0..batch {
        let first = &y[b * time * h..(b * time + 1) * h];
        for t in 1..time {
            assert_eq!(
                &y[(b * time + t) * h..(b * time + t + 1) * h],
                first,
                "row {b} step {t}"
            );
        }
    }
    // A new call draws new masks.
    let again = m
        .forward(&ones, Mode::Training)
        .unwrap()
        .main()
        .data
        .clone();
    assert_ne!(y, again);
}

#[test]
fn the_recurrent_mask_is_drawn_per_row_and_reused_at_every_step() {
    let (batch, time, h) = (256, 4, 64);
    let mut m = identity_model();
    // Ones at the first step, zeros after: `h_0 = x_0 * m`, then `h_t = (h_{t-1} * r) U`.
    let mut x = vec![vec![vec![0.0f32; h]; time]; batch];
    x.iter_mut().for_each(|r| r[0].fill(1.0));
    let xs = Sequence::<64>::from_nested(&x).unwrap();
    let y = m.forward(&xs, Mode::Training).unwrap().main().data.clone();
    let at = |b: usize, t: usize, j: usize| y[(b * time + t) * h + j];
    let keep = 1.0 / 0.75f32;
    let (mut kept, mut seen) = (0, 0);
    for b in 0..batch {
        for j in 0..h {
            let h0 = at(b, 0, j);
            if h0 == 0.0 {
                continue;
            }
            // h_t = h_0 * r^t: the same r at every step (a fresh mask per step would zero
            // some units later that survived earlier).
            let h1 = at(b, 1, j);
            assert!(h1 == 0.0 || h1 == h0 * keep, "h1 {h1}");
            for t in 2..time {
                let want = h0 * keep.powi(t as i32);
                let got = at(b, t, j);
                if h1 == 0.0 {
                    assert_eq!(got, 0.0, "row {b} unit {j} step {t}");
                } else {
                    assert!(
                        (got - want).abs() <= 1e-5 * want,
                        "row {b} unit {j} step {t}"
                    );
                }
            }
            seen += 1;
            kept += usize::from(h1 != 0.0);
        }
    }
    assert_fraction("recurrent mask", kept, seen, 0.75);
}

// ------------------------------------------------------------- given masks, float64 cells

fn sig(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `v (n) x M (n, cols)` restricted to columns `c0..c0+w` of a row-major `M` with `cols`.
fn vec_mat(v: &[f64], m: &[f64], cols: usize, c0: usize, w: usize) -> Vec<f64> {
    (0..w)
        .map(|j| {
            v.iter()
                .enumerate()
                .map(|(i, a)| a * m[i * cols + c0 + j])
                .sum()
        })
        .collect()
}

fn mul(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x * y).collect()
}

/// Keras 3's LSTMCell, `implementation = 1`, for one row: gate `g` reads `x * mx[g]` and
/// `h * mh[g]`. Returns the output of every step.
fn lstm_ref(
    x: &[Vec<f64>],
    w: &[f64],
    u: &[f64],
    b: &[f64],
    mx: &[Vec<f64>],
    mh: &[Vec<f64>],
) -> Vec<f64> {
    let units = b.len() / 4;
    let (mut h, mut c) = (vec![0.0; units], vec![0.0; units]);
    let mut out = Vec::new();
    for xt in x {
        let gate = |g: usize, h: &[f64]| -> Vec<f64> {
            let a = vec_mat(&mul(xt, &mx[g]), w, 4 * units, g * units, units);
            let r = vec_mat(&mul(h, &mh[g]), u, 4 * units, g * units, units);
            (0..units).map(|j| a[j] + r[j] + b[g * units + j]).collect()
        };
        let (zi, zf, zc, zo) = (gate(0, &h), gate(1, &h), gate(2, &h), gate(3, &h));
        for j in 0..units {
            c[j] = sig(zf[j]) * c[j] + sig(zi[j]) * zc[j].tanh();
        }
        h = (0..units).map(|j| sig(zo[j]) * c[j].tanh()).collect();
        out.extend(&h);
    }
    out
}

/// Keras 3's GRUCell (`reset_after = true`), `implementation = 1`, for one row.
fn gru_ref(
    x: &[Vec<f64>],
    w: &[f64],
    u: &[f64],
    b: &[f64],
    mx: &[Vec<f64>],
    mh: &[Vec<f64>],
) -> Vec<f64> {
    let units = b.len() / 6;
    let (bx, bh) = b.split_at(3 * units);
    let mut h = vec![0.0; units];
    let mut out = Vec::new();
    for xt in x {
        let xg = |g: usize| -> Vec<f64> {
            let a = vec_mat(&mul(xt, &mx[g]), w, 3 * units, g * units, units);
            (0..units).map(|j| a[j] + bx[g * units + j]).collect()
        };
        let hg = |g: usize| -> Vec<f64> {
            let a = vec_mat(&mul(&h, &mh[g]), u, 3 * units, g * units, units);
            (0..units).map(|j| a[j] + bh[g * units + j]).collect()
        };
        let (xz, xr, xh) = (xg(0), xg(1), xg(2));
        let (hz, hr, hh) = (hg(0), hg(1), hg(2));
        h = (0..units)
            .map(|j| {
                let z = sig(xz[j] + hz[j]);
                let r = sig(xr[j] + hr[j]);
                let cand = (xh[j] + r * hh[j]).tanh();
                z * h[j] + (1.0 - z) * cand
            })
            .collect();
        out.extend(&h);
    }
    out
}

/// Gate-major masks `(gates, batch, width)` of factors 0 or `1 / (1 - rate)`.
fn masks(gates: usize, batch: usize, width: usize, rate: f64, seed: u64) -> Vec<f32> {
    let mut rng = seeded_rng(seed);
    (0..gates * batch * width)
        .map(|_| {
            if rng.random::<f64>() < rate {
                0.0
            } else {
                (1.0 / (1.0 - rate)) as f32
            }
        })
        .collect()
}

/// The masks of `row` as float64, one `width` vector per gate.
fn row_masks(m: &[f32], gates: usize, batch: usize, width: usize, row: usize) -> Vec<Vec<f64>> {
    (0..gates)
        .map(|g| widen(&m[(g * batch + row) * width..(g * batch + row + 1) * width]))
        .collect()
}

/// A float64 cell over one row: `(x, kernel, recurrent kernel, bias, input masks, state
/// masks)` to the output of every step.
type CellRef = fn(&[Vec<f64>], &[f64], &[f64], &[f64], &[Vec<f64>], &[Vec<f64>]) -> Vec<f64>;

/// Runs a layer with the given masks and compares every step of every row with `reference`.
fn check_given_masks<L>(mut layer: L, gates: usize, reference: CellRef)
where
    L: Recurrent + Layer<Sequence<3>, Output = Sequence<4>>,
{
    let (batch, time, input, units) = (3, 5, 3, 4);
    // Weights large enough that the nonlinearities matter.
    let mut r = seeded_rng(11);
    for p in layer.params_mut() {
        p.values_mut()
            .iter_mut()
            .for_each(|v| *v = r.random_range(-0.8..0.8));
    }
    let ws: Vec<Vec<f64>> = layer.params().iter().map(|p| widen(p.values())).collect();
    let mx = masks(gates, batch, input, 0.3, 1);
    let mh = masks(gates, batch, units, 0.4, 2);
    layer.core_mut().set_dropout_masks(mx.clone(), mh.clone());
    let x = rows(batch, time, input, 3);
    let xs = Sequence::<3>::from_nested(&x).unwrap();
    let y = layer.forward(&xs, Mode::Training).unwrap().to_batch_major();
    for (b, row) in x.iter().enumerate() {
        let row64: Vec<Vec<f64>> = row.iter().map(|v| widen(v)).collect();
        let want = reference(
            &row64,
            &ws[0],
            &ws[1],
            &ws[2],
            &row_masks(&mx, gates, batch, input, b),
            &row_masks(&mh, gates, batch, units, b),
        );
        let got = &y[b * time * units..(b + 1) * time * units];
        assert_close(&format!("row {b}"), got, &want, OUT_ATOL, OUT_RTOL);
    }
    // The masks are the layer's: inference ignores them.
    let plain = layer
        .forward(&xs, Mode::Inference)
        .unwrap()
        .to_batch_major();
    assert_ne!(plain, y);
}

#[test]
fn lstm_applies_given_masks_per_gate_as_keras() {
    let cfg = RnnConfig::default().dropout(0.3).recurrent_dropout(0.4);
    let lstm = rnn::Lstm::<3, 4, Sequences>::new("lstm", cfg, &mut seeded_rng(0));
    check_given_masks(lstm, 4, lstm_ref);
}

#[test]
fn gru_applies_given_masks_per_gate_as_keras() {
    let cfg = RnnConfig::default().dropout(0.3).recurrent_dropout(0.4);
    let gru = rnn::Gru::<3, 4, Sequences>::new("gru", cfg, &mut seeded_rng(0));
    check_given_masks(gru, 3, gru_ref);
}

#[test]
fn masks_of_the_wrong_size_are_an_error_naming_the_layer() {
    let cfg = RnnConfig::default().dropout(0.3).recurrent_dropout(0.4);
    let mut lstm = rnn::Lstm::<3, 4, Sequences>::new("lstm_7", cfg, &mut seeded_rng(0));
    lstm.core_mut().set_dropout_masks(vec![1.0; 5], Vec::new());
    let x = Sequence::<3>::zeros(2, 3);
    let err = lstm.forward(&x, Mode::Training).unwrap_err().to_string();
    assert!(
        err.contains("lstm_7") && err.contains("dropout masks"),
        "{err}"
    );
    // Inference does not use them.
    assert!(lstm.forward(&x, Mode::Inference).is_ok());
}

// ------------------------------------------------------------------ expectation vs Keras

model! {
    struct KSimple = Input(4, 2) => SimpleRNN(3, activation = linear, dropout = 0.3, recurrent_dropout = 0.4, return_sequences = true);
    struct KLstm = Input(4, 2) => LSTM(3, dropout = 0.3, recurrent_dropout = 0.4, return_sequences = true);
    struct KLstmInput = Input(4, 2) => LSTM(3, dropout = 0.4, return_sequences = true);
    struct KGru = Input(4, 2) => GRU(3, dropout = 0.3, recurrent_dropout = 0.4, return_sequences = true);
    struct KGruBefore = Input(4, 2) => GRU(3, dropout = 0.3, recurrent_dropout = 0.4, reset_after = false, return_sequences = true);
}

/// Rows per training-mode call and calls: as many samples as the fixture has.
const ROWS: usize = 4096;
const CALLS: usize = 8;

/// Mean and sample standard deviation of the training-mode outputs over `ROWS * CALLS`
/// independent masks (one sequence on every row).
fn sample<S>(
    model: &mut Sequential<S>,
    x: &[f32],
    fixture: &Value,
) -> (Vec<f64>, Vec<f64>, Vec<f32>)
where
    S: Stack<In = Sequence<2>>,
    S::Out: ModelOutput,
{
    let weights: Vec<Vec<f32>> = fixture["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| numbers(w).iter().map(|&v| v as f32).collect())
        .collect();
    model.set_weights(&weights).unwrap();
    let one = Sequence::<2>::from_batch_major(x, 1, 4).unwrap();
    let inference = model
        .forward(&one, Mode::Inference)
        .unwrap()
        .main()
        .data
        .clone();
    let batch: Vec<f32> = x.iter().copied().cycle().take(ROWS * x.len()).collect();
    let xs = Sequence::<2>::from_batch_major(&batch, ROWS, 4).unwrap();
    let n = inference.len();
    let (mut sum, mut sq) = (vec![0.0f64; n], vec![0.0f64; n]);
    for _ in 0..CALLS {
        let y = model.forward(&xs, Mode::Training).unwrap();
        for row in y.main().data.chunks_exact(n) {
            for (k, &v) in row.iter().enumerate() {
                sum[k] += f64::from(v);
                sq[k] += f64::from(v) * f64::from(v);
            }
        }
    }
    let count = (ROWS * CALLS) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    let sd = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| ((q - count * m * m) / (count - 1.0)).max(0.0).sqrt())
        .collect();
    (mean, sd, inference)
}

/// Our mean training-mode output over many masks against Keras' (tools/
/// gen_recurrent_dropout.py). Both are means of `n` independent samples, so their
/// difference has standard deviation `sqrt(s_k^2 / n_k + s_o^2 / n_o)` (sample standard
/// deviations); by the central limit theorem it stays within 5 of them except with
/// probability below 6e-7 per value (below 3e-5 over the 60 values compared). That bound
/// is what the test allows (the largest seen is about 0.3 of it). It is meaningful: every
/// model's expectation differs from its inference output by more than twice the bound
/// somewhere, and drawing one input mask for all of LSTM's gates instead of Keras' one per
/// gate moves the mean by about 9 standard deviations.
#[test]
fn mean_training_output_matches_keras() {
    let doc = load_json("extra", "recurrent_dropout");
    let x: Vec<f32> = numbers(&doc["input"]).iter().map(|&v| v as f32).collect();
    for fixture in doc["models"].as_array().unwrap() {
        let name = fixture["name"].as_str().unwrap();
        let (mean, sd, inference) = match name {
            "simple_rnn_linear" => sample(&mut KSimple::new(0).into_inner(), &x, fixture),
            "lstm" => sample(&mut KLstm::new(0).into_inner(), &x, fixture),
            "lstm_input_only" => sample(&mut KLstmInput::new(0).into_inner(), &x, fixture),
            "gru" => sample(&mut KGru::new(0).into_inner(), &x, fixture),
            "gru_reset_before" => sample(&mut KGruBefore::new(0).into_inner(), &x, fixture),
            other => panic!("no model for fixture {other}"),
        };
        let n_k = fixture["samples"].as_f64().unwrap();
        let n_o = (ROWS * CALLS) as f64;
        let (k_mean, k_sd) = (numbers(&fixture["mean"]), numbers(&fixture["std"]));
        assert_close(
            &format!("{name}: inference"),
            &inference,
            &numbers(&fixture["inference"]),
            OUT_ATOL,
            OUT_RTOL,
        );
        let (mut discriminates, mut worst) = (false, 0.0f64);
        for k in 0..mean.len() {
            let bound = 5.0 * (k_sd[k].powi(2) / n_k + sd[k].powi(2) / n_o).sqrt();
            worst = worst.max((mean[k] - k_mean[k]).abs() / bound);
            assert!(
                (mean[k] - k_mean[k]).abs() <= bound,
                "{name}: value {k}: mean {} vs Keras {} (bound {bound})",
                mean[k],
                k_mean[k]
            );
            discriminates |= (k_mean[k] - f64::from(inference[k])).abs() > 2.0 * bound;
        }
        assert!(
            discriminates,
            "{name}: the expectation equals the inference output"
        );
        println!("{name}: largest |mean - Keras| / bound {worst:.3}");
    }
}

// ---------------------------------------------------------------------- the IMDB recipe

model! {
    /// The usual IMDB recipe, small.
    struct Reviews = Embedding(20, 8) => LSTM(16, dropout = 0.2, recurrent_dropout = 0.2) => Dense(1, sigmoid);
}

model! {
    /// The IMDB recipe as the course notes write it.
    #[params = 242_561]
    struct Recipe = Embedding(5000, 32) => LSTM(128, dropout=0.2, recurrent_dropout=0.2) => Dense(1, sigmoid);
}

#[test]
fn the_recipe_as_written_trains_a_step() {
    let mut model = Recipe::new(0);
    model.compile(Loss::binary_crossentropy(), Adam::new(0.01), &[]);
    let before = model.get_weights();
    let x = vec![vec![4u32, 17, 250, 4999, 3]; 4];
    model
        .fit(
            &x,
            &[1.0f32, 0.0, 1.0, 0.0][..],
            Fit::new().epochs(1).verbose(0),
        )
        .unwrap();
    assert_ne!(model.get_weights(), before);
}

/// Reviews of 8 words: ids 1-9 are positive words, 10-19 negative; the label says whether
/// positive words outnumber negative ones.
fn reviews(n: usize, seed: u64) -> (Vec<Vec<u32>>, Vec<f32>) {
    let mut rng = seeded_rng(seed);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    while x.len() < n {
        let words: Vec<u32> = (0..8).map(|_| rng.random_range(1..20)).collect();
        let pos = words.iter().filter(|&&w| w < 10).count();
        if pos == 4 {
            continue;
        }
        x.push(words);
        y.push(if pos > 4 { 1.0 } else { 0.0 });
    }
    (x, y)
}

fn trained(model_seed: u64, fit_seed: u64, epochs: usize) -> (Reviews, History) {
    let (x, y) = reviews(512, 1);
    let (vx, vy) = reviews(256, 2);
    let mut model = Reviews::new(model_seed);
    model.compile(
        Loss::binary_crossentropy(),
        Adam::new(0.01),
        &[Metric::BinaryAccuracy],
    );
    let history = model
        .fit(
            &x,
            &y,
            Fit::new()
                .batch_size(32)
                .epochs(epochs)
                .seed(fit_seed)
                .verbose(0)
                .validation_data(&vx, &vy),
        )
        .unwrap();
    (model, history)
}

#[test]
fn the_imdb_recipe_trains() {
    let start = std::time::Instant::now();
    let (_, history) = trained(3, 1, 8);
    let acc = *history.get("val_binary_accuracy").unwrap().last().unwrap();
    println!("8 epochs of 512 reviews in {:?}", start.elapsed());
    assert!(acc > 0.9, "validation accuracy {acc}");
}

/// The masks come from generators seeded by the model's seed, as `Dropout`'s do: the same
/// model and fit seeds give the same run.
#[test]
fn the_same_seeds_give_the_same_run() {
    let weights = |fit_seed| trained(3, fit_seed, 1).0.get_weights();
    assert_eq!(weights(4), weights(4));
}
