use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => LSTM(16, return_sequences = true, return_state = true) => Dense(2);
    struct N = Input(_, 8) => Bidirectional(GRU(4, return_sequences = true), merge_mode = none) => Dense(2);
}

fn main() {}
