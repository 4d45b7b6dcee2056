//! Topics of Reuters newswires: `Embedding(1000, 100) => LSTM(100) => Dense(46, softmax)` on
//! the ModApte split of Reuters-21578 (46 topics), the tokenizer limited to the 1,000 most
//! frequent words, newswires cut to their first 100 words, one-hot targets
//! (`to_categorical`) and categorical cross-entropy.
//!
//! The default run trains 10 epochs; `--full` trains 20.
//!
//! The `.sgm` files (or `reuters21578.tar.gz`) are read from `reuters21578/` in the data
//! directory `RNN_DATA` (default `~/.cache/rnn`). With the project's shared data folder:
//!
//! `RNN_DATA=../shared/data cargo run --release --example reuters`
//!
//! Text arguments are classified after training:
//! `cargo run --release --example reuters -- "Gold prices rose sharply in London trading"`

mod common;

use std::process::ExitCode;

use common::{Args, Outcome};
use rnn::datasets::{Cache, Reuters, reuters};
use rnn::prelude::*;
use rnn::text::{Pad, Tokenizer, pad_sequences, to_categorical};

model! {
    /// Newswire word ids (padded with 0 in front) in, the probabilities of the 46 topics out.
    #[params = 185_046]
    pub struct Topics = Embedding(1000, 100) => LSTM(100) => Dense(46, softmax);
}

const VOCAB: usize = 1_000;
const MAXLEN: usize = 100;

fn load() -> Result<Reuters, Box<dyn std::error::Error>> {
    let cache = Cache::from_env()?;
    let dir = cache.dir().join(reuters::REMOTE.dir);
    let present =
        dir.join(reuters::file_name(0)).is_file() || dir.join(reuters::REMOTE.file).is_file();
    if !present {
        return Err(format!(
            "Reuters-21578 is not in the data directory {data}: put the files reut2-000.sgm ... \
             reut2-021.sgm, or {archive} (from {url}), in {dir}, or point RNN_DATA at a \
             directory that holds reuters21578/ (in this project: RNN_DATA=../shared/data)",
            data = cache.dir().display(),
            archive = reuters::REMOTE.file,
            url = reuters::REMOTE.url,
            dir = dir.display(),
        )
        .into());
    }
    Ok(Reuters::load(None)?)
}

fn run() -> Outcome {
    let args = Args::parse()?;
    let epochs = if args.full { 20 } else { 10 };

    let data = load()?;
    let classes = data.topics.len();
    let mut tokenizer = Tokenizer::builder().num_words(VOCAB).build()?;
    tokenizer.fit_on_texts(&data.train.texts);
    let encode = |texts: &[String]| {
        pad_sequences(
            &tokenizer.texts_to_sequences(texts),
            Some(MAXLEN),
            Pad::Pre,
            Pad::Post,
            0,
        )
    };
    let (x_train, x_test) = (encode(&data.train.texts)?, encode(&data.test.texts)?);
    let y_train = to_categorical(&data.train.labels, Some(classes))?;
    let y_test = to_categorical(&data.test.labels, Some(classes))?;
    println!(
        "{} training and {} test newswires, {classes} topics (most frequent: {})",
        data.train.len(),
        data.test.len(),
        data.topics[..5].join(", ")
    );

    let mut model = Topics::new(1);
    model.compile(
        Loss::categorical_crossentropy(),
        Adam::default(),
        &[Metric::Accuracy],
    );
    println!("{}", model.summary());

    let (history, fit_time) = common::timed(|| {
        model.fit(
            &x_train,
            &y_train,
            Fit::new()
                .batch_size(100)
                .epochs(epochs)
                .validation_split(0.2)
                .seed(7)
                .verbose(1),
        )
    });
    let history = history?;
    let logs = model.evaluate(&x_test, &y_test, 256)?;
    // A model that always answers the most frequent topic scores this much.
    let majority =
        data.test.labels.iter().filter(|&&l| l == 0).count() as f32 / data.test.len().max(1) as f32;
    println!(
        "test accuracy {:.2} % (loss {:.4}; always answering `{}` scores {:.2} %) after \
         {epochs} epochs; fit took {}",
        100.0 * logs.get("accuracy").unwrap_or(f32::NAN),
        logs.loss(),
        data.topics[0],
        100.0 * majority,
        common::secs(fit_time)
    );

    // Without text arguments: a few test newswires, shown with their true topic.
    let (texts, shown) = if args.texts.is_empty() {
        let picks = [0, 1, 2, 3, 5, 8, 13];
        let texts: Vec<String> = picks
            .iter()
            .filter_map(|&i| data.test.texts.get(i).cloned())
            .collect();
        let shown = picks
            .iter()
            .zip(&texts)
            .map(|(&i, t)| format!("({}) {t}", data.topics[data.test.labels[i] as usize]))
            .collect();
        (texts, shown)
    } else {
        (args.texts.clone(), args.texts)
    };
    let probs = model.predict(encode(&texts)?)?;
    println!("\nthe three most probable topics, then (the true topic) and the newswire:");
    common::print_top_classes(&shown, &probs.main().data, &data.topics, 3);

    let png = common::plot_history(&history, "reuters", "Reuters-21578 topics: LSTM")?;
    println!("\nlearning curves: {}", png.display());
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
