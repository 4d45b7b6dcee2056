//! Vocabularies sized by a constant and by a fitted tokenizer: `Embedding(_, 16)` built with
//! `with_vocab`, a softmax over a vocabulary bounded by a constant, and the errors for ids
//! beyond either.

use rnn::prelude::*;
use rnn::text::{Pad, Tokenizer, ngram_sequences, pad_sequences_vec};

const VOCAB: usize = 40;
/// The bound on the tokenizer's vocabulary that the next-word model's softmax is sized for.
const MAX_WORDS: usize = 32;

model! {
    /// Sentiment of a short text, its vocabulary fixed by a constant.
    struct Sentiment = Embedding(VOCAB, 8) => LSTM(8) => Dense(2, softmax);

    /// The next word, its embedding sized by the tokenizer at run time and its softmax by the
    /// bound the tokenizer is built with.
    struct NextWord = Embedding(_, 12) => LSTM(16) => Dense(MAX_WORDS, softmax);

    struct Masked = Embedding(_, 4, mask_zero = true, input_length = 3) => GRU(2) => Dense(1);

    /// 1.6e16 parameters, 64 PB at f32: beyond any machine's address space.
    #[max_params = 20_000_000_000_000_000]
    struct Huge = Embedding(4_000_000_000, 4_000_000) => Dense(1);
}

const POSITIVE: [&str; 6] = [
    "the movie was good",
    "a great and fine film",
    "good acting and a great story",
    "the film was fine and good",
    "great fun",
    "a good story",
];
const NEGATIVE: [&str; 6] = [
    "the movie was bad",
    "an awful and poor film",
    "bad acting and an awful story",
    "the film was poor and bad",
    "awful fun",
    "a bad story",
];

fn sentiment_data(tok: &Tokenizer) -> (Vec<Vec<u32>>, Vec<u32>) {
    let texts: Vec<&str> = POSITIVE.iter().chain(&NEGATIVE).copied().collect();
    let seqs = tok.texts_to_sequences(&texts);
    let x = pad_sequences_vec(&seqs, Some(6), Pad::Pre, Pad::Pre, 0).unwrap();
    let y = (0..texts.len() as u32).map(|i| u32::from(i < 6)).collect();
    (x, y)
}

fn fitted(num_words: Option<usize>) -> Tokenizer {
    let mut builder = Tokenizer::builder();
    if let Some(n) = num_words {
        builder = builder.num_words(n);
    }
    let mut tok = builder.build().unwrap();
    tok.fit_on_texts(&POSITIVE);
    tok.fit_on_texts(&NEGATIVE);
    tok
}

#[test]
fn a_model_sized_by_a_constant_trains() {
    let tok = fitted(None);
    // The constant is an upper bound on what the tokenizer produces.
    let vocab = tok.vocab_size_at_most(VOCAB).unwrap();
    assert!(vocab < VOCAB);
    let (x, y) = sentiment_data(&tok);
    let mut model = Sentiment::new(3);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.05),
        &[Metric::SparseCategoricalAccuracy],
    );
    let history = model
        .fit(&x, &y, Fit::new().epochs(20).batch_size(4).verbose(0))
        .unwrap();
    let loss = history.loss();
    assert!(loss[loss.len() - 1] < 0.5 * loss[0], "{loss:?}");
    let acc = history.get("sparse_categorical_accuracy").unwrap();
    // Chance is 1/2.
    assert!(acc[acc.len() - 1] > 0.9, "{acc:?}");
}

