//! Replays the fuzz targets' committed corpus (`fuzz/corpus/NAME/`) and a few thousand
//! seeded mutations of it on the stable toolchain, so every `cargo test` runs the targets the
//! nightly fuzzer runs for millions of inputs (`cargo +nightly fuzz run NAME`, see README).

#[allow(dead_code)]
#[path = "../fuzz/targets.rs"]
mod targets;

use rnn::rand::RngExt;
use std::path::Path;

/// Mutations per target on top of the corpus: enough to reach every branch of the small
/// parsers from their seeds, few enough to keep the debug-build test under a few seconds.
const MUTATIONS: usize = 300;

fn replay(name: &str, target: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| std::fs::read(entry.expect("a corpus entry").path()).expect("a corpus file"))
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{}: no corpus", dir.display());
    for seed in &seeds {
        target(seed);
    }
    let mut rng = rnn::seeded_rng(0x5eed);
    for _ in 0..MUTATIONS {
        let mut input = seeds[rng.random_range(0..seeds.len())].clone();
        for _ in 0..rng.random_range(1..8) {
            mutate(&mut input, &mut rng);
        }
        target(&input);
    }
}

/// libFuzzer's simplest mutations: flip, overwrite, insert, delete, truncate.
fn mutate(input: &mut Vec<u8>, rng: &mut rnn::Rng) {
    let at = if input.is_empty() {
        0
    } else {
        rng.random_range(0..input.len())
    };
    match rng.random_range(0..5) {
        0 if !input.is_empty() => input[at] ^= 1 << rng.random_range(0..8),
        1 if !input.is_empty() => input[at] = rng.random(),
        2 => input.insert(at, rng.random()),
        3 if !input.is_empty() => {
            input.remove(at);
        }
        _ => input.truncate(at),
    }
}

#[test]
fn checkpoint() {
    replay("checkpoint", targets::checkpoint);
}

#[test]
fn input() {
    replay("input", targets::input);
}

#[test]
fn targets() {
    replay("targets", targets::targets);
}

#[test]
fn tokenizer_json() {
    replay("tokenizer_json", targets::tokenizer_json);
}

#[test]
fn datasets() {
    replay("datasets", targets::datasets);
}

#[test]
fn keras() {
    replay("keras", targets::keras);
}

#[test]
fn torch() {
    replay("torch", targets::torch);
}
