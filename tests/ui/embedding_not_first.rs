use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => Embedding(1000, 16) => LSTM(8);
}

fn main() {}
