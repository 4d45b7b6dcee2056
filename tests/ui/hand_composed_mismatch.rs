use rnn::{Dense, Lstm, RnnConfig, Sequence, Stack, seeded_rng, stack, Activation};

fn main() {
    let mut rng = seeded_rng(0);
    // The LSTM outputs 8 features, the Dense layer expects 4.
    let _net = stack::<Sequence<3>, _>(Lstm::<3, 8>::new("lstm", RnnConfig::default(), &mut rng))
        .then(Dense::<4, 2>::new("dense", Activation::Softmax, &mut rng));
}
