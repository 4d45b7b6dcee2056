//! Keras 2's first-layer forms (`input_shape`, `batch_input_shape`, `input_dim` and
//! `input_length` on the first layer instead of an `Input`): the same summaries and output
//! shapes as Keras (`tests/fixtures/keras2_forms.json`, from `tools/gen_keras2_forms.py`).

mod common;

use rnn::prelude::*;
use serde_json::Value;

fn keras_model(id: &str) -> Value {
    let path = common::fixtures_root().join("keras2_forms.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    common::model_by_id(&all, id)
}

/// Summary in 80 and 120 columns, the count, and the output shape of a prediction (the batch
/// axis of Keras' shape, `None` unless fixed, is the `rows` predicted).
fn check<S, X>(id: &str, model: &mut Sequential<S>, dsl: &str, x: X, rows: usize)
where
    S: rnn::Stack,
    S::In: rnn::ModelInput,
    S::Out: rnn::ModelOutput,
    X: IntoInput<S::In>,
{
    let keras = keras_model(id);
    assert_eq!(
        keras["dsl"].as_str().unwrap(),
        dsl,
        "{id}: the fixture's model"
    );
    assert_eq!(model.summary(), keras["summary"].as_str().unwrap(), "{id}");
    assert_eq!(
        model.summary_width(120),
        keras["summary_wide"].as_str().unwrap(),
        "{id}, wide"
    );
    assert_eq!(
        model.count_params() as u64,
        keras["total_params"].as_u64().unwrap()
    );
    let want: Vec<usize> = keras["output_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().map_or(rows, |d| d as usize))
        .collect();
    let y = model.predict(x).unwrap();
    assert_eq!(y.main().shape, want, "{id}");
}

model! {
    struct SimpleRnnInputShape = SimpleRNN(3, input_shape = (2, 10));
    struct LstmAnyLength = LSTM(32, input_shape = (None, 5));
    struct BatchInputShape = SimpleRNN(3, batch_input_shape = (8, 2, 10));
    struct InputLengthInputDim = SimpleRNN(3, input_length = 2, input_dim = 10);
    struct BidirectionalInputShape =
        Bidirectional(SimpleRNN(8, return_sequences = true), input_shape = (10, 5));
    struct DenseInputShape = Dense(4, input_shape = (8,)) => Dense(1, sigmoid);
    struct StackedWithBatch =
        LSTM(4, return_sequences = true, batch_input_shape = (2, 6, 3)) => LSTM(5) => Dense(2);
}

fn seq(batch: usize, time: usize, features: usize) -> Vec<Vec<Vec<f32>>> {
    (0..batch)
        .map(|b| {
            (0..time)
                .map(|t| {
                    (0..features)
                        .map(|f| ((b + t + f) % 5) as f32 * 0.1)
                        .collect()
                })
                .collect()
        })
        .collect()
}

#[test]
fn keras2_forms_print_keras_summaries() {
    check(
        "simple_rnn_input_shape",
        &mut SimpleRnnInputShape::new(0),
        "SimpleRNN(3, input_shape = (2, 10))",
        seq(3, 2, 10),
        3,
    );
    check(
        "lstm_any_length",
        &mut LstmAnyLength::new(0),
        "LSTM(32, input_shape = (None, 5))",
        seq(2, 7, 5),
        2,
    );
    check(
        "batch_input_shape",
        &mut BatchInputShape::new(0),
        "SimpleRNN(3, batch_input_shape = (8, 2, 10))",
        seq(8, 2, 10),
        8,
    );
    check(
        "input_length_input_dim",
        &mut InputLengthInputDim::new(0),
        "SimpleRNN(3, input_length = 2, input_dim = 10)",
        seq(1, 2, 10),
        1,
    );
    check(
        "bidirectional_input_shape",
        &mut BidirectionalInputShape::new(0),
        "Bidirectional(SimpleRNN(8, return_sequences = true), input_shape = (10, 5))",
        seq(2, 10, 5),
        2,
    );
    check(
        "dense_input_shape",
        &mut DenseInputShape::new(0),
        "Dense(4, input_shape = (8,)) => Dense(1, sigmoid)",
        vec![vec![0.5f32; 8], vec![0.25; 8]],
        2,
    );
    check(
        "stacked_with_batch",
        &mut StackedWithBatch::new(0),
        "LSTM(4, return_sequences = true, batch_input_shape = (2, 6, 3)) => LSTM(5) => Dense(2)",
        seq(2, 6, 3),
        2,
    );
}

#[test]
fn fixed_steps_are_checked_as_with_input() {
    let mut model = SimpleRnnInputShape::new(0);
    let e = model.predict(seq(1, 3, 10)).unwrap_err().to_string();
    assert!(e.contains("(batch, 2, 10)"), "{e}");
}

#[test]
fn a_fixed_batch_is_checked_by_predict_and_fit() {
    let mut model = BatchInputShape::new(0);
    let e = model.predict(seq(3, 2, 10)).unwrap_err().to_string();
    assert!(e.contains("(8, 2, 10)") && e.contains("(3, 2, 10)"), "{e}");

    let mut model = StackedWithBatch::new(0);
    model.compile(Loss::MeanSquaredError, Sgd::new(0.1), &[]);
    let before = model.get_weights();
    let targets = vec![vec![0.5f32, -0.5]; 3];
    let e = model
        .fit(seq(3, 6, 3), targets, Fit::new().epochs(1).batch_size(2))
        .unwrap_err()
        .to_string();
    assert!(e.contains("a multiple of 2 rows"), "{e}");
    let targets = vec![vec![0.5f32, -0.5]; 4];
    let e = model
        .fit(
            seq(4, 6, 3),
            targets.clone(),
            Fit::new().epochs(1).batch_size(4),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("use batch_size 2, not 4"), "{e}");
    assert_eq!(model.get_weights(), before, "a refused fit changes nothing");
    let history = model
        .fit(
            seq(4, 6, 3),
            targets,
            Fit::new().epochs(3).batch_size(2).verbose(0),
        )
        .unwrap();
    assert_eq!(history.epochs(), 3);
}
