//! Sarcasm in news headlines, the TensorFlow course's recipe: a tokenizer of 10,000 words fit
//! on the first 20,000 headlines, sequences padded and cut at the end to 32 ids, and
//! `Embedding(10000, 16, mask_zero) => Bidirectional(LSTM(32)) => Dense(24, relu) =>
//! Dense(1, sigmoid)` trained with Adam for 3 epochs, validated on the other 6,709
//! headlines. The data set ships with the crate, so this runs without a download.
//!
//! Then it classifies the sentences given on the command line (or a few of its own):
//!
//! `cargo run --release --example sentiment -- "granny starting to fear spiders in the garden might be real"`
//!
//! `--full` trains for 10 epochs instead of 3.
//!
//! The trained model is evaluated again with its weights in bf16 and in int8
//! (`Precision::Bf16`, `Precision::Int8`), and the accuracies are printed beside f32's.

mod common;

use std::process::ExitCode;

use common::{Args, Outcome};
use rnn::datasets::Sarcasm;
use rnn::prelude::*;
use rnn::text::{Pad, Tokenizer, pad_sequences};

model! {
    /// Headline word ids (padded with 0) in, the probability that the headline is sarcastic out.
    #[params = 174_129]
    pub struct Headlines = Embedding(10000, 16, mask_zero = true)
        => Bidirectional(LSTM(32))
        => Dense(24, relu)
        => Dense(1, sigmoid);
}

const VOCAB: usize = 10_000;
const MAXLEN: usize = 32;

fn run() -> Outcome {
    let args = Args::parse()?;
    let epochs = if args.full { 10 } else { 3 };

    let (train, val) = Sarcasm::load(None)?.split(Sarcasm::TRAINING_SIZE);
    let mut tokenizer = Tokenizer::builder()
        .num_words(VOCAB)
        .oov_token("<OOV>")
        .build()?;
    tokenizer.fit_on_texts(&train.texts);
    let encode = |texts: &[String]| {
        pad_sequences(
            &tokenizer.texts_to_sequences(texts),
            Some(MAXLEN),
            Pad::Post,
            Pad::Post,
            0,
        )
    };
    let (x_train, x_val) = (encode(&train.texts)?, encode(&val.texts)?);
    let labels = |l: &[u32]| l.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let (y_train, y_val) = (labels(&train.labels), labels(&val.labels));
    println!(
        "{} training and {} validation headlines, {} distinct words (the first {} kept)",
        train.len(),
        val.len(),
        tokenizer.word_index().len(),
        VOCAB
    );

    let mut model = Headlines::new(1);
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
                .validation_data(&x_val, &y_val)
                .seed(7)
                .verbose(1),
        )
    });
    let history = history?;
    let logs = model.evaluate(&x_val, &y_val, 256)?;
    println!(
        "validation accuracy {:.2} % (loss {:.4}) after {epochs} epochs; fit took {}",
        100.0 * logs.get("accuracy").unwrap_or(f32::NAN),
        logs.loss(),
        common::secs(fit_time)
    );
    for (name, precision) in [
        ("bf16", rnn::Precision::Bf16),
        ("int8", rnn::Precision::Int8),
    ] {
        model.set_inference_precision(precision);
        let (low, low_time) = common::timed(|| model.evaluate(&x_val, &y_val, 256));
        let low = low?;
        model.set_inference_precision(rnn::Precision::F32);
        let (_, f32_time) = common::timed(|| model.evaluate(&x_val, &y_val, 256));
        println!(
            "in {name}: validation accuracy {:.2} % (loss {:.4}); evaluation took {} (f32: {})",
            100.0 * low.get("accuracy").unwrap_or(f32::NAN),
            low.loss(),
            common::secs(low_time),
            common::secs(f32_time)
        );
    }

    let texts = if args.texts.is_empty() {
        vec![
            "granny starting to fear spiders in the garden might be real".to_string(),
            "the weather today is bright and sunny".to_string(),
            "area man heroically finishes entire bag of chips".to_string(),
            "senate passes bill to fund infrastructure repairs".to_string(),
        ]
    } else {
        args.texts
    };
    let probs = model.predict(encode(&texts)?)?;
    println!("\nP(sarcastic) for each sentence:");
    common::print_binary(&texts, &probs.main().data, ["not sarcastic", "sarcastic"]);

    let png = common::plot_history(
        &history,
        "sentiment",
        "Sarcasm headlines: Bidirectional LSTM",
    )?;
    println!("\nlearning curves: {}", png.display());
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
