//! Every layer and model case of the Keras fixtures, written with `model!`, run forward and
//! backward: all outputs, all weight gradients and the input gradient are compared with the
//! float64 references (tolerances in `tests/fixtures/keras/README.md`).

mod common;

use common::*;
use rnn::prelude::*;
use rnn::{IntoInput, ModelInput, ModelOutput, Stack};

/// Builds a model input from a fixture tensor: token ids or real values, any layout.
trait FromFixture: Sized {
    fn from_fixture(t: &common::Tensor) -> Self;
}

impl FromFixture for TokenBatch {
    fn from_fixture(t: &common::Tensor) -> Self {
        t.id_rows().into_input().unwrap()
    }
}

impl<const D: usize> FromFixture for Sequence<D> {
    fn from_fixture(t: &common::Tensor) -> Self {
        (&t.f32()[..], [t.shape[0], t.shape[1], t.shape[2]])
            .into_input()
            .unwrap()
    }
}

impl<const D: usize> FromFixture for Features<D> {
    fn from_fixture(t: &common::Tensor) -> Self {
        (&t.f32()[..], [t.shape[0], t.shape[1]])
            .into_input()
            .unwrap()
    }
}

/// The gradient with respect to the model input, as a flat batch-major array (if real-valued).
trait InputGrad {
    fn flat(&self) -> Option<Vec<f32>>;
}

impl InputGrad for () {
    fn flat(&self) -> Option<Vec<f32>> {
        None
    }
}

impl<const D: usize> InputGrad for Sequence<D> {
    fn flat(&self) -> Option<Vec<f32>> {
        Some(self.to_batch_major())
    }
}

impl<const D: usize> InputGrad for Features<D> {
    fn flat(&self) -> Option<Vec<f32>> {
        Some(self.as_slice().to_vec())
    }
}

/// Runs one fixture case through a model: weights in, outputs and gradients compared.
fn run_case<S>(case: &str, model: &mut Sequential<S>)
where
    S: Stack,
    S::In: ModelInput + FromFixture,
    S::Out: ModelOutput,
    <S::In as rnn::Tensor>::Grad: InputGrad,
{
    let c = Case::load(case);

    // Weights: Keras' order, names equal up to the model scope of layer cases.
    let ours = model.get_weights();
    let theirs = c.weights();
    assert_eq!(ours.len(), theirs.len(), "{case}: weight count");
    for (o, t) in ours.iter().zip(&theirs) {
        let scoped = format!("sequential/{}", t.name);
        assert!(
            o.name == t.name || o.name == scoped,
            "{case}: weight {} vs {}",
            o.name,
            t.name
        );
        assert_eq!(o.shape, t.shape, "{case}: shape of {}", o.name);
    }
    model.set_weights(&c.weight_values()).unwrap();

    // Layer table of model cases, as summary() prints it.
    if let Some(layers) = c.json["layers"].as_array() {
        let spec = model.spec();
        assert_eq!(spec.layers.len(), layers.len(), "{case}: layer count");
        for (ours, theirs) in spec.layers.iter().zip(layers) {
            assert_eq!(ours.name, theirs["name"], "{case}");
            assert_eq!(ours.class, theirs["class_name"], "{case}");
            assert_eq!(
                ours.params as u64,
                theirs["params"].as_u64().unwrap(),
                "{case}"
            );
            let shape = theirs["output_shape"]
                .to_string()
                .replace("null", "None")
                .replace(',', ", ");
            let shape = shape.replace('[', "(").replace(']', ")");
            let ours_shape = ours.output_shape.replace('[', "(").replace(']', ")");
            assert_eq!(ours_shape, shape, "{case}: output shape of {}", ours.name);
        }
        assert_eq!(
            model.count_params() as u64,
            c.json["total_params"].as_u64().unwrap()
        );
    }

    // Forward: every output, in Keras' order.
    let x = S::In::from_fixture(&c.input());
    let predicted = model.predict(&x).unwrap();
    let out = model.forward(&x, Mode::InferenceGrad).unwrap();
    assert_eq!(
        predicted, out,
        "{case}: inference and recording passes agree"
    );
    let want = c.outputs();
    assert_eq!(out.len(), want.len(), "{case}: number of outputs");
    for (got, want) in out.iter().zip(&want) {
        assert_eq!(got.name, want.name, "{case}: output order");
        assert_eq!(got.shape, want.shape, "{case}: shape of {}", want.name);
        assert_close(
            &format!("{case}: {}", want.name),
            &got.data,
            &want.values,
            OUT_ATOL,
            OUT_RTOL,
        );
    }

    // Backward: the loss weights are the upstream gradients of the outputs.
    let upstream: Vec<Vec<f32>> = c.loss_weights().iter().map(common::Tensor::f32).collect();
    let refs: Vec<&[f32]> = upstream.iter().map(Vec::as_slice).collect();
    let dx = model.backward(&refs).unwrap();
    let grads = model.gradients();
    for (g, want) in grads.iter().zip(c.grad_weights()) {
        assert_close(
            &format!("{case}: d/d {}", g.name),
            &g.values,
            &want.values,
            GRAD_ATOL,
            GRAD_RTOL,
        );
    }
    match (dx.flat(), c.grad_input()) {
        (Some(got), Some(want)) => assert_close(
            &format!("{case}: d/d input"),
            &got,
            &want.values,
            GRAD_ATOL,
            GRAD_RTOL,
        ),
        (None, None) => {}
        (got, want) => panic!(
            "{case}: input gradient {:?} vs {:?}",
            got.is_some(),
            want.is_some()
        ),
    }
}

