//! Trains an LSTM on the adding problem (sum the two marked values of a sequence), with a
//! validation split, early stopping and a checkpoint, then reloads the checkpoint.
//!
//! `cargo run --release --example adding`

use rand::RngExt as _;
use rnn::prelude::*;
use rnn::seeded_rng;

model! {
    /// Sequences of 20 (value, marker) pairs in, the sum of the two marked values out.
    #[params = 1_861]
    pub struct Adder = Input(20, 2) => LSTM(20) => Dense(1);
}

fn adding_data(n: usize, seed: u64) -> (Vec<Vec<Vec<f32>>>, Vec<f32>) {
    let mut rng = seeded_rng(seed);
    (0..n)
        .map(|_| {
            let (a, b) = (rng.random_range(0..10), rng.random_range(10..20));
            let seq: Vec<Vec<f32>> = (0..20)
                .map(|t| {
                    let marked = t == a || t == b;
                    vec![rng.random(), if marked { 1.0 } else { 0.0 }]
                })
                .collect();
            let sum = seq[a][0] + seq[b][0];
            (seq, sum)
        })
        .unzip()
}

fn main() -> Result<(), Error> {
    let (x, y) = adding_data(4000, 1);
    let (test_x, test_y) = adding_data(1000, 2);

    let mut model = Adder::new(42);
    model.compile(Loss::mean_squared_error(), Adam::new(0.005), &[]);
    let history = model.fit(
        &x,
        &y,
        Fit::new()
            .batch_size(32)
            .epochs(30)
            .validation_split(0.2)
            .seed(7)
            .early_stopping(
                EarlyStopping::new("val_loss")
                    .patience(3)
                    .restore_best_weights(true),
            ),
    )?;
    println!("{}", model.summary());
    println!(
        "trained {} epochs; best val_loss {:.5}",
        history.epochs(),
        history
            .get("val_loss")?
            .into_iter()
            .fold(f32::INFINITY, f32::min)
    );

    let path = std::env::temp_dir().join("adder.safetensors");
    model.save_weights(&path)?;
    let mut restored = Adder::new(0);
    restored.load_weights(&path)?;
    restored.compile(Loss::mean_squared_error(), Adam::default(), &[]);
    let test = restored.evaluate(&test_x, &test_y, 256)?;
    // Always answering 1.0 (the mean sum) gives a mean squared error of about 0.167.
    println!(
        "test mse after reloading {}: {:.5}",
        path.display(),
        test.loss()
    );
    Ok(())
}
