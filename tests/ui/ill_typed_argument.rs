use rnn::prelude::*;

model! {
    struct M = Input(_, 4) => LSTM(1.5) => Dense(3, return_sequences = 1);
    struct N = Input(_, 4) => SimpleRNN(4, return_sequences = "yes") => Bidirectional(lstm);
}

fn main() {}
