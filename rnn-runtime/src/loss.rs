//! Keras 3 losses: the value and its gradient with respect to the predictions, with Keras'
//! clipping, row normalisation, masking and `"sum_over_batch_size"` reduction.
//!
//! Predictions and targets are `f32`, but every loss evaluates its per-element math and its
//! sums in `f64`. That is not only for accuracy: the clip range `[1e-7, 1 - 1e-7]` must be the
//! float64 one. In `f32`, `1 - 1e-7` rounds to `1 - 2^-23 = 0.99999988`, so a prediction of
//! exactly `1.0` would be clipped to a point where `-ln(1 - p)` is `15.94` instead of Keras'
//! `16.12`, and the two `f32` values `1e-7` (`1.0000000117e-7`) and `1 - 2^-23` would sit
//! exactly on an `f32` bound (where JAX halves the gradient) although both are strictly inside
//! the float64 range. Comparing the exact `f64` value of each `f32` prediction with the float64
//! bounds gives, for every `f32` input, the clip decision and the value Keras computes in
//! float64 for that same input.
//!
//! ```
//! use rnn_runtime::{Loss, Target};
//! // Text generation: (batch 1, time 2, classes 3) probabilities, one class id per step.
//! let probs = [0.7f32, 0.2, 0.1, 0.1, 0.1, 0.8];
//! let loss = Loss::sparse_categorical_crossentropy();
//! let value = loss.compute(&probs, Target::Classes(&[0, 2]), 3, None, None)?;
//! assert!((value - (-(0.7f32.ln()) - 0.8f32.ln()) / 2.0).abs() < 1e-6);
//! # Ok::<(), rnn_runtime::Error>(())
//! ```

use crate::Activation;
use crate::error::{Error, check_finite, fmt_shape};

/// Keras' `backend.epsilon()`: the clip margin of probabilities, and the guard added to the
/// number of valid rows in the masked mean.
const EPSILON: f64 = 1e-7;

/// A Keras loss.
///
/// Each variant is the Keras 3 loss class of the same name with its default arguments
/// (`reduction = "sum_over_batch_size"`, `label_smoothing = 0`, `axis = -1`), apart from
/// `from_logits`.
///
/// ```
/// use rnn_runtime::Loss;
/// let loss = Loss::categorical_crossentropy().from_logits(true);
/// assert_eq!(loss, Loss::CategoricalCrossentropy { from_logits: true });
/// assert_eq!(loss.keras_name(), "categorical_crossentropy");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loss {
    /// `binary_crossentropy`: the mean over the last axis of
    /// `-(t ln p + (1 - t) ln(1 - p))`, with `p` clipped to `[1e-7, 1 - 1e-7]`.
    BinaryCrossentropy {
        /// The predictions are logits `z` and the loss uses `ln sigmoid(±z)`, without clipping.
        from_logits: bool,
    },
    /// `categorical_crossentropy`: `-sum(t ln p)` over the last axis, after dividing each
    /// prediction row by its sum and clipping it to `[1e-7, 1 - 1e-7]`.
    CategoricalCrossentropy {
        /// The predictions are logits `z` and the loss uses `log_softmax(z)`, without clipping.
        from_logits: bool,
    },
    /// `sparse_categorical_crossentropy`: categorical cross-entropy with a one-hot of a class
    /// id per row.
    SparseCategoricalCrossentropy {
        /// The predictions are logits `z` and the loss uses `log_softmax(z)`, without clipping.
        from_logits: bool,
    },
    /// `mean_squared_error`: the mean over the last axis of `(t - p)^2`.
    MeanSquaredError,
}

