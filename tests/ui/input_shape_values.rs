use rnn::prelude::*;

model! {
    struct A = LSTM(8, input_shape = 5);
    struct B = LSTM(8, input_shape = (10, 5), input_dim = 5);
    struct C = SimpleRNN(8, input_length = 10);
    struct D = GRU(8, batch_input_shape = (0, 10, 5));
    struct E = LSTM(8, input_shape = (ten, 5));
    struct F = Dense(4, input_length = 3);
    // A misspelt argument is not repeated in the help.
    struct G = LSTM(32, input_shap = (10, 5));
}

fn main() {}
