//! Losses against Keras: every `loss_*` fixture (value and gradient), the masked reduction,
//! the fused logits gradient, the float64 clip range, and bad input.
//!
//! Where a number is not a fixture's, it comes from `reference` below, a direct float64
//! transcription of Keras' formulas (checked against every fixture value), differentiated by
//! central finite differences.

mod common;

use common::{
    Case, GRAD_ATOL, GRAD_RTOL, OUT_ATOL, OUT_RTOL, assert_close, assert_value, fixture_dir,
    last_dim, numbers, numeric_grad, round32, sigmoid64, softmax64, uniform, widen,
};
use rnn::{Activation, Error, Loss, Target};

const EPS: f64 = 1e-7;

/// Targets in float64, or class ids.
#[derive(Clone, Debug)]
enum Targets {
    Dense(Vec<f64>),
    Classes(Vec<u32>),
}

impl Targets {
    fn dense32(&self) -> Vec<f32> {
        match self {
            Targets::Dense(t) => t.iter().map(|&v| v as f32).collect(),
            Targets::Classes(_) => Vec::new(),
        }
    }
    /// The targets as the crate takes them; `dense32` must be `self.dense32()`.
    fn as_target<'a>(&'a self, dense32: &'a [f32]) -> Target<'a> {
        match self {
            Targets::Dense(_) => Target::Dense(dense32),
            Targets::Classes(c) => Target::Classes(c),
        }
    }
}

struct LossCase {
    loss: Loss,
    pred: Vec<f64>,
    target: Targets,
    classes: usize,
    value: f64,
    grad: Vec<f64>,
}

impl LossCase {
    fn load(name: &str) -> LossCase {
        let case = Case::load(name);
        let j = &case.json;
        assert_eq!(j["kind"], "loss", "{name}");
        let config = &j["config"]["config"];
        let from_logits = config["from_logits"].as_bool().unwrap_or(false);
        let loss = match j["config"]["class_name"].as_str().expect("class_name") {
            "BinaryCrossentropy" => Loss::binary_crossentropy(),
            "CategoricalCrossentropy" => Loss::categorical_crossentropy(),
            "SparseCategoricalCrossentropy" => Loss::sparse_categorical_crossentropy(),
            "MeanSquaredError" => Loss::mean_squared_error(),
            other => panic!("{name}: unknown loss {other}"),
        }
        .from_logits(from_logits);
        assert_eq!(config["name"], loss.keras_name(), "{name}");
        assert_eq!(config["reduction"], "sum_over_batch_size", "{name}");
        let target = if j["y_true"]["dtype"] == "int32" {
            Targets::Classes(
                numbers(&j["y_true"]["values"])
                    .iter()
                    .map(|&v| v as u32)
                    .collect(),
            )
        } else {
            Targets::Dense(numbers(&j["y_true"]["values"]))
        };
        LossCase {
            loss,
            pred: numbers(&j["y_pred"]["values"]),
            target,
            classes: last_dim(&j["y_pred"]),
            value: j["value"].as_f64().expect("value"),
            grad: numbers(&j["grad_y_pred"]["values"]),
        }
    }

    fn pred32(&self) -> Vec<f32> {
        self.pred.iter().map(|&v| v as f32).collect()
    }

    /// The crate's value and gradient on the f32 inputs.
    fn run(&self) -> (f32, Vec<f32>) {
        let pred = self.pred32();
        let dense = self.target.dense32();
        let target = self.target.as_target(&dense);
        let mut grad = vec![f32::NAN; pred.len()];
        let value = self
            .loss
            .compute(&pred, target, self.classes, None, Some(&mut grad))
            .expect("compute");
        let value_only = self
            .loss
            .compute(&pred, target, self.classes, None, None)
            .expect("compute without gradient");
        assert_eq!(
            value.to_bits(),
            value_only.to_bits(),
            "same value with or without grad"
        );
        (value, grad)
    }
}

// ---------------------------------------------------------------------------------------------
// Reference: Keras' formulas in float64, written for clarity, not speed or stability.

fn clip(p: f64) -> f64 {
    p.clamp(EPS, 1.0 - EPS)
}

fn one_hot(class: u32, classes: usize) -> Vec<f64> {
    (0..classes)
        .map(|j| if j == class as usize { 1.0 } else { 0.0 })
        .collect()
}

