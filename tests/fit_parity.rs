//! `fit` against Keras: a few epochs from the same weights on the same data, with shuffling
//! off, compared epoch by epoch (loss, metrics, validation) and in the final weights
//! (fixtures from `tools/gen_fit_fixture.py`, Keras in float64).
//!
//! Tolerances: every step here runs in float32 against float64 references, and each step's
//! rounding moves the weights the next step starts from, so the differences grow with the
//! number of steps (Adam and RMSprop divide by the root of small second moments, which also
//! enlarges relative differences of small gradients). After 4 to 8 steps they stay within
//! `1e-5 + 1e-4 |want|` for logs and `2e-5 + 1e-4 |want|` for weights, the gradient
//! tolerance of the fixtures README (plus a weight-sized absolute term).

mod common;

use common::{GRAD_RTOL, assert_close_f64, json_id_rows, load_json, numbers};
use rnn::prelude::*;
use serde_json::Value;

model! {
    struct MaskedLstm = Embedding(30, 8, mask_zero = true) => LSTM(6) => Dense(3, softmax);
    struct GruBinary = Embedding(30, 4) => GRU(5) => Dense(1, sigmoid);
}

fn weights(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("weights").iter().map(numbers).collect()
}

fn close(what: &str, got: f64, want: f64, atol: f64) {
    assert_close_f64(what, got, want, atol, GRAD_RTOL);
}

/// Trains `model` as the fixture's Keras run did (the same initial weights, data and `fit`
/// arguments, shuffling off) and compares the logs of every epoch and the final weights.
fn fit_like_keras<S>(
    name: &str,
    model: &mut Sequential<S>,
    loss: Loss,
    optimizer: impl Optimizer + 'static,
    metric: Metric,
) where
    S: Stack,
    S::In: rnn::ModelInput,
    S::Out: rnn::ModelOutput,
    Vec<Vec<u32>>: IntoInput<S::In>,
{
    let case = load_json("extra", name);
    let initial: Vec<Vec<f32>> = weights(&case["initial_weights"])
        .into_iter()
        .map(|w| w.into_iter().map(|v| v as f32).collect())
        .collect();
    model.set_weights(&initial).unwrap();
    model.compile(loss, optimizer, &[metric]);

    let x = json_id_rows(&case["x"]);
    let y = numbers(&case["y"]);
    let rows = vec![y.len()];
    let y = if matches!(loss, Loss::SparseCategoricalCrossentropy { .. }) {
        Targets::classes(y.iter().map(|&v| v as u32).collect(), rows)
    } else {
        Targets::values(y.iter().map(|&v| v as f32).collect(), rows)
    }
    .unwrap();
    let args = &case["fit"];
    let epochs = args["epochs"].as_u64().unwrap() as usize;
    let history = model
        .fit(
            x,
            y,
            Fit::new()
                .batch_size(args["batch_size"].as_u64().unwrap() as usize)
                .epochs(epochs)
                .validation_split(args["validation_split"].as_f64().unwrap_or(0.0))
                .shuffle(false)
                .verbose(0),
        )
        .unwrap();

    let want = case["history"].as_object().expect("history");
    assert_eq!(history.epochs(), epochs);
    for (key, values) in want {
        let got = history.get(key).unwrap();
        for (epoch, (g, w)) in got.iter().zip(values.as_array().unwrap()).enumerate() {
            close(
                &format!("{key} epoch {}", epoch + 1),
                *g as f64,
                w.as_f64().unwrap(),
                1e-5,
            );
        }
    }
    for (w, want) in model
        .get_weights()
        .iter()
        .zip(weights(&case["final_weights"]))
    {
        assert_eq!(w.values.len(), want.len(), "{}", w.name);
        for (i, (g, k)) in w.values.iter().zip(&want).enumerate() {
            close(&format!("{}[{i}]", w.name), *g as f64, *k, 2e-5);
        }
    }
}

#[test]
fn masked_lstm_with_adam_and_validation_split_matches_keras() {
    fit_like_keras(
        "fit_masked_lstm_adam",
        &mut MaskedLstm::new(0),
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.01),
        Metric::SparseCategoricalAccuracy,
    );
}

#[test]
fn gru_with_rmsprop_and_a_partial_last_batch_matches_keras() {
    fit_like_keras(
        "fit_gru_rmsprop_binary",
        &mut GruBinary::new(0),
        Loss::binary_crossentropy(),
        RmsProp::new(0.01),
        Metric::BinaryAccuracy,
    );
}