/// The targets a loss compares predictions with.
///
/// ```
/// use rnn_runtime::{Loss, Target};
/// let probs = [0.25f32, 0.75];
/// let dense = Loss::categorical_crossentropy().compute(&probs, Target::Dense(&[0.0, 1.0]), 2, None, None)?;
/// let sparse = Loss::sparse_categorical_crossentropy().compute(&probs, Target::Classes(&[1]), 2, None, None)?;
/// assert_eq!(dense, sparse);
/// # Ok::<(), rnn_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// One value per prediction, same row-major layout (BCE, CCE, MSE).
    Dense(&'a [f32]),
    /// One class id per row (sparse categorical cross-entropy).
    Classes(&'a [u32]),
}

impl Loss {
    /// `binary_crossentropy` on probabilities.
    ///
    /// ```
    /// use rnn_runtime::Loss;
    /// assert_eq!(Loss::binary_crossentropy(), Loss::BinaryCrossentropy { from_logits: false });
    /// ```
    pub const fn binary_crossentropy() -> Loss {
        Loss::BinaryCrossentropy { from_logits: false }
    }

    /// `categorical_crossentropy` on probabilities.
    ///
    /// ```
    /// use rnn_runtime::Loss;
    /// assert_eq!(
    ///     Loss::categorical_crossentropy(),
    ///     Loss::CategoricalCrossentropy { from_logits: false }
    /// );
    /// ```
    pub const fn categorical_crossentropy() -> Loss {
        Loss::CategoricalCrossentropy { from_logits: false }
    }

    /// `sparse_categorical_crossentropy` on probabilities.
    ///
    /// ```
    /// use rnn_runtime::Loss;
    /// assert_eq!(
    ///     Loss::sparse_categorical_crossentropy(),
    ///     Loss::SparseCategoricalCrossentropy { from_logits: false }
    /// );
    /// ```
    pub const fn sparse_categorical_crossentropy() -> Loss {
        Loss::SparseCategoricalCrossentropy { from_logits: false }
    }

    /// `mean_squared_error`.
    ///
    /// ```
    /// use rnn_runtime::Loss;
    /// assert_eq!(Loss::mean_squared_error(), Loss::MeanSquaredError);
    /// ```
    pub const fn mean_squared_error() -> Loss {
        Loss::MeanSquaredError
    }

    /// The same loss with Keras' `from_logits` argument set. Mean squared error has no such
    /// argument and is returned unchanged.
    ///
    /// ```
    /// use rnn_runtime::Loss;
    /// let bce = Loss::binary_crossentropy().from_logits(true);
    /// assert_eq!(bce, Loss::BinaryCrossentropy { from_logits: true });
    /// assert_eq!(Loss::mean_squared_error().from_logits(true), Loss::MeanSquaredError);
    /// ```
    pub const fn from_logits(self, from_logits: bool) -> Loss {
        match self {
            Loss::BinaryCrossentropy { .. } => Loss::BinaryCrossentropy { from_logits },
            Loss::CategoricalCrossentropy { .. } => Loss::CategoricalCrossentropy { from_logits },
            Loss::SparseCategoricalCrossentropy { .. } => {
                Loss::SparseCategoricalCrossentropy { from_logits }
            }
            Loss::MeanSquaredError => Loss::MeanSquaredError,
        }
    }

    /// The Keras name, e.g. `"sparse_categorical_crossentropy"`, as in a model's `loss=`
    /// argument and in the loss class' `name`.
    ///
    /// ```
    /// use rnn_runtime::Loss;
    /// assert_eq!(Loss::mean_squared_error().keras_name(), "mean_squared_error");
    /// assert_eq!(
    ///     Loss::binary_crossentropy().from_logits(true).keras_name(),
    ///     "binary_crossentropy"
    /// );
    /// ```
    pub fn keras_name(&self) -> &'static str {
        match self {
            Loss::BinaryCrossentropy { .. } => "binary_crossentropy",
            Loss::CategoricalCrossentropy { .. } => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy { .. } => "sparse_categorical_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
        }
    }

    /// The loss a Keras `loss=` string names (`from_logits = false`): one of the
    /// [`keras_name`](Loss::keras_name)s, or Keras' alias `"mse"`.
    ///
    /// ```
    /// use rnn_runtime::Loss;
    /// assert_eq!(Loss::from_keras_name("mse"), Some(Loss::MeanSquaredError));
    /// assert_eq!(
    ///     Loss::from_keras_name("binary_crossentropy"),
    ///     Some(Loss::binary_crossentropy())
    /// );
    /// assert_eq!(Loss::from_keras_name("hinge"), None);
    /// ```
    pub fn from_keras_name(name: &str) -> Option<Loss> {
        Some(match name {
            "binary_crossentropy" => Loss::binary_crossentropy(),
            "categorical_crossentropy" => Loss::categorical_crossentropy(),
            "sparse_categorical_crossentropy" => Loss::sparse_categorical_crossentropy(),
            "mean_squared_error" | "mse" => Loss::MeanSquaredError,
            _ => return None,
        })
    }

    /// Loss value: mean over rows of the per-row loss (Keras reduction "sum_over_batch_size").
    ///
    /// `pred` is row-major with `classes` values per row (rows = `pred.len() / classes`; for a
    /// `(batch, time, classes)` output the rows are `batch * time`). `target` is
    /// [`Target::Dense`] (same layout as `pred`) for binary and categorical cross-entropy and
    /// mean squared error, and [`Target::Classes`] (one id per row) for sparse categorical
    /// cross-entropy.
    ///
    /// `mask` holds one weight per row, 1 for a valid row and 0 for a masked one (for example
    /// the padded steps of a sequence output), with Keras' `apply_mask` semantics: with
    /// `total` rows of which `valid = sum(mask)` are valid, row `r` gets the weight
    /// `mask[r] * total / (valid + 1e-7)` before the mean over all `total` rows, so the value
    /// is the mean over the valid rows (times `valid / (valid + 1e-7)`), and 0 when every row
    /// is masked.
    ///
    /// When `grad` is `Some`, writes `d value / d pred` (same layout as `pred`) into it. A
    /// probability that Keras clips (outside `[1e-7, 1 - 1e-7]`; for categorical
    /// cross-entropy after the division by the row sum) gets exactly zero gradient through the
    /// clip, as in Keras; exactly on a bound the clip passes half of it, as JAX's `clip` does
    /// (unreachable for binary cross-entropy, since no `f32` equals a float64 bound).
    ///
    /// Errors, before anything is written to `grad`: `classes == 0` or `pred.len()` not a
    /// multiple of it, a target, mask or `grad` of the wrong length ([`Error::Shape`]), no
    /// rows ([`Error::Empty`]), NaN or infinity in `pred`, the targets or the mask
    /// ([`Error::NonFinite`]), a class id `>= classes` ([`Error::ClassOutOfRange`]), the other
    /// kind of [`Target`], a negative mask value, or, for categorical cross-entropy on
    /// probabilities, a prediction row that sums to 0, for which Keras' value is NaN
    /// ([`Error::Config`]).
    ///
    /// ```
    /// use rnn_runtime::{Loss, Target};
    /// // Two rows of one probability each.
    /// let pred = [0.8f32, 0.4];
    /// let mut grad = [0.0f32; 2];
    /// let bce = Loss::binary_crossentropy();
    /// let value = bce.compute(&pred, Target::Dense(&[1.0, 0.0]), 1, None, Some(&mut grad))?;
    /// assert!((value - (-(0.8f32.ln()) - 0.6f32.ln()) / 2.0).abs() < 1e-6);
    /// assert!((grad[0] - -1.0 / 0.8 / 2.0).abs() < 1e-6);
    /// assert!((grad[1] - 1.0 / 0.6 / 2.0).abs() < 1e-6);
    ///
    /// // Masking the second row leaves the mean over the first.
    /// let masked = bce.compute(&pred, Target::Dense(&[1.0, 0.0]), 1, Some(&[1.0, 0.0]), None)?;
    /// assert!((masked - -(0.8f32.ln())).abs() < 1e-6);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn compute(
        &self,
        pred: &[f32],
        target: Target<'_>,
        classes: usize,
        mask: Option<&[f32]>,
        grad: Option<&mut [f32]>,
    ) -> Result<f32, Error> {
        let rows = self.validate(pred, "predictions", target, classes, mask)?;
        if let Some(grad) = &grad {
            self.check_out_len("gradient buffer", grad.len(), rows, classes)?;
        }
        if self.normalises_rows() {
            self.check_row_sums(pred, classes)?;
        }
        let weights = RowWeights::new(mask, rows);
        // `validate` checked the targets, the mask and the buffer against `rows`, so these
        // zips pair every row with its target, weight and gradient.
        let rows_of = pred
            .chunks_exact(classes)
            .zip(RowTarget::rows(target, classes))
            .zip(weights.iter());
        let mut value = 0.0f64;
        match grad {
            Some(grad) => {
                for (((p, t), w), g) in rows_of.zip(grad.chunks_exact_mut(classes)) {
                    value += w * self.row(p, t, w, Some(g));
                }
            }
            None => {
                for ((p, t), w) in rows_of {
                    value += w * self.row(p, t, w, None);
                }
            }
        }
        Ok(value as f32)
    }

    /// The fused, numerically stable gradient with respect to the logits `z` of the model's
    /// last activation, for `(BinaryCrossentropy { from_logits: false }, Activation::Sigmoid)`
    /// and `((Sparse)CategoricalCrossentropy { from_logits: false }, Activation::Softmax)`.
    ///
    /// Given the probabilities `p = act(z)` (rows of `classes`, as in [`compute`]), writes
    /// `d value / d z` into `grad_logits`:
    /// - sigmoid and binary cross-entropy: `weight * (p - t) / classes` (`classes` is Keras'
    ///   mean over the last axis);
    /// - softmax and categorical cross-entropy: `weight * (p * sum(t) - t)`, the exact
    ///   gradient of `-sum(t * log_softmax(z))` for targets used as given. Keras' division of
    ///   the predictions by their row sum does nothing to softmax outputs (the sum is 1), and
    ///   the targets are not normalised, so for target rows that sum to 1 (one-hot or soft
    ///   labels) this is `weight * (p - t)`;
    /// - softmax and sparse categorical cross-entropy: `weight * (p - onehot(class))`;
    ///
    /// where `weight` is the row's weight in the mean (`1 / rows`, or as described for the
    /// mask in [`compute`]). Nothing is divided by `p`, so the gradient neither overflows where
    /// a probability underflows to 0 nor vanishes where Keras clips it: it is the gradient of
    /// the loss without clipping (the one Keras' TensorFlow backend uses when the output
    /// carries its logits), which differs from [`compute`]'s only where a probability lies
    /// outside `[1e-7, 1 - 1e-7]`.
    ///
    /// Returns `Ok(false)`, writing nothing, when the `(loss, activation)` pair is not one of
    /// these (the caller then backpropagates [`compute`]'s gradient through the activation),
    /// and `Ok(true)` when it wrote. The inputs are checked as by [`compute`] in either case
    /// (except the row sums, which a softmax output cannot get wrong).
    ///
    /// [`compute`]: Loss::compute
    ///
    /// ```
    /// use rnn_runtime::{Activation, Loss, Target};
    /// // Softmax of the logits [0, 100]: the first probability underflows to 0.
    /// let mut probs = [0.0f32, 100.0];
    /// Activation::Softmax.apply(&mut probs, 2);
    /// let loss = Loss::sparse_categorical_crossentropy();
    /// let mut dz = [0.0f32; 2];
    /// let fused = loss.logits_grad(Activation::Softmax, &probs, Target::Classes(&[0]), 2, None, &mut dz)?;
    /// assert!(fused);
    /// assert!((dz[0] - -1.0).abs() < 1e-6 && (dz[1] - 1.0).abs() < 1e-6);
    ///
    /// let relu = loss.logits_grad(Activation::Relu, &probs, Target::Classes(&[0]), 2, None, &mut dz)?;
    /// assert!(!relu);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn logits_grad(
        &self,
        activation: Activation,
        probs: &[f32],
        target: Target<'_>,
        classes: usize,
        mask: Option<&[f32]>,
        grad_logits: &mut [f32],
    ) -> Result<bool, Error> {
        let rows = self.validate(probs, "probabilities", target, classes, mask)?;
        self.check_out_len("gradient buffer", grad_logits.len(), rows, classes)?;
        let sigmoid_bce = match (*self, activation) {
            (Loss::BinaryCrossentropy { from_logits: false }, Activation::Sigmoid) => true,
            (
                Loss::CategoricalCrossentropy { from_logits: false }
                | Loss::SparseCategoricalCrossentropy { from_logits: false },
                Activation::Softmax,
            ) => false,
            _ => return Ok(false),
        };
        let weights = RowWeights::new(mask, rows);
        let n = classes as f64;
        let rows_of = probs
            .chunks_exact(classes)
            .zip(grad_logits.chunks_exact_mut(classes))
            .zip(RowTarget::rows(target, classes))
            .zip(weights.iter());
        for (((p, g), t), w) in rows_of {
            // Binary cross-entropy is a sum of independent sigmoid terms, so its gradient is
            // `p - t` for any target; a softmax couples the row, so the targets' sum scales p.
            let (scale, p_factor) = if sigmoid_bce {
                (w / n, 1.0)
            } else {
                (w, t.sum())
            };
            for ((g, &p), t) in g.iter_mut().zip(p).zip(t.values()) {
                *g = (scale * (p as f64 * p_factor - t)) as f32;
            }
        }
        Ok(true)
    }

    /// Whether Keras divides each prediction row by its sum before clipping.
    fn normalises_rows(&self) -> bool {
        matches!(
            self,
            Loss::CategoricalCrossentropy { from_logits: false }
                | Loss::SparseCategoricalCrossentropy { from_logits: false }
        )
    }

    /// Checks everything but the output buffer and returns the number of rows.
    fn validate(
        &self,
        pred: &[f32],
        what: &str,
        target: Target<'_>,
        classes: usize,
        mask: Option<&[f32]>,
    ) -> Result<usize, Error> {
        let name = self.keras_name();
        let Some(rows) = pred.len().checked_div(classes) else {
            return Err(Error::shape(
                format!("{name} ({what})"),
                "(rows, classes) with at least one class",
                "0 classes",
            ));
        };
        if !pred.len().is_multiple_of(classes) {
            return Err(Error::shape(
                format!("{name} ({what})"),
                format!("(rows, {classes})"),
                format!("{} values, not a multiple of {classes}", pred.len()),
            ));
        }
        if rows == 0 {
            return Err(Error::Empty {
                layer: name.to_string(),
                what: format!("the {what} have no rows"),
            });
        }
        match (self, target) {
            (Loss::SparseCategoricalCrossentropy { .. }, Target::Classes(ids)) => {
                if ids.len() != rows {
                    return Err(Error::shape(
                        format!("{name} (targets)"),
                        fmt_shape(&[rows]),
                        format!("{} class ids", ids.len()),
                    ));
                }
                if let Some((row, &class)) = ids
                    .iter()
                    .enumerate()
                    .find(|&(_, &id)| id as usize >= classes)
                {
                    return Err(Error::ClassOutOfRange {
                        loss: name.to_string(),
                        class,
                        row,
                        classes,
                    });
                }
            }
            (Loss::SparseCategoricalCrossentropy { .. }, Target::Dense(_)) => {
                return Err(Error::config(
                    name,
                    "the targets must be one class id per row (Target::Classes); for one value \
                     per prediction (one-hot or soft labels) use categorical_crossentropy",
                ));
            }
            (_, Target::Classes(_)) => {
                return Err(Error::config(
                    name,
                    "the targets must be one value per prediction (Target::Dense); class ids \
                     (Target::Classes) go with sparse_categorical_crossentropy",
                ));
            }
            (_, Target::Dense(t)) => {
                if t.len() != pred.len() {
                    return Err(Error::shape(
                        format!("{name} (targets)"),
                        fmt_shape(&[rows, classes]),
                        format!("{} values", t.len()),
                    ));
                }
                check_finite(t, name, "targets")?;
            }
        }
        check_finite(pred, name, what)?;
        if let Some(mask) = mask {
            if mask.len() != rows {
                return Err(Error::shape(
                    format!("{name} (mask)"),
                    fmt_shape(&[rows]),
                    format!("{} values", mask.len()),
                ));
            }
            check_finite(mask, name, "mask")?;
            if let Some((row, v)) = mask.iter().enumerate().find(|&(_, &v)| v < 0.0) {
                return Err(Error::config(
                    name,
                    format!(
                        "mask value {v} for row {row} is negative; the mask holds one weight per \
                         row, 1 for a valid row and 0 for a masked one"
                    ),
                ));
            }
        }
        Ok(rows)
    }

    fn check_out_len(
        &self,
        what: &str,
        len: usize,
        rows: usize,
        classes: usize,
    ) -> Result<(), Error> {
        if Some(len) == rows.checked_mul(classes) {
            return Ok(());
        }
        Err(Error::shape(
            format!("{} ({what})", self.keras_name()),
            fmt_shape(&[rows, classes]),
            format!("{len} values"),
        ))
    }

    fn check_row_sums(&self, pred: &[f32], classes: usize) -> Result<(), Error> {
        match pred.chunks_exact(classes).position(|p| row_sum(p) == 0.0) {
            None => Ok(()),
            Some(row) => Err(Error::config(
                self.keras_name(),
                format!(
                    "prediction row {row} sums to 0, so Keras' division by the row sum makes the \
                     loss NaN; feed probabilities (e.g. a softmax output), or logits with \
                     from_logits = true"
                ),
            )),
        }
    }

    /// The loss of one row; when `grad` is given, writes `weight * d loss / d p` into it.
    fn row(&self, p: &[f32], t: RowTarget<'_>, weight: f64, grad: Option<&mut [f32]>) -> f64 {
        match *self {
            Loss::BinaryCrossentropy { from_logits: false } => bce_row(p, t, weight, grad),
            Loss::BinaryCrossentropy { from_logits: true } => bce_logits_row(p, t, weight, grad),
            Loss::CategoricalCrossentropy { from_logits: false }
            | Loss::SparseCategoricalCrossentropy { from_logits: false } => {
                cce_row(p, t, weight, grad)
            }
            Loss::CategoricalCrossentropy { from_logits: true }
            | Loss::SparseCategoricalCrossentropy { from_logits: true } => {
                cce_logits_row(p, t, weight, grad)
            }
            Loss::MeanSquaredError => mse_row(p, t, weight, grad),
        }
    }
}

