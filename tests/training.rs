//! Learning tests: small problems that only a working recurrent network (forward, backward
//! through time, loss, optimizer and `fit` together) solves within a bounded number of epochs,
//! plus determinism and the errors `fit` gives on bad input.
//!
//! Every data set is generated from a fixed seed, so each run sees the same numbers; the
//! thresholds leave a margin below what the runs reach.

use rnn::prelude::*;
use rnn::seeded_rng;

use rand::RngExt as _;

model! {
    /// The adding problem: the sum of the two marked values of a sequence.
    struct Adder = Input(12, 2) => LSTM(16) => Dense(1);
    /// First-token recall: the answer is the first token, followed by distractors.
    struct Recall = Embedding(8, 8) => GRU(24) => Dense(8, softmax);
    /// Running parity of a bit string, one label per step.
    struct Parity = Input(8, 1) => GRU(16, return_sequences = true) => TimeDistributed(Dense(1, sigmoid));
    /// A sentiment-like toy: variable-length reviews, pre-padded with zeros.
    struct Sentiment = Embedding(20, 8, mask_zero = true) => SimpleRNN(16) => Dense(1, sigmoid);
    /// Per-step labels, for sequence targets.
    struct Tagger = Embedding(6, 8) => LSTM(16, return_sequences = true) => TimeDistributed(Dense(3, softmax));
}

/// Sequences of (value, marker) pairs; two markers set; the target is the sum of the marked
/// values (Hochreiter & Schmidhuber's adding problem).
fn adding_data(n: usize, seed: u64) -> (Vec<Vec<Vec<f32>>>, Vec<f32>) {
    let mut rng = seeded_rng(seed);
    let mut xs = Vec::with_capacity(n);
    let mut ys = Vec::with_capacity(n);
    for _ in 0..n {
        let a = rng.random_range(0..6);
        let b = rng.random_range(6..12);
        let mut sum = 0.0;
        let seq = (0..12)
            .map(|t| {
                let v: f32 = rng.random();
                let marked = t == a || t == b;
                if marked {
                    sum += v;
                }
                vec![v, if marked { 1.0 } else { 0.0 }]
            })
            .collect();
        xs.push(seq);
        ys.push(sum);
    }
    (xs, ys)
}

#[test]
fn lstm_learns_the_adding_problem() {
    let (x, y) = adding_data(1024, 1);
    let (vx, vy) = adding_data(256, 2);
    let mut model = Adder::new(7);
    model.compile(Loss::mean_squared_error(), Adam::new(0.01), &[]);
    let history = model
        .fit(
            &x,
            &y,
            Fit::new().batch_size(32).epochs(30).seed(3).verbose(0),
        )
        .unwrap();
    let val = model.evaluate(&vx, &vy, 64).unwrap();
    // Predicting the mean (1.0) gives a mean squared error of about 1/6.
    assert!(history.loss()[0] > 0.05, "{:?}", history.loss());
    assert!(val.loss() < 0.01, "validation mse {}", val.loss());
}

#[test]
fn gru_recalls_the_first_token() {
    let make = |n: usize, seed: u64| {
        let mut rng = seeded_rng(seed);
        let x: Vec<Vec<u32>> = (0..n)
            .map(|_| (0..10).map(|_| rng.random_range(0..8)).collect())
            .collect();
        let y: Vec<u32> = x.iter().map(|s| s[0]).collect();
        (x, y)
    };
    let (x, y) = make(1024, 11);
    let (vx, vy) = make(256, 12);
    let mut model = Recall::new(5);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.01),
        &[Metric::SparseCategoricalAccuracy],
    );
    model
        .fit(
            &x,
            &y,
            Fit::new().batch_size(32).epochs(15).seed(4).verbose(0),
        )
        .unwrap();
    let val = model.evaluate(&vx, &vy, 64).unwrap();
    // Chance is 1/8.
    let acc = val.get("sparse_categorical_accuracy").unwrap();
    assert!(acc > 0.95, "validation accuracy {acc}");
}

