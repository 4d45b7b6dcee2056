use rnn::prelude::*;

model! {
    struct M = Input(10, 8);
}

fn main() {}
