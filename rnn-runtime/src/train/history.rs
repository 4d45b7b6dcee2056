//! What `fit` returns: every logged value, per epoch.

use crate::error::{Error, Result};

/// The values logged at the end of one epoch (or by `evaluate`): loss and metrics, and their
/// `val_` counterparts when there is validation data, in Keras' order.
///
/// ```
/// use rnn_runtime::Logs;
/// let logs = Logs::new(vec![("accuracy".into(), 0.75), ("loss".into(), 0.5)]);
/// assert_eq!(logs.get("loss"), Some(0.5));
/// assert_eq!(logs.to_string(), "accuracy: 0.7500 - loss: 0.5000");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Logs {
    values: Vec<(String, f32)>,
}

impl Logs {
    /// Logs from name/value pairs.
    pub fn new(values: Vec<(String, f32)>) -> Self {
        Logs { values }
    }

    /// The value logged under `name` (`loss`, `accuracy`, `val_loss`, ...).
    pub fn get(&self, name: &str) -> Option<f32> {
        self.values.iter().find(|(k, _)| k == name).map(|&(_, v)| v)
    }

    /// The training loss.
    pub fn loss(&self) -> f32 {
        self.get("loss").unwrap_or(f32::NAN)
    }

    /// All name/value pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f32)> {
        self.values.iter().map(|(k, v)| (k.as_str(), *v))
    }

    pub(crate) fn extend(&mut self, prefix: &str, other: &Logs) {
        self.values.extend(
            other
                .values
                .iter()
                .map(|(k, v)| (format!("{prefix}{k}"), *v)),
        );
    }
}

/// Keras' number format in progress lines: four decimals, scientific below 1e-3.
pub(crate) fn keras_number(v: f32) -> String {
    if v.abs() > 1e-3 || v == 0.0 {
        format!("{v:.4}")
    } else {
        format!("{v:.4e}")
    }
}

impl std::fmt::Display for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .values
            .iter()
            .map(|(k, v)| format!("{k}: {}", keras_number(*v)))
            .collect();
        f.write_str(&parts.join(" - "))
    }
}

/// Everything `fit` logged, epoch by epoch (Keras' `history.history`).
///
/// ```
/// use rnn_runtime::{History, Logs};
/// let mut h = History::default();
/// h.push(Logs::new(vec![("loss".into(), 0.9)]));
/// h.push(Logs::new(vec![("loss".into(), 0.5)]));
/// assert_eq!(h.get("loss").unwrap(), vec![0.9, 0.5]);
/// assert_eq!(h.epochs(), 2);
/// let err = h.get("accuracy").unwrap_err();
/// assert!(err.to_string().contains("logged values: loss"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    epochs: Vec<Logs>,
}

impl History {
    /// Appends an epoch's logs.
    pub fn push(&mut self, logs: Logs) {
        self.epochs.push(logs);
    }

    /// Number of epochs run.
    pub fn epochs(&self) -> usize {
        self.epochs.len()
    }

    /// One value per epoch for `name` (`loss`, `val_accuracy`, ...), as Keras'
    /// `history.history[name]`; an error listing the logged names if no epoch logged `name`
    /// (a misspelt metric, or `val_` without validation data).
    pub fn get(&self, name: &str) -> Result<Vec<f32>> {
        let values: Vec<f32> = self.epochs.iter().filter_map(|l| l.get(name)).collect();
        if values.is_empty() {
            let keys = self.keys();
            return Err(Error::UnknownLog {
                key: name.to_string(),
                available: if keys.is_empty() {
                    "none (no epoch has run)".to_string()
                } else {
                    keys.join(", ")
                },
            });
        }
        Ok(values)
    }

    /// Every logged name, in the order Keras logs them.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for (k, _) in self.epochs.iter().flat_map(Logs::iter) {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys
    }

    /// The training loss of every epoch (empty before the first epoch).
    pub fn loss(&self) -> Vec<f32> {
        self.epochs.iter().filter_map(|l| l.get("loss")).collect()
    }

    /// The logs of each epoch.
    pub fn logs(&self) -> &[Logs] {
        &self.epochs
    }

    /// The logs of the last epoch.
    pub fn last(&self) -> Option<&Logs> {
        self.epochs.last()
    }
}