#[test]
fn a_model_sized_by_a_tokenizer_trains() {
    // Keras: `tokenizer.fit_on_texts(..)`, `vocab = len(word_index) + 1`,
    // `Embedding(vocab, 12)`; the softmax is `Dense(MAX_WORDS)`, a bound the tokenizer keeps.
    let tok = fitted(Some(MAX_WORDS));
    let vocab = tok.vocab_size_at_most(MAX_WORDS).unwrap();
    let mut model = NextWord::try_with_vocab(vocab, 1).unwrap();
    assert_eq!(model.count_params(), NextWord::PARAMS + vocab * 12);
    let summary = model.summary();
    let table = format!("{:>9} │", vocab * 12);
    assert!(summary.contains(&table), "{summary}");
    let total = format!("Total params: {}", thousands(model.count_params()));
    assert!(summary.contains(&total), "{summary}");

    let seqs = tok.texts_to_sequences(&POSITIVE);
    let grams = ngram_sequences(&seqs).unwrap();
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.03),
        &[Metric::SparseCategoricalAccuracy],
    );
    let history = model
        .fit(
            &grams.inputs,
            &grams.targets,
            Fit::new().epochs(30).batch_size(8).verbose(0),
        )
        .unwrap();
    let loss = history.loss();
    assert!(loss[loss.len() - 1] < 0.5 * loss[0], "{loss:?}");
    let acc = history.get("sparse_categorical_accuracy").unwrap();
    // Chance is 1/vocab; the most frequent next word alone is right about 1 time in 5.
    assert!(acc[acc.len() - 1] > 0.5, "{acc:?}");
}

/// `1234567` as Keras prints counts: `1,234,567`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn ids_beyond_the_run_time_vocabulary_are_errors() {
    let mut model = NextWord::with_vocab(10, 0);
    assert!(model.predict(vec![vec![9u32, 1]]).is_ok());
    let err = model.predict(vec![vec![1u32, 10]]).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("token id 10 at [batch 0, step 1]"), "{text}");
    assert!(text.contains("input_dim is 10"), "{text}");
    model.compile(Loss::sparse_categorical_crossentropy(), Sgd::new(0.1), &[]);
    let err = model
        .fit(
            vec![vec![1u32, 12]],
            vec![3u32],
            Fit::new().epochs(1).verbose(0),
        )
        .unwrap_err();
    assert!(err.to_string().contains("token id 12"), "{err}");
}

#[test]
fn a_vocabulary_out_of_range_is_an_error() {
    for bad in [0, u32::MAX as usize + 2] {
        let Err(err) = NextWord::try_with_vocab(bad, 0).map(drop) else {
            panic!("a vocabulary of {bad} was accepted");
        };
        let err = err.to_string();
        assert!(
            err.starts_with("embedding: the vocabulary size (input_dim) must be from 1"),
            "{err}"
        );
        assert!(err.contains(&format!("found {bad}")), "{err}");
    }
}

#[test]
fn the_tokenizer_refuses_a_vocabulary_beyond_the_bound() {
    let tok = fitted(None);
    let err = tok.vocab_size_at_most(8).unwrap_err().to_string();
    assert!(err.contains("beyond the bound of 8 ids"), "{err}");
    assert!(err.contains("num_words(8)"), "{err}");
    let tok = fitted(Some(8));
    assert_eq!(tok.vocab_size_at_most(8).unwrap(), 8);
    let seqs = tok.texts_to_sequences(&NEGATIVE);
    assert!(seqs.iter().flatten().all(|&id| id < 8));
}

#[test]
fn masking_and_input_length_work_with_a_run_time_vocabulary() {
    let mut model = Masked::with_vocab(5, 2);
    // GRU with `reset_after` (two bias rows), then Dense(1).
    assert_eq!(Masked::PARAMS, 3 * 2 * (4 + 2) + 2 * 3 * 2 + 2 + 1);
    assert_eq!(model.count_params(), Masked::PARAMS + 20);
    let out = model.predict(vec![vec![0u32, 0, 4]]).unwrap();
    assert_eq!(out.main().shape, vec![1, 1]);
    let summary = model.summary();
    assert!(summary.contains("(None, 3, 4)"), "{summary}");
    assert!(summary.contains("         20 │"), "{summary}");
}

#[test]
fn a_model_too_large_for_memory_is_an_error_from_try_new() {
    let Err(err) = Huge::try_new(0).map(drop) else {
        panic!("64 PB of weights were allocated");
    };
    let text = err.to_string();
    assert!(
        text.starts_with("embedding: cannot allocate 16000000000000000 parameters"),
        "{text}"
    );
    assert!(text.contains("at f32"), "{text}");
    // A model that fits builds with either constructor, to the same weights.
    let a = Sentiment::try_new(5).unwrap();
    let b = Sentiment::new(5);
    assert_eq!(a.get_weights(), b.get_weights());
}
