//! The state of an [`EarlyStopping`] during one `fit`.

use crate::error::{Error, Result};
use crate::train::history::Logs;
use crate::train::network::Network;
use crate::train::options::EarlyStopping;

/// Keras' `EarlyStopping` callback: the best value so far, the epochs since, and the weights
/// to restore.
pub(crate) struct Stopper {
    pub(crate) config: EarlyStopping,
    best: Option<f32>,
    wait: usize,
    best_weights: Option<Vec<Vec<f32>>>,
}

impl Stopper {
    pub(crate) fn new(config: EarlyStopping) -> Self {
        Stopper {
            config,
            best: None,
            wait: 0,
            best_weights: None,
        }
    }

    /// Keras' `EarlyStopping.on_epoch_end` (`epoch` 0-based).
    pub(crate) fn should_stop<N: Network>(
        &mut self,
        epoch: usize,
        logs: &Logs,
        net: &mut N,
    ) -> Result<bool> {
        let current = logs.get(&self.config.monitor).ok_or_else(|| {
            let known: Vec<&str> = logs.iter().map(|(k, _)| k).collect();
            Error::config(
                "fit",
                format!(
                    "early stopping monitors `{}`, which is not logged; logged: {}",
                    self.config.monitor,
                    known.join(", ")
                ),
            )
        })?;
        if epoch < self.config.start_from_epoch {
            return Ok(false);
        }
        if self.config.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(snapshot(net));
        }
        self.wait = self.wait.saturating_add(1);
        if self.config.improves(current, self.best) {
            self.best = Some(current);
            if self.config.restore_best_weights {
                self.best_weights = Some(snapshot(net));
            }
            self.wait = 0;
            return Ok(false);
        }
        if self.wait >= self.config.patience && epoch > 0 {
            if let Some(best) = &self.best_weights {
                // Copies of these very weights, so lengths match and values are finite.
                for (p, values) in net.params_mut().into_iter().zip(best) {
                    p.values_mut().copy_from_slice(values);
                }
            }
            return Ok(true);
        }
        Ok(false)
    }
}

/// The values of every weight, in order.
fn snapshot<N: Network>(net: &N) -> Vec<Vec<f32>> {
    net.params()
        .into_iter()
        .map(|p| p.values().to_vec())
        .collect()
}
