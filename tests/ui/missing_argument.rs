use rnn::prelude::*;

model! {
    struct Classifier = Embedding(1000) => LSTM(activation = relu) => Dense(1, sigmoid);
}

fn main() {}
