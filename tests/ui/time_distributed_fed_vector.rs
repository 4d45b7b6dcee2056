use rnn::prelude::*;

model! {
    struct M = Input(_, 56) => LSTM(256) => TimeDistributed(Dense(56, softmax));
}

fn main() {}
