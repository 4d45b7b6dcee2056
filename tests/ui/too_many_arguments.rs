use rnn::prelude::*;

model! {
    struct M = Input(_, 4) => Dense(3, relu, true, glorot_uniform, zeros, 7) => GlobalAveragePooling1D(2);
    struct N = Input(_, 4) => SimpleRNN(units = 4, tanh);
}

fn main() {}
