//! What a recurrent layer returns, and in what shape: SimpleRNN, LSTM and GRU with and without
//! `return_sequences` and `return_state`, and Bidirectional with each `merge_mode`, all run on
//! the same input of one sequence of 4 steps with 5 features each (batch 1 x time 4 x
//! features 5). No training: the weights are Keras' initializers, seeded.
//!
//! `cargo run --release --example shapes`

use rnn::prelude::*;

/// Prints a model's declaration, then each of its outputs with its name, shape and values.
macro_rules! show {
    ($x:expr, $($layer:tt)+) => {{
        let mut model = model!(#[seed = 3] Input(4, 5) => $($layer)+);
        println!("{}", stringify!($($layer)+));
        let outputs = model.predict($x.clone())?;
        println!("  {} output{}", outputs.len(), if outputs.len() == 1 { "" } else { "s" });
        for out in outputs.iter() {
            println!("  {:<18} shape {}", out.name, tuple(&out.shape));
            print_values(&out.shape, &out.data);
        }
        println!();
    }};
}

/// A shape as Python prints it: `(1, 4, 3)`.
fn tuple(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("({})", dims.join(", "))
}

/// The values of one output, one row per line: a `(1, units)` output is one row, a
/// `(1, 4, units)` sequence one row per time step.
fn print_values(shape: &[usize], data: &[f32]) {
    let width = shape.last().copied().unwrap_or(1).max(1);
    let steps = data.len() / width;
    for (i, row) in data.chunks(width).enumerate() {
        let values: Vec<String> = row.iter().map(|v| format!("{v:>7.4}")).collect();
        let label = if steps > 1 {
            format!("t={i}")
        } else {
            String::new()
        };
        println!("      {label:<4} [{}]", values.join(", "));
    }
}

fn main() -> Result<(), Error> {
    // One sequence: 4 steps of 5 features, 0.05, 0.10, ... 1.00.
    let x: Vec<Vec<Vec<f32>>> = vec![
        (0..4)
            .map(|t| (0..5).map(|f| (t * 5 + f + 1) as f32 / 20.0).collect())
            .collect(),
    ];
    println!("input: shape (1, 4, 5) (batch, time, features)\n");

    println!("== SimpleRNN: the last output, every output, and the state ==\n");
    show!(x, SimpleRNN(3));
    show!(x, SimpleRNN(3, return_sequences = true));
    show!(x, SimpleRNN(3, return_state = true));
    show!(
        x,
        SimpleRNN(3, return_sequences = true, return_state = true)
    );

    println!("== LSTM: two states, h (equal to the last output) and the cell state c ==\n");
    show!(x, LSTM(3));
    show!(x, LSTM(3, return_sequences = true));
    show!(x, LSTM(3, return_state = true));
    show!(x, LSTM(3, return_sequences = true, return_state = true));

    println!("== GRU: one state, equal to the last output ==\n");
    show!(x, GRU(3));
    show!(x, GRU(3, return_sequences = true));
    show!(x, GRU(3, return_state = true));
    show!(x, GRU(3, return_sequences = true, return_state = true));

    println!("== Bidirectional: a forward and a backward LSTM, merged ==\n");
    show!(x, Bidirectional(LSTM(3)));
    show!(x, Bidirectional(LSTM(3), merge_mode = sum));
    show!(x, Bidirectional(LSTM(3), merge_mode = mul));
    show!(x, Bidirectional(LSTM(3), merge_mode = ave));
    show!(x, Bidirectional(LSTM(3), merge_mode = none));
    show!(x, Bidirectional(LSTM(3, return_sequences = true)));
    show!(x, Bidirectional(LSTM(3, return_state = true)));
    show!(
        x,
        Bidirectional(
            LSTM(3, return_sequences = true, return_state = true),
            merge_mode = none
        )
    );
    Ok(())
}
