use rnn::prelude::*;

model! {
    /// 4e12 parameters: 16 TB of weights.
    struct Huge = Embedding(4_000_000_000, 1000) => LSTM(8);
    /// A count beyond 64 bits.
    struct Wider = Input(_, 4_000_000_000) => LSTM(4_000_000_000);
    /// Each layer fits, the model does not.
    #[max_params = 100]
    struct Total = Input(_, 4) => LSTM(3) => Dense(10);
    #[max_params = -1]
    struct Negative = Input(_, 4) => LSTM(3);
}

fn main() {
    // The stand-in keeps `try_new`, so this line adds no error.
    let _ = Huge::try_new(0);
}
