//! Generation with real models: stepping gives the ids that re-running `predict` on the
//! whole sequence gives, with the same sampler and seed (word and character models, SimpleRNN,
//! LSTM, GRU, stacked, one-hot input); the window path gives the tutorials' ids; a fixed seed
//! gives the same text; bad seeds and models are clear errors; and the Korean proverbs of the
//! word-generation tutorial come back word for word after training.

use rnn::generate::{
    OneHot, Sampler, generate_chars, generate_ids, generate_ids_window, generate_words,
    generate_words_window,
};
use rnn::prelude::*;
use rnn::text::{Tokenizer, ngram_sequences};
use rnn::{ModelOutput, seeded_rng};

model! { struct WordRnn = Embedding(12, 6) => SimpleRNN(8) => Dense(12, softmax); }
model! { struct WordLstm = Embedding(12, 6) => LSTM(8) => Dense(12, softmax); }
model! { struct WordGru = Embedding(12, 6) => GRU(8) => Dense(12, softmax); }
model! {
    struct WordStacked = Embedding(12, 6) => LSTM(8, return_sequences = true)
        => GRU(7, return_sequences = true) => SimpleRNN(6) => Dense(12, softmax);
}
model! {
    struct CharOneHot = Input(_, 9) => LSTM(10, return_sequences = true)
        => LSTM(10, return_sequences = true) => TimeDistributed(Dense(9, softmax));
}
model! {
    struct CharEmbedded = Embedding(9, 5) => GRU(10, return_sequences = true)
        => TimeDistributed(Dense(9, softmax));
}
model! { struct Masked = Embedding(12, 6, mask_zero = true) => LSTM(8) => Dense(12, softmax); }
model! { struct BiWord = Embedding(12, 6) => Bidirectional(LSTM(5)) => Dense(12, softmax); }
model! { struct Sigmoid = Embedding(12, 6) => LSTM(8) => Dense(12, sigmoid); }

const SAMPLERS: [Sampler; 4] = [
    Sampler::Greedy,
    Sampler::Temperature(0.9),
    Sampler::TopK {
        k: 4,
        temperature: 1.2,
    },
    Sampler::TopP {
        p: 0.8,
        temperature: 1.0,
    },
];

/// The last time step's row of a prediction: the whole output for last-output models.
fn last_row(out: &Array) -> Vec<f32> {
    let v = *out.shape.last().unwrap();
    out.data[out.data.len() - v..].to_vec()
}

/// The reference: at every step, `predict` on the whole sequence so far, then a draw.
fn by_predict(
    mut predict: impl FnMut(&[u32]) -> Vec<f32>,
    prime: &[u32],
    n: usize,
    sampler: &Sampler,
    seed: u64,
) -> Vec<u32> {
    let mut rng = seeded_rng(seed);
    let mut seq = prime.to_vec();
    let mut out = Vec::new();
    for _ in 0..n {
        let id = sampler.sample(&predict(&seq), &mut rng).unwrap();
        seq.push(id);
        out.push(id);
    }
    out
}

fn check_token_model<S>(model: &mut Sequential<S>, vocab: u32)
where
    S: Stack<In = TokenBatch>,
    S::Out: ModelOutput,
{
    for (k, sampler) in SAMPLERS.iter().enumerate() {
        let seed = 100 + k as u64;
        let prime = [3, 1, 7];
        let stepped = generate_ids(model, &prime, 12, sampler, &mut seeded_rng(seed)).unwrap();
        let whole = by_predict(
            |seq| last_row(model.predict(vec![seq.to_vec()]).unwrap().main()),
            &prime,
            12,
            sampler,
            seed,
        );
        assert_eq!(stepped, whole, "{sampler:?}");
        assert!(stepped.iter().all(|&id| id < vocab));
        let again = generate_ids(model, &prime, 12, sampler, &mut seeded_rng(seed)).unwrap();
        assert_eq!(stepped, again, "{sampler:?}: the same seed, the same ids");
    }
}

#[test]
fn stepping_word_models_matches_predict() {
    check_token_model(&mut WordRnn::new(1), 12);
    check_token_model(&mut WordLstm::new(2), 12);
    check_token_model(&mut WordGru::new(3), 12);
    check_token_model(&mut WordStacked::new(4), 12);
}

