use rnn::prelude::*;

model! {
    struct Stacked = Input(_, 8) => LSTM(64, return_sequence = true) => LSTM(32) => Dense(1);
}

fn main() {}
