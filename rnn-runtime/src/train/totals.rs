//! Running sums over the batches of an epoch or an evaluation.

use crate::train::compiled::BatchScore;
use crate::train::history::Logs;
use crate::train::metrics::Metric;

/// Sums over the batches of an epoch (or an evaluation): Keras weighs each batch's loss by
/// its size and each metric by its (masked) row count.
#[derive(Default)]
pub(crate) struct Totals {
    loss: f64,
    samples: f64,
    metrics: Vec<(f64, f64)>,
}

impl Totals {
    /// Adds a batch of `samples` rows.
    pub(crate) fn add(&mut self, batch: &BatchScore, samples: usize) {
        let samples = samples as f64;
        self.loss += batch.loss * samples;
        self.samples += samples;
        self.metrics.resize(batch.metrics.len(), (0.0, 0.0));
        for (t, m) in self.metrics.iter_mut().zip(&batch.metrics) {
            t.0 += m.0;
            t.1 += m.1;
        }
    }

    /// Metrics first, then the loss: the order of Keras' logs.
    pub(crate) fn logs(&self, metrics: &[Metric]) -> Logs {
        let mut values: Vec<(String, f32)> = metrics
            .iter()
            .zip(&self.metrics)
            .map(|(m, &(hit, w))| {
                (
                    m.keras_name().to_string(),
                    (hit / w.max(f64::MIN_POSITIVE)) as f32,
                )
            })
            .collect();
        values.push((
            "loss".to_string(),
            (self.loss / self.samples.max(1.0)) as f32,
        ));
        Logs::new(values)
    }
}
