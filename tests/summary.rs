//! `summary()`, parameter counts and weight names against Keras' for the tutorial models
//! (`tests/fixtures/keras/summaries.json`).

mod common;

use rnn::prelude::*;
use serde_json::Value;

fn keras_model(id: &str) -> Value {
    let all = if id.starts_with('s') {
        common::load_json("extra", "summaries_extra")
    } else {
        common::load_json("keras", "summaries")
    };
    common::model_by_id(&all, id)
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

/// The extra summaries (`tests/fixtures/extra/summaries_extra.json`): multi-output shapes,
/// wrapped and cut names, wrappers and numbering, fixed and free time axes.
macro_rules! extra_summaries {
    ($($id:ident: ($($layers:tt)*),)*) => {
        $(
            #[test]
            fn $id() {
                let model = model!($($layers)*);
                check(stringify!($id), model.count_params(), &model);
            }
        )*
    };
}

extra_summaries! {
    s1: (Input(10, 5) => LSTM(3) => Dense(2, softmax)),
    s2: (Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4, return_sequences = true, return_state = true)),
    s3: (Input(_, 3) => Bidirectional(LSTM(4, return_sequences = true, return_state = true), merge_mode = none)),
    s4: (Input(6, 3) => Dense(5) => TimeDistributed(Dense(2, softmax)) => Dropout(0.2) => GlobalAveragePooling1D),
    s5: (Input(10, 5) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true)) => Bidirectional(SimpleRNN(8, return_sequences = true))),
    s6: (Embedding(50, 8, input_length = 7) => GRU(4, reset_after = false) => Dense(1, sigmoid)),
    s7: (Input(_, 56) => LSTM(256, return_sequences = true) => LSTM(256, return_sequences = true) => TimeDistributed(Dense(56, softmax))),
    s8: (Input(_, 8) => GRU(16, return_sequences = true, go_backwards = true) => SimpleRNN(4, use_bias = false) => Dense(3, use_bias = false)),
    s9: (Embedding(1000, 64) => Bidirectional(GRU(32, return_state = true), merge_mode = sum)),
    s10: (Input(4) => Dense(8, relu) => Dropout(0.5) => Dense(3, softmax)),
    s11: (Input(_, 3) => LSTM(8, return_sequences = true, name = "character_level_language_model_encoder_lstm") => TimeDistributed(Dense(3, softmax), name = "per_character_softmax_output_projection")),
    s12: (Embedding(12, 4, mask_zero = true) => Bidirectional(GRU(3, return_sequences = true)) => LSTM(2, return_sequences = true) => TimeDistributed(Dense(2, sigmoid))),
    s13: (Input(_, 300) => Bidirectional(LSTM(64, return_sequences = true, return_state = true))),
}
