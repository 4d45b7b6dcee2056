use rnn::prelude::*;

// Three independent mistakes are all reported; none causes a follow-on error.
model! {
    #[params = 1]
    struct M = Input(_, 8) => LSTM(64, return_sequence = true) => Dense(0) => Dropout(2.0) => Dense(1);
}

fn main() {}