#[test]
fn gru_learns_parity() {
    // All 256 strings of 8 bits; the label of step t is the parity of bits 0..=t, so the last
    // step's label is the parity of the whole string. (Parity with only the final label is out
    // of reach for Keras' GRU in the same budget too: it stays at chance.)
    let x: Vec<Vec<Vec<f32>>> = (0..256u32)
        .map(|v| (0..8).map(|i| vec![((v >> i) & 1) as f32]).collect())
        .collect();
    let y: Vec<Vec<Vec<f32>>> = (0..256u32)
        .map(|v| {
            (0..8)
                .map(|i| vec![((v & ((2 << i) - 1)).count_ones() % 2) as f32])
                .collect()
        })
        .collect();
    let mut model = Parity::new(2);
    model.compile(
        Loss::binary_crossentropy(),
        Adam::new(0.01),
        &[Metric::BinaryAccuracy],
    );
    let history = model
        .fit(
            &x,
            &y,
            Fit::new().batch_size(16).epochs(40).seed(9).verbose(0),
        )
        .unwrap();
    let p = model.predict(&x).unwrap();
    let last_correct = (0..256)
        .filter(|&i| (p.main().data[i * 8 + 7] > 0.5) == (y[i][7][0] > 0.5))
        .count();
    assert!(
        last_correct >= 254,
        "{last_correct}/256 parities right, accuracy per epoch {:?}",
        history.get("binary_accuracy").unwrap()
    );
}

/// Reviews of 3 to 12 words: ids 1-9 are positive words, 10-19 negative; the label says
/// whether positive words outnumber negative ones. Pre-padded with 0 to 12 steps.
fn reviews(n: usize, seed: u64) -> (Vec<Vec<u32>>, Vec<f32>) {
    let mut rng = seeded_rng(seed);
    let mut x = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    while x.len() < n {
        let len = rng.random_range(3..=12usize);
        let words: Vec<u32> = (0..len).map(|_| rng.random_range(1..20)).collect();
        let pos = words.iter().filter(|&&w| w < 10).count();
        if 2 * pos == len {
            continue;
        }
        let mut row = vec![0; 12 - len];
        row.extend(words);
        x.push(row);
        y.push(if 2 * pos > len { 1.0 } else { 0.0 });
    }
    (x, y)
}

#[test]
fn masked_simple_rnn_learns_prepadded_sentiment() {
    let (x, y) = reviews(2048, 21);
    let (vx, vy) = reviews(512, 22);
    let mut model = Sentiment::new(3);
    model.compile(
        Loss::binary_crossentropy(),
        Adam::new(0.01),
        &[Metric::BinaryAccuracy],
    );
    let history = model
        .fit(
            &x,
            &y,
            Fit::new()
                .batch_size(32)
                .epochs(12)
                .seed(1)
                .verbose(0)
                .validation_data(&vx, &vy),
        )
        .unwrap();
    let acc = *history.get("val_binary_accuracy").unwrap().last().unwrap();
    assert!(acc > 0.93, "validation accuracy {acc}");
    // Masked padding changes nothing: more zeros in front give the same prediction.
    let short = model.predict(vec![vec![0u32, 0, 3, 12, 4]]).unwrap();
    let long = model
        .predict(vec![vec![0u32, 0, 0, 0, 0, 0, 0, 0, 0, 3, 12, 4]])
        .unwrap();
    assert!((short.main().data[0] - long.main().data[0]).abs() < 1e-6);
}

#[test]
fn per_step_targets_train_a_tagger() {
    // Tag each token with its id modulo 3: a per-step sparse categorical target.
    let mut rng = seeded_rng(31);
    let x: Vec<Vec<u32>> = (0..512)
        .map(|_| (0..8).map(|_| rng.random_range(0..6)).collect())
        .collect();
    let y: Vec<Vec<u32>> = x
        .iter()
        .map(|s| s.iter().map(|t| t % 3).collect())
        .collect();
    let mut model = Tagger::new(1);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        RmsProp::new(0.01),
        &[Metric::SparseCategoricalAccuracy],
    );
    let history = model
        .fit(
            &x,
            &y,
            Fit::new().batch_size(32).epochs(10).seed(2).verbose(0),
        )
        .unwrap();
    let acc = *history
        .get("sparse_categorical_accuracy")
        .unwrap()
        .last()
        .unwrap();
    assert!(acc > 0.98, "accuracy {acc}");
}

fn small_data() -> (Vec<Vec<u32>>, Vec<f32>) {
    reviews(96, 5)
}

fn trained_weights(fit_seed: u64) -> Vec<Weight> {
    let (x, y) = small_data();
    let mut model = Sentiment::new(8);
    model.compile(
        Loss::binary_crossentropy(),
        Sgd::new(0.1).momentum(0.9),
        &[],
    );
    model
        .fit(
            &x,
            &y,
            Fit::new()
                .batch_size(16)
                .epochs(3)
                .seed(fit_seed)
                .verbose(0),
        )
        .unwrap();
    model.get_weights()
}