/// Weights of the rows in the mean, Keras' `apply_mask` followed by the mean over all rows.
enum RowWeights<'a> {
    Uniform(f64),
    Masked { mask: &'a [f32], scale: f64 },
}

impl<'a> RowWeights<'a> {
    fn new(mask: Option<&'a [f32]>, rows: usize) -> Self {
        let total = rows as f64;
        match mask {
            None => RowWeights::Uniform(1.0 / total),
            Some(mask) => {
                let valid: f64 = mask.iter().map(|&m| m as f64).sum();
                // Keras scales the mask by total / (valid + eps), then divides the sum of the
                // weighted losses by total.
                RowWeights::Masked {
                    mask,
                    scale: total / (valid + EPSILON) / total,
                }
            }
        }
    }

    /// The weight of every row, in order (endless when uniform).
    fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let (uniform, mask, scale) = match *self {
            RowWeights::Uniform(w) => (Some(w), &[][..], 0.0),
            RowWeights::Masked { mask, scale } => (None, mask, scale),
        };
        let masked = mask.iter().map(move |&m| m as f64 * scale);
        uniform
            .into_iter()
            .flat_map(std::iter::repeat)
            .chain(masked)
    }
}

/// The targets of one row.
#[derive(Clone, Copy)]
enum RowTarget<'a> {
    Dense(&'a [f32]),
    Class { class: usize, classes: usize },
}

