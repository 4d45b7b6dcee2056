//! Fallible allocation of weights: sizes computed with checked arithmetic and memory
//! reserved with `try_reserve`, so that a model too large for the machine is an error naming
//! the layer and the byte size, not an abort.

use crate::error::{Error, Result};
use crate::size::try_with_capacity;
use crate::summary::memory;

fn too_large(layer: &str, params: usize) -> Error {
    let bytes = params.saturating_mul(4);
    Error::config(
        layer,
        format!(
            "cannot allocate {params} parameters ({} at f32): not enough memory",
            memory(bytes)
        ),
    )
}

/// Checks that `params` weights of `layer` can be allocated, before a model is built (the
/// generated `try_new` calls it for every layer, largest first), so that a model that does not
/// fit in memory is an error instead of an abort.
///
/// ```
/// use rnn_runtime::reserve_params;
/// assert!(reserve_params("dense", 1_000).is_ok());
/// let err = reserve_params("embedding", usize::MAX / 8).unwrap_err();
/// assert!(err.to_string().starts_with("embedding: cannot allocate"), "{err}");
/// ```
pub fn reserve_params(layer: &str, params: usize) -> Result<()> {
    try_with_capacity::<f32>(layer, params)
        .map(drop)
        .map_err(|_| too_large(layer, params))
}
