//! PyTorch state dicts: the modules trained and saved by `tools/gen_torch_fixtures.py` load
//! into the same architecture declared with `model!` and predict what PyTorch predicted (in
//! float64, from the same float32 weights); saving gives back the file's tensors; bad files
//! and architectures PyTorch cannot express are errors that change nothing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{OUT_ATOL, OUT_RTOL, assert_close, fixtures_root, numbers};
use rnn::checkpoint;
use rnn::interop::torch::TorchNames;
use rnn::prelude::*;
use serde_json::Value;

model! {
    struct EmbeddingLstm = Embedding(30, 6) => LSTM(8) => Dense(3, softmax);
    struct GruNet = Input(5, 4) => GRU(7) => Dense(1, sigmoid);
    struct RnnReluSequences = Input(5, 4)
        => SimpleRNN(6, activation = relu, return_sequences = true) => TimeDistributed(Dense(2));
    struct RnnTanhStacked = Input(5, 3) => SimpleRNN(4, return_sequences = true) => SimpleRNN(4)
        => Dense(2, softmax);
    struct EmbeddingBidirLstmStacked = Embedding(40, 8)
        => Bidirectional(LSTM(5, return_sequences = true)) => Bidirectional(LSTM(5))
        => Dense(1, sigmoid);
    struct BidirGruSequences = Input(6, 3) => Bidirectional(GRU(4, return_sequences = true))
        => Dense(3, softmax);
    struct EmbeddingMaskLstm = Embedding(30, 6, mask_zero = true) => LSTM(8) => Dense(3, softmax);
    struct EmbeddingMaskBidirGru = Embedding(25, 5, mask_zero = true) => Bidirectional(GRU(4))
        => Dense(1, sigmoid);
    struct GruStacked = Input(5, 3) => GRU(5, return_sequences = true) => GRU(4) => Dense(2);
    struct BidirRnnNoBias = Input(4, 3) => Bidirectional(SimpleRNN(3, use_bias = false))
        => Dense(2, use_bias = false);
    struct LstmNoBiasStacked = Input(5, 3) => LSTM(4, use_bias = false, return_sequences = true)
        => LSTM(3, use_bias = false) => Dense(1);

    struct GruResetBefore = Input(5, 4) => GRU(7, reset_after = false) => Dense(1, sigmoid);
    struct GruResetBeforeNoBias = Input(5, 4) => GRU(7, reset_after = false, use_bias = false)
        => Dense(1, sigmoid);
    struct LstmBackwards = Embedding(30, 6) => LSTM(8, go_backwards = true) => Dense(3, softmax);
    struct LstmHardSigmoid = Embedding(30, 6) => LSTM(8, recurrent_activation = hard_sigmoid)
        => Dense(3, softmax);
    struct RnnTanh = Input(5, 4) => SimpleRNN(6, return_sequences = true)
        => TimeDistributed(Dense(2));
}

/// One fixture: the file, its JSON record, and the names it was saved under.
struct Case {
    file: PathBuf,
    json: Value,
    names: TorchNames,
}

