//! Text preprocessing against keras_preprocessing 1.1.2 and Keras 3 (fixtures written by
//! `tools/gen_text_fixtures.py`), and generation with a mock step model.

use std::collections::BTreeMap;

use rnn::generate::{Sampler, StepModel, generate_chars, generate_words};
use rnn::text::{
    Pad, Tokenizer, ngram_sequences, pad_sequences, pad_sequences_vec, to_categorical,
};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/text/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn ids(v: &Value) -> Vec<Vec<u32>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn build(config: &Value) -> Tokenizer {
    let mut b = Tokenizer::builder();
    let c = config.as_object().unwrap();
    if let Some(n) = c.get("num_words") {
        b = b.num_words(n.as_u64().unwrap() as usize);
    }
    if let Some(f) = c.get("filters") {
        b = b.filters(f.as_str().unwrap());
    }
    if let Some(l) = c.get("lower") {
        b = b.lower(l.as_bool().unwrap());
    }
    if let Some(s) = c.get("split") {
        b = b.split(s.as_str().unwrap());
    }
    if let Some(c) = c.get("char_level") {
        b = b.char_level(c.as_bool().unwrap());
    }
    if let Some(o) = c.get("oov_token") {
        b = b.oov_token(o.as_str().unwrap());
    }
    b.build().unwrap()
}

fn fitted(case: &Value) -> Tokenizer {
    let mut tok = build(&case["config"]);
    for texts in case["fits"].as_array().unwrap() {
        tok.fit_on_texts(&strings(texts));
    }
    tok
}

/// The five maps and the count, as Python has them (word_docs and index_docs unordered:
/// Python fills them from a set).
fn assert_state(tok: &Tokenizer, case: &Value) {
    let name = case["name"].as_str().unwrap();
    let word_index: Vec<(String, u32)> =
        serde_json::from_value(case["word_index"].clone()).unwrap();
    let got: Vec<(String, u32)> = tok.word_index().map(|(w, i)| (w.to_string(), i)).collect();
    assert_eq!(got, word_index, "{name}: word_index");
    let index_word: Vec<(u32, String)> =
        serde_json::from_value(case["index_word"].clone()).unwrap();
    let got: Vec<(u32, String)> = tok.index_word().map(|(i, w)| (i, w.to_string())).collect();
    assert_eq!(got, index_word, "{name}: index_word");
    let counts: Vec<(String, u64)> = serde_json::from_value(case["word_counts"].clone()).unwrap();
    let got: Vec<(String, u64)> = tok.word_counts().map(|(w, c)| (w.to_string(), c)).collect();
    assert_eq!(got, counts, "{name}: word_counts");
    let docs: BTreeMap<String, u64> = serde_json::from_value(case["word_docs"].clone()).unwrap();
    let got: BTreeMap<String, u64> = tok.word_docs().map(|(w, c)| (w.to_string(), c)).collect();
    assert_eq!(got, docs, "{name}: word_docs");
    let index_docs: BTreeMap<String, u64> =
        serde_json::from_value(case["index_docs"].clone()).unwrap();
    let got: BTreeMap<String, u64> = tok.index_docs().map(|(i, c)| (i.to_string(), c)).collect();
    assert_eq!(got, index_docs, "{name}: index_docs");
    assert_eq!(
        tok.document_count(),
        case["document_count"].as_u64().unwrap(),
        "{name}: document_count"
    );
    let seqs = tok.texts_to_sequences(&strings(&case["queries"]));
    assert_eq!(seqs, ids(&case["sequences"]), "{name}: texts_to_sequences");
    let texts = tok.sequences_to_texts(&ids(&case["decode"]));
    assert_eq!(texts, strings(&case["texts"]), "{name}: sequences_to_texts");
}

