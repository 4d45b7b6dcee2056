//! Training never leaves NaN or infinite weights behind: bad hyper-parameters and bad
//! callback arguments are refused before the first step, and a step that would make a weight
//! non-finite is undone, with the epochs done so far kept.

use rnn::prelude::*;
use rnn::{LstmCell, Rnn, RnnConfig, seeded_rng};

model! {
    struct Line = Input(1) => Dense(1);
    struct Wide = Input(4) => Dense(1, sigmoid);
    struct Sentiment = Embedding(20, 4) => SimpleRNN(3) => Dense(1, sigmoid);
}

fn line_data() -> (Vec<Vec<f32>>, Vec<f32>) {
    (vec![vec![10.0]], vec![1.0])
}

#[test]
fn bad_hyper_parameters_are_refused_before_the_first_step() {
    let (x, y) = line_data();
    let cases: Vec<(Box<dyn Optimizer>, &str)> = vec![
        (
            Box::new(Sgd::new(f32::NAN)),
            "sgd: learning_rate must be finite and >= 0, got NaN",
        ),
        (
            Box::new(Sgd::new(0.1).momentum(1.5)),
            "sgd: momentum must be in [0, 1], got 1.5",
        ),
        (
            Box::new(Adam::default().beta_1(1.0)),
            "adam: beta_1 must be in [0, 1), got 1",
        ),
        (
            Box::new(Adam::default().beta_2(-0.1)),
            "adam: beta_2 must be in [0, 1), got -0.1",
        ),
        (
            Box::new(Adam::default().epsilon(0.0)),
            "adam: epsilon must be finite and > 0, got 0",
        ),
        (
            Box::new(RmsProp::default().rho(1.0)),
            "rmsprop: rho must be in [0, 1), got 1",
        ),
        (
            Box::new(Adagrad::new(-1.0)),
            "adagrad: learning_rate must be finite and >= 0, got -1",
        ),
        (
            Box::new(Adam::default().clipnorm(f32::NAN)),
            "adam: clipnorm must be a number, got NaN",
        ),
    ];
    for (optimizer, message) in cases {
        assert_eq!(optimizer.validate().unwrap_err().to_string(), message);
    }

    let mut m = Line::new(0);
    let before = m.get_weights();
    m.compile(Loss::mean_squared_error(), Adam::default().beta_1(1.0), &[]);
    let err = m.fit(&x, &y, Fit::new().epochs(1).verbose(0)).unwrap_err();
    assert!(err.to_string().contains("beta_1"), "{err}");
    let err = m.train_on_batch(&x, &y).unwrap_err();
    assert!(err.to_string().contains("beta_1"), "{err}");
    assert_eq!(m.get_weights(), before);
}

#[test]
fn an_update_that_overflows_is_undone() {
    // A gradient of about 1000 times a learning rate of 3e38 overflows f32.
    let x = vec![vec![1000.0f32; 4]; 2];
    let y = vec![1.0f32, 0.0];
    let mut m = Wide::new(0);
    m.compile(
        Loss::binary_crossentropy(),
        Sgd::new(3e38).momentum(0.5),
        &[],
    );
    let before = m.get_weights();
    let err = m.train_on_batch(&x, &y).unwrap_err();
    assert!(
        matches!(err, Error::NonFiniteUpdate { epoch: 1, step: 1, ref weight } if weight == "sequential/dense/kernel"),
        "{err:?}"
    );
    assert_eq!(m.get_weights(), before, "the weights before the step");
    let err = m.fit(&x, &y, Fit::new().epochs(2).verbose(0)).unwrap_err();
    assert!(err.to_string().contains("epoch 1, step 1"), "{err}");
    assert_eq!(m.get_weights(), before);
    assert_eq!(m.history().map(|h| h.epochs()), Some(0));
}