fn case(name: &str) -> Case {
    let dir = fixtures_root().join("torch_io");
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let pairs: Vec<(String, String)> = json["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut names = TorchNames::new(pairs);
    for (prefix, act) in json["nonlinearity"].as_object().unwrap() {
        let act = Activation::from_keras_name(act.as_str().unwrap()).unwrap();
        names = names.nonlinearity(prefix.as_str(), act);
    }
    Case {
        file: dir.join(format!("{name}.safetensors")),
        json,
        names,
    }
}

fn shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

fn tokens(c: &Case) -> Vec<Vec<u32>> {
    let s = shape(&c.json["input_shape"]);
    numbers(&c.json["input"])
        .chunks(s[1])
        .map(|row| row.iter().map(|&v| v as u32).collect())
        .collect()
}

fn sequences(c: &Case) -> Vec<Vec<Vec<f32>>> {
    let s = shape(&c.json["input_shape"]);
    let flat: Vec<f32> = numbers(&c.json["input"])
        .iter()
        .map(|&v| v as f32)
        .collect();
    flat.chunks(s[1] * s[2])
        .map(|b| b.chunks(s[2]).map(<[f32]>::to_vec).collect())
        .collect()
}

/// A fresh directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnn-torch-io-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The file's tensors by name (all the fixtures are F32, which `checkpoint::load` reads).
fn tensors(path: &Path) -> BTreeMap<String, Weight> {
    checkpoint::load(path)
        .unwrap()
        .into_iter()
        .map(|w| (w.name.clone(), w))
        .collect()
}

/// Loads the case into a fresh model, checks its prediction against PyTorch's, then saves
/// the model as a state dict and checks that it holds the file's tensors: the same names and
/// shapes (what `load_state_dict(strict=True)` needs) and the same values, but for the two
/// biases of SimpleRNN and LSTM, which Keras keeps summed.
macro_rules! parity {
    ($model:ty, $case:literal, $input:ident) => {{
        let c = case($case);
        let mut model = <$model>::new(0);
        model.load_torch(&c.file, &c.names).unwrap();
        let y = model.predict($input(&c)).unwrap();
        assert_eq!(y.main().shape, shape(&c.json["output_shape"]), $case);
        assert_close(
            $case,
            &y.main().data,
            &numbers(&c.json["output"]),
            OUT_ATOL,
            OUT_RTOL,
        );

        let dir = scratch($case);
        let saved = dir.join("saved.safetensors");
        model.save_torch(&saved, &c.names).unwrap();
        let (want, got) = (tensors(&c.file), tensors(&saved));
        let shapes = |m: &BTreeMap<String, Weight>| {
            m.iter()
                .map(|(k, w)| (k.clone(), w.shape.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(shapes(&got), shapes(&want), $case);
        let summed = !$case.contains("gru");
        for (key, w) in &want {
            if summed && key.contains(".bias_") {
                continue;
            }
            assert_eq!(got[key].values, w.values, "{}: {key}", $case);
        }
        // `tools/gen_torch_fixtures.py --check-export DIR` loads these into the PyTorch modules.
        if let Some(keep) = std::env::var_os("RNN_TORCH_EXPORT_DIR") {
            std::fs::copy(
                &saved,
                Path::new(&keep).join(concat!($case, ".safetensors")),
            )
            .unwrap();
        }
        let mut again = <$model>::new(1);
        again.load_torch(&saved, &c.names).unwrap();
        assert_eq!(again.get_weights(), model.get_weights(), $case);
        std::fs::remove_dir_all(&dir).unwrap();
    }};
}

#[test]
fn embedding_lstm_matches_pytorch() {
    parity!(EmbeddingLstm, "embedding_lstm", tokens);
}

#[test]
fn gru_matches_pytorch() {
    parity!(GruNet, "gru", sequences);
}

#[test]
fn relu_rnn_returning_sequences_matches_pytorch() {
    parity!(RnnReluSequences, "rnn_relu_sequences", sequences);
}

#[test]
fn two_layer_rnn_matches_pytorch() {
    parity!(RnnTanhStacked, "rnn_tanh_stacked", sequences);
}

#[test]
fn two_layer_bidirectional_lstm_matches_pytorch() {
    parity!(
        EmbeddingBidirLstmStacked,
        "embedding_bidir_lstm_stacked",
        tokens
    );
}

#[test]
fn bidirectional_gru_matches_pytorch() {
    parity!(BidirGruSequences, "bidir_gru_sequences", sequences);
}

/// Post-padded ids packed by length in PyTorch (`pack_padded_sequence`), masked in Keras.
#[test]
fn masked_lstm_matches_packed_pytorch() {
    parity!(EmbeddingMaskLstm, "embedding_mask_lstm", tokens);
}

#[test]
fn masked_bidirectional_gru_matches_packed_pytorch() {
    parity!(EmbeddingMaskBidirGru, "embedding_mask_bidir_gru", tokens);
}

#[test]
fn two_gru_modules_match_pytorch() {
    parity!(GruStacked, "gru_stacked", sequences);
}

#[test]
fn bias_free_bidirectional_rnn_matches_pytorch() {
    parity!(BidirRnnNoBias, "bidir_rnn_no_bias", sequences);
}

#[test]
fn bias_free_lstms_match_pytorch() {
    parity!(LstmNoBiasStacked, "lstm_no_bias_stacked", sequences);
}

#[test]
fn default_names_find_one_module_of_each_kind() {
    let c = case("embedding_lstm");
    let mut model = EmbeddingLstm::new(0);
    model.load_torch(&c.file, &TorchNames::default()).unwrap();
    let mut named = EmbeddingLstm::new(1);
    named.load_torch(&c.file, &c.names).unwrap();
    assert_eq!(model.get_weights(), named.get_weights());

    let c = case("gru");
    let mut model = GruNet::new(0);
    model.load_torch(&c.file, &TorchNames::default()).unwrap();
    let y = model.predict(sequences(&c)).unwrap();
    assert_close(
        "gru",
        &y.main().data,
        &numbers(&c.json["output"]),
        OUT_ATOL,
        OUT_RTOL,
    );

    // One nn.LSTM(num_layers=2, bidirectional=True) for the two Bidirectional(LSTM) layers.
    let c = case("embedding_bidir_lstm_stacked");
    let mut model = EmbeddingBidirLstmStacked::new(0);
    model.load_torch(&c.file, &TorchNames::default()).unwrap();
    let mut named = EmbeddingBidirLstmStacked::new(1);
    named.load_torch(&c.file, &c.names).unwrap();
    assert_eq!(model.get_weights(), named.get_weights());

    // Two nn.GRU modules: which is which is not in the file.
    let c = case("gru_stacked");
    let err = GruStacked::new(0)
        .load_torch(&c.file, &TorchNames::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("several modules") && err.contains("rnn, rnn2"),
        "{err}"
    );
}

/// Runs `load` on a fresh model and checks that it fails with a message containing every
/// `part`, leaving the weights as they were.
fn refused<M, F>(mut model: M, weights: fn(&M) -> Vec<Weight>, load: F, parts: &[&str])
where
    F: FnOnce(&mut M) -> rnn::Result<()>,
{
    let before = weights(&model);
    let err = load(&mut model).unwrap_err();
    assert!(matches!(err, rnn::Error::Checkpoint { .. }), "{err:?}");
    let text = err.to_string();
    for part in parts {
        assert!(text.contains(part), "`{part}` not in: {text}");
    }
    assert_eq!(weights(&model), before, "the model changed: {text}");
}

/// A copy of the case's file with `edit` applied to its tensors.
fn edited(case: &Case, test: &str, edit: impl FnOnce(&mut Vec<Weight>)) -> PathBuf {
    let mut ws = checkpoint::load(&case.file).unwrap();
    edit(&mut ws);
    let path = scratch(test).join("edited.safetensors");
    checkpoint::save(&path, &ws).unwrap();
    path
}

#[test]
fn bad_files_are_refused_and_change_nothing() {
    let c = case("embedding_lstm");
    let file = c.file.display().to_string();
    let w = |m: &EmbeddingLstm| m.get_weights();

    let missing = edited(&c, "missing", |ws| {
        ws.retain(|w| w.name != "rnn.bias_hh_l0")
    });
    refused(
        EmbeddingLstm::new(0),
        w,
        |m| m.load_torch(&missing, &c.names),
        &["tensor `rnn.bias_hh_l0` for layer `lstm` is not in the file"],
    );

    let misshapen = edited(&c, "misshapen", |ws| {
        let w = ws.iter_mut().find(|w| w.name == "fc.weight").unwrap();
        w.shape = vec![3, 4];
        w.values.truncate(12);
    });
    refused(
        EmbeddingLstm::new(0),
        w,
        |m| m.load_torch(&misshapen, &c.names),
        &[
            "tensor `fc.weight` for layer `dense`",
            "expected shape (3, 8), the file has (3, 4)",
        ],
    );

    let extra = edited(&c, "extra", |ws| {
        ws.push(Weight {
            name: "rnn.weight_hr_l0".into(),
            shape: vec![8, 2],
            values: vec![0.5; 16],
        })
    });
    refused(
        EmbeddingLstm::new(0),
        w,
        |m| m.load_torch(&extra, &c.names),
        &["tensor `rnn.weight_hr_l0` of the file is not used: an nn.LSTM with proj_size"],
    );

    refused(
        EmbeddingLstm::new(0),
        w,
        |m| {
            m.load_torch(
                &c.file,
                &TorchNames::new([("embedding", "embedding"), ("rnn", "lstm")]),
            )
        },
        &["layer `dense` has no PyTorch module", "nn.Linear"],
    );
    refused(
        EmbeddingLstm::new(0),
        w,
        |m| {
            m.load_torch(
                &c.file,
                &TorchNames::new([
                    ("embedding", "embedding"),
                    ("rnn", "lstm"),
                    ("fc", "dense_1"),
                ]),
            )
        },
        &["layer `dense_1`, which the model does not have"],
    );

    refused(
        EmbeddingLstm::new(0),
        w,
        |m| {
            m.load_torch(
                &c.file,
                &TorchNames::new([("embedding", "embedding"), ("fc", "lstm"), ("fc", "dense")]),
            )
        },
        &["module `fc` to layer `lstm` and to layer `dense`"],
    );

    let truncated = scratch("truncated").join("truncated.safetensors");
    let bytes = std::fs::read(&c.file).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    refused(
        EmbeddingLstm::new(0),
        w,
        |m| m.load_torch(&truncated, &c.names),
        &["truncated.safetensors: not a readable safetensors file"],
    );

    // Every message names the file.
    let err = EmbeddingLstm::new(0)
        .load_torch(&c.file, &TorchNames::new([("fc", "dense")]))
        .unwrap_err();
    assert!(err.to_string().starts_with(&file), "{err}");
}

#[test]
fn architectures_pytorch_cannot_express_are_refused() {
    let gru = case("gru");
    refused(
        GruResetBefore::new(0),
        |m| m.get_weights(),
        |m| m.load_torch(&gru.file, &gru.names),
        &[
            "layer `gru` is a GRU with reset_after = false",
            "nn.GRU `rnn`",
        ],
    );
    // Without a bias the two GRUs have the same weights; the layer's options still tell them apart.
    refused(
        GruResetBeforeNoBias::new(0),
        |m| m.get_weights(),
        |m| m.load_torch(&gru.file, &gru.names),
        &["reset_after = false"],
    );
    let path = scratch("save-reset-before").join("gru.safetensors");
    let err = GruResetBefore::new(0)
        .save_torch(&path, &TorchNames::default())
        .unwrap_err();
    assert!(err.to_string().contains("reset_after = false"), "{err}");
    assert!(!path.exists());

    let lstm = case("embedding_lstm");
    refused(
        LstmBackwards::new(0),
        |m| m.get_weights(),
        |m| m.load_torch(&lstm.file, &lstm.names),
        &["layer `lstm` has go_backwards = true"],
    );
    refused(
        LstmHardSigmoid::new(0),
        |m| m.get_weights(),
        |m| m.load_torch(&lstm.file, &lstm.names),
        &[
            "recurrent_activation hard_sigmoid",
            "nn.LSTM `rnn` computes tanh and sigmoid",
        ],
    );

    // The relu nn.RNN loads into a tanh SimpleRNN only if its nonlinearity is not declared,
    // and into a relu SimpleRNN only if it is.
    let relu = case("rnn_relu_sequences");
    let undeclared = TorchNames::new([("rnn", "simple_rnn"), ("fc", "time_distributed")]);
    refused(
        RnnReluSequences::new(0),
        |m| m.get_weights(),
        |m| m.load_torch(&relu.file, &undeclared),
        &["activation relu but nn.RNN `rnn` has nonlinearity tanh (PyTorch's default"],
    );
    refused(
        RnnTanh::new(0),
        |m| m.get_weights(),
        |m| m.load_torch(&relu.file, &relu.names),
        &["layer `simple_rnn` has activation tanh but nn.RNN `rnn` has nonlinearity relu"],
    );
}

#[test]
fn default_export_names_modules_after_layers() {
    let path = scratch("default-export").join("bi.safetensors");
    EmbeddingBidirLstmStacked::new(3)
        .save_torch(&path, &TorchNames::default())
        .unwrap();
    let names: Vec<String> = tensors(&path).into_keys().collect();
    assert!(names.contains(&"embedding.weight".to_string()));
    assert!(names.contains(&"bidirectional_1.weight_hh_l0_reverse".to_string()));
    assert!(names.contains(&"dense.bias".to_string()));
    assert_eq!(names.len(), 1 + 2 * 2 * 4 + 2);
    let mut back = EmbeddingBidirLstmStacked::new(4);
    back.load_torch(&path, &TorchNames::default()).unwrap_err();
    // Two nn.LSTM modules of the same kind: the default cannot tell them apart, names can.
    back.load_torch(
        &path,
        &TorchNames::new([
            ("embedding", "embedding"),
            ("bidirectional", "bidirectional"),
            ("bidirectional_1", "bidirectional_1"),
            ("dense", "dense"),
        ]),
    )
    .unwrap();
    assert_eq!(
        back.get_weights(),
        EmbeddingBidirLstmStacked::new(3).get_weights()
    );
}