fn tokenizer_cases() -> Vec<Value> {
    fixture("tokenizers.json")["cases"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn tokenizers_match_keras_preprocessing() {
    let cases = tokenizer_cases();
    assert!(cases.len() >= 15);
    for case in &cases {
        assert_state(&fitted(case), case);
    }
}

#[test]
fn python_saved_tokenizers_load_and_save_byte_for_byte() {
    for case in tokenizer_cases() {
        let name = case["name"].as_str().unwrap();
        let json = case["to_json"].as_str().unwrap();
        let loaded = Tokenizer::from_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_state(&loaded, &case);
        // Every map keeps Python's order, so saving gives back Python's text exactly.
        assert_eq!(
            loaded.to_json(),
            json,
            "{name}: to_json of the loaded tokenizer"
        );
    }
}

#[test]
fn saved_json_has_the_python_layout_and_loads_back() {
    for case in tokenizer_cases() {
        let name = case["name"].as_str().unwrap();
        let ours = fitted(&case);
        let json = ours.to_json();
        assert_eq!(
            Tokenizer::from_json(&json).unwrap(),
            ours,
            "{name}: round trip"
        );
        // The same text as Python's, up to the order of word_docs and index_docs, which
        // Python fills from a set.
        let py: Value = serde_json::from_str(case["to_json"].as_str().unwrap()).unwrap();
        let got: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(got["class_name"], py["class_name"]);
        for (key, value) in py["config"].as_object().unwrap() {
            let mine = &got["config"][key];
            if key == "word_docs" || key == "index_docs" {
                let parse =
                    |v: &Value| -> Value { serde_json::from_str(v.as_str().unwrap()).unwrap() };
                assert_eq!(parse(mine), parse(value), "{name}: {key}");
            } else {
                assert_eq!(mine, value, "{name}: {key}");
            }
        }
        assert_eq!(
            got["config"].as_object().unwrap().len(),
            py["config"].as_object().unwrap().len()
        );
        let loaded = Tokenizer::from_json(case["to_json"].as_str().unwrap()).unwrap();
        let ordered = |t: &Tokenizer| {
            let v: Value = serde_json::from_str(&t.to_json()).unwrap();
            let c = &v["config"];
            (
                c["word_counts"].clone(),
                c["index_word"].clone(),
                c["word_index"].clone(),
            )
        };
        assert_eq!(
            ordered(&ours),
            ordered(&loaded),
            "{name}: ordered maps, byte for byte"
        );
    }
}

#[test]
fn a_loaded_tokenizer_keeps_fitting_like_the_original() {
    let case = tokenizer_cases()
        .into_iter()
        .find(|c| c["name"] == "incremental")
        .unwrap();
    let mut ours = fitted(&case);
    let mut loaded = Tokenizer::from_json(case["to_json"].as_str().unwrap()).unwrap();
    let more = ["e e e e a", "f b"];
    ours.fit_on_texts(&more);
    loaded.fit_on_texts(&more);
    let ranked = |t: &Tokenizer| {
        t.word_index()
            .map(|(w, i)| (w.to_string(), i))
            .collect::<Vec<_>>()
    };
    assert_eq!(ranked(&ours), ranked(&loaded));
    assert_eq!(ours.document_count(), loaded.document_count());
}

#[test]
fn malformed_json_is_refused_with_the_reason() {
    let case = &tokenizer_cases()[0];
    let good = case["to_json"].as_str().unwrap();
    let err = |json: &str| Tokenizer::from_json(json).unwrap_err().to_string();
    assert!(err("{not json").contains("not a saved Tokenizer"));
    assert!(err("{}").contains("missing field `config`"));
    let no_counts = good.replacen("\"word_counts\"", "\"word_countz\"", 1);
    assert!(err(&no_counts).contains("unknown field `word_countz`"));
    let bad_inner = good.replacen("\"word_index\": \"{", "\"word_index\": \"[", 1);
    assert!(err(&bad_inner).contains("`config.word_index` is not a JSON object of word -> id"));
    let negative = good.replacen(
        "\"index_word\": \"{\\\"1\\\"",
        "\"index_word\": \"{\\\"-1\\\"",
        1,
    );
    assert!(
        err(&negative).contains("`config.index_word`"),
        "{}",
        err(&negative)
    );
    let empty_split = good.replacen("\"split\": \" \"", "\"split\": \"\"", 1);
    assert!(err(&empty_split).contains("`split` is empty"));
    let extra_doc = good.replacen(
        "\"word_docs\": \"{",
        "\"word_docs\": \"{\\\"zzz\\\": 1, ",
        1,
    );
    assert!(err(&extra_doc).contains("`word_docs` has the word \"zzz\""));
    let wrong_type = good.replacen("\"lower\": true", "\"lower\": \"yes\"", 1);
    assert!(err(&wrong_type).contains("invalid type"));
}

#[test]
fn parallel_fit_and_encoding_equal_the_sequential_ones() {
    // Enough texts for many parallel slices, with many ties in the counts.
    let words = [
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
    ];
    let mut state = 7u64;
    let texts: Vec<String> = (0..3000)
        .map(|i| {
            let n = i % 7;
            (0..n)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let w = words[(state >> 60) as usize % words.len()];
                    format!("{w}{}", (state >> 40) % 50)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let mut parallel = Tokenizer::builder()
        .oov_token("<OOV>")
        .num_words(200)
        .build()
        .unwrap();
    parallel.fit_on_texts(&texts);
    let mut sequential = Tokenizer::builder()
        .oov_token("<OOV>")
        .num_words(200)
        .build()
        .unwrap();
    for text in &texts {
        sequential.fit_on_texts(&[text]);
    }
    // Everything in the same order, except index_docs, whose order records the history of
    // fits (in Python too): compare it as a map.
    let ordered = |t: &Tokenizer| {
        let owned = |it: &mut dyn Iterator<Item = (&str, u64)>| {
            it.map(|(w, c)| (w.to_string(), c)).collect::<Vec<_>>()
        };
        let index: Vec<(String, u32)> = t.word_index().map(|(w, i)| (w.to_string(), i)).collect();
        let words: Vec<(u32, String)> = t.index_word().map(|(i, w)| (i, w.to_string())).collect();
        let docs: BTreeMap<u32, u64> = t.index_docs().collect();
        (
            index,
            words,
            owned(&mut t.word_counts()),
            owned(&mut t.word_docs()),
            docs,
            t.document_count(),
        )
    };
    assert_eq!(ordered(&parallel), ordered(&sequential));
    let encoded = parallel.texts_to_sequences(&texts);
    let one_by_one: Vec<Vec<u32>> = texts.iter().map(|t| parallel.text_to_sequence(t)).collect();
    assert_eq!(encoded, one_by_one);
    assert!(encoded.iter().flatten().any(|&i| i == 1));
}

#[test]
fn pad_sequences_match_keras() {
    let cases = fixture("pad_sequences.json")["cases"]
        .as_array()
        .unwrap()
        .clone();
    assert!(cases.len() >= 46);
    for case in cases {
        let seqs = ids(&case["sequences"]);
        let maxlen = case["maxlen"].as_u64().map(|m| m as usize);
        let pad = |v: &Value| if v == "pre" { Pad::Pre } else { Pad::Post };
        let (padding, truncating) = (pad(&case["padding"]), pad(&case["truncating"]));
        let value = case["value"].as_u64().unwrap() as u32;
        let rows = pad_sequences_vec(&seqs, maxlen, padding, truncating, value);
        let batch = pad_sequences(&seqs, maxlen, padding, truncating, value);
        let what = format!("{seqs:?} maxlen {maxlen:?} {padding:?}/{truncating:?} value {value}");
        if case.get("error").is_some() || maxlen == Some(0) {
            // Keras fails here, or (maxlen 0, truncating post) returns rows of no steps,
            // which no model takes: both are errors.
            assert!(rows.is_err() && batch.is_err(), "{what}");
            continue;
        }
        let want = ids(&case["result"]);
        assert_eq!(rows.unwrap(), want, "{what}");
        let shape: Vec<usize> = serde_json::from_value(case["shape"].clone()).unwrap();
        if shape.contains(&0) {
            assert!(batch.is_err(), "{what}: an empty batch");
        } else {
            let batch = batch.unwrap();
            assert_eq!(
                (batch.batch(), batch.time()),
                (shape[0], shape[1]),
                "{what}"
            );
            assert_eq!(batch.ids(), want.concat().as_slice(), "{what}");
        }
    }
}

#[test]
fn pad_sequences_errors_say_what_to_do() {
    let none: Vec<Vec<u32>> = vec![];
    let err = pad_sequences_vec(&none, None, Pad::Pre, Pad::Pre, 0).unwrap_err();
    assert!(err.to_string().contains("give maxlen"));
    let err = pad_sequences(&[vec![1]], Some(0), Pad::Pre, Pad::Pre, 0).unwrap_err();
    assert!(err.to_string().contains("maxlen is 0"));
}

#[test]
fn to_categorical_matches_keras() {
    for case in fixture("to_categorical.json")["cases"].as_array().unwrap() {
        let ids: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let classes = case["num_classes"].as_u64().map(|n| n as usize);
        let want: Vec<Vec<f32>> = serde_json::from_value(case["result"].clone()).unwrap();
        assert_eq!(
            to_categorical(&ids, classes).unwrap(),
            want,
            "{ids:?} {classes:?}"
        );
    }
    let err = to_categorical(&[1, 5], Some(3)).unwrap_err().to_string();
    assert!(err.contains("class id 5 in target row 1"), "{err}");
    assert!(to_categorical(&[], None).is_err());
}

#[test]
fn ngram_expansion_matches_the_tutorial() {
    let f = fixture("ngrams.json");
    let mut tok = Tokenizer::new();
    let corpus = strings(&f["corpus"]);
    tok.fit_on_texts(&corpus);
    assert_eq!(tok.vocab_size() as u64, f["total_words"].as_u64().unwrap());
    let seqs = tok.texts_to_sequences(&corpus);
    assert_eq!(seqs, ids(&f["sequences"]));
    let grams = ngram_sequences(&seqs).unwrap();
    let inputs = ids(&f["inputs"]);
    assert_eq!(grams.inputs.batch(), inputs.len());
    assert_eq!(
        grams.inputs.time() as u64,
        f["max_sequence_len"].as_u64().unwrap() - 1
    );
    assert_eq!(grams.inputs.ids(), inputs.concat().as_slice());
    let targets: Vec<u32> = serde_json::from_value(f["targets"].clone()).unwrap();
    assert_eq!(grams.targets, targets);
    let onehot: Vec<Vec<f32>> = serde_json::from_value(f["targets_categorical"].clone()).unwrap();
    assert_eq!(
        to_categorical(&grams.targets, Some(tok.vocab_size())).unwrap(),
        onehot
    );
    assert!(ngram_sequences(&[vec![3], vec![]]).is_err());
}

#[test]
fn empty_texts_give_empty_sequences() {
    let mut tok = Tokenizer::new();
    tok.fit_on_texts(&["", "  ", "!!!"]);
    assert_eq!(tok.document_count(), 3);
    assert_eq!(tok.word_index().len(), 0);
    assert_eq!(
        tok.texts_to_sequences(&["", "word"]),
        vec![Vec::<u32>::new(), vec![]]
    );
    let none: [&str; 0] = [];
    assert!(tok.texts_to_sequences(&none).is_empty());
}

/// A model that predicts, after each id, the distribution of the next id in a table.
struct Bigram {
    vocab: usize,
    next: Vec<Vec<(u32, f32)>>,
}

impl StepModel for Bigram {
    type State = Vec<f32>;
    fn start(&mut self, batch: usize) -> rnn::Result<Vec<f32>> {
        Ok(vec![0.0; batch * self.vocab])
    }
    fn feed<'s>(&mut self, state: &'s mut Vec<f32>, ids: &[u32]) -> rnn::Result<&'s [f32]> {
        state.fill(0.0);
        for (row, &id) in state.chunks_exact_mut(self.vocab).zip(ids) {
            for &(next, p) in &self.next[id as usize] {
                row[next as usize] = p;
            }
        }
        Ok(state)
    }
}

#[test]
fn generates_words_and_chars_with_a_bigram_model() {
    let mut tok = Tokenizer::new();
    tok.fit_on_texts(&["the cat sat on the mat the end"]);
    // the=1, cat=2, sat=3, on=4, mat=5, end=6.
    let id = |w: &str| tok.index_of(w).unwrap();
    let mut next = vec![vec![]; 7];
    next[id("the") as usize] = vec![(id("cat"), 0.5), (id("mat"), 0.3), (id("end"), 0.2)];
    next[id("cat") as usize] = vec![(id("sat"), 1.0)];
    next[id("sat") as usize] = vec![(id("on"), 1.0)];
    next[id("on") as usize] = vec![(id("the"), 1.0)];
    next[id("mat") as usize] = vec![(id("the"), 1.0)];
    next[id("end") as usize] = vec![(0, 1.0)];
    next[0] = vec![(0, 1.0)];
    let mut model = Bigram { vocab: 7, next };
    let text = generate_words(&mut model, &tok, "The", 4, &Sampler::Greedy, 0).unwrap();
    assert_eq!(text, "The cat sat on the");
    let sampler = Sampler::TopK {
        k: 2,
        temperature: 1.0,
    };
    let a = generate_words(&mut model, &tok, "on", 40, &sampler, 9).unwrap();
    assert_eq!(
        a,
        generate_words(&mut model, &tok, "on", 40, &sampler, 9).unwrap()
    );
    // TopK 2 after "the" never picks "end".
    assert!(
        !a.contains("end") && a.contains("mat") && a.contains("cat"),
        "{a}"
    );
    // The tutorials' padding id 0 has no word and adds only the space.
    let mut only_end = model;
    only_end.next[id("the") as usize] = vec![(id("end"), 1.0)];
    let text = generate_words(&mut only_end, &tok, "the", 3, &Sampler::Greedy, 0).unwrap();
    assert_eq!(text, "the end  ");
    let err = generate_words(&mut only_end, &tok, "unknown words", 3, &Sampler::Greedy, 0);
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("has no token the tokenizer knows")
    );

    let mut chars = Tokenizer::builder().char_level(true).build().unwrap();
    chars.fit_on_texts(&["abcabca"]);
    // a=1, b=2, c=3: a -> b -> c -> a.
    let next = vec![vec![], vec![(2, 1.0)], vec![(3, 1.0)], vec![(1, 1.0)]];
    let mut model = Bigram { vocab: 4, next };
    let text = generate_chars(&mut model, &chars, "Ca", 5, &Sampler::Greedy, 0).unwrap();
    assert_eq!(text, "Cabcabc");
    assert!(generate_words(&mut model, &chars, "a", 1, &Sampler::Greedy, 0).is_err());
    assert!(generate_chars(&mut model, &tok, "the", 1, &Sampler::Greedy, 0).is_err());
}
