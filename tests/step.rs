//! Stepping a model one time step at a time gives what `predict` gives on the whole sequence:
//! each prefix for models returning the last output, each step for `return_sequences`
//! models; with masking, reset, saved and restored states, any batch size; bad input is an
//! error that changes nothing; and a step allocates nothing.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use rnn::prelude::*;
use rnn::{Error, ModelInput, ModelOutput};

use counting_alloc::{Counting, allocations};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

model! { struct SimpleLast = Embedding(20, 4) => SimpleRNN(5) => Dense(2, softmax); }
model! { struct LstmSeq = Embedding(20, 4) => LSTM(5, return_sequences = true) => TimeDistributed(Dense(3, sigmoid)); }
model! { struct GruLast = Embedding(20, 4) => GRU(5) => Dense(1, sigmoid); }
model! { struct GruBeforeSeq = Embedding(20, 4) => GRU(5, reset_after = false, return_sequences = true) => Dense(2, tanh); }
model! { struct GruBeforeLast = Embedding(20, 3) => GRU(4, reset_after = false, use_bias = false); }
model! {
    struct Stacked = Embedding(20, 4) => LSTM(5, return_sequences = true) => Dropout(0.5)
        => GRU(4, return_sequences = true) => SimpleRNN(3) => Dense(2);
}
model! { struct Features3 = Input(_, 3) => LSTM(4, return_sequences = true) => GRU(3, reset_after = false); }
model! { struct FeaturesSeq = Input(_, 3) => SimpleRNN(4, relu, return_sequences = true) => TimeDistributed(Dense(2, softmax)); }
model! {
    struct MaskedLast = Embedding(20, 4, mask_zero = true) => LSTM(5, return_sequences = true)
        => GRU(3, reset_after = false) => Dense(2, softmax);
}
model! {
    struct MaskedSeq = Embedding(20, 4, mask_zero = true) => GRU(4, return_sequences = true)
        => Dropout(0.2) => SimpleRNN(3, return_sequences = true) => TimeDistributed(Dense(2));
}
model! { struct LstmState = Embedding(20, 4) => LSTM(3, return_state = true); }
model! { struct Bi = Embedding(20, 4) => Bidirectional(LSTM(3)) => Dense(1); }
model! { struct Pooled = Input(_, 3) => GRU(4, return_sequences = true) => GlobalAveragePooling1D; }
model! { struct Backwards = Input(_, 3) => GRU(4, go_backwards = true); }
model! { struct Vector = Input(4) => Dense(2); }

fn close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-6 + 1e-5 * w.abs(),
            "{what}: index {i}: stepped {g}, whole sequence {w}"
        );
    }
}

/// Row-major `(batch, time, features)` from nested rows, cut to the first `t` steps.
fn prefix<T: Clone>(rows: &[Vec<T>], t: usize) -> Vec<Vec<T>> {
    rows.iter().map(|r| r[..t].to_vec()).collect()
}

/// Steps `steps` (one `&[elem]` of `batch * row` values per time step) through `model` and
/// compares with `predict` of `whole(t)`, the first `t` steps as a model input.
fn check_steps<S, X>(
    model: &mut Sequential<S>,
    batch: usize,
    steps: &[Vec<<S::In as StepInput>::Elem>],
    whole: impl Fn(usize) -> X,
    what: &str,
) where
    S: Stack,
    S::In: ModelInput + StepInput,
    S::Out: ModelOutput,
    X: IntoInput<S::In>,
{
    let time = steps.len();
    let full = model.predict(whole(time)).unwrap();
    let main = full.main();
    let sequences = main.shape.len() == 3;
    let width = *main.shape.last().unwrap();
    let mut state = model.step_state(batch).unwrap();
    assert_eq!(state.batch(), batch);
    for (t, x) in steps.iter().enumerate() {
        let got = model.step(&mut state, x).unwrap().to_vec();
        let want: Vec<f32> = if sequences {
            (0..batch)
                .flat_map(|b| {
                    let at = (b * time + t) * width;
                    main.data[at..at + width].to_vec()
                })
                .collect()
        } else {
            model.predict(whole(t + 1)).unwrap().main().data.clone()
        };
        close(&got, &want, &format!("{what}, step {t}"));
    }
}

/// Token-id rows as per-step slices.
fn id_steps(rows: &[Vec<u32>]) -> Vec<Vec<u32>> {
    (0..rows[0].len())
        .map(|t| rows.iter().map(|r| r[t]).collect())
        .collect()
}

fn check_ids<S>(model: &mut Sequential<S>, rows: &[Vec<u32>], what: &str)
where
    S: Stack<In = TokenBatch>,
    S::Out: ModelOutput,
{
    // The whole batch, then its first row alone (the matrix-vector path).
    let steps = id_steps(rows);
    check_steps(model, rows.len(), &steps, |t| prefix(rows, t), what);
    let one = &rows[..1];
    let steps = id_steps(one);
    check_steps(
        model,
        1,
        &steps,
        |t| prefix(one, t),
        &format!("{what}, batch 1"),
    );
}

