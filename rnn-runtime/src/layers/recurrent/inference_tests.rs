//! Inference passes keep only what their next step reads (the states in two slots, one block
//! of steps' gates) and give the bits of a recording pass; a backward pass after one is an
//! error.

use crate::kernels::test_support::data;
use crate::layer::{Layer, Mode};
use crate::layers::bidirectional::{Bidirectional, Concat, Mul};
use crate::layers::cell::Cell;
use crate::layers::gru::GruCell;
use crate::layers::lstm::LstmCell;
use crate::layers::rnn_config::{Last, RecurrentOutput, ReturnMode, RnnConfig, Sequences};
use crate::layers::simple_rnn::SimpleRnnCell;
use crate::tensor::{Mask, Sequence};

use super::Rnn;

const IN: usize = 3;
const H: usize = 5;

/// A batch whose rows end with padding of different lengths (the first row has none).
fn input(batch: usize, time: usize, masked: bool) -> Sequence<IN> {
    let x = Sequence::from_time_major(batch, time, data(batch * time * IN, 7));
    if !masked {
        return x;
    }
    let valid = (0..time)
        .flat_map(|t| (0..batch).map(move |b| t + b % 4 < time))
        .collect();
    x.with_mask(Some(Mask::from_time_major(batch, time, valid)))
}

fn same_bits(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    let diff = got
        .iter()
        .zip(want)
        .position(|(g, w)| g.to_bits() != w.to_bits());
    assert!(diff.is_none(), "{what}: differs at {diff:?}");
}

/// One layer at every batch shape, direction, mask and `return_state`: inference against a
/// recording pass of the same layer, and the size of what inference kept.
fn check<C: Cell, R: ReturnMode>() {
    for (batch, time) in [(1, 1), (1, 300), (3, 100), (300, 4)] {
        for (go_back, masked, state) in [
            (false, false, false),
            (true, false, true),
            (false, true, true),
            (true, true, false),
        ] {
            let what = format!(
                "{} sequences {} batch {batch} time {time} go_backwards {go_back} mask \
                 {masked} return_state {state}",
                C::NAME,
                R::SEQUENCES
            );
            let cfg = RnnConfig::default()
                .go_backwards(go_back)
                .return_state(state);
            let mut rnn = Rnn::<C, IN, H, R>::new("rnn", cfg, &mut crate::init::seeded_rng(5));
            let x = input(batch, time, masked);
            let want = rnn.forward(&x, Mode::InferenceGrad).unwrap().unwrap();
            let want_states = rnn.states();
            let got = rnn.forward(&x, Mode::Inference).unwrap().unwrap();
            same_bits(&got, &want, &what);
            for (g, w) in rnn.states().iter().zip(&want_states) {
                same_bits(&g.data, &w.data, &format!("{what}: {}", w.name));
            }
            let ws = &rnn.core.ws;
            let (len, gh) = (batch * H, C::GATES * H);
            let steps = if R::SEQUENCES { time } else { time.min(2) };
            assert_eq!(ws.hs.len(), steps * len, "{what}");
            let block = super::PROJECT_ROWS.div_ceil(batch).min(time);
            assert_eq!(ws.zs.len(), block * batch * gh, "{what}");
            // After an inference pass, backward is refused and changes nothing.
            let dy = R::Output::<H>::wrap(batch, time, vec![1.0; got.len()], x.mask());
            let err = rnn.backward(&x, dy, &[]).unwrap_err().to_string();
            assert!(
                err.starts_with("rnn:") && err.contains("Mode::Inference"),
                "{what}: {err}"
            );
            let dy = R::Output::<H>::wrap(batch, time, vec![1.0; got.len()], x.mask());
            rnn.forward(&x, Mode::Training).unwrap();
            rnn.backward(&x, dy, &[]).unwrap();
        }
    }
}

#[test]
fn inference_keeps_two_steps_and_gives_the_bits_of_a_recording_pass() {
    check::<SimpleRnnCell, Last>();
    check::<SimpleRnnCell, Sequences>();
    check::<LstmCell, Last>();
    check::<LstmCell, Sequences>();
    check::<GruCell<true>, Last>();
    check::<GruCell<false>, Sequences>();
}

#[test]
fn bidirectional_inference_gives_the_bits_of_a_recording_pass_and_refuses_backward() {
    type Bi = Bidirectional<Rnn<LstmCell, IN, H, Sequences>, { 2 * H }, Concat>;
    type BiLast = Bidirectional<Rnn<GruCell, IN, H, Last>, H, Mul>;
    let x = input(3, 100, true);
    let mut bi = Bi::new(
        "bi",
        "lstm",
        RnnConfig::default(),
        &mut crate::init::seeded_rng(1),
    );
    let want = bi.forward(&x, Mode::InferenceGrad).unwrap();
    let got = bi.forward(&x, Mode::Inference).unwrap();
    same_bits(got.as_slice(), want.as_slice(), "concat");
    let err = bi.backward(&x, got, &[]).unwrap_err().to_string();
    assert!(err.contains("Mode::Inference"), "{err}");

    let mut bi = BiLast::new(
        "bi",
        "gru",
        RnnConfig::default(),
        &mut crate::init::seeded_rng(2),
    );
    let want = bi.forward(&x, Mode::InferenceGrad).unwrap();
    let got = bi.forward(&x, Mode::Inference).unwrap();
    same_bits(got.as_slice(), want.as_slice(), "mul");
    let err = bi.backward(&x, got, &[]).unwrap_err().to_string();
    assert!(err.contains("Mode::Inference"), "{err}");
}
