//! Weight checkpoints: safetensors files keyed by Keras names, loaded by name, all or nothing,
//! and never a panic or a partly loaded model on a bad file.

use std::path::{Path, PathBuf};

use rnn::checkpoint;
use rnn::prelude::*;

model! {
    struct Tagger = Embedding(50, 8) => LSTM(6) => Dense(3, softmax);
    struct TaggerGru = Embedding(50, 8) => GRU(6) => Dense(3, softmax);
    struct TaggerWide = Embedding(50, 8) => LSTM(7) => Dense(3, softmax);
    struct TaggerHead = Embedding(50, 8) => LSTM(6);
    struct Both = Input(5, 4) => Bidirectional(GRU(3, return_sequences = true))
        => TimeDistributed(Dense(2));
}

/// A fresh directory for one test, unique to this process so parallel runs do not collide.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnn-checkpoints-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bits(data: &[f32]) -> Vec<u32> {
    data.iter().map(|v| v.to_bits()).collect()
}

fn tokens() -> Vec<Vec<u32>> {
    vec![vec![1, 7, 49, 3, 0], vec![12, 12, 5, 30, 8]]
}

fn sequences() -> Vec<Vec<Vec<f32>>> {
    (0..3)
        .map(|b| {
            (0..5)
                .map(|t| {
                    (0..4)
                        .map(|f| ((b * 20 + t * 4 + f) as f32 * 0.37).sin())
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// A safetensors file written by hand, as another tool might: `(name, dtype, shape, bytes)`.
fn safetensors_file(
    tensors: &[(&str, &str, Vec<usize>, Vec<u8>)],
    metadata: Option<serde_json::Value>,
) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if let Some(m) = metadata {
        header.insert("__metadata__".into(), m);
    }
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        header.insert(
            name.to_string(),
            serde_json::json!({
                "dtype": dtype,
                "shape": shape,
                "data_offsets": [data.len(), data.len() + bytes.len()],
            }),
        );
        data.extend_from_slice(bytes);
    }
    let header = serde_json::to_vec(&serde_json::Value::Object(header)).unwrap();
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header);
    file.extend(data);
    file
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Where the tensor data starts in a safetensors file.
fn data_start(bytes: &[u8]) -> usize {
    8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

fn expect_checkpoint_error(r: Result<(), Error>, path: &Path) -> String {
    let e = r.expect_err("expected an error");
    assert!(matches!(e, Error::Checkpoint { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{}: ", path.display())),
        "the message names the file: {text}"
    );
    text
}

#[test]
fn roundtrip_embedding_lstm_dense() {
    let dir = scratch("roundtrip_lstm");
    let path = dir.join("tagger.safetensors");
    let mut saved = Tagger::new(1);
    saved.save_weights(&path).unwrap();

    let mut loaded = Tagger::new(2);
    assert_ne!(loaded.get_weights(), saved.get_weights());
    loaded.load_weights(&path).unwrap();
    assert_eq!(loaded.get_weights(), saved.get_weights());
    let want = saved.predict(tokens()).unwrap();
    let got = loaded.predict(tokens()).unwrap();
    assert_eq!(bits(&got.main().data), bits(&want.main().data));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn roundtrip_bidirectional_gru() {
    let dir = scratch("roundtrip_bidir");
    let path = dir.join("both.safetensors");
    let mut saved = Both::new(3);
    saved.save_weights(&path).unwrap();

    let mut loaded = Both::new(4);
    assert_ne!(loaded.get_weights(), saved.get_weights());
    loaded.load_weights(&path).unwrap();
    assert_eq!(loaded.get_weights(), saved.get_weights());
    let want = saved.predict(sequences()).unwrap();
    let got = loaded.predict(sequences()).unwrap();
    assert_eq!(got.main().shape, vec![3, 5, 2]);
    assert_eq!(bits(&got.main().data), bits(&want.main().data));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_holds_keras_names_shapes_and_order() {
    let dir = scratch("keras_names");
    let model = Both::new(5);
    let path = dir.join("both.safetensors");
    model.save_weights(&path).unwrap();

    let file = checkpoint::load(&path).unwrap();
    let weights = model.get_weights();
    let names = |ws: &[Weight]| ws.iter().map(|w| w.name.clone()).collect::<Vec<_>>();
    let shapes = |ws: &[Weight]| ws.iter().map(|w| w.shape.clone()).collect::<Vec<_>>();
    assert_eq!(names(&file), names(&weights));
    assert_eq!(shapes(&file), shapes(&weights));
    assert_eq!(file, weights);
    assert!(
        names(&file).iter().any(|n| n.contains("forward_gru")),
        "{:?}",
        names(&file)
    );

    // The header is plain safetensors JSON: F32 tensors and the self-describing metadata.
    let bytes = std::fs::read(&path).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..data_start(&bytes)]).unwrap();
    let meta = &header["__metadata__"];
    assert_eq!(meta["format"], "rnn");
    assert_eq!(meta["order"], names(&weights).join("\n"));
    for w in &weights {
        assert_eq!(header[&w.name]["dtype"], "F32", "{}", w.name);
        assert_eq!(header[&w.name]["shape"], serde_json::json!(w.shape));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_from_other_tools_load_by_name() {
    let dir = scratch("other_tools");
    let source = Tagger::new(6);
    // Reversed data order and no metadata: only the names tie tensors to weights.
    let weights = source.get_weights();
    let tensors: Vec<_> = weights
        .iter()
        .rev()
        .map(|w| (w.name.as_str(), "F32", w.shape.clone(), le_bytes(&w.values)))
        .collect();
    let path = dir.join("foreign.safetensors");
    std::fs::write(&path, safetensors_file(&tensors, None)).unwrap();

    let mut model = Tagger::new(7);
    model.load_weights(&path).unwrap();
    assert_eq!(model.get_weights(), source.get_weights());
    // Without a recorded order, `load` falls back to name order.
    let names: Vec<String> = checkpoint::load(&path)
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn different_architecture_names_the_first_mismatch_and_changes_nothing() {
    let dir = scratch("architecture");
    let path = dir.join("tagger.safetensors");
    Tagger::new(1).save_weights(&path).unwrap();

    let mut gru = TaggerGru::new(0);
    let before = gru.get_weights();
    let text = expect_checkpoint_error(gru.load_weights(&path), &path);
    assert!(
        text.contains(
            "weight `sequential/gru/gru_cell/kernel` of the model is not in the file \
             (the file has `sequential/lstm/lstm_cell/kernel` in its place)"
        ),
        "{text}"
    );
    assert_eq!(gru.get_weights(), before);

    let mut wide = TaggerWide::new(0);
    let before = wide.get_weights();
    let text = expect_checkpoint_error(wide.load_weights(&path), &path);
    assert!(
        text.ends_with(
            "weight `sequential/lstm/lstm_cell/kernel`: expected shape (8, 28), file has (8, 24)"
        ),
        "{text}"
    );
    assert_eq!(wide.get_weights(), before);

    let mut head = TaggerHead::new(0);
    let before = head.get_weights();
    let text = expect_checkpoint_error(head.load_weights(&path), &path);
    assert!(
        text.contains(
            "the file has weight `sequential/dense/kernel`, which the model does not have"
        ),
        "{text}"
    );
    assert_eq!(head.get_weights(), before);

    // The other way round: the file lacks the dense layer.
    let short = dir.join("head.safetensors");
    TaggerHead::new(1).save_weights(&short).unwrap();
    let mut tagger = Tagger::new(0);
    let before = tagger.get_weights();
    let text = expect_checkpoint_error(tagger.load_weights(&short), &short);
    assert!(
        text.contains("weight `sequential/dense/kernel` of the model is not in the file"),
        "{text}"
    );
    assert_eq!(tagger.get_weights(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_files_are_errors_and_change_nothing() {
    let dir = scratch("truncated");
    let good = dir.join("good.safetensors");
    Tagger::new(1).save_weights(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let start = data_start(&bytes);
    let cuts = [
        0,
        1,
        7,
        8,
        9,
        start / 2,
        start - 1,
        start,
        start + 1,
        start + 4,
        (start + bytes.len()) / 2,
        bytes.len() - 4,
        bytes.len() - 1,
    ];
    let mut model = Tagger::new(2);
    let before = model.get_weights();
    for cut in cuts {
        let path = dir.join(format!("cut-{cut}.safetensors"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let text = expect_checkpoint_error(model.load_weights(&path), &path);
        assert!(
            text.contains("not a valid safetensors file"),
            "cut {cut}: {text}"
        );
        assert!(checkpoint::load(&path).is_err(), "cut {cut}");
        assert_eq!(model.get_weights(), before, "cut {cut}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corrupt_files_are_errors_and_change_nothing() {
    let dir = scratch("corrupt");
    let good = dir.join("good.safetensors");
    Tagger::new(1).save_weights(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let mut garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    garbage[..8].copy_from_slice(&300u64.to_le_bytes());
    let mut huge_length = bytes.clone();
    huge_length[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut long_length = bytes.clone();
    long_length[..8].copy_from_slice(&((bytes.len() as u64) * 2).to_le_bytes());
    let mut bad_json = bytes.clone();
    bad_json[8] = b'[';
    let mut bad_utf8 = bytes.clone();
    bad_utf8[9] = 0xff;
    let mut padded = bytes.clone();
    padded.extend([0u8; 4]);
    let not_json = {
        let mut f = 16u64.to_le_bytes().to_vec();
        f.extend(b"{not json at all");
        f
    };
    let bad_offsets = safetensors_file(
        &[(
            "sequential/dense/bias",
            "F32",
            vec![3],
            le_bytes(&[1.0, 2.0]),
        )],
        None,
    );
    let unknown_dtype = safetensors_file(&[("x", "F17", vec![1], le_bytes(&[1.0]))], None);

    let cases: [(&str, Vec<u8>); 10] = [
        ("garbage", garbage),
        ("huge-length", huge_length),
        ("long-length", long_length),
        ("bad-json", bad_json),
        ("bad-utf8", bad_utf8),
        ("padded", padded),
        ("not-json", not_json),
        ("bad-offsets", bad_offsets),
        ("unknown-dtype", unknown_dtype),
        ("text", b"this is not a checkpoint\n".to_vec()),
    ];
    let mut model = Tagger::new(2);
    let before = model.get_weights();
    for (name, content) in cases {
        let path = dir.join(format!("{name}.safetensors"));
        std::fs::write(&path, content).unwrap();
        let text = expect_checkpoint_error(model.load_weights(&path), &path);
        assert!(!text.is_empty(), "{name}");
        assert_eq!(model.get_weights(), before, "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tensors_that_are_not_f32_or_not_in_the_recorded_order_are_errors() {
    let dir = scratch("dtype_order");
    let f64_file = safetensors_file(
        &[("k", "F64", vec![1], 1.0f64.to_le_bytes().to_vec())],
        None,
    );
    let path = dir.join("f64.safetensors");
    std::fs::write(&path, f64_file).unwrap();
    let e = checkpoint::load(&path).unwrap_err().to_string();
    assert!(e.contains("tensor `k` has dtype F64"), "{e}");

    let unlisted = safetensors_file(
        &[
            ("a", "F32", vec![1], le_bytes(&[1.0])),
            ("b", "F32", vec![1], le_bytes(&[2.0])),
        ],
        Some(serde_json::json!({"format": "rnn", "order": "a"})),
    );
    let path = dir.join("unlisted.safetensors");
    std::fs::write(&path, unlisted).unwrap();
    let e = checkpoint::load(&path).unwrap_err().to_string();
    assert!(e.contains("does not list tensor `b`"), "{e}");

    let reordered = safetensors_file(
        &[
            ("a", "F32", vec![1], le_bytes(&[1.0])),
            ("b", "F32", vec![1], le_bytes(&[2.0])),
        ],
        Some(serde_json::json!({"format": "rnn", "order": "b\na"})),
    );
    let path = dir.join("reordered.safetensors");
    std::fs::write(&path, reordered).unwrap();
    let names: Vec<String> = checkpoint::load(&path)
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["b", "a"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_file_names_the_path() {
    let dir = scratch("missing");
    let path = dir.join("nowhere.safetensors");
    let mut model = Tagger::new(0);
    let before = model.get_weights();
    let text = expect_checkpoint_error(model.load_weights(&path), &path);
    assert!(text.contains("cannot read the checkpoint"), "{text}");
    assert_eq!(model.get_weights(), before);
    let e = checkpoint::load(&path).unwrap_err();
    assert!(e.to_string().contains("nowhere.safetensors"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn non_finite_values_in_a_file_are_errors() {
    let dir = scratch("non_finite");
    let good = dir.join("good.safetensors");
    Tagger::new(1).save_weights(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let start = data_start(&bytes);
    let mut model = Tagger::new(2);
    let before = model.get_weights();
    for (name, value, at) in [
        ("nan-first", f32::NAN, start),
        ("inf-last", f32::INFINITY, bytes.len() - 4),
        ("neg-inf-middle", f32::NEG_INFINITY, start + 4 * 50),
    ] {
        let mut bad = bytes.clone();
        bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
        let path = dir.join(format!("{name}.safetensors"));
        std::fs::write(&path, bad).unwrap();
        let text = expect_checkpoint_error(model.load_weights(&path), &path);
        assert!(
            text.contains(&format!("contains {value}")),
            "{name}: {text}"
        );
        assert_eq!(model.get_weights(), before, "{name}");
    }

    // Saving refuses them too, so no file that `load` rejects is ever written.
    let mut weights = Tagger::new(3).get_weights();
    weights[1].values[2] = f32::NAN;
    let path = dir.join("never.safetensors");
    let e = checkpoint::save(&path, &weights).unwrap_err().to_string();
    assert!(e.contains("NaN at index 2"), "{e}");
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn writes_are_atomic_and_leave_no_temporary_file() {
    let dir = scratch("atomic");
    let path = dir.join("model.safetensors");
    let first = Tagger::new(1);
    first.save_weights(&path).unwrap();
    let second = Tagger::new(2);
    second.save_weights(&path).unwrap();
    let entries = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(entries(&dir), ["model.safetensors"]);
    assert_eq!(checkpoint::load(&path).unwrap(), second.get_weights());

    // A failed save (the target is a directory) keeps nothing behind and changes nothing.
    let blocked = dir.join("blocked.safetensors");
    std::fs::create_dir(&blocked).unwrap();
    let e = first.save_weights(&blocked).unwrap_err();
    assert!(matches!(e, Error::Checkpoint { .. }), "{e:?}");
    assert_eq!(entries(&dir), ["blocked.safetensors", "model.safetensors"]);
    assert!(entries(&blocked).is_empty());

    // A directory that does not exist is an error naming the path.
    let nowhere = dir.join("no-such-dir").join("model.safetensors");
    let e = first.save_weights(&nowhere).unwrap_err().to_string();
    assert!(e.starts_with(&nowhere.display().to_string()), "{e}");
    assert_eq!(entries(&dir), ["blocked.safetensors", "model.safetensors"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn declared_sizes_are_checked_against_the_file_length_before_reading() {
    let dir = scratch("declared-sizes");
    let mut model = Tagger::new(2);
    let before = model.get_weights();

    // A header claiming 99 MB in a 20-byte file, and one beyond safetensors' limit.
    let mut huge_header = 99_000_000u64.to_le_bytes().to_vec();
    huge_header.extend(b"{\"a\":1}     ");
    let mut beyond_limit = (1u64 << 40).to_le_bytes().to_vec();
    beyond_limit.extend(b"{}");
    // A valid header whose tensor claims 4 GB of data that the file does not have.
    let header = br#"{"w":{"dtype":"F32","shape":[1073741824],"data_offsets":[0,4294967296]}}"#;
    let mut huge_tensor = (header.len() as u64).to_le_bytes().to_vec();
    huge_tensor.extend(header);
    huge_tensor.extend(le_bytes(&[1.0, 2.0]));

    for (name, content, says) in [
        ("huge-header", huge_header, "header declares 99000000 bytes"),
        ("beyond-limit", beyond_limit, "but the file has 10 bytes"),
        ("huge-tensor", huge_tensor, "4294967296 bytes of tensors"),
    ] {
        let path = dir.join(format!("{name}.safetensors"));
        std::fs::write(&path, content).unwrap();
        let text = expect_checkpoint_error(model.load_weights(&path), &path);
        assert!(text.contains(says), "{name}: {text}");
        assert_eq!(model.get_weights(), before, "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// An endless stream of zeros declares an empty header, which its length (0) cannot hold: it
/// is refused after reading 8 bytes, not read until memory runs out.
#[cfg(unix)]
#[test]
fn endless_streams_are_refused_after_the_length_field() {
    let path = Path::new("/dev/zero");
    if !path.exists() {
        eprintln!("skipped: no /dev/zero");
        return;
    }
    let e = checkpoint::load(path).unwrap_err();
    assert!(e.to_string().contains("the header declares 0 bytes"), "{e}");
}