fn per_row(loss: Loss, p: &[f64], t: &[f64]) -> f64 {
    let n = p.len() as f64;
    match loss {
        Loss::BinaryCrossentropy { from_logits: false } => {
            p.iter()
                .zip(t)
                .map(|(&p, &t)| -(t * clip(p).ln() + (1.0 - t) * (1.0 - clip(p)).ln()))
                .sum::<f64>()
                / n
        }
        Loss::BinaryCrossentropy { from_logits: true } => {
            let log_sigmoid = |z: f64| -(-z).exp().ln_1p();
            p.iter()
                .zip(t)
                .map(|(&z, &t)| -(t * log_sigmoid(z) + (1.0 - t) * log_sigmoid(-z)))
                .sum::<f64>()
                / n
        }
        Loss::CategoricalCrossentropy { from_logits: false }
        | Loss::SparseCategoricalCrossentropy { from_logits: false } => {
            let s: f64 = p.iter().sum();
            -p.iter()
                .zip(t)
                .map(|(&p, &t)| t * clip(p / s).ln())
                .sum::<f64>()
        }
        Loss::CategoricalCrossentropy { from_logits: true }
        | Loss::SparseCategoricalCrossentropy { from_logits: true } => {
            let max = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + p.iter().map(|&z| (z - max).exp()).sum::<f64>().ln();
            -p.iter().zip(t).map(|(&z, &t)| t * (z - lse)).sum::<f64>()
        }
        Loss::MeanSquaredError => p.iter().zip(t).map(|(&p, &t)| (t - p).powi(2)).sum::<f64>() / n,
    }
}