#[test]
fn the_optimizer_state_is_undone_with_the_weights() {
    // Momentum SGD: a failed step must not leave its momentum behind, so that a later good
    // step moves the weights exactly as it would have without the failed one.
    let good = vec![vec![0.1f32; 4]; 2];
    let bad = vec![vec![1e30f32; 4]; 2];
    let y = vec![1.0f32, 0.0];
    let run = |with_failure: bool| {
        let mut m = Wide::new(3);
        m.compile(
            Loss::binary_crossentropy(),
            Sgd::new(1e9).momentum(0.9),
            &[],
        );
        m.train_on_batch(&good, &y).unwrap();
        if with_failure {
            let err = m.train_on_batch(&bad, &y).unwrap_err();
            assert!(matches!(err, Error::NonFiniteUpdate { .. }), "{err:?}");
        }
        m.train_on_batch(&good, &y).unwrap();
        m.get_weights()
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn an_adam_update_that_overflows_changes_nothing() {
    // Adam checks its update before making it (no copy of the weights and slots to undo):
    // a gradient of about 1e36 times 1e10 overflows the momentum's step to NaN, and the
    // failed step must leave the weights, the slots and the iteration count as they were.
    let good = vec![vec![0.1f32; 4]; 2];
    let bad = vec![vec![1e36f32; 4]; 2];
    let y = vec![1.0f32, 0.0];
    let run = |with_failure: bool| {
        let mut m = Wide::new(3);
        m.compile(
            Loss::binary_crossentropy(),
            Adam::new(1e10).amsgrad(true),
            &[],
        );
        m.train_on_batch(&good, &y).unwrap();
        if with_failure {
            let before = m.get_weights();
            let err = m.train_on_batch(&bad, &y).unwrap_err();
            assert!(
                matches!(err, Error::NonFiniteUpdate { epoch: 1, step: 1, ref weight } if weight == "sequential/dense/kernel"),
                "{err:?}"
            );
            assert_eq!(m.get_weights(), before, "the weights before the step");
        }
        m.train_on_batch(&good, &y).unwrap();
        m.get_weights()
    };
    assert_eq!(run(true), run(false));
}

#[test]
fn history_keeps_the_epochs_before_a_failure() {
    // Plain gradient descent on (10 w - 1)^2 with a rate of 1 multiplies the error by -199
    // per step: the loss overflows after a few epochs.
    let (x, y) = line_data();
    let mut m = Line::new(0);
    m.compile(Loss::mean_squared_error(), Sgd::new(1.0), &[]);
    let err = m
        .fit(&x, &y, Fit::new().epochs(100).verbose(0))
        .unwrap_err();
    let failed_at = match err {
        Error::NonFiniteLoss { epoch, .. }
        | Error::NonFiniteGradient { epoch, .. }
        | Error::NonFiniteUpdate { epoch, .. } => epoch,
        other => panic!("unexpected error {other:?}"),
    };
    assert!(failed_at > 2, "fails after some good epochs: {failed_at}");
    let history = m.history().expect("kept");
    assert_eq!(history.epochs(), failed_at - 1);
    assert!(
        m.get_weights()
            .iter()
            .all(|w| w.values.iter().all(|v| v.is_finite()))
    );
}

#[test]
fn a_misspelt_monitor_is_refused_before_the_first_step() {
    let x = vec![vec![1u32, 2, 3], vec![4, 5, 6]];
    let y = vec![1.0f32, 0.0];
    let mut m = Sentiment::new(0);
    m.compile(
        Loss::binary_crossentropy(),
        Adam::default(),
        &[Metric::Accuracy],
    );
    let before = m.get_weights();
    let err = m
        .fit(
            &x,
            &y,
            Fit::new()
                .epochs(2)
                .verbose(0)
                .early_stopping(EarlyStopping::new("val_acuracy")),
        )
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "fit: early stopping monitors `val_acuracy`, which fit does not log; valid names: \
         `accuracy`, `loss`; there is no validation data: set validation_split or \
         validation_data"
    );
    let err = m
        .fit(
            &x,
            &y,
            Fit::new()
                .epochs(2)
                .verbose(0)
                .validation_data(&x, &y)
                .early_stopping(EarlyStopping::new("val_acuracy")),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("valid names: `accuracy`, `loss`, `val_accuracy`, `val_loss`"),
        "{err}"
    );
    assert_eq!(m.get_weights(), before, "no step was taken");
    assert!(
        m.fit(
            &x,
            &y,
            Fit::new()
                .epochs(1)
                .verbose(0)
                .validation_data(&x, &y)
                .early_stopping(EarlyStopping::new("val_accuracy")),
        )
        .is_ok()
    );
}

#[test]
fn recurrent_backward_checks_every_dimension() {
    let mut lstm = Rnn::<LstmCell, 2, 3>::new("lstm", RnnConfig::default(), &mut seeded_rng(0));
    let x = Sequence::<2>::from_batch_major(&[0.5; 12], 2, 3).unwrap();
    lstm.forward(&x, Mode::Training).unwrap();
    // Same number of values, rows and steps swapped.
    let other = Sequence::<2>::from_batch_major(&[0.5; 12], 3, 2).unwrap();
    let err = lstm
        .backward(&other, Features::<3>::zeros(3), &[])
        .unwrap_err();
    assert!(
        err.to_string().contains("(2, 3, 2); got (3, 2, 2)"),
        "{err}"
    );
    let err = lstm.backward(&x, Features::<3>::zeros(3), &[]).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    assert!(lstm.backward(&x, Features::<3>::zeros(2), &[]).is_ok());
    // The backward pass overwrote the gates it read: a second one needs a new forward pass.
    let err = lstm.backward(&x, Features::<3>::zeros(2), &[]).unwrap_err();
    assert!(err.to_string().contains("backward already ran"), "{err}");
    lstm.forward(&x, Mode::Training).unwrap();
    assert!(lstm.backward(&x, Features::<3>::zeros(2), &[]).is_ok());
}

#[test]
fn models_are_shared_across_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let mut model = Sentiment::new(7);
    send_sync(&model);
    let rows: Vec<Vec<u32>> = (0..4).map(|r| vec![r + 1, 2 * r + 3, 19 - r]).collect();
    let want = model.predict(&rows).unwrap().main().data.clone();
    let model = &model;
    let got: Vec<f32> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .iter()
            .map(|row| {
                s.spawn(move || {
                    let mut state = model.step_state(1).unwrap();
                    let mut out = 0.0;
                    for &id in row {
                        out = model.step(&mut state, &[id]).unwrap()[0];
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-6 + 1e-5 * w.abs(), "{g} vs {w}");
    }
}
