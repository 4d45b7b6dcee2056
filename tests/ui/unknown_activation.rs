use rnn::prelude::*;

model! {
    struct M = Input(_, 4) => LSTM(8, recurrent_activation = hardsigmoid) => Dense(1, sigmoidd);
}

fn main() {}
