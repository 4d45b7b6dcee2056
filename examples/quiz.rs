//! The tutorial model: an embedding, a SimpleRNN and a sigmoid unit, 529,441 parameters.
//!
//! Prints Keras' summary of the model and its (untrained) predictions for a batch of
//! token-id sequences. Run with `cargo run --release --example quiz`.

use rnn::prelude::*;

model! {
    /// Binary sentiment of a text given as word ids below 5000.
    #[params = 529_441]
    pub struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
}

fn main() -> Result<(), Error> {
    let mut model = Quiz::new(42);
    print!("{}", model.summary());

    let reviews: Vec<Vec<u32>> = vec![
        vec![12, 7, 431, 9, 2, 88, 1303, 4],
        vec![5, 610, 73, 18, 2, 977, 41, 4],
    ];
    let prediction = model.predict(&reviews)?;
    let p = prediction.main();
    println!(
        "\nprediction {:?} for {} sequences of {} ids:",
        p.shape,
        reviews.len(),
        reviews[0].len()
    );
    for (ids, prob) in reviews.iter().zip(p.rows()) {
        println!("  {ids:?} -> {:.4}", prob[0]);
    }
    Ok(())
}
