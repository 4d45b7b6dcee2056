use rnn::prelude::*;

model! {
    // Keras 2's input shape on the second layer: it belongs on the first.
    struct A = LSTM(32, return_sequences = true) => LSTM(8, input_shape = (10, 5)) => Dense(1);
    // With an `Input`, there is nothing to move.
    struct B = Input(_, 5) => LSTM(8, input_dim = 5);
    // On the layer a wrapper wraps: it belongs on the wrapper.
    struct C = Bidirectional(LSTM(8, input_shape = (10, 5))) => Dense(1);
}

fn main() {}
