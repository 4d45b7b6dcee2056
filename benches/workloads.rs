//! The performance workloads of `DESIGN.md` ("Performance workloads", at the repository
//! root): training steps (T1-T4), inference (I1, I2) and generation (G1); the inference and
//! generation workloads also in bf16 and int8 (`Precision::Bf16`, `Precision::Int8`), each
//! right after its f32 run.
//!
//! `cargo bench --bench workloads` reports samples/s for every workload (elements/s in
//! criterion's output; I1 also as time per call). `python3 benches/pytorch_workloads.py` runs
//! them at 1 and 2 threads beside PyTorch and Keras and prints the whole table; README explains.
//!
//! A training step is what `fit` does for one batch: forward in training mode, the loss, the
//! backward pass through time, and the optimizer update.

mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rnn::generate::{OneHot, Sampler, generate_ids};
use rnn::prelude::*;
use rnn::{Precision, seeded_rng};
use std::hint::black_box;
use std::time::Duration;

use common::{BiImdb, Chars, Imdb, Quiz, Topics, char_ids, classes, ids, labels, one_hot_chars};

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
    for (id, precision) in [("I1-bf16", Precision::Bf16), ("I1-int8", Precision::Int8)] {
        quiz.set_inference_precision(precision);
        group.bench_function(BenchmarkId::new(id, "quiz SimpleRNN(128) b1 len30"), |b| {
            b.iter(|| quiz.forward(black_box(&x), Mode::Inference).unwrap())
        });
    }
    let mut topics = Topics::new(0);
    let x = ids(256, 100, 1000, 10);
    group.throughput(Throughput::Elements(256));
    group.sample_size(20);
    group.bench_function(
        BenchmarkId::new("I2", "reuters LSTM(100) b256 len100"),
        |b| b.iter(|| topics.forward(black_box(&x), Mode::Inference).unwrap()),
    );
    for (id, precision) in [("I2-bf16", Precision::Bf16), ("I2-int8", Precision::Int8)] {
        topics.set_inference_precision(precision);
        group.bench_function(BenchmarkId::new(id, "reuters LSTM(100) b256 len100"), |b| {
            b.iter(|| topics.forward(black_box(&x), Mode::Inference).unwrap())
        });
    }
    group.finish();
}

/// G1: T3's model primed on 60 characters, then generating 200 one step at a time, drawing
/// each from the softmax; throughput counts the generated characters.
fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    let mut chars = Chars::new(0);
    let prime = char_ids(60, 11);
    let sampler = Sampler::Temperature(1.0);
    let mut rng = seeded_rng(12);
    group.throughput(Throughput::Elements(200));
    for (id, precision) in [
        ("G1", Precision::F32),
        ("G1-bf16", Precision::Bf16),
        ("G1-int8", Precision::Int8),
    ] {
        chars.set_inference_precision(precision);
        group.bench_function(
            BenchmarkId::new(id, "chars LSTM(256)x2 prime60 gen200"),
            |b| {
                b.iter(|| {
                    generate_ids(
                        &mut OneHot::new(&chars),
                        black_box(&prime),
                        200,
                        &sampler,
                        &mut rng,
                    )
                    .unwrap()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, training, inference, generation);
criterion_main!(benches);
