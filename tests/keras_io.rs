//! Keras files in and out: the small models of `tests/fixtures/keras_io` (trained in Keras
//! 3 and saved as `.keras`, `.weights.h5`, Keras 3's legacy `.h5` and tf.keras 2's `.h5` by
//! `tools/gen_keras_io.py`) load into the same models written with `model!` and predict what
//! Keras predicted; a saved archive loads back; bad files are errors that leave the model
//! unchanged.

mod common;

use std::path::PathBuf;

use common::*;
use rnn::prelude::*;
use rnn::{IntoInput, Stack};
use serde_json::Value;

model! {
    struct SimpleRnnModel = Embedding(12, 4) => SimpleRNN(5) => Dense(1, sigmoid);
    struct StackedLstm = Input(_, 3) => LSTM(4, return_sequences = true) => LSTM(3) => Dense(2, softmax);
    struct GruClassic = Input(_, 3) => GRU(4, reset_after = false) => Dense(1);
    struct MaskedBidirectional = Embedding(12, 4, mask_zero = true)
        => Bidirectional(GRU(3, return_sequences = true), merge_mode = sum)
        => Bidirectional(LSTM(2))
        => Dense(1, sigmoid);
    struct TimeDistributedModel = Input(_, 2)
        => SimpleRNN(3, return_sequences = true, use_bias = false)
        => TimeDistributed(Dense(2, tanh));
    /// `GruClassic` without its `Dense` layer.
    struct GruOnly = Input(_, 3) => GRU(4, reset_after = false);
    /// `GruClassic` with Keras 3's default `reset_after`: the same layers and sizes, another
    /// bias shape.
    struct GruResetAfter = Input(_, 3) => GRU(4) => Dense(1);
}

fn dir() -> PathBuf {
    fixtures_root().join("keras_io")
}

fn file(name: &str) -> PathBuf {
    dir().join(name)
}

fn record(name: &str) -> Value {
    let text = std::fs::read_to_string(file("predictions.json")).expect("predictions.json");
    let all: Value = serde_json::from_str(&text).expect("predictions.json is JSON");
    all["models"][name].clone()
}

/// Token ids of a record.
fn tokens(x: &Value) -> Vec<Vec<u32>> {
    serde_json::from_value(x.clone()).expect("token ids")
}

/// Real sequences of a record.
fn reals(x: &Value) -> Vec<Vec<Vec<f32>>> {
    serde_json::from_value(x.clone()).expect("sequences")
}

/// Predicts the record's input (read by `input`) and compares with Keras' predictions.
fn check_predictions<M, X>(what: &str, model: &mut M, rec: &Value, input: fn(&Value) -> X)
where
    M: KerasModel,
    X: IntoInput<<M::Stack as Stack>::In>,
    <M::Stack as Stack>::In: StepAll,
{
    let out = model.predict(input(&rec["x"])).expect("predict");
    let want: Vec<f64> = serde_json::from_value(rec["y"].clone()).expect("predictions");
    assert_close(what, &out.main().data, &want, OUT_ATOL, OUT_RTOL);
    let x = input(&rec["x"]).into_input().expect("input");
    check_reduced(what, &mut **model, &x);
}

/// Every file of model `name` loads into `M` and predicts what Keras predicted.
fn parity<M, X>(name: &str, new: fn(u64) -> M, input: fn(&Value) -> X)
where
    M: KerasModel,
    X: IntoInput<<M::Stack as Stack>::In>,
    <M::Stack as Stack>::In: StepAll,
{
    let rec = record(name);
    for form in [
        format!("{name}.keras"),
        format!("{name}.weights.h5"),
        format!("{name}.h5"),
        format!("keras2_{name}.h5"),
    ] {
        let mut model = new(0);
        model
            .load_keras(file(&form))
            .unwrap_or_else(|e| panic!("{form}: {e}"));
        check_predictions(&form, &mut model, &rec, input);
    }
}

