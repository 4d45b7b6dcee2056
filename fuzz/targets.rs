//! What each fuzz target does with its input, shared by the libFuzzer binaries
//! (`fuzz/fuzz_targets/*.rs`, `cargo +nightly fuzz run NAME`) and by `tests/fuzz_corpus.rs`,
//! which replays the committed corpus on the stable toolchain in every `cargo test`.
//!
//! A target passes when it returns: every input, however malformed, must give `Ok` or an
//! `Err`, never a panic, an abort or a crash, and an error must leave the model unchanged.

use rnn::interop::torch::TorchNames;
use rnn::prelude::*;
use rnn::{checkpoint, datasets, text::Tokenizer};
use std::io::{Read, Write};
use std::sync::OnceLock;

rnn::model! {
    /// A small model with every kind of weight the checkpoints hold.
    #[derive(Clone)]
    pub struct Tokens = Embedding(20, 4) => LSTM(3, return_sequences = true) => GRU(2) => Dense(3, softmax);
    /// A model fed float sequences.
    pub struct Floats = Input(_, 3) => SimpleRNN(2) => Dense(1, sigmoid);
    /// The model of `tests/fixtures/keras_io/simple_rnn.*`, whose files seed the `keras` corpus.
    pub struct KerasSimple = Embedding(12, 4) => SimpleRNN(5) => Dense(1, sigmoid);
    /// The model of `tests/fixtures/keras_io/*masked_bidirectional.*`.
    pub struct KerasBidirectional = Embedding(12, 4, mask_zero = true)
        => Bidirectional(GRU(3, return_sequences = true), merge_mode = sum)
        => Bidirectional(LSTM(2))
        => Dense(1, sigmoid);
    /// The model of `tests/fixtures/torch_io/embedding_lstm.*`.
    #[derive(Clone)]
    pub struct TorchLstm = Embedding(30, 6) => LSTM(8) => Dense(3, softmax);
    /// The model of `tests/fixtures/torch_io/bidir_gru_sequences.*`.
    #[derive(Clone)]
    pub struct TorchBidirectional = Input(6, 3) => Bidirectional(GRU(4, return_sequences = true))
        => Dense(3, softmax);
}

/// A copy of the model `new` builds, built once per process: building one (the random and
/// orthogonal initialisers) takes longer than checking most inputs, and every input starts
/// from the same weights.
fn fresh<M: Clone + Send + Sync>(built: &'static OnceLock<M>, new: impl FnOnce() -> M) -> M {
    built.get_or_init(new).clone()
}

static TOKENS: OnceLock<Tokens> = OnceLock::new();
static TORCH_LSTM: OnceLock<TorchLstm> = OnceLock::new();
static TORCH_BIDIRECTIONAL: OnceLock<TorchBidirectional> = OnceLock::new();

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
    let mut model = fresh(&TOKENS, || Tokens::new(1));
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
    let mut model = fresh(&TOKENS, || Tokens::new(1));
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

/// The `config.json` of a `.keras` archive of [`KerasSimple`], for the inputs that are only
/// the weights file of an archive.
fn keras_simple_config() -> &'static [u8] {
    static CONFIG: OnceLock<Vec<u8>> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let archive = include_bytes!("../tests/fixtures/keras_io/simple_rnn.keras");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&archive[..]))
            .expect("the fixture is a zip archive");
        let mut config = Vec::new();
        zip.by_name("config.json")
            .expect("the fixture has a config")
            .read_to_end(&mut config)
            .expect("the fixture's config reads");
        config
    })
}

/// A `.keras` archive holding the fixture's config and `weights` as its weights file, so
/// the fuzzer's changes to the HDF5 file are not all stopped by the archive's checksums.
fn keras_archive(weights: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in [
        ("config.json", keras_simple_config()),
        ("model.weights.h5", weights),
    ] {
        zip.start_file(name, options)
            .expect("an archive in memory is writable");
        zip.write_all(bytes)
            .expect("an archive in memory is writable");
    }
    zip.finish()
        .expect("an archive in memory is writable")
        .into_inner()
}

/// Whether loading `bytes` (as `load_keras_bytes`, or from a file by `load_keras` when
/// `from_file`) into `model` either succeeds or fails leaving the weights unchanged.
fn keras_load<M: KerasModel>(mut model: M, bytes: &[u8], from_file: bool) {
    let before = model.get_weights();
    let result = if from_file {
        let path = scratch(bytes, "keras");
        let result = model.load_keras(&path);
        let _ = std::fs::remove_file(&path);
        result
    } else {
        model.load_keras_bytes("fuzz.keras", bytes)
    };
    if result.is_err() {
        assert_eq!(
            model.get_weights(),
            before,
            "a failed load changed the weights"
        );
    }
}

/// The Keras importer: `.keras` archives, `.weights.h5` and legacy `.h5` files (the loader
/// tells them apart by their first bytes). The first byte picks how the rest is loaded:
/// 0 as a file's bytes into [`KerasSimple`], 1 as the weights file of an archive with
/// [`KerasSimple`]'s config, 2 from a path into [`KerasSimple`], 3 as a file's bytes into
/// [`KerasBidirectional`].
pub fn keras(data: &[u8]) {
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    match how % 4 {
        0 => keras_load(KerasSimple::new(1), rest, false),
        1 => keras_load(KerasSimple::new(1), &keras_archive(rest), false),
        2 => keras_load(KerasSimple::new(1), rest, true),
        _ => keras_load(KerasBidirectional::new(1), rest, false),
    }
}

/// The PyTorch importer: a safetensors state dict into a model, with the module names
/// given or found by the loader. The first byte picks the model and the names: 0 and 1
/// [`TorchLstm`], 2 and 3 [`TorchBidirectional`]; even with the names of its fixture, odd
/// with the default names.
pub fn torch(data: &[u8]) {
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    let path = scratch(rest, "safetensors");
    let names = |pairs: &[(&str, &str)]| {
        if how % 2 == 0 {
            TorchNames::new(pairs.iter().copied())
        } else {
            TorchNames::default()
        }
    };
    if how % 4 < 2 {
        let names = names(&[("embedding", "embedding"), ("rnn", "lstm"), ("fc", "dense")]);
        torch_load(fresh(&TORCH_LSTM, || TorchLstm::new(1)), &path, &names);
    } else {
        let names = names(&[("rnn", "bidirectional"), ("fc", "dense")]);
        torch_load(
            fresh(&TORCH_BIDIRECTIONAL, || TorchBidirectional::new(1)),
            &path,
            &names,
        );
    }
    let _ = std::fs::remove_file(&path);
}

/// Whether loading the state dict at `path` into `model` either succeeds or fails leaving
/// the weights unchanged.
fn torch_load<M: KerasModel>(mut model: M, path: &std::path::Path, names: &TorchNames) {
    let before = model.get_weights();
    if model.load_torch(path, names).is_err() {
        assert_eq!(
            model.get_weights(),
            before,
            "a failed load changed the weights"
        );
    }
}
