//! Sentiment of IMDB movie reviews: `Embedding(10000, 64, mask_zero) =>
//! Bidirectional(LSTM(32)) => Dense(1, sigmoid)` on the published 25,000 / 25,000 split,
//! reviews tokenized to the 10,000 most frequent words and cut to their last words.
//!
//! The default run trains on a random 10,000 of the training reviews (reviews cut to 200
//! words, 2 epochs) and tests on 10,000 test reviews; `--full` trains on all 25,000 (cut to
//! 400 words, 3 epochs) and tests on all 25,000.
//!
//! The archive (`imdb/aclImdb_v1.tar.gz`, or the labelled repack
//! `imdb/aclImdb_v1_labelled.tar.gz`) is read from the data directory `RNN_DATA` (default
//! `~/.cache/rnn`); `RNN_DOWNLOAD=1` downloads it there (84 MB). With the project's shared
//! data folder:
//!
//! `RNN_DATA=../shared/data cargo run --release --example imdb`
//!
//! Text arguments are classified after training:
//! `cargo run --release --example imdb -- "A moving, beautifully shot film."`

mod common;

use std::process::ExitCode;

use common::{Args, Outcome};
use rand::seq::SliceRandom;
use rnn::datasets::{Cache, Imdb, Reviews, imdb};
use rnn::prelude::*;
use rnn::seeded_rng;
use rnn::text::{Pad, Tokenizer, pad_sequences};

model! {
    /// Review word ids (padded with 0 in front) in, the probability of a positive review out.
    #[params = 664_897]
    pub struct Critic = Embedding(10000, 64, mask_zero = true)
        => Bidirectional(LSTM(32))
        => Dense(1, sigmoid);
}

const VOCAB: usize = 10_000;

/// A random `n` of `reviews` (all of them, shuffled, when `n` is at least their number); the
/// loader lists every negative review before every positive one.
fn sample(reviews: &Reviews, n: usize, seed: u64) -> (Vec<String>, Vec<f32>) {
    let mut order: Vec<usize> = (0..reviews.len()).collect();
    order.shuffle(&mut seeded_rng(seed));
    order.truncate(n);
    order
        .iter()
        .map(|&i| {
            (
                imdb::replace_br(&reviews.texts[i]),
                reviews.labels[i] as f32,
            )
        })
        .unzip()
}

fn load() -> Result<Imdb, Box<dyn std::error::Error>> {
    let cache = Cache::from_env()?;
    if cache.find(&imdb::REMOTE).is_none() && std::env::var_os("RNN_DOWNLOAD").is_none() {
        return Err(format!(
            "the IMDB reviews are not in the data directory {dir}: put aclImdb_v1.tar.gz \
             (or aclImdb_v1_labelled.tar.gz) at {path}, point RNN_DATA at a directory that \
             holds imdb/aclImdb_v1.tar.gz (in this project: RNN_DATA=../shared/data), or set \
             RNN_DOWNLOAD=1 to download it (84 MB) from {url}",
            dir = cache.dir().display(),
            path = cache.path_of(&imdb::REMOTE).display(),
            url = imdb::REMOTE.url,
        )
        .into());
    }
    Ok(Imdb::load(None)?)
}

fn run() -> Outcome {
    let args = Args::parse()?;
    let (n_train, n_test, maxlen, epochs) = if args.full {
        (25_000, 25_000, 400, 3)
    } else {
        (10_000, 10_000, 200, 2)
    };

    let (data, load_time) = common::timed(load);
    let data = data?;
    let (train_texts, y_train) = sample(&data.train, n_train, 1);
    let (test_texts, y_test) = sample(&data.test, n_test, 2);
    let mut tokenizer = Tokenizer::builder().num_words(VOCAB).build()?;
    tokenizer.fit_on_texts(&train_texts);
    let encode = |texts: &[String]| {
        // Keras' default: pad and cut at the front, so a long review keeps its ending.
        pad_sequences(
            &tokenizer.texts_to_sequences(texts),
            Some(maxlen),
            Pad::Pre,
            Pad::Pre,
            0,
        )
    };
    let (x_train, x_test) = (encode(&train_texts)?, encode(&test_texts)?);
    println!(
        "{} training and {} test reviews (of 25,000 each), cut to {maxlen} words; loaded in {}",
        train_texts.len(),
        test_texts.len(),
        common::secs(load_time)
    );

    let mut model = Critic::new(1);
    model.compile(
        Loss::binary_crossentropy(),
        Adam::default(),
        &[Metric::Accuracy],
    );
    println!("{}", model.summary());

    let (history, fit_time) = common::timed(|| {
        model.fit(
            &x_train,
            &y_train,
            Fit::new()
                .batch_size(32)
                .epochs(epochs)
                .validation_split(0.1)
                .seed(7)
                .verbose(1),
        )
    });
    let history = history?;
    let (logs, test_time) = common::timed(|| model.evaluate(&x_test, &y_test, 256));
    let logs = logs?;
    println!(
        "test accuracy {:.2} % (loss {:.4}) on {} reviews after {epochs} epochs; fit took {}, \
         the test {}",
        100.0 * logs.get("accuracy").unwrap_or(f32::NAN),
        logs.loss(),
        test_texts.len(),
        common::secs(fit_time),
        common::secs(test_time)
    );

    // Without text arguments: the first test reviews, shown with their true label.
    let (texts, shown) = if args.texts.is_empty() {
        let texts = test_texts[..5].to_vec();
        let shown = texts
            .iter()
            .zip(&y_test)
            .map(|(t, &y)| format!("(truly {}) {t}", ["negative", "positive"][y as usize]))
            .collect();
        (texts, shown)
    } else {
        (args.texts.clone(), args.texts)
    };
    let probs = model.predict(encode(&texts)?)?;
    println!("\nP(positive) for each review:");
    common::print_binary(&shown, &probs.main().data, ["negative", "positive"]);

    let png = common::plot_history(&history, "imdb", "IMDB reviews: Bidirectional LSTM")?;
    println!("\nlearning curves: {}", png.display());
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
