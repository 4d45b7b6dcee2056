//! Word generation on Irish song lyrics, the TensorFlow course's recipe: a tokenizer over the
//! 1,692 lower-cased lines, every prefix of every line as a training example (pre-padded to
//! the longest, 15 ids), `Embedding(2690, 100, input_length = 15) => Bidirectional(LSTM(150))
//! => Dense(2690, softmax)` trained with Adam (learning rate 0.01), then 100 words after a
//! seed line.
//!
//! A Bidirectional layer reads each window from both ends, so the model cannot be fed one
//! word at a time: it generates as the course does, with `predict` on the last 15 word ids,
//! pre-padded, at every step (`rnn::generate::generate_words_window`).
//!
//! The lyrics are not bundled: put `irish-lyrics-eof.txt` at `irish_lyrics/` under the
//! directory in `RNN_DATA` (e.g. `RNN_DATA=../shared/data`) or under the cache directory.
//!
//! `cargo run --release --example lyrics [-- "seed text"]` trains 10 epochs (a few minutes on
//! 2 cores); `--full` trains the course's 100 epochs.

mod common;

use std::process::ExitCode;

use common::Outcome;
use rnn::datasets::irish_lyrics;
use rnn::generate::{Sampler, generate_words_window};
use rnn::prelude::*;
use rnn::text::{Tokenizer, ngram_sequences};

// The macro takes literal sizes: the lyrics have 2,689 distinct words (plus the padding id
// 0) and their longest line 16 words (so 15 ids predict the 16th). `run` checks both.
const TOTAL_WORDS: usize = 2690;
const WINDOW: usize = 15;

model! {
    /// The last 15 word ids (pre-padded) in, the distribution of the next word out.
    #[params = 1_379_890]
    pub struct Lyrics = Embedding(2690, 100, input_length = 15)
        => Bidirectional(LSTM(150))
        => Dense(2690, softmax);
}

fn run() -> Outcome {
    let args = common::Args::parse()?;
    let epochs = if args.full { 100 } else { 10 };
    let corpus = irish_lyrics::load(None).map_err(|e| {
        format!(
            "{e}\n  or set RNN_DATA to a data folder holding irish_lyrics/irish-lyrics-eof.txt, \
             e.g. RNN_DATA=../shared/data"
        )
    })?;
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts(&corpus);
    let total_words = tokenizer.word_index().len() + 1;
    let grams = ngram_sequences(&tokenizer.texts_to_sequences(&corpus))?;
    let window = Tensor::shape(&grams.inputs)[1];
    if (total_words, window) != (TOTAL_WORDS, WINDOW) {
        return Err(format!(
            "the lyrics give {total_words} ids and windows of {window}, but the model was \
             declared for {TOTAL_WORDS} and {WINDOW}; update Embedding and Dense"
        )
        .into());
    }
    println!(
        "{} lines, {} words, {} training prefixes of {window} ids (pre-padded)",
        corpus.len(),
        total_words - 1,
        grams.targets.len()
    );

    let mut model = Lyrics::new(1);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.01),
        &[Metric::Accuracy],
    );
    println!("{}", model.summary());
    let (history, fit_time) = common::timed(|| {
        model.fit(
            &grams.inputs,
            &grams.targets,
            Fit::new().batch_size(32).epochs(epochs).seed(7).verbose(1),
        )
    });
    let history = history?;
    let last = history.last().ok_or("fit ran no epoch")?;
    println!(
        "after {epochs} epochs: loss {:.4}, accuracy {:.3} (fit took {})",
        last.loss(),
        last.get("accuracy").unwrap_or(f32::NAN),
        common::secs(fit_time)
    );

    let seed = args
        .texts
        .first()
        .map_or("I've got a bad feeling about this", String::as_str);
    for (name, sampler) in [
        ("greedy, as the course", Sampler::Greedy),
        ("temperature 0.8", Sampler::Temperature(0.8)),
    ] {
        let (text, took) = common::timed(|| {
            generate_words_window(&mut *model, &tokenizer, seed, 100, window, &sampler, 42)
        });
        println!(
            "\n--- {name} ({:.0} words/s) ---\n{}",
            100.0 / took.as_secs_f64(),
            text?
        );
    }

    let png = common::plot_history(&history, "lyrics", "Irish lyrics: Bidirectional LSTM(150)")?;
    println!("\nlearning curves: {}", png.display());
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
