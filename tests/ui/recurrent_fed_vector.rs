use rnn::prelude::*;

model! {
    struct Deep = Embedding(10000, 64) => LSTM(64) => LSTM(32) => Dense(1, sigmoid);
    struct DeepBi = Embedding(10000, 64) => Bidirectional(GRU(32)) => GRU(8);
}

fn main() {}