#[test]
fn stepping_char_models_matches_predict() {
    check_token_model(&mut CharEmbedded::new(5), 9);

    let model = CharOneHot::new(6);
    let one_hot = |seq: &[u32]| {
        let rows: Vec<Vec<f32>> = seq
            .iter()
            .map(|&id| {
                let mut row = vec![0.0; 9];
                row[id as usize] = 1.0;
                row
            })
            .collect();
        vec![rows]
    };
    let mut predicting = CharOneHot::new(6);
    for (k, sampler) in SAMPLERS.iter().enumerate() {
        let seed = 200 + k as u64;
        let prime = [2, 5, 8, 1];
        let stepped = generate_ids(
            &mut OneHot::new(&model),
            &prime,
            15,
            sampler,
            &mut seeded_rng(seed),
        )
        .unwrap();
        let whole = by_predict(
            |seq| last_row(predicting.predict(one_hot(seq)).unwrap().main()),
            &prime,
            15,
            sampler,
            seed,
        );
        assert_eq!(stepped, whole, "{sampler:?}");
    }
}

fn char_tokenizer() -> Tokenizer {
    let mut tok = Tokenizer::builder().char_level(true).build().unwrap();
    // Eight distinct characters: ids 1..=8 of a 9-row vocabulary.
    tok.fit_on_texts(&["ten cats at noon"]);
    assert_eq!(tok.vocab_size(), 9);
    tok
}

#[test]
fn the_same_seed_gives_the_same_text() {
    let tok = char_tokenizer();
    let model = CharOneHot::new(7);
    let sampler = Sampler::Temperature(1.0);
    let text = |seed| generate_chars(&mut OneHot::new(&model), &tok, "ten", 40, &sampler, seed);
    let first = text(11).unwrap();
    assert_eq!(first, text(11).unwrap());
    assert_ne!(first, text(12).unwrap());
    assert!(first.starts_with("ten"));
    // The text is the seed and the drawn ids' characters (the padding id 0 adds none).
    let prime = tok.text_to_sequence("ten");
    let ids = generate_ids(
        &mut OneHot::new(&model),
        &prime,
        40,
        &sampler,
        &mut seeded_rng(11),
    );
    let decoded: String = ids
        .unwrap()
        .iter()
        .map(|&id| tok.word(id).unwrap_or(""))
        .collect();
    assert_eq!(first, format!("ten{decoded}"));

    let mut words = Tokenizer::new();
    words.fit_on_texts(&["one two three four five six seven eight nine ten eleven"]);
    let mut model = WordLstm::new(8);
    let text = |model: &mut WordLstm, seed| {
        generate_words(&mut **model, &words, "Two three", 6, &sampler, seed).unwrap()
    };
    let first = text(&mut model, 3);
    assert_eq!(first, text(&mut model, 3));
    assert!(first.starts_with("Two three "));
    // Greedy text decodes the greedy ids.
    let ids = generate_ids(
        &mut *model,
        &[2, 3],
        6,
        &Sampler::Greedy,
        &mut seeded_rng(0),
    );
    let decoded: Vec<&str> = ids
        .unwrap()
        .iter()
        .map(|&id| words.word(id).unwrap_or(""))
        .collect();
    let greedy = generate_words(&mut *model, &words, "two three", 6, &Sampler::Greedy, 9);
    assert_eq!(greedy.unwrap(), format!("two three {}", decoded.join(" ")));
}

#[test]
fn the_window_path_is_the_tutorials_loop() {
    let mut model = BiWord::new(9);
    let window = 5;
    for (k, sampler) in SAMPLERS.iter().enumerate() {
        let seed = 300 + k as u64;
        let prime = [4, 2];
        let got = generate_ids_window(
            &mut *model,
            &prime,
            10,
            window,
            sampler,
            &mut seeded_rng(seed),
        )
        .unwrap();
        // The tutorial: pad_sequences([ids], maxlen = window, padding = 'pre') then predict.
        let mut rng = seeded_rng(seed);
        let mut ids = prime.to_vec();
        let mut want = Vec::new();
        for _ in 0..10 {
            let tail = &ids[ids.len().saturating_sub(window)..];
            let mut padded = vec![0; window - tail.len()];
            padded.extend_from_slice(tail);
            let p = last_row(model.predict(vec![padded]).unwrap().main());
            let id = sampler.sample(&p, &mut rng).unwrap();
            if id != 0 {
                ids.push(id);
            }
            want.push(id);
        }
        assert_eq!(got, want, "{sampler:?}");
    }
}

#[test]
fn with_masked_padding_the_window_path_equals_stepping() {
    // Within the window the padded ids are masked, so predicting on the window is stepping.
    let mut model = Masked::new(10);
    let mut compared = 0;
    for (k, sampler) in SAMPLERS.iter().enumerate() {
        let seed = 400 + k as u64;
        let prime = [5, 9, 1];
        let stepped = generate_ids(&mut *model, &prime, 8, sampler, &mut seeded_rng(seed));
        let windowed =
            generate_ids_window(&mut *model, &prime, 8, 16, sampler, &mut seeded_rng(seed));
        let stepped = stepped.unwrap();
        if stepped.contains(&0) {
            // A drawn padding id is fed to the step model but left out of the window.
            continue;
        }
        assert_eq!(stepped, windowed.unwrap(), "{sampler:?}");
        compared += 1;
    }
    assert!(
        compared >= 2,
        "only {compared} runs without a drawn padding id"
    );
}

