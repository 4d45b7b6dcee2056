//! Sizes at the edge of what a machine can hold, and shapes that say one thing while the data
//! says another: each is an error or a documented panic, never a crash or a wrong answer.

use rnn::prelude::*;

model! {
    struct Vectors = Input(4) => Dense(3, softmax);
    struct Free = Input(_, 2) => SimpleRNN(3) => Dense(1, sigmoid);
    struct Sentiment = Embedding(50, 4) => LSTM(3) => Dense(3, softmax);
}

fn panics<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).err().expect("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn huge_zero_tensors_are_refused_before_predict() {
    // `(1 << 62) + 1` rows of 4 values wrap to 4 values: the tensor must not exist.
    let err = Features::<4>::try_zeros((1 << 62) + 1).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    let err = Sequence::<2>::try_zeros((1 << 63) + 1, 2).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    // The infallible forms panic with that message, as `vec!` does, before any kernel runs.
    let text = panics(|| Features::<4>::zeros((1 << 62) + 1));
    assert!(
        text.contains("more values than memory can address"),
        "{text}"
    );
    let text = panics(|| Sequence::<2>::zeros(usize::MAX, 2));
    assert!(text.contains("Sequence::zeros"), "{text}");
    // Sizes that fit still predict.
    let mut m = Vectors::new(0);
    let y = m.predict(Features::<4>::try_zeros(3).unwrap()).unwrap();
    assert_eq!(y.main().shape, vec![3, 3]);
}

#[test]
fn allocation_failure_is_an_error() {
    // Fits in `isize` bytes, but no machine has 2^61 bytes.
    let err = Sequence::<1>::try_zeros(1 << 30, 1 << 29).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot be allocated"), "{err}");
}

#[test]
fn flat_buffers_whose_shape_product_overflows() {
    let data = [0.5f32; 4];
    let bad: Result<Sequence<2>, _> = (&data[..], [1 << 62, 1 << 2, 2]).into_input();
    assert!(matches!(bad, Err(Error::TooLarge { .. })), "{bad:?}");
    // 2^63 * 2 wraps to 0 and 2^62 * 4 * 2 wraps to 0: still not the 0 values given.
    let bad: Result<Sequence<2>, _> = (&[][..], [1 << 62, 4, 2]).into_input();
    assert!(bad.is_err());
    let bad: Result<Features<4>, _> = (&data[..], [(1 << 62) + 1, 4]).into_input();
    assert!(matches!(bad, Err(Error::Shape { .. })), "{bad:?}");
    let ids = [1u32; 4];
    let bad: Result<TokenBatch, _> = (&ids[..], [(1 << 63) + 2, 2]).into_input();
    assert!(matches!(bad, Err(Error::Shape { .. })), "{bad:?}");
    assert!(TokenBatch::from_flat(vec![1; 4], usize::MAX, usize::MAX).is_err());
    assert!(Sequence::<2>::from_batch_major(&data, usize::MAX, 2).is_err());
}

#[test]
fn targets_whose_shape_product_overflows() {
    let err = Targets::values(vec![0.0; 4], vec![(1 << 62) + 1, 4]).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    let err = Targets::classes(vec![0; 2], vec![1 << 63, 2, 2]).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    let err = Targets::classes(vec![], vec![2, 0]).unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err:?}");
}

#[test]
fn binary_accuracy_with_class_ids_on_three_classes() {
    let mut m = Sentiment::new(0);
    m.compile(
        Loss::sparse_categorical_crossentropy(),
        Sgd::new(0.1),
        &[Metric::BinaryAccuracy],
    );
    let before = m.get_weights();
    let err = m
        .evaluate(vec![vec![1u32, 2], vec![3, 4]], vec![0u32, 2], 2)
        .unwrap_err();
    assert!(err.to_string().contains("binary_accuracy"), "{err}");
    let err = m
        .fit(
            vec![vec![1u32, 2], vec![3, 4]],
            vec![0u32, 2],
            Fit::new().epochs(1).verbose(0),
        )
        .unwrap_err();
    assert!(err.to_string().contains("binary_accuracy"), "{err}");
    assert_eq!(m.get_weights(), before, "nothing changed");
}

#[test]
fn sequences_without_time_steps() {
    let mut m = Free::new(0);
    let err = m.predict(Sequence::<2>::zeros(2, 0)).unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err:?}");
    let err = m.predict(Sequence::<2>::zeros(0, 3)).unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err:?}");
    let bad: Result<Sequence<2>, _> = (&[][..], [2, 0, 2]).into_input();
    assert!(matches!(bad, Err(Error::Empty { .. })), "{bad:?}");
}

#[test]
fn padding_to_a_length_no_machine_holds() {
    use rnn::text::{Pad, pad_sequences};
    let err = pad_sequences(&[vec![1u32, 2]], Some(usize::MAX), Pad::Pre, Pad::Pre, 0).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    let ids = pad_sequences(&[vec![1u32, 2, 3]], Some(2), Pad::Pre, Pad::Pre, 0).unwrap();
    assert_eq!(ids.ids(), &[2, 3]);
}

