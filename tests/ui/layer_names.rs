use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => LSTM(16, return_sequences = true, name = "encoder") => LSTM(8, name = "encoder");
    struct N = Input(_, 8) => Dense(4, name = "dense") => Dense(2) => Dropout(0.1, name = "head/drop");
}

fn main() {}
