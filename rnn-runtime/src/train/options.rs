//! The options of `fit`: batches, epochs, validation, shuffling, verbosity, early stopping.

use crate::error::Result;
use crate::input::IntoInput;
use crate::train::targets::{IntoTargets, Targets};

/// How `fit` trains, with Keras' defaults: batch size 32, one epoch, shuffled each epoch,
/// progress bar on (`verbose = 1`).
///
/// ```
/// use rnn_runtime::{EarlyStopping, Fit};
/// let options = Fit::new()
///     .epochs(20)
///     .batch_size(64)
///     .validation_split(0.2)
///     .seed(7)
///     .verbose(2)
///     .early_stopping(EarlyStopping::new("val_loss").patience(3).restore_best_weights(true));
/// assert_eq!(options.get_epochs(), 20);
/// ```
#[derive(Clone, Debug)]
pub struct Fit<V = NoValidation> {
    pub(crate) batch_size: usize,
    pub(crate) epochs: usize,
    pub(crate) validation_split: f64,
    pub(crate) validation: V,
    pub(crate) shuffle: bool,
    pub(crate) seed: u64,
    pub(crate) verbose: u8,
    pub(crate) early_stopping: Option<EarlyStopping>,
}

/// No validation data (the default of [`Fit`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoValidation;

impl Default for Fit {
    fn default() -> Self {
        Fit::new()
    }
}

impl Fit {
    /// Keras' defaults.
    pub fn new() -> Self {
        Fit {
            batch_size: 32,
            epochs: 1,
            validation_split: 0.0,
            validation: NoValidation,
            shuffle: true,
            seed: 0,
            verbose: 1,
            early_stopping: None,
        }
    }
}

impl<V> Fit<V> {
    /// Samples per gradient step (the last batch of an epoch may be smaller).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n;
        self
    }

    /// Passes over the training data.
    pub fn epochs(mut self, n: usize) -> Self {
        self.epochs = n;
        self
    }

    /// The configured number of epochs.
    pub fn get_epochs(&self) -> usize {
        self.epochs
    }

    /// Holds out the last `fraction` of the samples (before shuffling, as Keras does) for
    /// validation: the first `floor(n * (1 - fraction))` train. A float64, as in Keras, so
    /// that 0.2 of 40 samples leaves 32 (0.2 as a float32 would leave 31).
    ///
    /// ```
    /// use rnn_runtime::Fit;
    /// let fit = Fit::new().validation_split(0.2);
    /// ```
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = fraction;
        self
    }

    /// Validates on separate data after every epoch.
    pub fn validation_data<X, Y>(self, x: X, y: Y) -> Fit<(X, Y)> {
        Fit {
            batch_size: self.batch_size,
            epochs: self.epochs,
            validation_split: self.validation_split,
            validation: (x, y),
            shuffle: self.shuffle,
            seed: self.seed,
            verbose: self.verbose,
            early_stopping: self.early_stopping,
        }
    }

    /// Whether to shuffle the training samples before every epoch.
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
        self
    }

    /// Seed of the shuffling: the same seed and data give the same weights.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// 0: silent; 1: a progress bar per epoch; 2: one line per epoch.
    pub fn verbose(mut self, level: u8) -> Self {
        self.verbose = level;
        self
    }

    /// Stops when a monitored value stops improving.
    pub fn early_stopping(mut self, callback: EarlyStopping) -> Self {
        self.early_stopping = Some(callback);
        self
    }
}

/// Validation data that `fit` can convert to the model's input and targets.
pub trait ValidationData<I> {
    /// The converted data, if any.
    fn into_validation(self) -> Result<Option<(I, Targets)>>;
}

impl<I> ValidationData<I> for NoValidation {
    fn into_validation(self) -> Result<Option<(I, Targets)>> {
        Ok(None)
    }
}

impl<I, X: IntoInput<I>, Y: IntoTargets> ValidationData<I> for (X, Y) {
    fn into_validation(self) -> Result<Option<(I, Targets)>> {
        Ok(Some((self.0.into_input()?, self.1.into_targets()?)))
    }
}

/// Keras' `EarlyStopping`: stops training when `monitor` has not improved by more than
/// `min_delta` for `patience` epochs, optionally restoring the weights of the best epoch.
///
/// ```
/// use rnn_runtime::EarlyStopping;
/// let es = EarlyStopping::new("val_accuracy").patience(2).min_delta(0.001);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    pub(crate) monitor: String,
    pub(crate) min_delta: f32,
    pub(crate) patience: usize,
    pub(crate) restore_best_weights: bool,
    pub(crate) start_from_epoch: usize,
}

impl EarlyStopping {
    /// Watches `monitor` (`val_loss`, `loss`, `val_accuracy`, ...). Values whose name
    /// contains `acc` should grow, all others shrink, as Keras' `mode = "auto"` decides.
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: monitor.to_string(),
            min_delta: 0.0,
            patience: 0,
            restore_best_weights: false,
            start_from_epoch: 0,
        }
    }

    /// Epochs without improvement before stopping (0: stop at the first).
    pub fn patience(mut self, epochs: usize) -> Self {
        self.patience = epochs;
        self
    }

    /// The smallest change that counts as an improvement.
    pub fn min_delta(mut self, delta: f32) -> Self {
        self.min_delta = delta.abs();
        self
    }

    /// Whether to put back the weights of the best epoch when stopping.
    pub fn restore_best_weights(mut self, on: bool) -> Self {
        self.restore_best_weights = on;
        self
    }

    /// Epochs to run before monitoring starts.
    pub fn start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    pub(crate) fn maximises(&self) -> bool {
        self.monitor.contains("acc")
    }

    /// Whether `current` improves on `best`.
    pub(crate) fn improves(&self, current: f32, best: Option<f32>) -> bool {
        match best {
            None => current.is_finite(),
            Some(best) if self.maximises() => current - self.min_delta > best,
            Some(best) => current + self.min_delta < best,
        }
    }
}
