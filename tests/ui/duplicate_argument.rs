use rnn::prelude::*;

model! {
    struct M = Input(_, 4) => GRU(8, units = 8) => Dense(1, sigmoid, activation = relu);
}

fn main() {}
