//! The numerical promises of README's "Guarantees": results do not depend on the number of
//! threads, and a row predicted alone differs from the same row inside a batch by no more
//! than Keras' tolerance (different kernels: a matrix-vector product for one row, packed
//! GEMM for many).

use rnn::prelude::*;

model! {
    struct Chars = Input(_, 64) => LSTM(128, return_sequences = true) => GRU(64)
        => Dense(10, softmax);
    struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
}

fn sequences(batch: usize, time: usize) -> Vec<Vec<Vec<f32>>> {
    (0..batch)
        .map(|b| {
            (0..time)
                .map(|t| {
                    (0..64)
                        .map(|f| ((b * 131 + t * 17 + f) as f32 * 0.113).sin())
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn tokens(batch: usize, time: usize) -> Vec<Vec<u32>> {
    (0..batch)
        .map(|b| {
            (0..time)
                .map(|t| ((b * 7919 + t * 104_729) % 4999 + 1) as u32)
                .collect()
        })
        .collect()
}

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Predictions and a training step give the same bits on 1, 2 and 3 threads: products are
/// split by output columns, never along the summed axis.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let x = sequences(32, 20);
    let y: Vec<u32> = (0..32).map(|i| i % 10).collect();
    let run = |threads: usize| {
        in_pool(threads, || {
            let mut m = Chars::new(5);
            let p = m.predict(&x).unwrap().main().data.clone();
            m.compile(
                Loss::sparse_categorical_crossentropy(),
                Adam::default(),
                &[],
            );
            m.train_on_batch(&x, &y).unwrap();
            (p, m.get_weights())
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        let other = run(threads);
        assert!(
            one.0
                .iter()
                .zip(&other.0)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "predict on {threads} threads"
        );
        assert_eq!(one.1, other.1, "weights after a step on {threads} threads");
    }
}

/// The largest difference between rows predicted one at a time and the same rows predicted
/// in a batch of 64, as `|alone - batched| / (1e-6 + 1e-5 |batched|)`: below 1 means within
/// Keras' output tolerance. Prints the measured figures (`-- --nocapture`).
#[test]
fn batch_of_one_differs_from_a_batch_within_tolerance() {
    fn worst(alone: &[f32], batched: &[f32]) -> (f32, f32) {
        alone
            .iter()
            .zip(batched)
            .map(|(a, b)| ((a - b).abs(), (a - b).abs() / (1e-6 + 1e-5 * b.abs())))
            .fold((0.0, 0.0), |w, d| (w.0.max(d.0), w.1.max(d.1)))
    }
    let x = sequences(64, 30);
    let mut m = Chars::new(1);
    let batched = m.predict(&x).unwrap().main().data.clone();
    let alone: Vec<f32> = x
        .iter()
        .flat_map(|row| m.predict(vec![row.clone()]).unwrap().main().data.clone())
        .collect();
    let (abs, rel) = worst(&alone, &batched);
    println!("LSTM(128) => GRU(64) => Dense(10): max |diff| {abs:.2e}, {rel:.3} of the tolerance");
    assert!(rel <= 1.0, "{abs} is beyond the tolerance ({rel})");

    let ids = tokens(64, 30);
    let mut q = Quiz::new(42);
    let batched = q.predict(&ids).unwrap().main().data.clone();
    let alone: Vec<f32> = ids
        .iter()
        .flat_map(|row| q.predict(vec![row.clone()]).unwrap().main().data.clone())
        .collect();
    let (abs, rel) = worst(&alone, &batched);
    println!("Quiz SimpleRNN(128): max |diff| {abs:.2e}, {rel:.3} of the tolerance");
    assert!(rel <= 1.0, "{abs} is beyond the tolerance ({rel})");
}
