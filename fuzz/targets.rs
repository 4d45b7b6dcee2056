//! What each fuzz target does with its input, shared by the libFuzzer binaries
//! (`fuzz/fuzz_targets/*.rs`, `cargo +nightly fuzz run NAME`) and by `tests/fuzz_corpus.rs`,
//! which replays the committed corpus on the stable toolchain in every `cargo test`.
//!
//! A target passes when it returns: every input, however malformed, must give `Ok` or an
//! `Err`, never a panic, an abort or a crash, and an error must leave the model unchanged.

use rnn::prelude::*;
use rnn::{checkpoint, datasets, text::Tokenizer};
use std::io::Write;

rnn::model! {
    /// A small model with every kind of weight the checkpoints hold.
    pub struct Tokens = Embedding(20, 4) => LSTM(3, return_sequences = true) => GRU(2) => Dense(3, softmax);
    /// A model fed float sequences.
    pub struct Floats = Input(_, 3) => SimpleRNN(2) => Dense(1, sigmoid);
}

/// Reads little-endian numbers off the front of the input; missing bytes read as zero.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }
    /// A size that is usually small and sometimes huge, so both the checks on small shapes and
    /// the overflow checks are reached.
    fn size(&mut self) -> usize {
        match self.u8() {
            0xff => usize::MAX - usize::from(self.u8()),
            0xfe => (1usize << 62) + usize::from(self.u8()),
            0xfd => (1usize << 32) + usize::from(self.u8()),
            n => usize::from(n % 8),
        }
    }
    fn f32s(self) -> Vec<f32> {
        self.0
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// A scratch file of the fuzzer's bytes; the loaders under test take paths.
fn scratch(data: &[u8], ext: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "rnn-fuzz-{}-{:?}.{ext}",
        std::process::id(),
        std::thread::current().id()
    ));
    let mut file = std::fs::File::create(&path).expect("the temporary directory is writable");
    file.write_all(data)
        .expect("the temporary directory is writable");
    path
}

/// `checkpoint::load` and `load_weights` on arbitrary bytes.
pub fn checkpoint(data: &[u8]) {
    let path = scratch(data, "safetensors");
    let _ = checkpoint::load(&path);
    let mut model = Tokens::new(1);
    let before = model.get_weights();
    if model.load_weights(&path).is_err() {
        assert_eq!(
            model.get_weights(),
            before,
            "a failed load changed the weights"
        );
    }
    let _ = std::fs::remove_file(&path);
}

/// Flat buffers with arbitrary shapes into every input conversion, then `predict`.
pub fn input(data: &[u8]) {
    let mut b = Bytes(data);
    let (batch, time) = (b.size(), b.size());
    let kind = b.u8() % 4;
    let values = b.f32s();
    let mut tokens = Tokens::new(1);
    let mut floats = Floats::new(1);
    match kind {
        0 => {
            let ids: Vec<u32> = values.iter().map(|v| v.to_bits() % 24).collect();
            let _ = tokens.predict((ids.as_slice(), [batch, time]));
        }
        1 => {
            let _ = floats.predict((values.as_slice(), [batch, time, 3]));
        }
        2 => {
            let rows: Vec<Vec<i64>> = values
                .chunks(time.clamp(1, 8))
                .take(batch.min(8))
                .map(|r| {
                    r.iter()
                        .map(|v| i64::from(v.to_bits() as i32) % 30)
                        .collect()
                })
                .collect();
            let _ = tokens.predict(&rows);
        }
        _ => {
            let _ = rnn::Sequence::<3>::from_batch_major(&values, batch, time);
            let _ = rnn::Features::<3>::from_flat(&values);
        }
    }
}

/// Targets of arbitrary shapes and values into `evaluate` and `train_on_batch`.
pub fn targets(data: &[u8]) {
    let mut b = Bytes(data);
    let shape = [b.size(), b.size()];
    let classes = b.u8() % 2 == 0;
    let values = b.f32s();
    let mut model = Tokens::new(1);
    model.compile(
        Loss::SparseCategoricalCrossentropy { from_logits: false },
        Adam::default(),
        &[Metric::Accuracy],
    );
    let x = vec![vec![1u32, 2, 3]; 2];
    let before = model.get_weights();
    let result = if classes {
        let ids: Vec<u32> = values.iter().map(|v| v.to_bits() % 5).collect();
        let _ = model.evaluate(&x, (ids.as_slice(), shape), 2);
        model.train_on_batch(&x, (ids.as_slice(), shape))
    } else {
        let _ = model.evaluate(&x, (values.as_slice(), shape), 2);
        model.train_on_batch(&x, (values.as_slice(), shape))
    };
    if result.is_err() {
        assert_eq!(
            model.get_weights(),
            before,
            "a failed step changed the weights"
        );
    }
}

/// `Tokenizer::from_json` on arbitrary text, then the tokenizer's round trips.
pub fn tokenizer_json(data: &[u8]) {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tokenizer) = Tokenizer::from_json(json) {
        let ids = tokenizer.texts_to_sequences(&["the cat sat", json]);
        let _ = tokenizer.sequences_to_texts(&ids);
        let again = Tokenizer::from_json(&tokenizer.to_json());
        assert!(again.is_ok(), "a tokenizer's own JSON must load: {again:?}");
    }
}

/// The data-set readers that parse text or archives: the sarcasm CSV, Reuters' SGML, the
/// IMDB archive.
pub fn datasets(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                let _ = datasets::Sarcasm::from_csv(text, "fuzz.csv");
            }
        }
        1 => {
            let text: String = rest.iter().map(|&b| char::from(b)).collect();
            let _ = datasets::reuters::parse_sgml(&text, "fuzz.sgm");
        }
        _ => {
            let options = datasets::ImdbOptions {
                per_folder: Some(4),
            };
            let _ = datasets::Imdb::from_reader(rest, "fuzz.tar.gz", &options);
        }
    }
}
