//! `summary()`, parameter counts and weight names against Keras' for the tutorial models
//! (`tests/fixtures/keras/summaries.json`).

mod common;

use rnn::prelude::*;
use serde_json::Value;

fn keras_model(id: &str) -> Value {
    let path = common::fixture_dir().join("summaries.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no model {id}"))
        .clone()
}

/// Compares the summary in 80 and 120 columns, the count and every weight's name and shape.
fn check<S>(id: &str, params: usize, model: &Sequential<S>)
where
    S: rnn::Stack,
    S::In: rnn::ModelInput,
    S::Out: rnn::ModelOutput,
{
    let keras = keras_model(id);
    assert_eq!(
        model.summary(),
        keras["summary"].as_str().unwrap(),
        "model {id}, 80 columns"
    );
    assert_eq!(
        model.summary_width(120),
        keras["summary_wide"].as_str().unwrap(),
        "model {id}, wide"
    );
    assert_eq!(
        params as u64,
        keras["total_params"].as_u64().unwrap(),
        "model {id}"
    );
    assert_eq!(model.count_params(), params);
    let want: Vec<(String, Vec<usize>)> = keras["layers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["weights"].as_array().unwrap().clone())
        .map(|w| {
            let shape = w["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            (w["name"].as_str().unwrap().to_string(), shape)
        })
        .collect();
    let got: Vec<(String, Vec<usize>)> = model
        .get_weights()
        .into_iter()
        .map(|w| (w.name, w.shape))
        .collect();
    assert_eq!(got, want, "model {id}: weight names and shapes");
}

model! {
    #[params = 529_441]
    struct A = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
    #[params = 42]
    struct B = Input(2, 10) => SimpleRNN(3);
    #[params = 248]
    struct C = Input(10, 5) => SimpleRNN(8, return_sequences = true) => SimpleRNN(8, return_sequences = true);
    #[params = 1_424]
    struct D = Input(10, 5)
        => Bidirectional(SimpleRNN(8, return_sequences = true))
        => Bidirectional(SimpleRNN(8, return_sequences = true))
        => Bidirectional(SimpleRNN(8, return_sequences = true))
        => Bidirectional(SimpleRNN(8, return_sequences = true));
    #[params = 328_320]
    struct E = Embedding(10000, 32)
        => SimpleRNN(32, return_sequences = true)
        => SimpleRNN(32, return_sequences = true)
        => SimpleRNN(32, return_sequences = true)
        => SimpleRNN(32);
    #[params = 246_913]
    struct F = Embedding(10000, 16)
        => Bidirectional(LSTM(64, return_sequences = true))
        => Bidirectional(LSTM(32))
        => Dense(64, relu)
        => Dense(1, sigmoid);
    #[params = 185_046]
    struct G = Embedding(1000, 100) => LSTM(100) => Dense(46, softmax);
    #[params = 88_320]
    struct HResetAfter = Input(30, 100) => GRU(128);
    #[params = 87_936]
    struct HResetBefore = Input(30, 100) => GRU(128, reset_after = false);
}

#[test]
fn model_a() {
    check("a", A::PARAMS, &A::new(0));
}

#[test]
fn model_b() {
    check("b", B::PARAMS, &B::new(0));
}

#[test]
fn model_c() {
    check("c", C::PARAMS, &C::new(0));
}

#[test]
fn model_d() {
    check("d", D::PARAMS, &D::new(0));
}

#[test]
fn model_e() {
    check("e", E::PARAMS, &E::new(0));
}

#[test]
fn model_f() {
    check("f", F::PARAMS, &F::new(0));
}

#[test]
fn model_g() {
    check("g", G::PARAMS, &G::new(0));
}

#[test]
fn model_h() {
    check(
        "h_reset_after_true",
        HResetAfter::PARAMS,
        &HResetAfter::new(0),
    );
    check(
        "h_reset_after_false",
        HResetBefore::PARAMS,
        &HResetBefore::new(0),
    );
}
