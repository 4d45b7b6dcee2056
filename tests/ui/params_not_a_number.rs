use rnn::prelude::*;

model! {
    #[params = "many"]
    struct M = Input(_, 8) => LSTM(4);
}

fn main() {}
