use rnn::prelude::*;
model! { struct Topics = Embedding(1000, 100) => LSTM(100) => Dense(46, softmax); }
fn main() {
    let mut m = Topics::new(0);
    let ids: Vec<Vec<u32>> = (0..256)
        .map(|b| {
            (0..100)
                .map(|t| ((b * 31 + t * 7) % 999 + 1) as u32)
                .collect()
        })
        .collect();
    let x = TokenBatch::new(ids).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..20 {
        m.forward(&x, Mode::Inference).unwrap();
    }
    println!("{:?} per call", t.elapsed() / 20);
}
