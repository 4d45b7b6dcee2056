use rnn::prelude::*;

model! {
    struct M = Input(_, 4) => LSTM(8, dropout = 1.0, return_sequences = true) => Bidirectional(GRU(4, recurrent_dropout = -0.2)) => Dense(1);
}

model! {
    struct N = Input(_, 4) => SimpleRNN(8, recurrent_dropout = high);
}

fn main() {}
