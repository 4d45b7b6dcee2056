use rnn::prelude::*;

model! {
    pub struct Tagger = Input(_, 8) => Lstm(16) => Dense(3, softmax);
}

fn main() {
    // Code using the model sees no follow-on errors.
    let mut model = Tagger::new(0);
    let _ = model.predict(vec![vec![vec![0.0f32; 8]]]);
    println!("{}", model.summary());
}
