use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => Bidirectional(LSTM(16, go_backwards = true, return_sequences = true)) => Dense(1);
}

fn main() {}
