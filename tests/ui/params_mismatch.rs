use rnn::prelude::*;

model! {
    /// The tutorial model, with a miscounted parameter total.
    #[params = 529_440]
    pub struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
}

fn main() {
    // The model is still generated, so this line adds no error.
    let _ = Quiz::new(0).summary();
}
