use rnn::prelude::*;

model! {
    /// Only the first layer's vocabulary may be chosen at run time.
    struct Softmax = Embedding(_, 16) => LSTM(32) => Dense(_, softmax);
    struct Width = Embedding(1000, _) => LSTM(32);
    /// The count depends on the vocabulary given to `with_vocab`.
    #[params = 3_000]
    struct Declared = Embedding(_, 16) => LSTM(32) => Dense(1);
}

fn main() {
    // A model expression is built at once, without a vocabulary.
    let _ = model!(Embedding(_, 8) => GRU(4));
    // The stand-ins have both kinds of constructors, so these lines add no error.
    let _ = Softmax::with_vocab(100, 0);
    let _ = Width::new(0);
}
