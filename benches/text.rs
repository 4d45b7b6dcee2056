//! Tokenizing the 50,000 IMDB reviews (train and test, positive and negative) with
//! `rnn::text::Tokenizer`: `fit_on_texts`, then `texts_to_sequences`, on all cores and on one.
//!
//! `cargo bench --bench text` reads `../shared/data/imdb/aclImdb_v1_labelled.tar.gz` (beside
//! the repository) and skips with a note when it is absent.
//! `python3 benches/tokenizer_reference.py` runs this benchmark, times keras_preprocessing
//! 1.1.2 on the same texts, and prints both.

use std::fs::File;
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::read::GzDecoder;
use rnn::text::Tokenizer;

fn archive() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/imdb/aclImdb_v1_labelled.tar.gz")
}

/// The review texts, in archive order: every `aclImdb/{train,test}/{pos,neg}/*.txt`.
fn reviews(path: &Path) -> std::io::Result<Vec<String>> {
    let mut tar = tar::Archive::new(GzDecoder::new(File::open(path)?));
    let mut texts = Vec::with_capacity(50_000);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let parts: Vec<&str> = name.split('/').collect();
        let review = matches!(
            parts.as_slice(),
            ["aclImdb", "train" | "test", "pos" | "neg", file] if file.ends_with(".txt")
        );
        if review {
            let mut text = String::new();
            entry.read_to_string(&mut text)?;
            texts.push(text);
        }
    }
    Ok(texts)
}

fn tokenize(c: &mut Criterion) {
    let path = archive();
    let texts = match reviews(&path) {
        Ok(texts) => texts,
        Err(e) => {
            eprintln!("skipping the tokenizer benchmark: {}: {e}", path.display());
            return;
        }
    };
    let bytes: usize = texts.iter().map(String::len).sum();
    eprintln!("{} reviews, {bytes} bytes", texts.len());
    let mut fitted = Tokenizer::new();
    fitted.fit_on_texts(&texts);
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");

    let mut group = c.benchmark_group("text");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("fit_on_texts/imdb 50k", |b| {
        b.iter(|| {
            let mut tok = Tokenizer::new();
            tok.fit_on_texts(black_box(&texts));
            tok
        })
    });
    group.bench_function("texts_to_sequences/imdb 50k", |b| {
        b.iter(|| fitted.texts_to_sequences(black_box(&texts)))
    });
    group.bench_function("fit_on_texts/imdb 50k 1 thread", |b| {
        b.iter(|| {
            one_thread.install(|| {
                let mut tok = Tokenizer::new();
                tok.fit_on_texts(black_box(&texts));
                tok
            })
        })
    });
    group.bench_function("texts_to_sequences/imdb 50k 1 thread", |b| {
        b.iter(|| one_thread.install(|| fitted.texts_to_sequences(black_box(&texts))))
    });
    group.finish();
}

criterion_group!(benches, tokenize);
criterion_main!(benches);