#[test]
fn initializer_shapes_whose_product_overflows() {
    let mut rng = rnn::seeded_rng(0);
    let err = rnn::Initializer::GlorotUniform
        .try_fill(&[1 << 40, 1 << 40], &mut rng)
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert!(
        err.to_string().contains("(1099511627776, 1099511627776)"),
        "{err}"
    );
    let text = panics(|| rnn::Initializer::Zeros.fill(&[usize::MAX, 2], &mut rnn::seeded_rng(0)));
    assert!(text.contains("Initializer::fill"), "{text}");
    // No values, but receptive-field fans (the leading axes' product) beyond `usize`.
    let empty = rnn::Initializer::GlorotUniform
        .try_fill(&[0, 1 << 40, 1 << 40, 3], &mut rng)
        .unwrap();
    assert!(empty.is_empty());
    let identity = rnn::Initializer::Identity { gain: 2.0 }.try_fill(&[2, 3], &mut rng);
    assert_eq!(identity.unwrap(), [2.0, 0.0, 0.0, 0.0, 2.0, 0.0]);
}

#[test]
fn an_embedding_table_whose_size_overflows() {
    // 2^32 rows (every u32 id) of 2^32 values: 2^64 values, which wrap to none.
    let table = rnn::Embedding::<{ rnn::ANY_VOCAB }, { 1 << 32 }>::with_vocab(
        "model/embedding",
        1 << 32,
        false,
        &mut rnn::seeded_rng(0),
    );
    let err = table.map(drop).unwrap_err();
    assert!(
        matches!(&err, Error::TooLarge { layer, .. } if layer == "embedding"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("(4294967296, 4294967296)"),
        "{err}"
    );
}

#[test]
fn accessors_outside_the_shape_panic_with_it() {
    let x =
        Sequence::<2>::from_batch_major(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 2, 2).unwrap();
    // `(1 * 2 + usize::MAX) * 2` wraps to 2, the offset of row 1 at step 0: the accessor must
    // refuse the position rather than read another one.
    let text = panics(|| x.get(usize::MAX, 1).to_vec());
    assert!(
        text.contains("[batch 18446744073709551615, step 1]"),
        "{text}"
    );
    assert!(text.contains("outside the shape (2, 2)"), "{text}");
    assert!(panics(|| x.step(2).to_vec()).contains("step 2 is outside 2 time steps"));
    let ids = TokenBatch::from_flat(vec![1, 2, 3, 4], 2, 2).unwrap();
    assert!(panics(|| ids.row(2).to_vec()).contains("row 2 is outside a batch of 2"));
    assert!(panics(|| ids.get(0, usize::MAX)).contains("outside the shape"));
    let f = Features::<2>::from_flat(&[1.0, 2.0]).unwrap();
    assert!(panics(|| f.row(1).to_vec()).contains("Features::row"));
    // Inside the shape, both layouts agree.
    assert_eq!(x.get(1, 0), &[5.0, 6.0]);
    assert_eq!(x.to_batch_major(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
}

#[test]
fn arrays_whose_public_shape_overflows() {
    // `Array`'s fields are public, so its shape need not describe its data.
    let a = Array {
        name: "output".into(),
        shape: vec![usize::MAX, usize::MAX, 2],
        data: vec![0.5; 4],
    };
    assert_eq!(a.step(2, 1), None);
    assert_eq!(a.rows().count(), 1);
    let text = panics(|| a.get(&[3, 1, 1]));
    assert!(text.contains("index out of bounds"), "{text}");
    let text = panics(|| Array::new("output", vec![1 << 62, 8], vec![]));
    assert!(text.contains("array size"), "{text}");
}

#[test]
fn summaries_of_specs_whose_counts_overflow() {
    // A hand-written spec may hold any count: the totals are printed, not wrapped.
    static SPEC: rnn::ModelSpec = rnn::ModelSpec {
        name: "sequential",
        input_time: None,
        input_batch: None,
        layers: &[
            rnn::LayerSpec {
                name: "dense",
                class: "Dense",
                output_shape: "(None, 1)",
                sizes: &[],
                params: usize::MAX,
            },
            rnn::LayerSpec {
                name: "dense_1",
                class: "Dense",
                output_shape: "(None, 1)",
                sizes: &[],
                params: 2,
            },
        ],
    };
    assert_eq!(SPEC.params(), usize::MAX);
    let text = SPEC.summary(80);
    assert!(
        text.contains(" Total params: 18,446,744,073,709,551,617 ("),
        "{text}"
    );
}

#[test]
fn step_states_for_batches_too_large_to_hold() {
    let m = Free::new(0);
    // 3 * 2^62 values wrap; 3 * 2^40 fit in `usize` but not in memory.
    for batch in [1 << 62, 1 << 40] {
        let err = m.step_state(batch).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    }
    assert!(m.step_state(2).is_ok());
}