/// Keras' value: per-row losses, `apply_mask` (mask times total / (valid + eps)), then the
/// sum over all rows divided by their number.
fn reference(
    loss: Loss,
    pred: &[f64],
    target: &Targets,
    classes: usize,
    mask: Option<&[f64]>,
) -> f64 {
    let rows = pred.len() / classes;
    let losses: Vec<f64> = (0..rows)
        .map(|r| {
            let p = &pred[r * classes..(r + 1) * classes];
            let t = match target {
                Targets::Dense(t) => t[r * classes..(r + 1) * classes].to_vec(),
                Targets::Classes(c) => one_hot(c[r], classes),
            };
            per_row(loss, p, &t)
        })
        .collect();
    let total = rows as f64;
    match mask {
        None => losses.iter().sum::<f64>() / total,
        Some(m) => {
            let valid: f64 = m.iter().sum();
            let weights = m.iter().map(|&m| m * total / (valid + EPS));
            losses.iter().zip(weights).map(|(l, w)| l * w).sum::<f64>() / total
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/// Every fixture but the BCE clipping one, which needs `bce_clipping_fixture`'s care.
const FIXTURES: [&str; 10] = [
    "loss_binary_crossentropy",
    "loss_binary_crossentropy_from_logits",
    "loss_categorical_crossentropy",
    "loss_categorical_crossentropy_clipping",
    "loss_categorical_crossentropy_from_logits",
    "loss_mean_squared_error",
    "loss_mean_squared_error_3d",
    "loss_sparse_categorical_crossentropy",
    "loss_sparse_categorical_crossentropy_from_logits",
    "loss_sparse_categorical_crossentropy_seq",
];
const BCE_CLIPPING: &str = "loss_binary_crossentropy_clipping";

fn check_fixture(name: &str) {
    let c = LossCase::load(name);
    let reference_value = reference(c.loss, &c.pred, &c.target, c.classes, None);
    assert!(
        (reference_value - c.value).abs() <= 1e-12 * c.value.abs(),
        "{name}: the float64 reference gives {reference_value}, Keras {}",
        c.value
    );
    let (value, grad) = c.run();
    assert_value(&format!("{name}: value"), value, c.value);
    assert_close(
        &format!("{name}: grad"),
        &grad,
        &c.grad,
        GRAD_ATOL,
        GRAD_RTOL,
    );
    for (i, (&g, &want)) in grad.iter().zip(&c.grad).enumerate() {
        if want == 0.0 {
            assert_eq!(g, 0.0, "{name}: Keras' gradient {i} is exactly 0 (clipped)");
        }
    }
}

#[test]
fn every_loss_fixture_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("loss_") && n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    found.sort();
    let mut checked: Vec<String> = FIXTURES.iter().map(|s| s.to_string()).collect();
    checked.push(BCE_CLIPPING.to_string());
    checked.sort();
    assert_eq!(found, checked);
}

#[test]
fn binary_crossentropy_fixture() {
    check_fixture("loss_binary_crossentropy");
}

#[test]
fn binary_crossentropy_from_logits_fixture() {
    check_fixture("loss_binary_crossentropy_from_logits");
}

#[test]
fn categorical_crossentropy_fixture() {
    // Its last prediction row sums to 1.7: the gradient flows through Keras' normalisation.
    check_fixture("loss_categorical_crossentropy");
}

#[test]
fn categorical_crossentropy_clipping_fixture() {
    check_fixture("loss_categorical_crossentropy_clipping");
}

#[test]
fn categorical_crossentropy_from_logits_fixture() {
    check_fixture("loss_categorical_crossentropy_from_logits");
}

#[test]
fn mean_squared_error_fixture() {
    check_fixture("loss_mean_squared_error");
}

#[test]
fn mean_squared_error_3d_fixture() {
    check_fixture("loss_mean_squared_error_3d");
}

#[test]
fn sparse_categorical_crossentropy_fixture() {
    check_fixture("loss_sparse_categorical_crossentropy");
}

#[test]
fn sparse_categorical_crossentropy_from_logits_fixture() {
    check_fixture("loss_sparse_categorical_crossentropy_from_logits");
}

#[test]
fn sparse_categorical_crossentropy_seq_fixture() {
    check_fixture("loss_sparse_categorical_crossentropy_seq");
}

/// The fixture's prediction 0.999999 (target 0) has no f32: the nearest one is
/// 0.99999898672, so `1 - p` grows from 1e-6 to 1.0133e-6 and Keras' own float64 gradient
/// `1 / (1 - p) / 14` moves by 1.3% and the value by 1.2e-4 relative, both beyond the
/// tolerances. That element's gradient and the value are therefore checked against the same
/// float64 formulas at the f32 input; every other element and every clip decision is checked
/// against the fixture itself.
#[test]
fn bce_clipping_fixture() {
    let c = LossCase::load(BCE_CLIPPING);
    let pred32 = c.pred32();
    let moved = 4;
    assert_eq!(c.pred[moved], 0.999999);
    assert_eq!(pred32[moved] as f64, 0.9999989867210388);
    let n = c.pred.len() as f64;

    // The formulas reproduce Keras at its float64 inputs...
    let keras_formula = 1.0 / (1.0 - c.pred[moved]) / n;
    assert!((keras_formula - c.grad[moved]).abs() <= 1e-9 * c.grad[moved]);
    let reference64 = reference(c.loss, &c.pred, &c.target, c.classes, None);
    assert!((reference64 - c.value).abs() <= 1e-12 * c.value);
    // ...and at the f32 inputs they differ from the fixture by more than the tolerance, so the
    // fixture's numbers cannot be the expectation there.
    let at_f32_input = 1.0 / (1.0 - pred32[moved] as f64) / n;
    let reference32 = reference(c.loss, &round32(&c.pred), &c.target, c.classes, None);
    assert!((at_f32_input - c.grad[moved]).abs() > GRAD_ATOL + GRAD_RTOL * c.grad[moved]);
    assert!((reference32 - c.value).abs() > OUT_ATOL + OUT_RTOL * c.value);

    let (value, grad) = c.run();
    assert_value("value at the f32 inputs", value, reference32);
    assert_close(
        "grad of the moved prediction",
        &grad[moved..=moved],
        &[at_f32_input],
        GRAD_ATOL,
        GRAD_RTOL,
    );
    for (i, (&g, &want)) in grad.iter().zip(&c.grad).enumerate() {
        if i != moved {
            assert_close(&format!("grad {i}"), &[g], &[want], GRAD_ATOL, GRAD_RTOL);
        }
        // 0, 1e-9, 0.999999999 (1.0 in f32) and 1.0 are clipped in both rows.
        assert_eq!(g == 0.0, want == 0.0, "clip decision of prediction {i}");
    }
}

// ---------------------------------------------------------------------------------------------
// The clip range is float64's

#[test]
fn clip_bounds_are_the_float64_ones() {
    let bce = Loss::binary_crossentropy();
    let one = |p: f32, t: f32| {
        let mut g = [f32::NAN];
        let v = bce
            .compute(&[p], Target::Dense(&[t]), 1, None, Some(&mut g))
            .unwrap();
        (v, g[0])
    };

    // A prediction of exactly 1 with target 0 costs -ln(1 - (1 - 1e-7)) = 16.118 in Keras'
    // float64; with the f32 bound 1 - 2^-23 it would be 15.942.
    let (v, g) = one(1.0, 0.0);
    let float64 = -(1.0 - (1.0 - EPS)).ln();
    let f32_bound = -(1.0 - (1.0f32 - EPS as f32) as f64).ln();
    assert_value("clipped 1.0", v, float64);
    assert!((f32_bound - float64).abs() > 0.17);
    assert_eq!(g, 0.0);
    let (v, g) = one(0.0, 1.0);
    assert_value("clipped 0.0", v, -EPS.ln());
    assert_eq!(g, 0.0);

    // The f32 nearest 1e-7 is 1.0000000117e-7 and 1 - 2^-23 is below 1 - 1e-7: both are
    // strictly inside the float64 range, so they get the whole gradient, not the half JAX
    // gives on a bound nor the zero outside it.
    let low = EPS as f32;
    assert!(low as f64 > EPS);
    let (v, g) = one(low, 1.0);
    assert_value("just above eps", v, -(low as f64).ln());
    assert_close(
        "just above eps",
        &[g],
        &[-1.0 / low as f64],
        GRAD_ATOL,
        GRAD_RTOL,
    );
    let high = 1.0 - f32::EPSILON;
    assert!((high as f64) < 1.0 - EPS);
    let (v, g) = one(high, 0.0);
    assert_value("just below 1 - eps", v, -(1.0 - high as f64).ln());
    assert_close(
        "just below 1 - eps",
        &[g],
        &[8_388_608.0],
        GRAD_ATOL,
        GRAD_RTOL,
    );

    // Their f32 neighbours outward are clipped.
    let (v, g) = one(low.next_down(), 1.0);
    assert_value("just below eps", v, -EPS.ln());
    assert_eq!(g, 0.0);
    let (v, g) = one(high.next_up(), 0.0);
    assert_value("just above 1 - eps", v, float64);
    assert_eq!(g, 0.0);

    // Categorical cross-entropy clips after the division by the row sum.
    let cce = Loss::categorical_crossentropy();
    let mut g = [f32::NAN; 2];
    let v = cce
        .compute(
            &[2.0, 0.0],
            Target::Dense(&[0.0, 1.0]),
            2,
            None,
            Some(&mut g),
        )
        .unwrap();
    assert_value("cce clipped", v, -EPS.ln());
    assert_eq!(g, [0.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// Masks

#[test]
fn masked_mean_by_hand() {
    // Rows: ((0.5-0)^2 + (1-0)^2)/2 = 0.625, masked, ((0-1)^2 + (3-1)^2)/2 = 2.5.
    let pred = [0.5f32, 1.0, 2.0, -1.0, 0.0, 3.0];
    let target = [0.0f32, 0.0, 0.0, 0.0, 1.0, 1.0];
    let mask = [1.0f32, 0.0, 1.0];
    let mut grad = [f32::NAN; 6];
    let v = Loss::mean_squared_error()
        .compute(
            &pred,
            Target::Dense(&target),
            2,
            Some(&mask),
            Some(&mut grad),
        )
        .unwrap();
    // Keras: sum(loss * mask * 3 / (2 + 1e-7)) / 3.
    let valid = 2.0 + EPS;
    assert_value("masked mse", v, (0.625 + 2.5) / valid);
    // d/dp of (p - t)^2 / 2 is (p - t), times the row weight 1 / (2 + 1e-7).
    let want = [0.5, 1.0, 0.0, 0.0, -1.0, 2.0].map(|d| d / valid);
    assert_close("masked mse grad", &grad, &want, GRAD_ATOL, GRAD_RTOL);
    assert_eq!(&grad[2..4], &[0.0, 0.0], "masked rows get no gradient");

    // An all-ones mask is the plain mean, scaled by rows / (rows + 1e-7).
    let ones = [1.0f32; 3];
    let plain = Loss::mean_squared_error()
        .compute(&pred, Target::Dense(&target), 2, None, None)
        .unwrap();
    let all = Loss::mean_squared_error()
        .compute(&pred, Target::Dense(&target), 2, Some(&ones), None)
        .unwrap();
    assert_value("all-ones mask", all, plain as f64 * 3.0 / (3.0 + EPS));

    // Every row masked: Keras' value is 0 (0 / (0 + eps) weights), and so is the gradient.
    let none = [0.0f32; 3];
    let v = Loss::mean_squared_error()
        .compute(
            &pred,
            Target::Dense(&target),
            2,
            Some(&none),
            Some(&mut grad),
        )
        .unwrap();
    assert_eq!(v, 0.0);
    assert!(grad.iter().all(|&g| g == 0.0));
}

/// Every loss with a mask, on inputs away from the clip bounds: value against the float64
/// reference, gradient against its finite differences.
#[test]
fn masked_losses_match_reference_and_finite_differences() {
    let (rows, classes) = (6, 4); // (batch 2, time 3) steps
    let mask64 = [1.0, 1.0, 0.0, 1.0, 0.0, 0.0];
    let mask32 = mask64.map(|m| m as f32);
    let probs = round32(&uniform(1, rows * classes, 0.05, 0.95));
    let logits = round32(&uniform(2, rows * classes, -3.0, 3.0));
    let soft = round32(&uniform(3, rows * classes, 0.0, 1.0));
    let ids: Vec<u32> = vec![2, 0, 3, 1, 1, 0];
    let cases = [
        (
            Loss::binary_crossentropy(),
            &probs,
            Targets::Dense(soft.clone()),
        ),
        (
            Loss::binary_crossentropy().from_logits(true),
            &logits,
            Targets::Dense(soft.clone()),
        ),
        (
            Loss::categorical_crossentropy(),
            &probs,
            Targets::Dense(soft.clone()),
        ),
        (
            Loss::categorical_crossentropy().from_logits(true),
            &logits,
            Targets::Dense(soft.clone()),
        ),
        (
            Loss::sparse_categorical_crossentropy(),
            &probs,
            Targets::Classes(ids.clone()),
        ),
        (
            Loss::sparse_categorical_crossentropy().from_logits(true),
            &logits,
            Targets::Classes(ids.clone()),
        ),
        (
            Loss::mean_squared_error(),
            &logits,
            Targets::Dense(soft.clone()),
        ),
    ];
    for (loss, pred, target) in cases {
        let what = format!("{loss:?}");
        let pred32: Vec<f32> = pred.iter().map(|&v| v as f32).collect();
        let dense = target.dense32();
        let mut grad = vec![f32::NAN; pred32.len()];
        let v = loss
            .compute(
                &pred32,
                target.as_target(&dense),
                classes,
                Some(&mask32),
                Some(&mut grad),
            )
            .unwrap();
        let f = |x: &[f64]| reference(loss, x, &target, classes, Some(&mask64));
        assert_value(&format!("{what}: value"), v, f(pred));
        let want = numeric_grad(f, pred, 1e-6);
        assert_close(&format!("{what}: grad"), &grad, &want, GRAD_ATOL, GRAD_RTOL);
        for r in [2, 4, 5] {
            let masked = &grad[r * classes..(r + 1) * classes];
            assert!(masked.iter().all(|&g| g == 0.0), "{what}: masked row {r}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fused gradient with respect to the logits

/// `logits_grad` against finite differences in float64 of `value(act(z))`, the loss on
/// probabilities (with Keras' normalisation and clipping, inactive at these inputs).
#[test]
fn logits_grad_matches_finite_differences() {
    let (rows, classes) = (3, 4);
    let z = round32(&uniform(4, rows * classes, -3.0, 3.0));
    let z32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
    // Soft targets whose rows do not sum to 1: the softmax gradient is p * sum(t) - t.
    let soft = round32(&uniform(5, rows * classes, 0.0, 1.0));
    let ids = vec![3u32, 0, 2];
    let cases = [
        (
            Loss::binary_crossentropy(),
            Activation::Sigmoid,
            Targets::Dense(soft.clone()),
        ),
        (
            Loss::categorical_crossentropy(),
            Activation::Softmax,
            Targets::Dense(soft.clone()),
        ),
        (
            Loss::sparse_categorical_crossentropy(),
            Activation::Softmax,
            Targets::Classes(ids),
        ),
    ];
    for (loss, act, target) in cases {
        for mask in [None, Some([1.0, 0.0, 1.0])] {
            let what = format!("{loss:?} after {act:?}, mask {mask:?}");
            let mut probs = z32.clone();
            act.apply(&mut probs, classes);
            let dense = target.dense32();
            let mask32 = mask.map(|m| m.map(|v| v as f32));
            let mut dz = vec![f32::NAN; probs.len()];
            let fused = loss
                .logits_grad(
                    act,
                    &probs,
                    target.as_target(&dense),
                    classes,
                    mask32.as_ref().map(|m| &m[..]),
                    &mut dz,
                )
                .unwrap();
            assert!(fused, "{what}");
            let f = |z: &[f64]| {
                let p = match act {
                    Activation::Sigmoid => sigmoid64(z),
                    _ => softmax64(z, classes),
                };
                reference(loss, &p, &target, classes, mask.as_ref().map(|m| &m[..]))
            };
            let want = numeric_grad(f, &z, 1e-6);
            assert_close(&what, &dz, &want, GRAD_ATOL, GRAD_RTOL);

            // Where nothing is clipped it is compute()'s gradient backpropagated through the
            // activation.
            let mut dp = vec![f32::NAN; probs.len()];
            loss.compute(
                &probs,
                target.as_target(&dense),
                classes,
                mask32.as_ref().map(|m| &m[..]),
                Some(&mut dp),
            )
            .unwrap();
            act.backward(&probs, &mut dp, classes);
            assert_close(
                &format!("{what}: unfused"),
                &dp,
                &widen(&dz),
                GRAD_ATOL,
                GRAD_RTOL,
            );
        }
    }
}

/// A probability that underflows: the loss on probabilities clips it, so its gradient through
/// the activation vanishes, and the unclipped derivative `-t / p` is infinite; the fused
/// gradient is `p - t`, which is the float64 gradient of the loss on the logits.
#[test]
fn logits_grad_survives_underflow() {
    let loss = Loss::sparse_categorical_crossentropy();
    let logits = [0.0, 120.0];
    let exact_dz = {
        let p = softmax64(&logits, 2);
        [p[0] - 1.0, p[1]]
    };
    // The crate's softmax (its exp bottoms out near 1e-38) and the exact f32 rounding (0).
    let mut from_kernel = logits.map(|v| v as f32);
    Activation::Softmax.apply(&mut from_kernel, 2);
    let rounded = softmax64(&logits, 2)
        .iter()
        .map(|&p| p as f32)
        .collect::<Vec<_>>();
    assert_eq!(rounded, [0.0, 1.0]);
    for probs in [from_kernel.to_vec(), rounded] {
        assert!(probs[0] < 1e-37);
        let mut dz = [f32::NAN; 2];
        let fused = loss
            .logits_grad(
                Activation::Softmax,
                &probs,
                Target::Classes(&[0]),
                2,
                None,
                &mut dz,
            )
            .unwrap();
        assert!(fused);
        assert!(dz.iter().all(|g| g.is_finite()));
        assert_close("fused", &dz, &exact_dz, GRAD_ATOL, GRAD_RTOL);

        let mut unfused = [f32::NAN; 2];
        loss.compute(&probs, Target::Classes(&[0]), 2, None, Some(&mut unfused))
            .unwrap();
        Activation::Softmax.backward(&probs, &mut unfused, 2);
        assert_eq!(unfused, [0.0, 0.0], "Keras' clip stops the gradient");
    }
    let naive = -1.0f32 / 0.0f32;
    assert!(naive.is_infinite(), "-t / p at the rounded probability");

    // The same through from_logits on the logits themselves.
    let mut g = [f32::NAN; 2];
    loss.from_logits(true)
        .compute(
            &logits.map(|v| v as f32),
            Target::Classes(&[0]),
            2,
            None,
            Some(&mut g),
        )
        .unwrap();
    assert_close("from logits", &g, &exact_dz, GRAD_ATOL, GRAD_RTOL);

    // Sigmoid and binary cross-entropy: p = sigmoid(-200) underflows, target 1.
    let bce = Loss::binary_crossentropy();
    let mut p = [-200.0f32];
    Activation::Sigmoid.apply(&mut p, 1);
    let mut dz = [f32::NAN];
    assert!(
        bce.logits_grad(
            Activation::Sigmoid,
            &p,
            Target::Dense(&[1.0]),
            1,
            None,
            &mut dz
        )
        .unwrap()
    );
    assert_close("fused sigmoid", &dz, &[-1.0], GRAD_ATOL, GRAD_RTOL);
    let mut unfused = [f32::NAN];
    bce.compute(&p, Target::Dense(&[1.0]), 1, None, Some(&mut unfused))
        .unwrap();
    Activation::Sigmoid.backward(&p, &mut unfused, 1);
    assert_eq!(unfused, [0.0]);
}

#[test]
fn logits_grad_declines_pairs_it_cannot_fuse() {
    let probs = [0.25f32, 0.75];
    let t = [0.0f32, 1.0];
    let pairs = [
        (
            Loss::mean_squared_error(),
            Activation::Linear,
            Target::Dense(&t),
        ),
        (
            Loss::binary_crossentropy(),
            Activation::Softmax,
            Target::Dense(&t),
        ),
        (
            Loss::binary_crossentropy().from_logits(true),
            Activation::Sigmoid,
            Target::Dense(&t),
        ),
        (
            Loss::categorical_crossentropy(),
            Activation::Sigmoid,
            Target::Dense(&t),
        ),
        (
            Loss::categorical_crossentropy().from_logits(true),
            Activation::Softmax,
            Target::Dense(&t),
        ),
        (
            Loss::sparse_categorical_crossentropy(),
            Activation::Linear,
            Target::Classes(&[1]),
        ),
        (
            Loss::mean_squared_error(),
            Activation::Sigmoid,
            Target::Dense(&t),
        ),
    ];
    for (loss, act, target) in pairs {
        let mut g = [7.0f32; 2];
        let fused = loss
            .logits_grad(act, &probs, target, 2, None, &mut g)
            .unwrap();
        assert!(!fused, "{loss:?} after {act:?}");
        assert_eq!(g, [7.0, 7.0], "{loss:?} after {act:?} wrote nothing");
    }
}

// ---------------------------------------------------------------------------------------------
// Names

#[test]
fn names_and_constructors() {
    let all = [
        (Loss::binary_crossentropy(), "binary_crossentropy"),
        (Loss::categorical_crossentropy(), "categorical_crossentropy"),
        (
            Loss::sparse_categorical_crossentropy(),
            "sparse_categorical_crossentropy",
        ),
        (Loss::mean_squared_error(), "mean_squared_error"),
    ];
    for (loss, name) in all {
        assert_eq!(loss.keras_name(), name);
        assert_eq!(loss.from_logits(true).keras_name(), name);
        assert_eq!(Loss::from_keras_name(name), Some(loss));
        assert_eq!(loss.from_logits(true).from_logits(false), loss);
    }
    assert_eq!(
        Loss::sparse_categorical_crossentropy().from_logits(true),
        Loss::SparseCategoricalCrossentropy { from_logits: true }
    );
    assert_eq!(
        Loss::mean_squared_error().from_logits(true),
        Loss::MeanSquaredError
    );
    assert_eq!(Loss::from_keras_name("mse"), Some(Loss::MeanSquaredError));
    assert_eq!(Loss::from_keras_name("mae"), None);
}

// ---------------------------------------------------------------------------------------------
// Bad input

const ALL_LOSSES: [Loss; 7] = [
    Loss::BinaryCrossentropy { from_logits: false },
    Loss::BinaryCrossentropy { from_logits: true },
    Loss::CategoricalCrossentropy { from_logits: false },
    Loss::CategoricalCrossentropy { from_logits: true },
    Loss::SparseCategoricalCrossentropy { from_logits: false },
    Loss::SparseCategoricalCrossentropy { from_logits: true },
    Loss::MeanSquaredError,
];

fn is_sparse(loss: Loss) -> bool {
    matches!(loss, Loss::SparseCategoricalCrossentropy { .. })
}

/// Two rows of three predictions, and valid targets of the kind `loss` takes.
const PRED: [f32; 6] = [0.2, 0.3, 0.5, 0.6, 0.3, 0.1];
const DENSE: [f32; 6] = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
const IDS: [u32; 2] = [2, 0];

fn good_target(loss: Loss) -> Target<'static> {
    if is_sparse(loss) {
        Target::Classes(&IDS)
    } else {
        Target::Dense(&DENSE)
    }
}

/// Runs `compute` with a gradient buffer preset to 7 and checks that an error left it alone.
fn compute_err(
    loss: Loss,
    pred: &[f32],
    target: Target<'_>,
    classes: usize,
    mask: Option<&[f32]>,
) -> Error {
    let mut grad = vec![7.0f32; pred.len()];
    let err = loss
        .compute(pred, target, classes, mask, Some(&mut grad))
        .expect_err("expected an error");
    assert!(
        grad.iter().all(|&g| g == 7.0),
        "{loss:?}: nothing written on error"
    );
    err
}

#[test]
fn valid_inputs_are_accepted() {
    for loss in ALL_LOSSES {
        let mut grad = [0.0f32; 6];
        let v = loss.compute(
            &PRED,
            good_target(loss),
            3,
            Some(&[1.0, 0.0]),
            Some(&mut grad),
        );
        assert!(v.unwrap().is_finite(), "{loss:?}");
    }
}

#[test]
fn bad_shapes() {
    for loss in ALL_LOSSES {
        let e = compute_err(loss, &PRED, good_target(loss), 0, None);
        assert!(
            matches!(e, Error::Shape { .. }),
            "{loss:?} classes 0: {e:?}"
        );
        let e = compute_err(loss, &PRED, good_target(loss), 4, None);
        assert!(
            matches!(e, Error::Shape { .. }),
            "{loss:?} 6 values in rows of 4: {e:?}"
        );
        assert!(e.to_string().contains("not a multiple of 4"), "{e}");
        let e = compute_err(loss, &[], good_target(loss), 3, None);
        assert!(matches!(e, Error::Empty { .. }), "{loss:?} no rows: {e:?}");

        let short = if is_sparse(loss) {
            Target::Classes(&IDS[..1])
        } else {
            Target::Dense(&DENSE[..5])
        };
        let e = compute_err(loss, &PRED, short, 3, None);
        assert!(
            matches!(e, Error::Shape { .. }),
            "{loss:?} short targets: {e:?}"
        );

        let e = compute_err(loss, &PRED, good_target(loss), 3, Some(&[1.0]));
        assert!(
            matches!(e, Error::Shape { .. }),
            "{loss:?} short mask: {e:?}"
        );
        assert!(
            e.to_string().contains("expected shape (2,), got 1 values"),
            "{e}"
        );

        let mut grad = [0.0f32; 5];
        let e = loss
            .compute(&PRED, good_target(loss), 3, None, Some(&mut grad))
            .unwrap_err();
        assert!(
            matches!(e, Error::Shape { .. }),
            "{loss:?} short grad: {e:?}"
        );
    }
    let e = compute_err(
        Loss::mean_squared_error(),
        &PRED,
        Target::Dense(&DENSE[..5]),
        3,
        None,
    );
    assert_eq!(
        e.to_string(),
        "mean_squared_error (targets): expected shape (2, 3), got 5 values"
    );
}

#[test]
fn class_id_out_of_range() {
    for loss in [
        Loss::sparse_categorical_crossentropy(),
        Loss::sparse_categorical_crossentropy().from_logits(true),
    ] {
        let e = compute_err(loss, &PRED, Target::Classes(&[2, 3]), 3, None);
        assert_eq!(
            e,
            Error::ClassOutOfRange {
                loss: "sparse_categorical_crossentropy".into(),
                class: 3,
                row: 1,
                classes: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "sparse_categorical_crossentropy: class id 3 in target row 1 is out of range: the \
             output has 3 classes, so ids must be < 3"
        );
    }
}

#[test]
fn non_finite_values() {
    for loss in ALL_LOSSES {
        let mut pred = PRED;
        pred[4] = f32::NAN;
        let e = compute_err(loss, &pred, good_target(loss), 3, None);
        assert!(
            matches!(&e, Error::NonFinite { what, index: 4, .. } if what == "predictions"),
            "{loss:?}: {e:?}"
        );
        let e = compute_err(
            loss,
            &PRED,
            good_target(loss),
            3,
            Some(&[1.0, f32::INFINITY]),
        );
        assert!(
            matches!(&e, Error::NonFinite { what, index: 1, .. } if what == "mask"),
            "{loss:?}: {e:?}"
        );
        if !is_sparse(loss) {
            let mut t = DENSE;
            t[2] = f32::NEG_INFINITY;
            let e = compute_err(loss, &PRED, Target::Dense(&t), 3, None);
            assert!(
                matches!(&e, Error::NonFinite { what, index: 2, .. } if what == "targets"),
                "{loss:?}: {e:?}"
            );
        }
    }
}

#[test]
fn wrong_kind_of_target_negative_mask_and_zero_row_sum() {
    for loss in ALL_LOSSES {
        let other = if is_sparse(loss) {
            Target::Dense(&DENSE)
        } else {
            Target::Classes(&IDS)
        };
        let e = compute_err(loss, &PRED, other, 3, None);
        assert!(matches!(e, Error::Config { .. }), "{loss:?}: {e:?}");
        let e = compute_err(loss, &PRED, good_target(loss), 3, Some(&[1.0, -1.0]));
        assert!(matches!(e, Error::Config { .. }), "{loss:?}: {e:?}");
    }
    let e = compute_err(
        Loss::sparse_categorical_crossentropy(),
        &PRED,
        Target::Dense(&DENSE),
        3,
        None,
    );
    assert!(
        e.to_string().contains("use categorical_crossentropy"),
        "{e}"
    );

    // Keras divides probabilities by their row sum: a row summing to 0 would make it NaN.
    let pred = [0.2f32, 0.3, 0.5, 0.0, 0.0, 0.0];
    for loss in [
        Loss::categorical_crossentropy(),
        Loss::sparse_categorical_crossentropy(),
    ] {
        let e = compute_err(loss, &pred, good_target(loss), 3, None);
        assert!(matches!(e, Error::Config { .. }), "{loss:?}: {e:?}");
        assert!(e.to_string().contains("row 1 sums to 0"), "{e}");
        // Logits have no such division.
        let logits = loss.from_logits(true);
        assert!(
            logits
                .compute(&pred, good_target(loss), 3, None, None)
                .is_ok()
        );
    }
}

#[test]
fn logits_grad_checks_its_input() {
    let loss = Loss::sparse_categorical_crossentropy();
    let act = Activation::Softmax;
    let mut g = [7.0f32; 6];
    let e = loss
        .logits_grad(act, &PRED, Target::Classes(&[0, 3]), 3, None, &mut g)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::ClassOutOfRange {
                class: 3,
                row: 1,
                ..
            }
        ),
        "{e:?}"
    );
    let mut nan = PRED;
    nan[0] = f32::NAN;
    let e = loss
        .logits_grad(act, &nan, Target::Classes(&IDS), 3, None, &mut g)
        .unwrap_err();
    assert!(
        matches!(&e, Error::NonFinite { what, index: 0, .. } if what == "probabilities"),
        "{e:?}"
    );
    let e = loss
        .logits_grad(act, &PRED, Target::Classes(&IDS), 3, Some(&[1.0]), &mut g)
        .unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e:?}");
    let e = loss
        .logits_grad(act, &[], Target::Classes(&[]), 3, None, &mut [])
        .unwrap_err();
    assert!(matches!(e, Error::Empty { .. }), "{e:?}");
    assert_eq!(g, [7.0; 6], "nothing written on error");
    let mut short = [0.0f32; 5];
    let e = loss
        .logits_grad(act, &PRED, Target::Classes(&IDS), 3, None, &mut short)
        .unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e:?}");
}