/// One test per fixture case: `fixture_name: (layers...),`
macro_rules! cases {
    ($($name:ident: ($($layers:tt)*),)*) => {
        $(
            #[test]
            fn $name() {
                let mut model = model!($($layers)*);
                run_case(stringify!($name), &mut model);
            }
        )*
    };
}

cases! {
    simple_rnn_tanh_last: (Input(4, 3) => SimpleRNN(4)),
    simple_rnn_tanh_seq: (Input(4, 3) => SimpleRNN(4, return_sequences = true)),
    simple_rnn_relu_seq: (Input(5, 3) => SimpleRNN(3, relu, return_sequences = true)),
    simple_rnn_relu_last: (Input(5, 3) => SimpleRNN(3, activation = relu)),
    simple_rnn_return_state: (Input(4, 3) => SimpleRNN(4, return_state = true)),
    simple_rnn_seq_state: (Input(4, 3) => SimpleRNN(4, return_sequences = true, return_state = true)),
    simple_rnn_go_backwards_seq: (Input(5, 3) => SimpleRNN(4, return_sequences = true, go_backwards = true)),
    simple_rnn_go_backwards_last: (Input(5, 3) => SimpleRNN(4, go_backwards = true)),
    simple_rnn_no_bias_seq: (Input(4, 3) => SimpleRNN(4, use_bias = false, return_sequences = true)),
    lstm_last: (Input(4, 3) => LSTM(4)),
    lstm_seq: (Input(5, 3) => LSTM(4, return_sequences = true)),
    lstm_return_state: (Input(4, 3) => LSTM(4, return_state = true)),
    lstm_seq_state: (Input(5, 2) => LSTM(3, return_sequences = true, return_state = true)),
    lstm_go_backwards_seq: (Input(5, 3) => LSTM(4, return_sequences = true, go_backwards = true)),
    lstm_go_backwards_state: (Input(4, 3) => LSTM(4, go_backwards = true, return_state = true)),
    lstm_hard_sigmoid: (Input(4, 3) => LSTM(4, recurrent_activation = hard_sigmoid, return_sequences = true)),
    lstm_no_bias: (Input(4, 3) => LSTM(4, use_bias = false, return_sequences = true)),
    lstm_unit_forget_bias_false: (Input(4, 3) => LSTM(3, unit_forget_bias = false)),
    gru_last: (Input(4, 3) => GRU(4)),
    gru_seq: (Input(5, 3) => GRU(4, return_sequences = true)),
    gru_seq_state: (Input(4, 2) => GRU(3, return_sequences = true, return_state = true)),
    gru_reset_before_last: (Input(4, 3) => GRU(4, reset_after = false)),
    gru_reset_before_seq_state: (Input(5, 3) => GRU(4, reset_after = false, return_sequences = true, return_state = true)),
    gru_go_backwards_seq: (Input(4, 3) => GRU(4, go_backwards = true, return_sequences = true)),
    gru_no_bias: (Input(4, 3) => GRU(4, use_bias = false, return_sequences = true)),
    bidir_simple_rnn_concat_seq: (Input(4, 3) => Bidirectional(SimpleRNN(3, return_sequences = true))),
    bidir_simple_rnn_concat_last: (Input(4, 3) => Bidirectional(SimpleRNN(3))),
    bidir_simple_rnn_none_seq: (Input(4, 3) => Bidirectional(SimpleRNN(3, return_sequences = true), merge_mode = none)),
    bidir_simple_rnn_sum_state_last: (Input(4, 3) => Bidirectional(SimpleRNN(3, return_state = true), merge_mode = sum)),
    bidir_lstm_concat_seq: (Input(4, 3) => Bidirectional(LSTM(3, return_sequences = true))),
    bidir_lstm_sum_last: (Input(4, 3) => Bidirectional(LSTM(3), merge_mode = sum)),
    bidir_lstm_ave_seq: (Input(4, 3) => Bidirectional(LSTM(3, return_sequences = true), merge_mode = ave)),
    bidir_lstm_concat_state_last: (Input(4, 3) => Bidirectional(LSTM(3, return_state = true))),
    bidir_lstm_none_state_seq: (Input(4, 3) => Bidirectional(LSTM(3, return_sequences = true, return_state = true), merge_mode = none)),
    bidir_gru_mul_seq: (Input(4, 3) => Bidirectional(GRU(3, return_sequences = true), merge_mode = mul)),
    bidir_gru_concat_state_seq: (Input(4, 3) => Bidirectional(GRU(3, return_sequences = true, return_state = true))),
    embedding_lstm_last: (Embedding(11, 3, input_length = 5) => LSTM(4)),
    embedding_mask_lstm_prepad_seq: (Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4, return_sequences = true, return_state = true)),
    embedding_mask_lstm_prepad_last: (Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4)),
    embedding_mask_lstm_postpad_seq: (Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4, return_sequences = true, return_state = true)),
    embedding_mask_bidir_lstm_seq: (Embedding(11, 3, mask_zero = true, input_length = 5) => Bidirectional(LSTM(3, return_sequences = true))),
    dense_linear: (Input(4) => Dense(5)),
    dense_relu: (Input(4) => Dense(5, relu)),
    dense_sigmoid: (Input(4) => Dense(5, sigmoid)),
    dense_tanh: (Input(4) => Dense(5, tanh)),
    dense_softmax: (Input(4) => Dense(5, softmax)),
    dense_3d_relu: (Input(4, 4) => Dense(3, relu)),
    time_distributed_dense_sigmoid: (Input(4, 4) => TimeDistributed(Dense(3, sigmoid))),
    global_average_pooling_1d: (Input(4, 3) => GlobalAveragePooling1D),
    dropout_inference: (Input(4, 3) => Dropout(0.5)),
    stacked_simple_rnn: (Input(4, 3) => SimpleRNN(4, return_sequences = true) => SimpleRNN(3)),
    stacked_lstm_dense: (Input(4, 3) => LSTM(4, return_sequences = true) => LSTM(3) => Dense(2, softmax)),
    stacked_bidir_lstm_gru: (Input(4, 3) => Bidirectional(LSTM(3, return_sequences = true)) => Bidirectional(GRU(2), merge_mode = sum)),
    model_b_simple_rnn3: (Input(2, 10) => SimpleRNN(3)),
    model_c_simple_rnn_stack: (Input(10, 5) => SimpleRNN(8, return_sequences = true) => SimpleRNN(8, return_sequences = true)),
    model_d_bidir_simple_rnn_x4: (Input(10, 5)
        => Bidirectional(SimpleRNN(8, return_sequences = true))
        => Bidirectional(SimpleRNN(8, return_sequences = true))
        => Bidirectional(SimpleRNN(8, return_sequences = true))
        => Bidirectional(SimpleRNN(8, return_sequences = true))),
    model_e_embedding_simple_rnn_x4: (Embedding(30, 32, input_length = 6)
        => SimpleRNN(32, return_sequences = true)
        => SimpleRNN(32, return_sequences = true)
        => SimpleRNN(32, return_sequences = true)
        => SimpleRNN(32)),
    model_f_embedding_bilstm_stack_small: (Embedding(40, 16, input_length = 6)
        => Bidirectional(LSTM(8, return_sequences = true))
        => Bidirectional(LSTM(4))
        => Dense(8, relu)
        => Dense(1, sigmoid)),
}

