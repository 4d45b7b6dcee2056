//! Seconds to build large LSTM layers, whose recurrent kernels `(units, 4 units)` are drawn by
//! the orthogonal initializer (a QR factorisation, cubic in the units). Compare with Keras'
//! `build` of the same layers: `python tools/time_orthogonal.py 512 1024 2048`.
//!
//! `cargo run --release --example init_speed`

use std::time::Instant;

use rnn::{Last, Lstm, RnnConfig, seeded_rng};

/// The best of three builds of an `LSTM(H)` reading `H` features, in seconds.
fn build_seconds<const H: usize>() -> f64 {
    (0..3)
        .map(|seed| {
            let start = Instant::now();
            let layer =
                Lstm::<H, H, Last>::new("lstm", RnnConfig::default(), &mut seeded_rng(seed));
            std::hint::black_box(layer);
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    println!(
        "LSTM(512) on 512 features: build {:.3} s",
        build_seconds::<512>()
    );
    println!(
        "LSTM(1024) on 1024 features: build {:.3} s",
        build_seconds::<1024>()
    );
    println!(
        "LSTM(2048) on 2048 features: build {:.3} s",
        build_seconds::<2048>()
    );
}
