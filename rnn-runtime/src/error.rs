//! The one error type of the runtime.

use std::fmt;

/// Everything that can go wrong at run time: bad input, bad weights, bad files.
///
/// Every variant names where the problem is (a layer, a weight or the model input) and, for
/// shape problems, both the expected and the actual shape, so that the message alone tells
/// the user what to fix.
///
/// ```
/// use rnn_runtime::{Error, TokenBatch};
/// let err = TokenBatch::new(vec![vec![1, 2], vec![3]]).unwrap_err();
/// assert!(matches!(err, Error::Ragged { .. }));
/// assert!(err.to_string().contains("row 1 has 1 steps"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor reaching `layer` does not have the shape it expects.
    #[error("{layer}: expected shape {expected}, got {actual}")]
    Shape {
        /// The layer (or `input`) that checked the shape.
        layer: String,
        /// The expected shape, with `batch`/`time` for run-time sizes, e.g. `(batch, time, 8)`.
        expected: String,
        /// The shape that arrived.
        actual: String,
    },
    /// `History::get` of a name that no epoch logged.
    #[error("history: no value `{key}` was logged; logged values: {available}")]
    UnknownLog {
        /// The name asked for.
        key: String,
        /// The names that were logged, in Keras' order.
        available: String,
    },
    /// A batch without rows, or sequences without time steps.
    #[error("{layer}: {what}")]
    Empty {
        /// Where the empty data was found.
        layer: String,
        /// What is empty, e.g. `the batch has no rows`.
        what: String,
    },
    /// Rows of a batch with different lengths.
    #[error("{layer}: ragged batch: row {row} has {len} {unit}, row 0 has {expected}")]
    Ragged {
        /// Where the batch was built.
        layer: String,
        /// The first row whose length differs from row 0.
        row: usize,
        /// Its length.
        len: usize,
        /// The length of row 0.
        expected: usize,
        /// `steps` or `features`.
        unit: &'static str,
    },
    /// A token id that the embedding table has no row for.
    #[error(
        "{layer}: token id {id} at [batch {batch}, step {step}] is out of range: \
         input_dim is {vocab}, so ids must be < {vocab}"
    )]
    TokenOutOfRange {
        /// The embedding layer.
        layer: String,
        /// The offending id.
        id: u32,
        /// Its row in the batch.
        batch: usize,
        /// Its time step.
        step: usize,
        /// The vocabulary size (`input_dim`).
        vocab: usize,
    },
    /// A token id given as a signed or wider integer that is no `u32`: negative, or above
    /// `u32::MAX`.
    #[error(
        "input: token id {value} at [batch {batch}, step {step}] is not a token id: ids are \
         integers from 0 to {max}"
    , max = u32::MAX)]
    BadTokenId {
        /// The offending value, as written.
        value: String,
        /// Its row in the batch.
        batch: usize,
        /// Its time step.
        step: usize,
    },
    /// NaN or infinity in inputs, targets, gradients or weights.
    #[error("{layer}: {what} contains {value} at index {index}")]
    NonFinite {
        /// Where the value was found.
        layer: String,
        /// Which tensor, e.g. `input` or `weight sequential/dense/kernel`.
        what: String,
        /// Flat row-major index of the first non-finite value.
        index: usize,
        /// The value (NaN or an infinity).
        value: f32,
    },
    /// `set_weights` got a different number of arrays than the model has weights.
    #[error("set_weights: the model has {expected} weight arrays ({names}), got {actual}")]
    WeightCount {
        /// How many arrays the model has.
        expected: usize,
        /// How many were given.
        actual: usize,
        /// The model's weight names, in order.
        names: String,
    },
    /// A weight array of the wrong shape or length.
    #[error("weight `{name}`: expected shape {expected}, got {actual}")]
    WeightShape {
        /// Keras name of the weight.
        name: String,
        /// Its shape, e.g. `(100, 512)`.
        expected: String,
        /// What was given, e.g. `(100, 256)` or `51200 values`.
        actual: String,
    },
    /// A class id in the targets that the output has no column for.
    #[error(
        "{loss}: class id {class} in target row {row} is out of range: the output has {classes} \
         classes, so ids must be < {classes}"
    )]
    ClassOutOfRange {
        /// The loss or metric that read the targets.
        loss: String,
        /// The offending id.
        class: u32,
        /// Its row (flattened over batch and time).
        row: usize,
        /// Number of classes in the output.
        classes: usize,
    },
    /// The loss became NaN or infinite during training; the weights are those before the step.
    #[error(
        "fit: the loss is {value} at epoch {epoch}, step {step}; training stopped and the \
         weights are those before this step (try a lower learning rate or clipnorm)"
    )]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The loss value.
        value: f32,
    },
    /// A gradient became NaN or infinite during training; the weights are those before the step.
    #[error(
        "fit: the gradient of `{weight}` is not finite at epoch {epoch}, step {step}; training \
         stopped and the weights are those before this step (try a lower learning rate or \
         clipnorm)"
    )]
    NonFiniteGradient {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// Keras name of the first weight with a non-finite gradient.
        weight: String,
    },
    /// A weight file that cannot be written, read, or does not fit the model.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What is wrong, naming the first mismatching weight where there is one.
        message: String,
    },
    /// A data set that cannot be found, downloaded or read (see [`crate::datasets`]).
    #[error(transparent)]
    Dataset(#[from] crate::datasets::DatasetError),
    /// A model was used in a way its configuration does not allow.
    #[error("{layer}: {message}")]
    Config {
        /// Where the problem is.
        layer: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An optimizer step made a weight NaN or infinite (its gradient was finite); the weights
    /// and the optimizer's slots are those before the step.
    #[error(
        "fit: the update of `{weight}` is not finite at epoch {epoch}, step {step}; training \
         stopped and the weights are those before this step (try a lower learning rate or \
         clipnorm)"
    )]
    NonFiniteUpdate {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// Keras name of the first weight that became non-finite.
        weight: String,
    },
    /// A size that overflows when computed, or a buffer that cannot be allocated.
    #[error("{layer}: {what}")]
    TooLarge {
        /// Where the size came from.
        layer: String,
        /// Which size, and how large.
        what: String,
    },
}

