use rnn::prelude::*;

model! {
    struct M = Embedding(0, 16) => LSTM(0) => Dense(1);
}

fn main() {}
