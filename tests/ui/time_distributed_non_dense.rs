use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => TimeDistributed(LSTM(8));
}

fn main() {}
