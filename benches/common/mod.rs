//! The models and seeded data of the performance workloads (`DESIGN.md`, "Performance
//! workloads"), shared by `benches/workloads.rs` and `examples/peak_memory.rs`.
//!
//! Each includer uses only some of these.
#![allow(dead_code)]

use rnn::prelude::*;
use rnn::seeded_rng;

use rand::RngExt as _;

model! {
    /// T1: IMDB sentiment with a SimpleRNN.
    pub struct Imdb = Embedding(10000, 32) => SimpleRNN(32) => Dense(1, sigmoid);
    /// T2 / I2: Reuters topics.
    pub struct Topics = Embedding(1000, 100) => LSTM(100) => Dense(46, softmax);
    /// T3 / G1: a character model.
    pub struct Chars = Input(_, 56) => LSTM(256, return_sequences = true)
        => LSTM(256, return_sequences = true) => TimeDistributed(Dense(56, softmax));
    /// T4: stacked bidirectional LSTMs.
    pub struct BiImdb = Embedding(10000, 16) => Bidirectional(LSTM(64, return_sequences = true))
        => Bidirectional(LSTM(32)) => Dense(64, relu) => Dense(1, sigmoid);
    /// I1: the tutorial model.
    pub struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
}

/// Seeded token ids in `[1, vocab)`.
pub fn ids(batch: usize, time: usize, vocab: u32, seed: u64) -> TokenBatch {
    let mut rng = seeded_rng(seed);
    let data = (0..batch * time)
        .map(|_| rng.random_range(1..vocab))
        .collect();
    TokenBatch::from_flat(data, batch, time).expect("valid shape")
}

/// Seeded class ids in `[0, classes)`, with the given shape.
pub fn classes(shape: &[usize], classes: u32, seed: u64) -> Targets {
    let mut rng = seeded_rng(seed);
    let n = shape.iter().product();
    let data = (0..n).map(|_| rng.random_range(0..classes)).collect();
    Targets::classes(data, shape.to_vec()).expect("valid shape")
}

/// Seeded 0/1 labels.
pub fn labels(batch: usize, seed: u64) -> Targets {
    let mut rng = seeded_rng(seed);
    let data = (0..batch)
        .map(|_| f32::from(u8::from(rng.random::<bool>())))
        .collect();
    Targets::values(data, vec![batch]).expect("valid shape")
}

/// One-hot characters, as a character model sees them.
pub fn one_hot_chars(batch: usize, time: usize, seed: u64) -> Sequence<56> {
    let mut rng = seeded_rng(seed);
    let mut data = vec![0.0f32; batch * time * 56];
    for step in data.chunks_mut(56) {
        step[rng.random_range(0..56)] = 1.0;
    }
    Sequence::from_batch_major(&data, batch, time).expect("valid shape")
}

/// Seeded character ids in `[0, 56)`: G1's prime.
pub fn char_ids(len: usize, seed: u64) -> Vec<u32> {
    let mut rng = seeded_rng(seed);
    (0..len).map(|_| rng.random_range(0..56)).collect()
}