impl<'a> RowTarget<'a> {
    /// The targets of every row, in order (`classes > 0`).
    fn rows(target: Target<'a>, classes: usize) -> impl Iterator<Item = Self> {
        let (dense, ids) = match target {
            Target::Dense(t) => (t, &[][..]),
            Target::Classes(ids) => (&[][..], ids),
        };
        let class = move |&id: &u32| RowTarget::Class {
            class: id as usize,
            classes,
        };
        dense
            .chunks_exact(classes)
            .map(RowTarget::Dense)
            .chain(ids.iter().map(class))
    }

    /// The target of every column of the row.
    fn values(self) -> impl Iterator<Item = f64> + 'a {
        let (dense, class) = match self {
            RowTarget::Dense(t) => (t, None),
            RowTarget::Class { class, classes } => (&[][..], Some((class, classes))),
        };
        let one_hot = class
            .into_iter()
            .flat_map(|(c, n)| (0..n).map(move |j| f64::from(u8::from(j == c))));
        dense.iter().map(|&t| t as f64).chain(one_hot)
    }

    fn sum(self) -> f64 {
        match self {
            RowTarget::Dense(t) => row_sum(t),
            RowTarget::Class { .. } => 1.0,
        }
    }
}

fn row_sum(v: &[f32]) -> f64 {
    v.iter().map(|&x| x as f64).sum()
}

