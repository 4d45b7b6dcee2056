use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => Input(_, 8) => LSTM(4);
}

fn main() {}
