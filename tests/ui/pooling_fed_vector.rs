use rnn::prelude::*;

model! {
    struct M = Input(8) => Dense(4) => GlobalAveragePooling1D;
}

fn main() {}
