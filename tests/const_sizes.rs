//! Sizes given by constants (`Embedding(VOCAB + 1, 16)`, `LSTM({ 2 * H })`): the compiler
//! evaluates them, and the model is the same as one with the literal sizes.

use rnn::prelude::*;

const VOCAB: usize = 50;
const H: usize = 4;
const CLASSES: usize = 3;

mod config {
    pub const FEATURES: usize = 5;
}

model! {
    #[params = 1_643]
    struct Constants = Embedding(VOCAB + 1, 16) => LSTM({ 2 * H }) => Dense(CLASSES, softmax);
    #[params = 1_643]
    struct Literals = Embedding(51, 16) => LSTM(8) => Dense(3, softmax);

    struct Wrapped = Input(_, config::FEATURES)
        => Bidirectional(GRU(H, return_sequences = true))
        => TimeDistributed(Dense(CLASSES))
        => GlobalAveragePooling1D;
    struct WrappedLiterals = Input(_, 5)
        => Bidirectional(GRU(4, return_sequences = true))
        => TimeDistributed(Dense(3))
        => GlobalAveragePooling1D;

    struct Keras2 = LSTM(H, input_shape = (None, config::FEATURES)) => Dense(CLASSES);
    struct Vocab = Embedding(VOCAB, 16, input_length = 4) => SimpleRNN(H) => Dense(1);
}

#[test]
fn constant_sizes_give_the_literal_model() {
    assert_eq!(Constants::PARAMS, Literals::PARAMS);
    assert_eq!(Constants::new(3).summary(), Literals::new(3).summary());
    assert_eq!(Constants::SPEC.layers[0].shape(), "(None, None, 16)");
    assert_eq!(Constants::SPEC.layers[1].shape(), "(None, 8)");
    let (mut a, mut b) = (Constants::new(7), Literals::new(7));
    let ids = vec![vec![1u32, 50, 3], vec![4, 0, 6]];
    assert_eq!(a.predict(&ids).unwrap(), b.predict(&ids).unwrap());

    assert_eq!(Wrapped::PARAMS, WrappedLiterals::PARAMS);
    assert_eq!(Wrapped::new(0).summary(), WrappedLiterals::new(0).summary());
    let s = Keras2::new(0).summary();
    assert!(s.contains("│ (None, 4)"), "{s}");
    let s = Vocab::new(0).summary();
    assert!(s.contains("│ (None, 4, 16)"), "{s}");
    assert!(s.contains(" 800 │"), "{s}");
}

#[test]
fn a_model_sized_by_constants_trains() {
    let mut model = Constants::new(1);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.05),
        &[],
    );
    // The class is the first token's id modulo 3.
    let x: Vec<Vec<u32>> = (0..24u32)
        .map(|i| vec![i, (i * 7) % 50, (i * 3) % 50])
        .collect();
    let y: Vec<u32> = (0..24u32).map(|i| i % 3).collect();
    let history = model
        .fit(&x, &y, Fit::new().epochs(15).batch_size(8).verbose(0))
        .unwrap();
    let loss = history.loss();
    assert!(
        loss[loss.len() - 1] < 0.5 * loss[0],
        "the loss should fall: {loss:?}"
    );
}