#[test]
fn bad_seeds_and_models_are_clear_errors() {
    let mut words = Tokenizer::new();
    words.fit_on_texts(&["one two three four five"]);
    let mut model = WordGru::new(11);
    let greedy = Sampler::Greedy;

    // Unknown words are dropped, as texts_to_sequences drops them...
    let text = generate_words(&mut *model, &words, "zero two", 3, &greedy, 0).unwrap();
    let known = generate_words(&mut *model, &words, "two", 3, &greedy, 0).unwrap();
    assert_eq!(text.strip_prefix("zero two"), known.strip_prefix("two"));
    // ...so a seed of unknown words leaves nothing to start from.
    let err = generate_words(&mut *model, &words, "zero nine", 3, &greedy, 0).unwrap_err();
    assert!(
        err.to_string().contains("no token the tokenizer knows"),
        "{err}"
    );
    let err = generate_words_window(&mut *model, &words, "", 3, 4, &greedy, 0).unwrap_err();
    assert!(
        err.to_string().contains("no token the tokenizer knows"),
        "{err}"
    );
    // With an OOV token, unknown words become its id and generation goes on.
    let mut oov = Tokenizer::builder().oov_token("<OOV>").build().unwrap();
    oov.fit_on_texts(&["one two three four five"]);
    assert!(generate_words(&mut *model, &oov, "zero nine", 3, &greedy, 0).is_ok());

    let err = generate_ids(&mut *model, &[], 3, &greedy, &mut seeded_rng(0)).unwrap_err();
    assert!(err.to_string().contains("the prime is empty"), "{err}");
    // n = 0: nothing generated, the seed text as it was.
    assert!(
        generate_ids(&mut *model, &[1], 0, &greedy, &mut seeded_rng(0))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        generate_words(&mut *model, &words, "Two", 0, &greedy, 0).unwrap(),
        "Two"
    );
    // Ids beyond the embedding.
    let err = generate_ids(&mut *model, &[12], 3, &greedy, &mut seeded_rng(0)).unwrap_err();
    assert!(err.to_string().contains("12"), "{err}");
    let err = generate_chars(&mut *model, &words, "two", 3, &greedy, 0).unwrap_err();
    assert!(err.to_string().contains("word-level"), "{err}");

    // A model without a softmax output has nothing to draw from.
    let err = generate_ids(&mut *Sigmoid::new(0), &[1], 3, &greedy, &mut seeded_rng(0));
    assert!(err.unwrap_err().to_string().contains("softmax"));
    let err = generate_ids_window(
        &mut *Sigmoid::new(0),
        &[1],
        3,
        4,
        &greedy,
        &mut seeded_rng(0),
    );
    assert!(err.unwrap_err().to_string().contains("softmax"));
    // A Bidirectional model cannot step, and says so; the window path works.
    let err = generate_ids(&mut *BiWord::new(0), &[1], 3, &greedy, &mut seeded_rng(0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bidirectional"), "{err}");
    let err = generate_ids_window(
        &mut *BiWord::new(0),
        &[1],
        3,
        0,
        &greedy,
        &mut seeded_rng(0),
    );
    assert!(err.unwrap_err().to_string().contains("window is 0"));
}

model! {
    /// The tutorial's word model over the proverbs' 11 words plus padding.
    struct Proverbs = Embedding(12, 10) => SimpleRNN(32) => Dense(12, softmax);
}

const SENTENCES: [&str; 3] = [
    "경마장에 있는 말이 뛰고 있다",
    "그의 말이 법이다",
    "가는 말이 고와야 오는 말이 곱다",
];

#[test]
fn the_proverbs_come_back_after_training() {
    let mut tok = Tokenizer::new();
    tok.fit_on_texts(&SENTENCES);
    assert_eq!(tok.vocab_size(), 12);
    let grams = ngram_sequences(&tok.texts_to_sequences(&SENTENCES)).unwrap();
    let window = Tensor::shape(&grams.inputs)[1];
    assert_eq!((grams.targets.len(), window), (11, 5));

    let mut model = Proverbs::new(0);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::default(),
        &[Metric::Accuracy],
    );
    let history = model
        .fit(
            &grams.inputs,
            &grams.targets,
            Fit::new().epochs(200).verbose(0),
        )
        .unwrap();
    let loss = history.loss().last().copied().unwrap();
    for sentence in SENTENCES {
        let (first, rest) = sentence.split_once(' ').unwrap();
        let n = rest.split(' ').count();
        let text = generate_words_window(&mut *model, &tok, first, n, window, &Sampler::Greedy, 0);
        assert_eq!(text.unwrap(), sentence, "final loss {loss}");
    }
}