impl Error {
    pub(crate) fn shape(
        layer: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Error::Shape {
            layer: layer.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    pub(crate) fn config(layer: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            layer: layer.into(),
            message: message.into(),
        }
    }
}

/// Result with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Formats a shape the way Keras prints it: `(2, 5, 8)`, `(batch, time, 8)`, `(3,)`.
pub(crate) fn fmt_shape<T: fmt::Display>(dims: &[T]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    match parts.as_slice() {
        [one] => format!("({one},)"),
        _ => format!("({})", parts.join(", ")),
    }
}

/// Returns an error for the first NaN or infinity in `data`.
pub(crate) fn check_finite(data: &[f32], layer: &str, what: &str) -> Result<()> {
    match first_non_finite(data) {
        Some((index, value)) => Err(Error::NonFinite {
            layer: layer.to_string(),
            what: what.to_string(),
            index,
            value,
        }),
        None => Ok(()),
    }
}

/// The index and value of the first NaN or infinity in `data`, for the checks of inputs and
/// of weights read from files, each with its own message.
pub(crate) fn first_non_finite(data: &[f32]) -> Option<(usize, f32)> {
    // The sum is NaN or infinite whenever an element is; scanning for the index only then
    // keeps the common, clean case a single vectorisable pass.
    let sum: f32 = data.iter().map(|v| v * 0.0).sum();
    if sum == 0.0 {
        return None;
    }
    data.iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .map(|(i, &v)| (i, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_print_like_keras() {
        assert_eq!(fmt_shape(&[2, 5, 8]), "(2, 5, 8)");
        assert_eq!(fmt_shape(&[3]), "(3,)");
        assert_eq!(fmt_shape(&["batch", "time", "8"]), "(batch, time, 8)");
    }

    #[test]
    fn finds_first_non_finite_value() {
        assert!(check_finite(&[1.0, -2.0, 3.5], "input", "x").is_ok());
        let err = check_finite(&[1.0, f32::INFINITY, f32::NAN], "input", "x").unwrap_err();
        assert!(matches!(err, Error::NonFinite { index: 1, .. }));
        let err = check_finite(&[f32::NAN], "input", "x").unwrap_err();
        assert!(err.to_string().contains("NaN at index 0"));
    }
}
