//! The performance workloads of `DESIGN.md` ("Performance workloads", at the repository
//! root): training steps (T1-T4) and inference (I1, I2).
//!
//! `cargo bench --bench workloads` reports samples/s for every workload (elements/s in
//! criterion's output; I1 also as time per call). `python3 benches/pytorch_workloads.py` runs
//! the same workloads in PyTorch and prints both side by side; README explains.
//!
//! A training step is what `fit` does for one batch: forward in training mode, the loss, the
//! backward pass through time, and the optimizer update.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rnn::prelude::*;
use rnn::seeded_rng;
use std::hint::black_box;
use std::time::Duration;

use rand::RngExt as _;

model! {
    /// T1: IMDB sentiment with a SimpleRNN.
    struct Imdb = Embedding(10000, 32) => SimpleRNN(32) => Dense(1, sigmoid);
    /// T2 / I2: Reuters topics.
    struct Topics = Embedding(1000, 100) => LSTM(100) => Dense(46, softmax);
    /// T3: a character model.
    struct Chars = Input(_, 56) => LSTM(256, return_sequences = true)
        => LSTM(256, return_sequences = true) => TimeDistributed(Dense(56, softmax));
    /// T4: stacked bidirectional LSTMs.
    struct BiImdb = Embedding(10000, 16) => Bidirectional(LSTM(64, return_sequences = true))
        => Bidirectional(LSTM(32)) => Dense(64, relu) => Dense(1, sigmoid);
    /// I1: the tutorial model.
    struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
}

/// Seeded token ids in `[1, vocab)`.
fn ids(batch: usize, time: usize, vocab: u32, seed: u64) -> TokenBatch {
    let mut rng = seeded_rng(seed);
    let data = (0..batch * time)
        .map(|_| rng.random_range(1..vocab))
        .collect();
    TokenBatch::from_flat(data, batch, time).expect("valid shape")
}

/// Seeded class ids in `[0, classes)`, with the given shape.
fn classes(shape: &[usize], classes: u32, seed: u64) -> Targets {
    let mut rng = seeded_rng(seed);
    let n = shape.iter().product();
    let data = (0..n).map(|_| rng.random_range(0..classes)).collect();
    Targets::classes(data, shape.to_vec()).expect("valid shape")
}

/// Seeded 0/1 labels.
fn labels(batch: usize, seed: u64) -> Targets {
    let mut rng = seeded_rng(seed);
    let data = (0..batch)
        .map(|_| f32::from(u8::from(rng.random::<bool>())))
        .collect();
    Targets::values(data, vec![batch]).expect("valid shape")
}

/// One-hot characters, as a character model sees them.
fn one_hot_chars(batch: usize, time: usize, seed: u64) -> Sequence<56> {
    let mut rng = seeded_rng(seed);
    let mut data = vec![0.0f32; batch * time * 56];
    for step in data.chunks_mut(56) {
        step[rng.random_range(0..56)] = 1.0;
    }
    Sequence::from_batch_major(&data, batch, time).expect("valid shape")
}

fn training(c: &mut Criterion) {
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));

    let mut imdb = Imdb::new(0);
    imdb.compile(Loss::binary_crossentropy(), RmsProp::default(), &[]);
    let (x, y) = (ids(128, 500, 10000, 1), labels(128, 2));
    group.throughput(Throughput::Elements(128));
    group.bench_function(
        BenchmarkId::new("T1", "imdb SimpleRNN(32) b128 len500 rmsprop"),
        |b| b.iter(|| imdb.train_on_batch(black_box(&x), &y).unwrap()),
    );

    let mut topics = Topics::new(0);
    topics.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::default(),
        &[],
    );
    let (x, y) = (ids(100, 100, 1000, 3), classes(&[100], 46, 4));
    group.throughput(Throughput::Elements(100));
    group.bench_function(
        BenchmarkId::new("T2", "reuters LSTM(100) b100 len100 adam"),
        |b| b.iter(|| topics.train_on_batch(black_box(&x), &y).unwrap()),
    );

    let mut chars = Chars::new(0);
    chars.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::default(),
        &[],
    );
    let (x, y) = (one_hot_chars(32, 60, 5), classes(&[32, 60], 56, 6));
    group.throughput(Throughput::Elements(32));
    group.bench_function(
        BenchmarkId::new("T3", "chars LSTM(256)x2 b32 len60 adam"),
        |b| b.iter(|| chars.train_on_batch(black_box(&x), &y).unwrap()),
    );

    let mut bi = BiImdb::new(0);
    bi.compile(Loss::binary_crossentropy(), Adam::default(), &[]);
    let (x, y) = (ids(128, 100, 10000, 7), labels(128, 8));
    group.throughput(Throughput::Elements(128));
    group.bench_function(
        BenchmarkId::new("T4", "imdb BiLSTM(64)+BiLSTM(32) b128 len100 adam"),
        |b| b.iter(|| bi.train_on_batch(black_box(&x), &y).unwrap()),
    );
    group.finish();
}

fn inference(c: &mut Criterion) {
    let mut group = c.benchmark_group("infer");
    let mut quiz = Quiz::new(0);
    let x = ids(1, 30, 5000, 9);
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        BenchmarkId::new("I1", "quiz SimpleRNN(128) b1 len30"),
        |b| b.iter(|| quiz.forward(black_box(&x), Mode::Inference).unwrap()),
    );
    let mut topics = Topics::new(0);
    let x = ids(256, 100, 1000, 10);
    group.throughput(Throughput::Elements(256));
    group.sample_size(20);
    group.bench_function(
        BenchmarkId::new("I2", "reuters LSTM(100) b256 len100"),
        |b| b.iter(|| topics.forward(black_box(&x), Mode::Inference).unwrap()),
    );
    group.finish();
}

criterion_group!(benches, training, inference);
criterion_main!(benches);