fn ids() -> Vec<Vec<u32>> {
    vec![
        vec![3, 14, 15, 9, 2, 6, 5],
        vec![1, 19, 7, 7, 12, 4, 8],
        vec![11, 2, 18, 13, 5, 16, 10],
    ]
}

#[test]
fn simple_rnn_matches_predict_at_every_prefix() {
    check_ids(&mut SimpleLast::new(1), &ids(), "SimpleRNN");
}

#[test]
fn lstm_sequences_with_time_distributed_head() {
    check_ids(&mut LstmSeq::new(2), &ids(), "LSTM sequences");
}

#[test]
fn gru_reset_after_and_before() {
    check_ids(&mut GruLast::new(3), &ids(), "GRU");
    check_ids(&mut GruBeforeSeq::new(4), &ids(), "GRU reset_after = false");
    check_ids(
        &mut GruBeforeLast::new(5),
        &ids(),
        "GRU reset_after = false, no bias",
    );
}

#[test]
fn stacked_layers_with_dropout() {
    check_ids(&mut Stacked::new(6), &ids(), "stacked");
}

fn feature_rows(batch: usize, time: usize) -> Vec<Vec<Vec<f32>>> {
    (0..batch)
        .map(|b| {
            (0..time)
                .map(|t| {
                    (0..3)
                        .map(|f| ((b * 31 + t * 7 + f * 3) as f32 * 0.37).sin())
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn feature_steps(rows: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
    (0..rows[0].len())
        .map(|t| rows.iter().flat_map(|r| r[t].clone()).collect())
        .collect()
}

#[test]
fn feature_input_models() {
    for batch in [1, 3] {
        let rows = feature_rows(batch, 6);
        let steps = feature_steps(&rows);
        let mut m = Features3::new(7);
        check_steps(&mut m, batch, &steps, |t| prefix(&rows, t), "Input(_, 3)");
        let mut m = FeaturesSeq::new(8);
        check_steps(
            &mut m,
            batch,
            &steps,
            |t| prefix(&rows, t),
            "Input(_, 3) sequences",
        );
    }
}

#[test]
fn padding_steps_keep_the_state_as_a_whole_pass_does() {
    // Pre-padding, padding in the middle, and a row that ends padded.
    let rows = vec![
        vec![0, 0, 3, 14, 15, 9, 2],
        vec![5, 0, 7, 0, 0, 4, 8],
        vec![11, 2, 18, 13, 0, 0, 0],
    ];
    check_ids(&mut MaskedLast::new(9), &rows, "masked, last output");
    check_ids(&mut MaskedSeq::new(10), &rows, "masked, sequences");
}

#[test]
fn reset_starts_over() {
    let m = MaskedLast::new(11);
    let steps = id_steps(&ids());
    let mut state = m.step_state(3).unwrap();
    let first: Vec<Vec<f32>> = steps
        .iter()
        .map(|x| m.step(&mut state, x).unwrap().to_vec())
        .collect();
    state.reset();
    assert!(
        state
            .states()
            .iter()
            .all(|s| s.data.iter().all(|&v| v == 0.0))
    );
    for (x, want) in steps.iter().zip(&first) {
        assert_eq!(m.step(&mut state, x).unwrap(), &want[..]);
    }
}

#[test]
fn states_are_named_and_round_trip() {
    let m = Stacked::new(12);
    let steps = id_steps(&ids());
    let mut state = m.step_state(3).unwrap();
    let names: Vec<String> = state.states().into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "lstm/state_h",
            "lstm/state_c",
            "gru/state_h",
            "simple_rnn/state_h"
        ]
    );
    for x in &steps[..4] {
        m.step(&mut state, x).unwrap();
    }
    let saved = state.states();
    assert!(saved.iter().all(|s| s.shape[0] == 3));
    let rest: Vec<Vec<f32>> = steps[4..]
        .iter()
        .map(|x| m.step(&mut state, x).unwrap().to_vec())
        .collect();

    // A clone continues on its own.
    let mut branch = state.clone();
    let mut restored = m.step_state(3).unwrap();
    let refs: Vec<&[f32]> = saved.iter().map(|s| s.data.as_slice()).collect();
    restored.set_states(&refs).unwrap();
    assert_eq!(restored.states(), saved);
    for (x, want) in steps[4..].iter().zip(&rest) {
        assert_eq!(m.step(&mut restored, x).unwrap(), &want[..]);
    }
    assert_eq!(branch.states(), state.states());
    m.step(&mut branch, &steps[0]).unwrap();
    assert_ne!(branch.states(), state.states());

    // Wrong count, wrong length, NaN: errors that change nothing.
    let before = restored.states();
    assert!(restored.set_states(&refs[..3]).is_err());
    let short = vec![0.0f32; 2];
    let mut bad = refs.clone();
    bad[1] = &short;
    let err = restored.set_states(&bad).unwrap_err().to_string();
    assert!(err.contains("lstm/state_c"), "{err}");
    let nan = vec![f32::NAN; refs[0].len()];
    let mut bad = refs.clone();
    bad[0] = &nan;
    assert!(matches!(
        restored.set_states(&bad),
        Err(Error::NonFinite { .. })
    ));
    assert_eq!(restored.states(), before);
}

#[test]
fn the_final_states_of_predict_are_those_of_the_steps() {
    let mut m = LstmState::new(13);
    let rows = ids();
    let whole = m.predict(rows.clone()).unwrap();
    let mut state = m.step_state(3).unwrap();
    for x in id_steps(&rows) {
        m.step(&mut state, &x).unwrap();
    }
    let states = state.states();
    close(&states[0].data, &whole.get("state_h").unwrap().data, "h");
    close(&states[1].data, &whole.get("state_c").unwrap().data, "c");
}

#[test]
fn layers_that_need_the_whole_sequence_cannot_step() {
    let err = Bi::new(0).step_state(1).unwrap_err().to_string();
    assert!(
        err.contains("bidirectional") && err.contains("one step"),
        "{err}"
    );
    let err = Pooled::new(0).step_state(1).unwrap_err().to_string();
    assert!(err.contains("global_average_pooling1d"), "{err}");
    let err = Backwards::new(0).step_state(1).unwrap_err().to_string();
    assert!(err.contains("go_backwards"), "{err}");
    let err = Vector::new(0).step_state(1).unwrap_err().to_string();
    assert!(err.contains("no time axis"), "{err}");
    assert!(SimpleLast::new(0).step_state(0).is_err());
}

#[test]
fn bad_steps_are_errors_that_change_nothing() {
    let m = MaskedLast::new(14);
    let mut state = m.step_state(2).unwrap();
    m.step(&mut state, &[3, 4]).unwrap();
    let before = state.states();

    let err = m.step(&mut state, &[3]).unwrap_err().to_string();
    assert!(err.contains("(2,)") && err.contains("1 values"), "{err}");
    let err = m.step(&mut state, &[3, 20]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TokenOutOfRange {
                id: 20,
                batch: 1,
                step: 1,
                vocab: 20,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(state.states(), before);

    let f = Features3::new(15);
    let mut fs = f.step_state(1).unwrap();
    assert!(f.step(&mut fs, &[0.1, 0.2]).is_err());
    let err = f.step(&mut fs, &[0.1, f32::NAN, 0.3]).unwrap_err();
    assert!(matches!(err, Error::NonFinite { index: 1, .. }), "{err}");
    assert!(fs.states().iter().all(|s| s.data.iter().all(|&v| v == 0.0)));

    // A state made for another model.
    let other = GruLast::new(0);
    let mut foreign = other.step_state(2).unwrap();
    let err = m.step(&mut foreign, &[1, 2]).unwrap_err().to_string();
    assert!(err.contains("another model"), "{err}");
}

#[test]
fn a_step_allocates_nothing() {
    let rows = ids();
    let steps = id_steps(&rows[..1]);
    let stacked = Stacked::new(16);
    let masked = MaskedSeq::new(17);
    let gru = GruBeforeSeq::new(18);
    let mut states = [
        stacked.step_state(1).unwrap(),
        masked.step_state(1).unwrap(),
        gru.step_state(1).unwrap(),
    ];
    // The counter sees allocations: this one must count.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8]))), 1);
    let n = allocations(|| {
        for x in &steps {
            stacked.step(&mut states[0], x).unwrap();
            masked.step(&mut states[1], x).unwrap();
            gru.step(&mut states[2], x).unwrap();
        }
    });
    assert_eq!(n, 0, "allocations in {} steps", 3 * steps.len());
}

#[test]
fn threads_step_their_own_sequences_through_one_shared_model() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let mut m = Stacked::new(19);
    m.compile(Loss::mean_squared_error(), Adam::default(), &[]);
    send_sync(&m);
    let rows = ids();
    let want: Vec<Vec<f32>> = rows
        .iter()
        .map(|r| m.predict(vec![r.clone()]).unwrap().main().data.clone())
        .collect();
    let m = &m;
    std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .iter()
            .map(|row| {
                s.spawn(move || {
                    let mut state = m.step_state(1).unwrap();
                    let mut y = Vec::new();
                    for &id in row {
                        y = m.step(&mut state, &[id]).unwrap().to_vec();
                    }
                    y
                })
            })
            .collect();
        for (h, want) in handles.into_iter().zip(&want) {
            close(&h.join().unwrap(), want, "stepped on another thread");
        }
    });
}
