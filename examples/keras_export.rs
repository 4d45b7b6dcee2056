//! Loads the small Keras models of `tests/fixtures/keras_io`, each from its `.keras`
//! archive, and saves them again with `save_keras` into a directory, where
//! `tools/check_keras_export.py` loads them in Keras 3 and compares their predictions with
//! Keras' own.
//!
//! ```text
//! cargo run --example keras_export -- target/keras_export
//! ```

use std::path::{Path, PathBuf};

use rnn::prelude::*;

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
}

/// Loads `name.keras` from the fixtures into `model` and saves it to `out/name.keras`.
fn export(model: &mut impl KerasModel, name: &str, out: &Path) -> Result<(), Error> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras_io");
    model.load_keras(fixtures.join(format!("{name}.keras")))?;
    let path = out.join(format!("{name}.keras"));
    model.save_keras(&path)?;
    println!("{}", path.display());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/keras_export".into()),
    );
    std::fs::create_dir_all(&out)?;
    export(&mut SimpleRnnModel::new(0), "simple_rnn", &out)?;
    export(&mut StackedLstm::new(0), "stacked_lstm", &out)?;
    export(&mut GruClassic::new(0), "gru_classic", &out)?;
    export(
        &mut MaskedBidirectional::new(0),
        "masked_bidirectional",
        &out,
    )?;
    export(&mut TimeDistributedModel::new(0), "time_distributed", &out)?;
    Ok(())
}
