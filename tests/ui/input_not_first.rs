use rnn::prelude::*;

model! {
    struct M = LSTM(8) => Input(_, 8) => Dense(1);
}

fn main() {}
