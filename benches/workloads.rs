//! The performance workloads of DESIGN.md: inference (I1, I2).
//!
//! `cargo bench --bench workloads`; `benches/pytorch_workloads.py` runs the same workloads in
//! PyTorch for comparison.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rnn::prelude::*;
use std::hint::black_box;

model! {
    /// I1: the tutorial model.
    struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
    /// T2 / I2: Reuters topics.
    struct Topics = Embedding(1000, 100) => LSTM(100) => Dense(46, softmax);
}

/// Deterministic token ids in `[1, vocab)`.
fn ids(batch: usize, time: usize, vocab: u32, seed: u32) -> TokenBatch {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let data = (0..batch * time)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            1 + state % (vocab - 1)
        })
        .collect();
    TokenBatch::from_flat(data, batch, time).expect("valid shape")
}

fn inference(c: &mut Criterion) {
    let mut group = c.benchmark_group("inference");
    let mut quiz = Quiz::new(0);
    let x = ids(1, 30, 5000, 1);
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("I1 quiz batch 1 len 30", ""), |b| {
        b.iter(|| quiz.forward(black_box(&x), Mode::Inference).unwrap())
    });
    let mut topics = Topics::new(0);
    let x = ids(256, 100, 1000, 2);
    group.throughput(Throughput::Elements(256));
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("I2 topics batch 256 len 100", ""), |b| {
        b.iter(|| topics.forward(black_box(&x), Mode::Inference).unwrap())
    });
    group.finish();
}

criterion_group!(benches, inference);
criterion_main!(benches);