#[test]
fn simple_rnn_files_predict_as_keras() {
    parity("simple_rnn", SimpleRnnModel::new, tokens);
}

#[test]
fn stacked_lstm_files_predict_as_keras() {
    parity("stacked_lstm", StackedLstm::new, reals);
}

#[test]
fn gru_without_reset_after_files_predict_as_keras() {
    parity("gru_classic", GruClassic::new, reals);
}

#[test]
fn masked_bidirectional_files_predict_as_keras() {
    parity("masked_bidirectional", MaskedBidirectional::new, tokens);
}

#[test]
fn time_distributed_files_predict_as_keras() {
    parity("time_distributed", TimeDistributedModel::new, reals);
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rnn-keras-io-{}-{name}", std::process::id()))
}

#[test]
fn a_saved_archive_loads_back_and_holds_keras_members() {
    let mut trained = MaskedBidirectional::new(0);
    trained
        .load_keras(file("masked_bidirectional.keras"))
        .unwrap();
    let path = temp("roundtrip.keras");
    trained.save_keras(&path).unwrap();

    let mut fresh = MaskedBidirectional::new(5);
    assert_ne!(fresh.get_weights(), trained.get_weights());
    fresh.load_keras(&path).unwrap();
    assert_eq!(fresh.get_weights(), trained.get_weights());
    check_predictions(
        "saved archive",
        &mut fresh,
        &record("masked_bidirectional"),
        tokens,
    );

    // The archive: Keras' three members, stored as Keras stores them, with a Sequential
    // config whose layers are the model's.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut names: Vec<&str> = zip.file_names().collect();
    names.sort();
    assert_eq!(names, ["config.json", "metadata.json", "model.weights.h5"]);
    let member = |zip: &mut zip::ZipArchive<_>, name: &str| -> Vec<u8> {
        let mut f = zip.by_name(name).unwrap();
        assert_eq!(f.compression(), zip::CompressionMethod::Stored, "{name}");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut out).unwrap();
        out
    };
    let config: Value = serde_json::from_slice(&member(&mut zip, "config.json")).unwrap();
    let classes: Vec<&str> = config["config"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["class_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        [
            "InputLayer",
            "Embedding",
            "Bidirectional",
            "Bidirectional",
            "Dense"
        ]
    );
    assert_eq!(config["config"]["layers"][2]["config"]["merge_mode"], "sum");
    assert_eq!(
        config["config"]["layers"][2]["config"]["layer"]["config"]["units"],
        3
    );
    let metadata: Value = serde_json::from_slice(&member(&mut zip, "metadata.json")).unwrap();
    assert!(
        metadata["keras_version"]
            .as_str()
            .unwrap()
            .starts_with("3.")
    );
    assert!(member(&mut zip, "model.weights.h5").starts_with(b"\x89HDF\r\n\x1a\n"));
}

/// Loading `path` into a fresh `M` fails with a message containing every one of `needles`,
/// and leaves the weights as they were.
fn refused<M: KerasModel>(new: fn(u64) -> M, path: &std::path::Path, needles: &[&str]) {
    let mut model = new(3);
    let before = model.get_weights();
    let err = model.load_keras(path).unwrap_err().to_string();
    assert!(
        err.starts_with(&path.display().to_string()),
        "the error names the file: {err}"
    );
    for needle in needles {
        assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    }
    assert_eq!(model.get_weights(), before, "the model changed: {err}");
}

#[test]
fn another_architecture_is_named_by_layer_and_field() {
    refused(
        GruResetAfter::new,
        &file("gru_classic.keras"),
        &[
            "layer `gru` (GRU)",
            "`reset_after` is false in the file, true in the model",
        ],
    );
    refused(
        StackedLstm::new,
        &file("simple_rnn.keras"),
        &[
            "layer `lstm` (LSTM)",
            "layer `embedding` of class Embedding",
        ],
    );
    // tf.keras 2's config, in the legacy file.
    refused(
        GruResetAfter::new,
        &file("keras2_gru_classic.h5"),
        &["`reset_after` is false in the file"],
    );
}

