use rnn::{Dense, Lstm, Last, RnnConfig, Sequence, Stack, seeded_rng, stack, Activation};

fn main() {
    let mut rng = seeded_rng(0);
    // An LSTM returning its last output cannot feed another LSTM.
    let _net = stack::<Sequence<3>, _>(Lstm::<3, 8, Last>::new("lstm", RnnConfig::default(), &mut rng))
        .then(Lstm::<8, 4>::new("lstm_1", RnnConfig::default(), &mut rng))
        .then(Dense::<4, 1>::new("dense", Activation::Sigmoid, &mut rng));
}
