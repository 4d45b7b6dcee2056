//! The bare recurrent step: one `LSTM(H)` step on `(B, H)` inputs through the step API (input
//! and recurrent products, gates, state update), at several batch sizes `B` and widths `H`.
//!
//! `cargo bench --bench step` reports rows per second; batch 1 is the generation path (a
//! matrix-vector product per weight matrix), larger batches the per-step products of training
//! and batched inference.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rnn::{Layer, Lstm, RnnConfig, Sequence, StepContext, StepData, seeded_rng};
use std::hint::black_box;

fn lstm_step<const H: usize>(c: &mut Criterion, batches: &[usize]) {
    let mut group = c.benchmark_group("step");
    let lstm = Lstm::<H, H>::new("lstm", RnnConfig::default(), &mut seeded_rng(0));
    for &batch in batches {
        let mut state = Layer::<Sequence<H>>::step_init(&lstm, batch).expect("batch > 0");
        let x: Vec<f32> = (0..batch * H).map(|i| (i % 7) as f32 / 7.0 - 0.5).collect();
        let mut cx = StepContext::default();
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(
            BenchmarkId::new(format!("LSTM({H})"), format!("B{batch}")),
            |b| {
                b.iter(|| {
                    Layer::<Sequence<H>>::step(
                        &lstm,
                        StepData::Values(black_box(&x)),
                        &mut cx,
                        &mut state,
                    )
                    .unwrap()
                })
            },
        );
    }
    group.finish();
}

fn steps(c: &mut Criterion) {
    lstm_step::<64>(c, &[1, 32, 128]);
    lstm_step::<128>(c, &[1, 32, 128]);
    lstm_step::<256>(c, &[1, 8, 32, 128]);
    lstm_step::<512>(c, &[1, 32]);
}

criterion_group!(benches, steps);
criterion_main!(benches);