#[test]
fn misshapen_or_missing_weights_are_named() {
    // A bare weights file has no config: the shapes tell.
    refused(
        GruResetAfter::new,
        &file("gru_classic.weights.h5"),
        &[
            "layer `gru`",
            "weight `sequential/gru/gru_cell/bias`",
            "has shape (12,) in the file, (2, 12) in the model",
        ],
    );
    // A longer model's weights: the extra layer is named, not ignored (by the layer groups
    // of a bare weights file, by the config of a legacy one).
    refused(
        GruOnly::new,
        &file("gru_classic.weights.h5"),
        &["the file has layer `dense` (group `layers/dense`), which the model does not have"],
    );
    refused(
        GruOnly::new,
        &file("keras2_gru_classic.h5"),
        &["the file's layer `dense` (Dense) is extra"],
    );
    refused(
        StackedLstm::new,
        &file("simple_rnn.weights.h5"),
        &["layer `lstm` (LSTM) is not in the file"],
    );
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    for (name, needle) in [
        ("simple_rnn.keras", "archive"),
        ("simple_rnn.weights.h5", "HDF5"),
        ("keras2_simple_rnn.h5", "HDF5"),
    ] {
        let bytes = std::fs::read(file(name)).unwrap();
        let cut = temp(&format!("cut-{name}"));
        std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        refused(SimpleRnnModel::new, &cut, &[needle]);
        std::fs::remove_file(&cut).unwrap();
    }
    refused(
        SimpleRnnModel::new,
        &file("predictions.json"),
        &["neither a .keras archive (zip) nor an HDF5 file"],
    );
    refused(
        SimpleRnnModel::new,
        &file("float64_simple_rnn.weights.h5"),
        &[
            "layer `embedding`",
            "holds float64; only float32 weights are supported",
        ],
    );
}

/// A file may declare any size: a dataset that declares 2^40 rows (h5py's file with one
/// dimension rewritten) is refused by its shape, not allocated.
#[test]
fn a_declared_size_is_not_allocated() {
    let mut bytes = std::fs::read(file("simple_rnn.weights.h5")).unwrap();
    let dims: Vec<u8> = [5u64, 1].iter().flat_map(|d| d.to_le_bytes()).collect();
    let at = bytes
        .windows(dims.len())
        .position(|w| w == dims)
        .expect("the dense kernel's dimensions are in the file");
    bytes[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let huge = temp("declared.weights.h5");
    std::fs::write(&huge, &bytes).unwrap();
    refused(
        SimpleRnnModel::new,
        &huge,
        &[
            "layer `dense`",
            "has shape (1099511627776, 1) in the file, (5, 1) in the model",
        ],
    );
    std::fs::remove_file(&huge).unwrap();
}

model_from_keras! {
    /// Generated from the archive's config at compile time.
    struct FromArchive = "tests/fixtures/keras_io/masked_bidirectional.keras";
    struct FromArchiveTimeDistributed = "tests/fixtures/keras_io/time_distributed.keras";
}

#[test]
fn a_model_from_keras_has_the_archive_layers_and_weights() {
    // The same model as `model!` writes from the same layers: names, shapes, counts.
    assert_eq!(FromArchive::SPEC, MaskedBidirectional::SPEC);
    assert_eq!(FromArchive::PARAMS, MaskedBidirectional::PARAMS);
    assert_eq!(FromArchiveTimeDistributed::SPEC, TimeDistributedModel::SPEC);
    let mut model = FromArchive::from_keras().unwrap();
    check_predictions(
        "model_from_keras!",
        &mut model,
        &record("masked_bidirectional"),
        tokens,
    );
    let mut value = model_from_keras!("tests/fixtures/keras_io/time_distributed.keras").unwrap();
    check_predictions(
        "model_from_keras! value",
        &mut value,
        &record("time_distributed"),
        reals,
    );
}
