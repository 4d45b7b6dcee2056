//! Reduced-precision inference (bf16 and int8) against `f32` on a fixture model: `predict`, and stepping
//! through the whole sequence when the model can step, with the same weights.

use rnn::prelude::*;
use rnn::{ModelInput, ModelOutput, Precision};

/// Largest difference allowed between an output in bf16 and the same output in `f32`.
pub const BF16_ATOL: f32 = 1e-2;

/// Largest difference allowed between an output in int8 and the same output in `f32`.
///
/// No issue sets this bound: it is the largest difference measured over every fixture model
/// here, 1.35e-2 (`model_b_simple_rnn3`; both kernels give the same results), with a margin
/// of 1.5 times. The margin is for the `f32` parts, whose last bits differ between CPUs (with
/// or without FMA): such a difference can move an input of a product across a rounding
/// boundary of its grid, which changes that product by one step, 1/127 of the row's largest
/// input times a weight.
pub const INT8_ATOL: f32 = 2e-2;

/// Inputs that can be fed one step at a time: the model's output at every step, or `None`
/// when the input has no time axis or the model cannot step (Bidirectional, `go_backwards`).
pub trait StepAll: ModelInput + Sized {
    fn step_all<S: Stack<In = Self>>(model: &Sequential<S>, x: &Self) -> Option<Vec<f32>>;
}

impl StepAll for TokenBatch {
    fn step_all<S: Stack<In = Self>>(model: &Sequential<S>, x: &Self) -> Option<Vec<f32>> {
        let mut state = model.step_state(x.batch()).ok()?;
        let mut all = Vec::new();
        for t in 0..x.time() {
            let ids: Vec<u32> = (0..x.batch()).map(|b| x.get(b, t)).collect();
            all.extend_from_slice(model.step(&mut state, &ids).expect("step"));
        }
        Some(all)
    }
}

impl<const D: usize> StepAll for Sequence<D> {
    fn step_all<S: Stack<In = Self>>(model: &Sequential<S>, x: &Self) -> Option<Vec<f32>> {
        let mut state = model.step_state(x.batch()).ok()?;
        let mut all = Vec::new();
        for t in 0..x.time() {
            all.extend_from_slice(model.step(&mut state, x.step(t)).expect("step"));
        }
        Some(all)
    }
}

impl<const D: usize> StepAll for Features<D> {
    fn step_all<S: Stack<In = Self>>(_: &Sequential<S>, _: &Self) -> Option<Vec<f32>> {
        None
    }
}

fn max_diff(what: &str, got: &[f32], want: &[f32]) -> f32 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            assert!(g.is_finite(), "{what}: {g}");
            (g - w).abs()
        })
        .fold(0.0, f32::max)
}

/// The reduced precisions checked, each with its name and bound.
const REDUCED: [(Precision, &str, f32); 2] = [
    (Precision::Bf16, "bf16", BF16_ATOL),
    (Precision::Int8, "int8", INT8_ATOL),
];

/// Runs `x` through `model` in `f32` and in each reduced precision (predict, and stepping
/// when possible), asserts that every output is within that precision's bound
/// ([`BF16_ATOL`], [`INT8_ATOL`]) of its `f32` value and returns the largest difference of
/// each. The model is left at `f32`.
pub fn check_reduced<S>(case: &str, model: &mut Sequential<S>, x: &S::In) -> [f32; 2]
where
    S: Stack,
    S::In: StepAll,
    S::Out: ModelOutput,
{
    model.set_inference_precision(Precision::F32);
    let want = model.predict(x).expect("predict");
    let want_steps = S::In::step_all(model, x);
    REDUCED.map(|(precision, name, atol)| {
        model.set_inference_precision(precision);
        let got = model.predict(x).expect("predict at reduced precision");
        let got_steps = S::In::step_all(model, x);
        model.set_inference_precision(Precision::F32);
        assert_eq!(got.len(), want.len(), "{case}: outputs");
        let mut worst = 0.0f32;
        for (g, w) in got.iter().zip(want.iter()) {
            worst = worst.max(max_diff(&format!("{case}: {}", w.name), &g.data, &w.data));
        }
        if let (Some(g), Some(w)) = (&got_steps, &want_steps) {
            worst = worst.max(max_diff(&format!("{case}: steps"), g, w));
        }
        assert_eq!(got_steps.is_some(), want_steps.is_some(), "{case}");
        eprintln!("{case}: {name} vs f32 max |diff| {worst:.2e}");
        assert!(worst <= atol, "{case}: {name} differs from f32 by {worst}");
        worst
    })
}