#[test]
fn same_seed_same_weights() {
    assert_eq!(trained_weights(4), trained_weights(4));
    assert_ne!(
        trained_weights(4),
        trained_weights(5),
        "the fit seed decides the shuffling"
    );
}

fn compiled_sentiment() -> Sentiment {
    let mut model = Sentiment::new(8);
    model.compile(Loss::binary_crossentropy(), Adam::new(0.01), &[]);
    model
}

fn fit_error(model: &mut Sentiment, x: &Vec<Vec<u32>>, y: impl IntoTargets, fit: Fit) -> String {
    let before = model.get_weights();
    let err = model.fit(x, y, fit.verbose(0)).unwrap_err().to_string();
    assert_eq!(model.get_weights(), before, "{err}: weights changed");
    err
}

#[test]
fn fit_rejects_bad_input_without_touching_weights() {
    let (x, y) = small_data();
    let mut model = compiled_sentiment();

    let err = fit_error(&mut model, &x, &y[..10], Fit::new());
    assert!(err.contains("96 rows") && err.contains("10 rows"), "{err}");

    let err = fit_error(&mut model, &x, &y, Fit::new().batch_size(0));
    assert!(err.contains("batch_size"), "{err}");

    let two_columns: Vec<Vec<f32>> = y.iter().map(|&v| vec![v, 1.0 - v]).collect();
    let err = fit_error(&mut model, &x, two_columns, Fit::new());
    assert!(
        err.contains("(None, 1)") || err.contains("(96, 1)"),
        "{err}"
    );
    assert!(err.contains("(96, 2)"), "{err}");

    let mut nan = y.clone();
    nan[3] = f32::NAN;
    let err = fit_error(&mut model, &x, &nan, Fit::new());
    assert!(err.contains("NaN"), "{err}");

    let err = fit_error(&mut model, &x, &y, Fit::new().validation_split(1.5));
    assert!(err.contains("validation_split"), "{err}");

    let mut bad_x = x.clone();
    bad_x[95][11] = 20;
    let err = fit_error(&mut model, &bad_x, &y, Fit::new());
    assert!(err.contains("20") && err.contains("embedding"), "{err}");

    let empty: Vec<Vec<u32>> = Vec::new();
    let err = fit_error(&mut model, &empty, Vec::<f32>::new(), Fit::new());
    assert!(err.contains("empty") || err.contains("no "), "{err}");

    let mut uncompiled = Sentiment::new(1);
    let err = uncompiled
        .fit(&x, &y, Fit::new().verbose(0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("compile"), "{err}");
}

#[test]
fn class_ids_out_of_range_are_errors() {
    let mut model = Recall::new(1);
    model.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::new(0.01),
        &[],
    );
    let x = vec![vec![1u32, 2, 3], vec![4, 5, 6]];
    let before = model.get_weights();
    let err = model
        .fit(&x, vec![1u32, 8], Fit::new().batch_size(1).verbose(0))
        .unwrap_err()
        .to_string();
    assert!(err.contains('8'), "{err}");
    assert_eq!(model.get_weights(), before);
    // Real-valued labels for a sparse loss say what to do instead.
    let err = model
        .fit(&x, vec![1.0f32, 0.0], Fit::new().verbose(0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("class ids"), "{err}");
}

#[test]
fn a_nan_loss_stops_training_and_keeps_the_last_good_weights() {
    // A learning rate this large drives the logits of a linear output to infinity within a
    // few steps; the loss on them is then not finite.
    model! { struct Exploding = Input(4, 2) => SimpleRNN(8, activation = relu) => Dense(1); }
    let mut rng = seeded_rng(3);
    let x: Vec<Vec<Vec<f32>>> = (0..64)
        .map(|_| (0..4).map(|_| vec![rng.random(), rng.random()]).collect())
        .collect();
    let y: Vec<f32> = (0..64).map(|i| i as f32).collect();
    let mut model = Exploding::new(1);
    model.compile(Loss::mean_squared_error(), Sgd::new(1e6), &[]);
    let err = model
        .fit(&x, &y, Fit::new().batch_size(8).epochs(5).verbose(0))
        .unwrap_err();
    let (epoch, step) = match err {
        Error::NonFiniteLoss { epoch, step, .. } => (epoch, step),
        Error::NonFiniteGradient { epoch, step, .. } => (epoch, step),
        other => panic!("unexpected error {other}"),
    };
    assert!(epoch >= 1 && step >= 1);
    let msg = err.to_string();
    assert!(msg.contains(&format!("epoch {epoch}")), "{msg}");
    // The weights are those of the last good step: finite, so the model still predicts.
    for w in model.get_weights() {
        assert!(w.values.iter().all(|v| v.is_finite()), "{}", w.name);
    }
}

#[test]
fn early_stopping_stops_when_the_loss_stalls() {
    let (x, y) = small_data();
    let mut model = compiled_sentiment();
    // Learning rate 0: the loss never improves after the first epoch.
    model.compile(Loss::binary_crossentropy(), Sgd::new(0.0), &[]);
    let history = model
        .fit(
            &x,
            &y,
            Fit::new()
                .epochs(20)
                .verbose(0)
                .early_stopping(EarlyStopping::new("loss").patience(2)),
        )
        .unwrap();
    assert_eq!(history.epochs(), 3);
}

#[test]
fn summary_counts_optimizer_state_after_training() {
    let (x, y) = small_data();
    let mut model = compiled_sentiment();
    assert!(!model.summary().contains("Optimizer params"));
    model.fit(&x, &y, Fit::new().epochs(1).verbose(0)).unwrap();
    let summary = model.summary();
    // Adam: two slots per weight (2 x 577) plus its iteration and learning-rate variables.
    assert!(
        summary.contains("Optimizer params: 1,156 (4.52 KB)"),
        "{summary}"
    );
}

#[test]
fn early_stopping_restores_the_best_weights() {
    let (x, y) = small_data();
    let options = || Fit::new().batch_size(16).seed(2).verbose(0);
    // No later epoch beats the first by 10, so training stops after `patience` more epochs
    // and the weights go back to those after epoch 1.
    let mut stopped = compiled_sentiment();
    let stopping = EarlyStopping::new("loss")
        .patience(2)
        .min_delta(10.0)
        .restore_best_weights(true);
    let history = stopped
        .fit(&x, &y, options().epochs(10).early_stopping(stopping))
        .unwrap();
    assert_eq!(history.epochs(), 3);
    let mut one_epoch = compiled_sentiment();
    one_epoch.fit(&x, &y, options().epochs(1)).unwrap();
    assert_eq!(stopped.get_weights(), one_epoch.get_weights());
}

#[test]
fn models_with_several_outputs_cannot_train() {
    model! {
        struct WithStates = Input(4, 2) => LSTM(3, return_state = true);
        struct Halves = Input(4, 2) => Bidirectional(LSTM(3), merge_mode = none);
    }
    let x = vec![vec![vec![0.5f32, -0.5]; 4]; 2];
    let y = vec![vec![0.0f32; 3]; 2];
    let check = |err: Error, before: &[Weight], after: &[Weight]| {
        let text = err.to_string();
        assert!(text.contains("several outputs"), "{text}");
        assert_eq!(before, after, "{text}: weights changed");
    };

    let mut states = WithStates::new(0);
    states.compile(Loss::mean_squared_error(), Sgd::new(0.1), &[]);
    let before = states.get_weights();
    let err = states.fit(&x, &y, Fit::new().verbose(0)).unwrap_err();
    check(err, &before, &states.get_weights());
    let err = states.train_on_batch(&x, &y).unwrap_err();
    check(err, &before, &states.get_weights());
    let err = states.evaluate(&x, &y, 2).unwrap_err();
    check(err, &before, &states.get_weights());

    let mut halves = Halves::new(0);
    halves.compile(Loss::mean_squared_error(), Sgd::new(0.1), &[]);
    let before = halves.get_weights();
    let err = halves.fit(&x, &y, Fit::new().verbose(0)).unwrap_err();
    check(err, &before, &halves.get_weights());
}

#[test]
fn fit_checks_the_declared_number_of_time_steps() {
    let (x, y) = adding_data(8, 1);
    let short: Vec<Vec<Vec<f32>>> = x.iter().map(|row| row[..5].to_vec()).collect();
    let mut model = Adder::new(0);
    model.compile(Loss::mean_squared_error(), Adam::new(0.01), &[]);
    let before = model.get_weights();
    let err = model
        .fit(&short, &y, Fit::new().verbose(0))
        .unwrap_err()
        .to_string();
    assert_eq!(err, "input: expected shape (batch, 12, 2), got (8, 5, 2)");
    assert_eq!(model.get_weights(), before);
}
