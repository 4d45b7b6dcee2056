use rnn::prelude::*;

model! {
    struct M = Input(_, 4) => Bidirectional(LSTM(8), merge_mode = average);
}

fn main() {}
