//! Word generation from three Korean sentences, the recipe of the word-level text-generation
//! tutorial: a tokenizer over the sentences, every prefix of every sentence as a training
//! example (pre-padded to the longest), `Embedding(vocab, 10) => SimpleRNN(32) =>
//! Dense(vocab, softmax)` trained for 200 epochs, then greedy generation from each sentence's
//! first word, which gives the sentence back.
//!
//! `cargo run --release --example proverbs` (a few seconds; `--full` changes nothing: the
//! recipe is already the tutorial's).

mod common;

use std::process::ExitCode;

use common::Outcome;
use rnn::generate::{Sampler, generate_words_window};
use rnn::prelude::*;
use rnn::text::{Tokenizer, ngram_sequences};

/// The tutorial's corpus: "the horse at the racecourse is running", "his word is law", "fair
/// words going out bring fair words back" (말 is both horse and word).
const SENTENCES: [&str; 3] = [
    "경마장에 있는 말이 뛰고 있다",
    "그의 말이 법이다",
    "가는 말이 고와야 오는 말이 곱다",
];

// The macro takes literal sizes: the vocabulary is the tokenizer's 11 words plus the padding
// id 0. `run` checks that the tokenizer agrees before training.
const VOCAB: usize = 12;

model! {
    /// The ids of a sentence's first words in, the distribution of the next word out.
    #[params = 1_892]
    pub struct Proverbs = Embedding(12, 10) => SimpleRNN(32) => Dense(12, softmax);
}

fn run() -> Outcome {
    let _args = common::Args::parse()?;
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts(&SENTENCES);
    let vocab = tokenizer.word_index().len() + 1;
    if vocab != VOCAB {
        return Err(format!(
            "the tokenizer has {vocab} ids but the model was declared with {VOCAB}; update \
             Embedding and Dense"
        )
        .into());
    }
    let grams = ngram_sequences(&tokenizer.texts_to_sequences(&SENTENCES))?;
    // The model reads `max_len - 1` ids: every prefix, pre-padded to the longest.
    let window = Tensor::shape(&grams.inputs)[1];
    println!(
        "{} words, {} training prefixes of {window} ids (pre-padded)",
        vocab - 1,
        grams.targets.len()
    );

    let mut model = Proverbs::new(1);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::default(),
        &[Metric::Accuracy],
    );
    println!("{}", model.summary());
    let (history, fit_time) = common::timed(|| {
        model.fit(
            &grams.inputs,
            &grams.targets,
            Fit::new().epochs(200).seed(7).verbose(1),
        )
    });
    let history = history?;
    let last = history.last().ok_or("fit ran no epoch")?;
    println!(
        "after 200 epochs: loss {:.4}, accuracy {:.2} (fit took {})",
        last.loss(),
        last.get("accuracy").unwrap_or(f32::NAN),
        common::secs(fit_time)
    );

    // The model was trained on pre-padded prefixes, so it generates as the tutorial does:
    // `predict` on the last `window` ids, pre-padded, at every step.
    println!("\ngreedy generation from each first word:");
    let mut all_back = true;
    for sentence in SENTENCES {
        let (first, rest) = sentence.split_once(' ').unwrap_or((sentence, ""));
        let n = rest.split(' ').count();
        let text = generate_words_window(
            &mut *model,
            &tokenizer,
            first,
            n,
            window,
            &Sampler::Greedy,
            0,
        )?;
        let same = text == sentence;
        all_back &= same;
        println!(
            "  {first} -> {text}  [{}]",
            if same { "the sentence" } else { "differs" }
        );
    }
    println!(
        "{}",
        if all_back {
            "every sentence comes back word for word"
        } else {
            "some sentences did not come back: the model has not learned them all"
        }
    );

    let png = common::plot_history(&history, "proverbs", "Korean proverbs: SimpleRNN")?;
    println!("\nlearning curves: {}", png.display());
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
