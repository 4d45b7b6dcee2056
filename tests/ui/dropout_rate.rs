use rnn::prelude::*;

model! {
    struct M = Input(_, 4) => LSTM(8, return_sequences = true) => Dropout(1.5) => LSTM(4) => Dropout(-0.1);
}

fn main() {}
