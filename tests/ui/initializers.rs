use rnn::prelude::*;

model! {
    struct Misspelt = Input(_, 4) => LSTM(8, kernel_initializer = GlorotUniforn) => Dense(1);
    struct BadString = Input(_, 4) => GRU(8, recurrent_initializer = "orthogonl") => Dense(1);
    struct Number = Input(_, 4) => SimpleRNN(8, bias_initializer = 0.1) => Dense(1);
    struct MatrixOnly = Input(_, 4) => LSTM(8, bias_initializer = Identity) => Dense(1, bias_initializer = Orthogonal(2.0));
    struct Arguments = Input(_, 4) => Dense(2, kernel_initializer = Constant(0.1, 0.2)) => Dense(1, kernel_initializer = Orthogonal(gian = 2.0));
    struct Seed = Input(_, 4) => Dense(2, kernel_initializer = HeNormal(seed = 7)) => Dense(1, kernel_initializer = RandomNormal(mean = x));
    struct Twice = Embedding(10, 4, embeddings_initializer = RandomUniform(-0.1, minval = 0.1)) => LSTM(2);
    struct Unknown = Input(_, 4) => Bidirectional(LSTM(2, kernel_initializer = Xavier(1.0)));
}

fn main() {}
