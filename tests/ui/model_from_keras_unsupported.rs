use rnn::prelude::*;

// Paths are relative to the crate's manifest directory; trybuild builds these cases four
// directories below the repository root.
model_from_keras! {
    struct Dropping = "../../../../tests/fixtures/keras_io/unsupported_recurrent_dropout.keras";
    struct Convolving = "../../../../tests/fixtures/keras_io/unsupported_conv1d.keras";
    struct Missing = "../../../../tests/fixtures/keras_io/no_such_model.keras";
}

fn main() {}
