use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => LSTM(4) Dense(1);
}

fn main() {}
