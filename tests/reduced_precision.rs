//! Inference in bf16 and int8 (`set_inference_precision`): the reduced copies follow every
//! change of the weights (`set_weights`, `fit`, `load_weights`, `layers_mut`), for `predict`
//! and for stepping; training is not affected; a reduced-precision step allocates nothing once
//! the state and the copies exist; back at f32 the results are the f32 ones exactly. (Every
//! Keras fixture model is checked in both against f32 in `keras_parity.rs` and `keras_io.rs`.)

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use rnn::prelude::*;
use rnn::{Precision, seeded_rng};

use counting_alloc::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

model! { struct Tagger = Embedding(30, 8) => LSTM(16, return_sequences = true) => GRU(12) => Dense(1, sigmoid); }

fn ids(n: usize, seed: u64) -> Vec<Vec<u32>> {
    use rnn::rand::RngExt;
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| (0..7).map(|_| rng.random_range(0..30)).collect())
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The model's outputs at `precision`: `predict` on `x`, then the last step's output of every
/// row stepped through `x`. The model is left at `precision`.
fn outputs(model: &mut Tagger, precision: Precision, x: &[Vec<u32>]) -> (Vec<f32>, Vec<f32>) {
    model.set_inference_precision(precision);
    let predicted = model.predict(x).unwrap().main().data.clone();
    let mut state = model.step_state(x.len()).unwrap();
    let mut last = Vec::new();
    for t in 0..x[0].len() {
        let step: Vec<u32> = x.iter().map(|row| row[t]).collect();
        last = model.step(&mut state, &step).unwrap().to_vec();
    }
    (predicted, last)
}

/// The reduced precisions, each with the largest difference from f32 allowed on a fixture
/// model (`common/reduced.rs` says why).
const REDUCED: [(Precision, f32); 2] = [
    (Precision::Bf16, common::BF16_ATOL),
    (Precision::Int8, common::INT8_ATOL),
];

/// Outputs at each reduced precision, in `REDUCED`'s order; the model is left at the last.
fn reduced_outputs(model: &mut Tagger, x: &[Vec<u32>]) -> Vec<(Vec<f32>, Vec<f32>)> {
    REDUCED.map(|(p, _)| outputs(model, p, x)).to_vec()
}

/// Each reduced precision is within its bound of f32 with the current weights, and differs
/// from `stale` (its outputs with the weights before the change) by more than twice that: the
/// copy was made again.
fn follows(model: &mut Tagger, x: &[Vec<u32>], stale: &[(Vec<f32>, Vec<f32>)], what: &str) {
    let exact = outputs(model, Precision::F32, x);
    for ((precision, atol), stale) in REDUCED.into_iter().zip(stale) {
        let low = outputs(model, precision, x);
        for (l, e, s) in [(&low.0, &exact.0, &stale.0), (&low.1, &exact.1, &stale.1)] {
            assert!(
                max_diff(l, e) <= atol,
                "{what}, {precision:?}: {} from f32",
                max_diff(l, e)
            );
            assert!(
                max_diff(l, s) > 2.0 * atol,
                "{what}: {precision:?} still gives the old outputs"
            );
        }
    }
}

#[test]
fn the_reduced_copies_follow_every_change_of_the_weights() {
    let x = ids(16, 3);
    let mut model = Tagger::new(1);
    let first = reduced_outputs(&mut model, &x);

    // set_weights, while at a reduced precision.
    let mut other = Tagger::new(2).get_weights();
    for w in &mut other {
        w.values.iter_mut().for_each(|v| *v *= 3.0);
    }
    model.set_weights(&other).unwrap();
    follows(&mut model, &x, &first, "set_weights");

    // fit: training runs in f32 whatever the inference precision.
    let before = reduced_outputs(&mut model, &x);
    let mut twin = Tagger::new(0);
    twin.set_weights(&model.get_weights()).unwrap();
    let y: Vec<f32> = (0..x.len()).map(|i| (i % 2) as f32).collect();
    for m in [&mut model, &mut twin] {
        m.compile(Loss::binary_crossentropy(), Adam::new(0.05), &[]);
        m.fit(
            &x,
            &y,
            Fit::new().batch_size(8).epochs(5).seed(4).verbose(0),
        )
        .unwrap();
    }
    assert_eq!(
        model.get_weights(),
        twin.get_weights(),
        "fit is the same at a reduced inference precision"
    );
    follows(&mut model, &x, &before, "fit");

    // load_weights.
    let before = reduced_outputs(&mut model, &x);
    let path = std::env::temp_dir().join(format!("rnn_reduced_{}.safetensors", std::process::id()));
    Tagger::new(5).save_weights(&path).unwrap();
    model.load_weights(&path).unwrap();
    std::fs::remove_file(&path).ok();
    follows(&mut model, &x, &before, "load_weights");

    // A weight changed in place through the layers.
    let before = reduced_outputs(&mut model, &x);
    for p in model.layers_mut().params_mut() {
        p.values_mut().iter_mut().for_each(|v| *v = 2.0 * *v + 0.1);
    }
    follows(&mut model, &x, &before, "layers_mut");
}

#[test]
fn back_at_f32_the_results_are_the_f32_ones() {
    let x = ids(5, 6);
    let mut model = Tagger::new(7);
    let exact = outputs(&mut model, Precision::F32, &x);
    let bf16 = outputs(&mut model, Precision::Bf16, &x);
    let int8 = outputs(&mut model, Precision::Int8, &x);
    assert_ne!(bf16, exact);
    assert_ne!(int8, exact);
    assert_ne!(int8, bf16);
    // Each switch of format makes that format's copies.
    assert_eq!(outputs(&mut model, Precision::Bf16, &x), bf16);
    assert_eq!(outputs(&mut model, Precision::Int8, &x), int8);
    assert_eq!(outputs(&mut model, Precision::F32, &x), exact);
    // A clone keeps the precision.
    for (precision, low) in [(Precision::Bf16, &bf16), (Precision::Int8, &int8)] {
        model.set_inference_precision(precision);
        let mut copy = model.clone();
        assert_eq!(copy.predict(&x).unwrap().main().data, low.0);
    }
}

#[test]
fn a_reduced_precision_step_allocates_nothing() {
    for (precision, _) in REDUCED {
        let model = {
            let mut m = Tagger::new(8);
            m.set_inference_precision(precision);
            m
        };
        for batch in [1, 3] {
            let mut state = model.step_state(batch).unwrap();
            let ids = vec![4u32; batch];
            // The first step makes the copies and sizes the scratch.
            model.step(&mut state, &ids).unwrap();
            let n = allocations(|| {
                for _ in 0..5 {
                    model.step(&mut state, &ids).unwrap();
                }
            });
            assert_eq!(n, 0, "{precision:?}, batch {batch}");
        }
    }
}
