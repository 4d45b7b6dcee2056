use rnn::prelude::*;

fn main() {
    let mut net = model!(Input(10, 5) => LSTM(3) => Dense(2, softmx));
    let _ = net.predict(vec![vec![vec![0.0f32; 5]; 10]]);
}
