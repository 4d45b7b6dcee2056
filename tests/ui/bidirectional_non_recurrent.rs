use rnn::prelude::*;

model! {
    struct M = Input(_, 8) => Bidirectional(Dense(8)) => Dense(1);
}

fn main() {}
