use rnn::prelude::*;

const VOCAB: usize = 10_000;
const H: usize = 8;
const EMPTY: usize = 0;
const T: usize = 20;
const SMALL: u32 = 3;

model! {
    // The count depends on constants, so the compiler compares it.
    #[params = 100]
    struct Counted = Embedding(VOCAB + 1, 16) => LSTM({ 2 * H }) => Dense(1, sigmoid);
}

model! {
    struct Empty = Input(_, 4) => LSTM(EMPTY);
}

model! {
    // Time steps are checked at run time: they must be written out.
    struct Steps = Input(T, 4) => LSTM(H);
}

model! {
    // A size is a `usize`.
    struct Typed = Input(_, 4) => Dense(SMALL);
}

fn main() {}
