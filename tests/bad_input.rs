//! Bad input gets an error that says what is wrong, never a panic, and changes nothing.

use rnn::Weight;
use rnn::prelude::*;

model! {
    struct Sentiment = Embedding(100, 8, mask_zero = true) => LSTM(4) => Dense(1, sigmoid);
    struct Series = Input(10, 3) => GRU(4, return_sequences = true) => TimeDistributed(Dense(2));
    struct Free = Input(_, 3) => SimpleRNN(2);
}

fn err_text<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn token_id_beyond_the_vocabulary() {
    let mut m = Sentiment::new(0);
    let e = m.predict(vec![vec![1, 2, 3], vec![4, 100, 6]]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TokenOutOfRange {
                id: 100,
                batch: 1,
                step: 1,
                vocab: 100,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "embedding: token id 100 at [batch 1, step 1] is out of range: input_dim is 100, so ids must be < 100"
    );
    assert!(
        m.predict(vec![vec![1, 2, 99]]).is_ok(),
        "the model still works"
    );
}

#[test]
fn wrong_feature_size() {
    let mut m = Free::new(0);
    let text = err_text(m.predict(vec![vec![vec![0.5f32; 4]; 6]]));
    assert!(
        text.contains("input: expected shape (batch, time, 3)"),
        "{text}"
    );
    assert!(text.contains("4 features"), "{text}");
    let text = err_text(m.predict((&[0.5f32; 12][..], [1, 3, 4])));
    assert_eq!(
        text,
        "input: expected shape (batch, time, 3), got (1, 3, 4)"
    );
}

#[test]
fn wrong_number_of_time_steps_for_a_fixed_input() {
    let mut m = Series::new(0);
    let text = err_text(m.predict(vec![vec![vec![0.0f32; 3]; 7]]));
    assert_eq!(text, "input: expected shape (batch, 10, 3), got (1, 7, 3)");
    assert!(m.predict(vec![vec![vec![0.0f32; 3]; 10]]).is_ok());
}

#[test]
fn ragged_batches() {
    let mut m = Sentiment::new(0);
    let text = err_text(m.predict(vec![vec![1, 2, 3], vec![4, 5]]));
    assert_eq!(text, "input: ragged batch: row 1 has 2 steps, row 0 has 3");
    let mut f = Free::new(0);
    let text = err_text(f.predict(vec![vec![vec![0.0f32; 3]; 2], vec![vec![0.0f32; 3]; 3]]));
    assert!(
        text.contains("ragged batch: row 1 has 3 steps, row 0 has 2"),
        "{text}"
    );
}

#[test]
fn empty_batch_and_empty_sequences() {
    let mut m = Sentiment::new(0);
    let text = err_text(m.predict(Vec::<Vec<u32>>::new()));
    assert!(text.contains("the batch has no rows"), "{text}");
    let text = err_text(m.predict(vec![Vec::<u32>::new(), vec![]]));
    assert!(text.contains("no time steps"), "{text}");
    let mut f = Free::new(0);
    assert!(err_text(f.predict(Vec::<Vec<Vec<f32>>>::new())).contains("no rows"));
    assert!(err_text(f.predict((&[][..], [0, 3, 3]))).contains("no rows"));
}

#[test]
fn non_finite_inputs() {
    let mut f = Free::new(0);
    let mut x = vec![vec![vec![0.5f32; 3]; 4]];
    x[0][2][1] = f32::NAN;
    let text = err_text(f.predict(&x));
    assert!(text.contains("NaN at index"), "{text}");
    x[0][2][1] = f32::NEG_INFINITY;
    let text = err_text(f.predict(&x));
    assert!(text.contains("-inf at index"), "{text}");
}

#[test]
fn weights_with_the_wrong_count_length_shape_or_values_change_nothing() {
    let mut m = Sentiment::new(0);
    let before = m.get_weights();
    assert_eq!(before.len(), 6);

    let text = err_text(m.set_weights(&before[..5]));
    assert!(text.contains("the model has 6 weight arrays"), "{text}");
    assert!(text.contains("sequential/dense/bias"), "{text}");

    let mut short: Vec<Vec<f32>> = before.iter().map(|w| w.values.clone()).collect();
    short[2].pop();
    let text = err_text(m.set_weights(&short));
    assert_eq!(
        text,
        "weight `sequential/lstm/lstm_cell/recurrent_kernel`: expected shape (4, 16) (64 values), got 63 values"
    );

    let mut wrong_shape = before.clone();
    wrong_shape[1] = Weight {
        shape: vec![16, 8],
        ..wrong_shape[1].clone()
    };
    let text = err_text(m.set_weights(&wrong_shape));
    assert_eq!(
        text,
        "weight `sequential/lstm/lstm_cell/kernel`: expected shape (8, 16), got (16, 8)"
    );

    let mut nan = before.clone();
    nan[5].values[0] = f32::NAN;
    let text = err_text(m.set_weights(&nan));
    assert!(
        text.contains("weight `sequential/dense/bias` contains NaN"),
        "{text}"
    );

    assert_eq!(
        m.get_weights(),
        before,
        "rejected weights leave the model untouched"
    );
    assert!(m.set_weights(&before).is_ok());
}

#[test]
fn backward_without_a_recording_forward_pass() {
    let mut m = Free::new(0);
    let text = err_text(m.backward(&[&[1.0, 1.0]]));
    assert!(text.contains("before"), "{text}");
    m.predict(vec![vec![vec![0.0f32; 3]; 2]]).unwrap();
    assert!(
        m.backward(&[&[1.0, 1.0]]).is_err(),
        "inference keeps nothing for backward"
    );
}

#[test]
fn gradients_of_the_wrong_shape() {
    let mut m = Free::new(0);
    let x: Sequence<3> = Sequence::from_batch_major(&[0.1; 6], 1, 2).unwrap();
    m.forward(&x, Mode::InferenceGrad).unwrap();
    let text = err_text(m.backward(&[&[1.0, 1.0, 1.0]]));
    assert_eq!(
        text,
        "gradient of `output`: expected shape (1, 2), got 3 values"
    );
}

#[test]
fn a_sequence_without_time_steps() {
    let mut m = Free::new(0);
    let text = err_text(m.predict(Sequence::<3>::zeros(2, 0)));
    assert_eq!(
        text,
        "simple_rnn: the sequence has no time steps (shape (2, 0, 3)); a recurrent layer needs \
         at least one"
    );
}

#[test]
fn recurrent_gradients_of_the_wrong_batch_or_length() {
    let mut rng = rnn::seeded_rng(0);
    let cfg = rnn::RnnConfig::default().return_state(true);
    let mut lstm = rnn::Lstm::<3, 4, rnn::Sequences>::new("lstm", cfg, &mut rng);
    let x = Sequence::<3>::zeros(2, 5);
    let mut backward = |dy: Sequence<4>, ds: &[&[f32]]| {
        lstm.forward(&x, Mode::Training).unwrap();
        lstm.backward(&x, dy, ds).map(|_| ())
    };
    assert_eq!(
        err_text(backward(Sequence::zeros(3, 5), &[])),
        "lstm: output gradient: expected shape (2, 5, 4), got (3, 5, 4)"
    );
    assert_eq!(
        err_text(backward(Sequence::zeros(2, 4), &[])),
        "lstm: output gradient: expected shape (2, 5, 4), got (2, 4, 4)"
    );
    assert_eq!(
        err_text(backward(Sequence::zeros(2, 5), &[&[0.0; 8], &[0.0; 7]])),
        "lstm: gradient of state_c: expected shape (2, 4), got 7 values"
    );
    assert!(backward(Sequence::zeros(2, 5), &[&[0.0; 8], &[0.0; 8]]).is_ok());

    let mut gru = rnn::Gru::<3, 4>::new("gru", rnn::RnnConfig::default(), &mut rng);
    gru.forward(&x, Mode::Training).unwrap();
    assert_eq!(
        err_text(gru.backward(&x, Features::zeros(1), &[])),
        "gru: output gradient: expected shape (2, 4), got (1, 4)"
    );
    assert_eq!(
        err_text(gru.backward(&x, Features::zeros(2), &[&[0.0; 8]])),
        "gru: got 1 state gradient(s), but the layer returns 0 state(s)"
    );
}

#[test]
fn token_ids_of_other_integer_types_are_range_checked() {
    let mut m = Sentiment::new(0);
    let want = m.predict(vec![vec![1u32, 2, 3]]).unwrap();
    for got in [
        m.predict(vec![vec![1i32, 2, 3]]).unwrap(),
        m.predict(vec![vec![1i64, 2, 3]]).unwrap(),
        m.predict(vec![vec![1usize, 2, 3]]).unwrap(),
    ] {
        assert_eq!(got.main().data, want.main().data);
    }
    let e = err_text(m.predict(vec![vec![1i64, 2], vec![3, -7]]));
    assert!(e.contains("token id -7 at [batch 1, step 1]"), "{e}");
    assert!(e.contains("from 0 to 4294967295"), "{e}");
    let e = err_text(m.predict(vec![vec![u32::MAX as i64 + 1]]));
    assert!(
        e.contains("token id 4294967296 at [batch 0, step 0]"),
        "{e}"
    );
    // In range for u32 but not for the vocabulary: the embedding's own error.
    let e = m.predict(vec![vec![100usize]]).unwrap_err();
    assert!(matches!(e, Error::TokenOutOfRange { id: 100, .. }), "{e}");
}

#[test]
fn state_gradients_for_a_layer_without_states() {
    let mut rng = rnn::seeded_rng(0);
    let mut dense = rnn::Dense::<3, 2>::new("dense", Activation::Softmax, &mut rng);
    let x = Features::<3>::zeros(2);
    dense.forward(&x, Mode::Training).unwrap();
    let grads = |d: &rnn::Dense<3, 2>| -> Vec<Vec<f32>> {
        d.params().iter().map(|p| p.grad().to_vec()).collect()
    };
    let before = grads(&dense);
    let want = "dense: got 1 state gradient(s), but the layer returns no states";
    assert_eq!(
        err_text(dense.backward(&x, Features::zeros(2), &[&[0.0; 4]])),
        want
    );
    assert_eq!(
        err_text(dense.backward_logits(&x, Features::zeros(2), &[&[0.0; 4]])),
        want
    );
    assert_eq!(grads(&dense), before);
    assert!(dense.backward_logits(&x, Features::zeros(2), &[]).is_ok());
}

#[test]
fn embedding_backward_with_ids_beyond_the_vocabulary() {
    // `Layer::backward` takes the ids again: ids that the forward pass never saw must be
    // refused like ids given to `forward`, before any gradient is added.
    let mut emb = rnn::Embedding::<5, 2>::new("embedding", false, &mut rnn::seeded_rng(0));
    let ids = TokenBatch::new(vec![vec![1, 2]]).unwrap();
    let y = emb.forward(&ids, Mode::Training).unwrap();
    let bad = TokenBatch::new(vec![vec![1, 7]]).unwrap();
    let e = emb.backward(&bad, y.clone(), &[]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TokenOutOfRange {
                id: 7,
                batch: 0,
                step: 1,
                vocab: 5,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(emb.params()[0].grad().iter().all(|&g| g == 0.0));
    emb.backward(&ids, y, &[]).unwrap();
}

#[test]
fn states_before_any_forward_pass() {
    // No pass yet: the final states have no rows, instead of a step before the first.
    let lstm = rnn::Lstm::<2, 3>::new(
        "lstm",
        rnn::RnnConfig::default().return_state(true),
        &mut rnn::seeded_rng(0),
    );
    let states = lstm.states();
    assert_eq!(states.len(), 2);
    assert!(
        states
            .iter()
            .all(|s| s.shape == [0, 3] && s.data.is_empty())
    );
}

#[test]
fn dense_backward_with_another_batch_of_inputs() {
    // The gradient fits the recorded pass, but the inputs given have another batch size.
    let mut dense = rnn::Dense::<2, 1>::new("dense", Activation::Linear, &mut rnn::seeded_rng(0));
    let x = Features::<2>::from_flat(&[0.5, 1.0, -1.0, 2.0]).unwrap();
    let dz = dense.forward(&x, Mode::Training).unwrap();
    let one = Features::<2>::from_flat(&[0.5, 1.0]).unwrap();
    let e = dense.backward_logits(&one, dz.clone(), &[]).unwrap_err();
    assert!(matches!(e, Error::Shape { .. }), "{e:?}");
    assert!(
        e.to_string().contains("(1, 1) for an input of 1 rows"),
        "{e}"
    );
    assert!(dense.params()[0].grad().iter().all(|&g| g == 0.0));
    dense.backward_logits(&x, dz, &[]).unwrap();
}
