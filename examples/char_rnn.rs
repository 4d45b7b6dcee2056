//! Character-level generation on *Alice's Adventures in Wonderland* (bundled): the book,
//! lower-cased, cut into sequences of 100 characters, each character one-hot; two
//! `LSTM(256, return_sequences = true)` layers and a softmax over the characters at every
//! step learn to predict the next character. Then the model writes 300 characters after a
//! seed at temperatures 0.2, 0.5 and 1.0, stepping one character at a time (the state is
//! kept between steps, so each character costs one step whatever the length of the text).
//!
//! `cargo run --release --example char_rnn [-- "seed text"]` trains 6 epochs on the whole
//! book (a few minutes at most on 2 cores); `--full` trains 30 epochs.

mod common;

use std::process::ExitCode;

use common::Outcome;
use rnn::datasets::alice;
use rnn::generate::{OneHot, Sampler, generate_chars};
use rnn::prelude::*;
use rnn::text::Tokenizer;

// The macro takes literal sizes: the lower-cased book has 49 distinct characters, plus the
// unused id 0. `run` checks that the tokenizer agrees before training.
const VOCAB: usize = 50;
const SEQ_LEN: usize = 100;

model! {
    /// One-hot characters in, the distribution of the next character at every step out.
    #[params = 852_530]
    pub struct CharRnn = Input(_, 50)
        => LSTM(256, return_sequences = true)
        => LSTM(256, return_sequences = true)
        => TimeDistributed(Dense(50, softmax));
}

fn run() -> Outcome {
    let args = common::Args::parse()?;
    let (chars, epochs) = if args.full {
        (usize::MAX, 30)
    } else {
        (usize::MAX, 6)
    };
    let book = alice::load(None)?;
    let text: String = book.chars().take(chars).collect();
    let mut tokenizer = Tokenizer::builder().char_level(true).build()?;
    tokenizer.fit_on_texts(&[book.as_str()]);
    let vocab = tokenizer.word_index().len() + 1;
    if vocab != VOCAB {
        return Err(format!(
            "the tokenizer has {vocab} ids but the model was declared with {VOCAB}; update \
             Input and Dense"
        )
        .into());
    }

    // Sequences of 101 characters side by side: the first 100 in, the last 100 as targets.
    let ids = tokenizer.text_to_sequence(&text);
    let n = (ids.len() - 1) / SEQ_LEN;
    let mut x = vec![0.0f32; n * SEQ_LEN * VOCAB];
    let mut y = Vec::with_capacity(n * SEQ_LEN);
    for s in 0..n {
        let chunk = &ids[s * SEQ_LEN..=(s + 1) * SEQ_LEN];
        for (t, &id) in chunk[..SEQ_LEN].iter().enumerate() {
            x[(s * SEQ_LEN + t) * VOCAB + id as usize] = 1.0;
        }
        y.extend_from_slice(&chunk[1..]);
    }
    println!(
        "{} characters of {} ({} distinct), {n} sequences of {SEQ_LEN}",
        ids.len(),
        book.chars().count(),
        vocab - 1
    );

    let mut model = CharRnn::new(1);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.002),
        &[Metric::Accuracy],
    );
    println!("{}", model.summary());
    let (history, fit_time) = common::timed(|| {
        model.fit(
            (x.as_slice(), [n, SEQ_LEN, VOCAB]),
            (y.as_slice(), [n, SEQ_LEN]),
            Fit::new()
                .batch_size(32)
                .epochs(epochs)
                .validation_split(0.1)
                .seed(7)
                .verbose(1),
        )
    });
    let history = history?;
    let last = history.last().ok_or("fit ran no epoch")?;
    println!(
        "after {epochs} epochs: loss {:.4}, accuracy {:.3}, val_loss {:.4}, val_accuracy {:.3} \
         (fit took {})",
        last.loss(),
        last.get("accuracy").unwrap_or(f32::NAN),
        last.get("val_loss").unwrap_or(f32::NAN),
        last.get("val_accuracy").unwrap_or(f32::NAN),
        common::secs(fit_time)
    );

    let seed = args
        .texts
        .first()
        .map_or("alice was beginning to get very tired", String::as_str);
    let length = 300;
    for temperature in [0.2, 0.5, 1.0] {
        let (text, took) = common::timed(|| {
            generate_chars(
                &mut OneHot::new(&model),
                &tokenizer,
                seed,
                length,
                &Sampler::Temperature(temperature),
                42,
            )
        });
        let text = text?;
        println!(
            "\n--- temperature {temperature} ({:.0} characters/s) ---\n{text}",
            length as f64 / took.as_secs_f64()
        );
    }

    let png = common::plot_history(&history, "char_rnn", "Alice, characters: 2 x LSTM(256)")?;
    println!("\nlearning curves: {}", png.display());
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
