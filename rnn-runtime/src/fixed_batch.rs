//! A model built with Keras 2's `batch_input_shape = (batch, ..)` takes batches of exactly
//! that many rows, as Keras 2's fixed-batch models do: `predict` one such batch, `fit` and
//! `evaluate` whole batches of it with that `batch_size`.

use crate::error::{Error, Result, fmt_shape};
use crate::input::ModelInput;
use crate::summary::ModelSpec;

/// The expected input shape with the fixed batch in place of `batch`.
fn expected<I: ModelInput>(spec: &ModelSpec, batch: usize) -> String {
    I::expected_shape(spec.input_time).replacen("batch", &batch.to_string(), 1)
}

fn actual<I: ModelInput>(x: &I) -> String {
    let mut shape = x.shape();
    if let Some(rows) = shape.first_mut() {
        *rows = x.batch();
    }
    fmt_shape(&shape)
}

/// One batch of exactly the fixed size.
pub(crate) fn check_exact<I: ModelInput>(spec: &ModelSpec, x: &I) -> Result<()> {
    match spec.input_batch {
        Some(b) if x.batch() != b => Err(Error::shape(
            "input",
            format!("{} (the model's batch_input_shape)", expected::<I>(spec, b)),
            actual(x),
        )),
        _ => Ok(()),
    }
}

/// Whole batches of the fixed size, for `fit` and `evaluate`.
pub(crate) fn check_whole<I: ModelInput>(spec: &ModelSpec, x: &I, what: &str) -> Result<()> {
    match spec.input_batch {
        Some(b) if !x.batch().is_multiple_of(b) => Err(Error::shape(
            what,
            format!(
                "a multiple of {b} rows, {} per batch (the model's batch_input_shape)",
                expected::<I>(spec, b)
            ),
            actual(x),
        )),
        _ => Ok(()),
    }
}

/// The `batch_size` of `fit` and `evaluate` must be the fixed size.
pub(crate) fn check_batch_size(spec: &ModelSpec, batch_size: usize, what: &str) -> Result<()> {
    match spec.input_batch {
        Some(b) if batch_size != b => Err(Error::config(
            what,
            format!(
                "the model was built with batch_input_shape for batches of {b} rows: use \
                 batch_size {b}, not {batch_size}"
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Features;

    static FIXED: ModelSpec = ModelSpec {
        name: "sequential",
        input_time: None,
        input_batch: Some(4),
        layers: &[],
    };

    #[test]
    fn fixed_batches_are_checked() {
        let x = Features::<2>::from_vec(3, vec![0.0; 6]);
        let e = check_exact(&FIXED, &x).unwrap_err().to_string();
        assert!(e.contains("(4, 2)") && e.contains("(3, 2)"), "{e}");
        assert!(check_exact(&FIXED, &Features::<2>::from_vec(4, vec![0.0; 8])).is_ok());
        assert!(check_whole(&FIXED, &Features::<2>::from_vec(8, vec![0.0; 16]), "fit").is_ok());
        assert!(check_whole(&FIXED, &x, "fit").is_err());
        let e = check_batch_size(&FIXED, 32, "fit").unwrap_err().to_string();
        assert!(e.contains("use batch_size 4, not 32"), "{e}");
        let free = ModelSpec {
            input_batch: None,
            ..FIXED
        };
        assert!(check_exact(&free, &x).is_ok());
    }
}