/// The one case whose mask is passed explicitly rather than produced by an Embedding: the
/// pooling layer is run directly on a masked sequence.
#[test]
fn global_average_pooling_1d_masked() {
    let c = Case::load("global_average_pooling_1d_masked");
    let x = c.input();
    let mask = c.mask().unwrap();
    let rows: Vec<Vec<bool>> = mask
        .values
        .chunks(x.shape[1])
        .map(|r| r.iter().map(|&v| v != 0.0).collect())
        .collect();
    let seq = Sequence::<3>::from_batch_major(&x.f32(), x.shape[0], x.shape[1])
        .unwrap()
        .with_mask(Some(rnn::Mask::from_rows(&rows).unwrap()));
    let mut gap = rnn::GlobalAveragePooling1D::new("global_average_pooling1d");
    let y = gap.forward(&seq, Mode::InferenceGrad).unwrap();
    assert_close(
        "output",
        y.as_slice(),
        &c.outputs()[0].values,
        OUT_ATOL,
        OUT_RTOL,
    );
    let dy = Features::<3>::from_flat(&c.loss_weights()[0].f32()).unwrap();
    let dx = gap.backward(&seq, dy).unwrap();
    assert_close(
        "d/d input",
        &dx.to_batch_major(),
        &c.grad_input().unwrap().values,
        GRAD_ATOL,
        GRAD_RTOL,
    );
}