/// JAX's `clip(p, eps, 1 - eps)` = `min(max(p, eps), 1 - eps)` and its derivative: 1 inside,
/// 0 outside, and 1/2 exactly on a bound, where JAX's `max`/`min` split the gradient between
/// their two equal arguments.
fn clip(p: f64) -> (f64, f64) {
    let (lo, hi) = (EPSILON, 1.0 - EPSILON);
    if p > lo && p < hi {
        (p, 1.0)
    } else if p == lo || p == hi {
        (p, 0.5)
    } else {
        (p.clamp(lo, hi), 0.0)
    }
}

fn bce_row(p: &[f32], t: RowTarget<'_>, weight: f64, grad: Option<&mut [f32]>) -> f64 {
    let n = p.len() as f64;
    let mut sum = 0.0;
    let mut grad = grad.map(|g| g.iter_mut());
    for (&p, t) in p.iter().zip(t.values()) {
        let (pc, pass) = clip(p as f64);
        sum -= t * pc.ln() + (1.0 - t) * (1.0 - pc).ln();
        if let Some(g) = grad.as_mut().and_then(Iterator::next) {
            *g = (weight * pass * ((1.0 - t) / (1.0 - pc) - t / pc) / n) as f32;
        }
    }
    sum / n
}

fn bce_logits_row(z: &[f32], t: RowTarget<'_>, weight: f64, grad: Option<&mut [f32]>) -> f64 {
    let n = z.len() as f64;
    let mut sum = 0.0;
    let mut grad = grad.map(|g| g.iter_mut());
    for (&z, t) in z.iter().zip(t.values()) {
        let z = z as f64;
        // -(t ln sigmoid(z) + (1 - t) ln sigmoid(-z)) = softplus(z) - t z, with softplus
        // written so that exp never overflows.
        sum += z.max(0.0) - t * z + (-z.abs()).exp().ln_1p();
        if let Some(g) = grad.as_mut().and_then(Iterator::next) {
            *g = (weight * (sigmoid(z) - t) / n) as f32;
        }
    }
    sum / n
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn cce_row(p: &[f32], t: RowTarget<'_>, weight: f64, grad: Option<&mut [f32]>) -> f64 {
    let s = row_sum(p);
    // With q = p / s, d loss / d p_k = (g_k - sum_j g_j q_j) / s, where g = d loss / d q is
    // zero wherever the clip is active.
    let mut loss = 0.0;
    let mut g_dot_q = 0.0;
    for (&p, t) in p.iter().zip(t.values()) {
        let q = p as f64 / s;
        let (qc, pass) = clip(q);
        loss -= t * qc.ln();
        g_dot_q += -t * pass / qc * q;
    }
    if let Some(grad) = grad {
        for ((g, &p), t) in grad.iter_mut().zip(p).zip(t.values()) {
            let (qc, pass) = clip(p as f64 / s);
            let dq = -t * pass / qc;
            *g = (weight * (dq - g_dot_q) / s) as f32;
        }
    }
    loss
}

fn cce_logits_row(z: &[f32], t: RowTarget<'_>, weight: f64, grad: Option<&mut [f32]>) -> f64 {
    let max = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let sum_exp: f64 = z.iter().map(|&v| (v as f64 - max).exp()).sum();
    let log_sum = max + sum_exp.ln();
    let loss = z
        .iter()
        .zip(t.values())
        .map(|(&v, t)| t * (log_sum - v as f64))
        .sum();
    if let Some(grad) = grad {
        let t_sum = t.sum();
        for ((g, &v), t) in grad.iter_mut().zip(z).zip(t.values()) {
            let softmax = (v as f64 - max).exp() / sum_exp;
            *g = (weight * (softmax * t_sum - t)) as f32;
        }
    }
    loss
}

fn mse_row(p: &[f32], t: RowTarget<'_>, weight: f64, grad: Option<&mut [f32]>) -> f64 {
    let n = p.len() as f64;
    let mut sum = 0.0;
    let mut grad = grad.map(|g| g.iter_mut());
    for (&p, t) in p.iter().zip(t.values()) {
        let d = p as f64 - t;
        sum += d * d;
        if let Some(g) = grad.as_mut().and_then(Iterator::next) {
            *g = (weight * 2.0 * d / n) as f32;
        }
    }
    sum / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_passes_half_the_gradient_on_a_bound() {
        assert_eq!(clip(0.5), (0.5, 1.0));
        assert_eq!(clip(EPSILON), (EPSILON, 0.5));
        assert_eq!(clip(1.0 - EPSILON), (1.0 - EPSILON, 0.5));
        assert_eq!(clip(0.0), (EPSILON, 0.0));
        assert_eq!(clip(1.0), (1.0 - EPSILON, 0.0));
    }

    #[test]
    fn no_f32_lies_on_a_float64_clip_bound() {
        // Why binary cross-entropy never takes the half-gradient branch: the f32 values next
        // to each bound fall strictly on either side of it.
        for bound in [EPSILON, 1.0 - EPSILON] {
            let near = bound as f32;
            assert_ne!(near as f64, bound);
            let (below, above) = if (near as f64) < bound {
                (near, near.next_up())
            } else {
                (near.next_down(), near)
            };
            assert!((below as f64) < bound && (above as f64) > bound);
        }
    }
}
