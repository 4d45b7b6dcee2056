//! Accuracy metrics, weighted by masks as Keras weights them.

use crate::error::{Error, Result};
use crate::train::targets::TargetData;

/// A Keras metric.
///
/// ```
/// use rnn_runtime::Metric;
/// assert_eq!(Metric::Accuracy.keras_name(), "accuracy");
/// assert_eq!(Metric::SparseCategoricalAccuracy.keras_name(), "sparse_categorical_accuracy");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Keras' `"accuracy"`: binary, categorical or sparse categorical accuracy, chosen from the
    /// shapes of targets and predictions as Keras chooses it.
    Accuracy,
    /// Predictions thresholded at 0.5 against 0/1 targets.
    BinaryAccuracy,
    /// Arg-max of the predictions against the arg-max of one-hot targets.
    CategoricalAccuracy,
    /// Arg-max of the predictions against class ids.
    SparseCategoricalAccuracy,
}

impl Metric {
    /// The name in logs and history (`accuracy`, `binary_accuracy`, ...).
    pub fn keras_name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BinaryAccuracy => "binary_accuracy",
            Metric::CategoricalAccuracy => "categorical_accuracy",
            Metric::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
        }
    }

    /// The concrete accuracy `Accuracy` stands for: binary for one output column, sparse for
    /// class-id targets, categorical otherwise.
    fn resolve(self, target: &TargetData, classes: usize) -> Metric {
        match self {
            Metric::Accuracy if classes == 1 => Metric::BinaryAccuracy,
            Metric::Accuracy if matches!(target, TargetData::Classes(_)) => {
                Metric::SparseCategoricalAccuracy
            }
            Metric::Accuracy => Metric::CategoricalAccuracy,
            m => m,
        }
    }

    /// Weighted count of correct rows and the total weight, for one batch. `pred` has
    /// `classes` values per row; `mask` weighs rows (masked sequence steps count 0).
    pub(crate) fn batch(
        self,
        pred: &[f32],
        target: &TargetData,
        classes: usize,
        mask: Option<&[f32]>,
    ) -> Result<(f64, f64)> {
        let rows = pred.len().checked_div(classes).unwrap_or(0);
        let (mut correct, mut total) = (0.0f64, 0.0f64);
        let metric = self.resolve(target, classes);
        metric.check_target_len(target, rows, classes)?;
        // `check_target_len` has matched the lengths, so the chunks below pair up row by row.
        let weights = (0..rows).map(|r| mask.and_then(|m| m.get(r)).map_or(1.0, |&w| f64::from(w)));
        let per_row = classes.max(1);
        let ratio = |hits: usize| hits as f64 / per_row as f64;
        let scores: Vec<f64> = match (metric, target) {
            (Metric::BinaryAccuracy, TargetData::Values(t)) => pred
                .chunks_exact(per_row)
                .zip(t.chunks_exact(per_row))
                .map(|(p, t)| {
                    ratio(
                        p.iter()
                            .zip(t)
                            .filter(|(p, t)| (**p > 0.5) == (**t > 0.5))
                            .count(),
                    )
                })
                .collect(),
            (Metric::BinaryAccuracy, TargetData::Classes(t)) => pred
                .chunks_exact(per_row)
                .zip(t.chunks_exact(per_row))
                .map(|(p, t)| {
                    ratio(
                        p.iter()
                            .zip(t)
                            .filter(|(p, t)| (**p > 0.5) == (**t == 1))
                            .count(),
                    )
                })
                .collect(),
            (Metric::CategoricalAccuracy, TargetData::Values(t)) => pred
                .chunks_exact(per_row)
                .zip(t.chunks_exact(per_row))
                .map(|(p, t)| f64::from(u8::from(argmax(p) == argmax(t))))
                .collect(),
            (Metric::SparseCategoricalAccuracy, TargetData::Classes(t)) => pred
                .chunks_exact(per_row)
                .zip(t)
                .map(|(p, &c)| f64::from(u8::from(u32::try_from(argmax(p)) == Ok(c))))
                .collect(),
            (m, _) => {
                return Err(Error::config(
                    m.keras_name(),
                    match m {
                        Metric::SparseCategoricalAccuracy => "needs class-id targets (u32)",
                        _ => "needs real-valued targets (f32): one-hot rows or 0/1 labels",
                    },
                ));
            }
        };
        for (score, w) in scores.into_iter().zip(weights) {
            correct += score * w;
            total += w;
        }
        Ok((correct, total))
    }
}

impl Metric {
    /// Checks that the targets hold what `metric` reads for `rows` rows of `classes`
    /// predictions: one class id per row, or one value per prediction.
    fn check_target_len(self, target: &TargetData, rows: usize, classes: usize) -> Result<()> {
        let (got, kind) = match target {
            TargetData::Classes(t) => (t.len(), "class ids"),
            TargetData::Values(t) => (t.len(), "values"),
        };
        let (want, per) = match self {
            Metric::SparseCategoricalAccuracy => (Some(rows), "one class id per row"),
            _ => (
                rows.checked_mul(classes),
                "one 0/1 or one-hot value per prediction",
            ),
        };
        if Some(got) == want {
            return Ok(());
        }
        Err(Error::shape(
            self.keras_name(),
            format!("{per}: ({rows}, {classes}) predictions"),
            format!("{got} {kind}"),
        ))
    }
}

/// Index of the first maximum, as numpy's and JAX's `argmax`.
fn argmax(v: &[f32]) -> usize {
    let mut best = (0, f32::NAN);
    for (i, &x) in v.iter().enumerate() {
        if i == 0 || x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracies_count_weighted_rows() {
        let pred = [0.9, 0.1, 0.2, 0.8, 0.6, 0.4];
        let onehot = TargetData::Values(vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(
            Metric::Accuracy.batch(&pred, &onehot, 2, None).unwrap(),
            (2.0, 3.0)
        );
        let ids = TargetData::Classes(vec![0, 1, 1]);
        assert_eq!(
            Metric::Accuracy.batch(&pred, &ids, 2, None).unwrap(),
            (2.0, 3.0)
        );
        let mask = [1.0, 1.0, 0.0];
        assert_eq!(
            Metric::Accuracy.batch(&pred, &ids, 2, Some(&mask)).unwrap(),
            (2.0, 2.0)
        );
        let probs = [0.7, 0.2, 0.5];
        let labels = TargetData::Values(vec![1.0, 1.0, 0.0]);
        assert_eq!(
            Metric::Accuracy.batch(&probs, &labels, 1, None).unwrap(),
            (2.0, 3.0)
        );
        assert!(
            Metric::SparseCategoricalAccuracy
                .batch(&pred, &onehot, 2, None)
                .is_err()
        );
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1);
    }
}
