//! Initializers as layer arguments: the course notes' constant-weight bidirectional LSTM
//! against Keras, and every way of writing an initializer in `model!` reaching the weights.

mod common;

use common::*;
use rnn::prelude::*;
use rnn::{Sequence, Weight};

model! {
    /// The notes' example: every kernel and recurrent weight 0.1, zero biases.
    struct ConstantBiLstm = Input(4, 5)
        => Bidirectional(LSTM(
            3,
            return_sequences = true,
            return_state = true,
            kernel_initializer = Constant(0.1),
            bias_initializer = Constant(0),
            recurrent_initializer = Constant(0.1),
        ));
}

#[test]
fn constant_weight_bilstm_prints_the_notes_numbers() {
    let fixture = load_json("extra", "bilstm_constant");
    let x = numbers(&fixture["input"]);
    let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let mut model = ConstantBiLstm::new(0);
    let out = model
        .predict(Sequence::<5>::from_batch_major(&x, 1, 4).unwrap())
        .unwrap();
    // The notes print the final states of each direction, the same in every unit.
    let forward_h = &out[1].data;
    let backward_h = &out[3].data;
    for h in forward_h {
        assert_value("forward h", *h, 0.630_313_8);
    }
    for h in backward_h {
        assert_value("backward h", *h, 0.703_873_4);
    }
    let names = [
        "sequence",
        "forward_h",
        "forward_c",
        "backward_h",
        "backward_c",
    ];
    assert_eq!(out.len(), names.len());
    for (i, name) in names.iter().enumerate() {
        let want = numbers(&fixture["outputs"][name]);
        assert_close(name, &out[i].data, &want, OUT_ATOL, OUT_RTOL);
    }
}

model! {
    /// Every way of writing an initializer: a word, Keras' string name, a call with positional
    /// or keyword arguments, on every layer that takes one.
    struct Written = Embedding(20, 4, embeddings_initializer = Constant(value = 0.25))
        => SimpleRNN(3, kernel_initializer = Ones, recurrent_initializer = Identity(2.0),
                     bias_initializer = "ones", return_sequences = true)
        => Bidirectional(GRU(2, kernel_initializer = "zeros",
                             recurrent_initializer = Orthogonal(gain = 3.0),
                             bias_initializer = Identity, return_sequences = true))
        => LSTM(2, bias_initializer = Constant(0.5), return_sequences = true)
        => LSTM(2, unit_forget_bias = false, bias_initializer = Constant(0.5),
                return_sequences = true)
        => TimeDistributed(Dense(2, kernel_initializer = RandomUniform(-0.01, maxval = 0.01),
                                 bias_initializer = Constant(-1.5)))
        => GlobalAveragePooling1D
        => Dense(1, kernel_initializer = he_normal, bias_initializer = Zeros);
}

fn weight<'a>(weights: &'a [Weight], name: &str) -> &'a Weight {
    weights
        .iter()
        .find(|w| w.name == name)
        .unwrap_or_else(|| panic!("no weight {name}"))
}

#[test]
fn every_written_form_reaches_the_weights() {
    let weights = Written::new(3).get_weights();
    let w = |name: &str| weight(&weights, &format!("sequential/{name}"));
    assert!(w("embedding/embeddings").values.iter().all(|&v| v == 0.25));

    assert!(
        w("simple_rnn/simple_rnn_cell/kernel")
            .values
            .iter()
            .all(|&v| v == 1.0)
    );
    let identity = &w("simple_rnn/simple_rnn_cell/recurrent_kernel").values;
    for i in 0..3 {
        for j in 0..3 {
            assert_eq!(identity[i * 3 + j], if i == j { 2.0 } else { 0.0 });
        }
    }
    assert!(
        w("simple_rnn/simple_rnn_cell/bias")
            .values
            .iter()
            .all(|&v| v == 1.0)
    );

    for dir in ["forward_gru", "backward_gru"] {
        let kernel = &w(&format!("bidirectional/{dir}/gru_cell/kernel")).values;
        assert!(kernel.iter().all(|&v| v == 0.0));
        // (2, 6) with orthonormal rows, times the gain.
        let r = &w(&format!("bidirectional/{dir}/gru_cell/recurrent_kernel")).values;
        for a in 0..2 {
            for b in 0..2 {
                let dot: f32 = (0..6).map(|k| r[a * 6 + k] * r[b * 6 + k]).sum();
                let want = if a == b { 9.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-4, "{dir}: {dot}");
            }
        }
        // reset_after: the bias is (2, 6), which Identity fills as a matrix.
        let bias = w(&format!("bidirectional/{dir}/gru_cell/bias"));
        assert_eq!(bias.shape, [2, 6]);
        let ones: Vec<usize> = (0..12).filter(|&i| bias.values[i] == 1.0).collect();
        assert_eq!(ones, [0, 7]);
    }

    // unit_forget_bias beside bias_initializer: [init, ones, init, init] as in Keras.
    let lstm_bias = &w("lstm/lstm_cell/bias").values;
    assert_eq!(lstm_bias, &[0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]);
    assert!(w("lstm_1/lstm_cell/bias").values.iter().all(|&v| v == 0.5));

    let td = &w("time_distributed/dense/kernel").values;
    assert!(td.iter().all(|v| v.abs() <= 0.01) && td.iter().any(|&v| v != 0.0));
    assert!(
        w("time_distributed/dense/bias")
            .values
            .iter()
            .all(|&v| v == -1.5)
    );

    let head = &w("dense_1/kernel").values;
    // HeNormal over fan_in = 2: truncated at two of its standard deviations.
    let bound = 2.0 * (2.0f32 / 2.0).sqrt() / 0.879_625_7;
    assert!(head.iter().all(|v| v.abs() <= bound));
    assert!(w("dense_1/bias").values.iter().all(|&v| v == 0.0));
}

#[test]
fn default_initializers_draw_as_before() {
    // Written out, Keras' defaults give the same weights as leaving them out.
    model! {
        struct Implicit = Embedding(30, 4) => LSTM(3) => Dense(2);
        struct Explicit = Embedding(30, 4, embeddings_initializer = "uniform")
            => LSTM(3, kernel_initializer = GlorotUniform, recurrent_initializer = "orthogonal",
                    bias_initializer = Zeros)
            => Dense(2, kernel_initializer = "glorot_uniform", bias_initializer = "zeros");
    }
    assert_eq!(
        Implicit::new(11).get_weights(),
        Explicit::new(11).get_weights()
    );
}
