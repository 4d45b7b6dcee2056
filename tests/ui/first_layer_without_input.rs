use rnn::prelude::*;

model! {
    struct M = SimpleRNN(32) => Dense(1, sigmoid);
}

fn main() {}
