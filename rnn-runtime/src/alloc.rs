//! Fallible allocation of weights: sizes computed with checked arithmetic and memory
//! reserved with `try_reserve`, so that a model too large for the machine is an error naming
//! the layer and the byte size, not an abort.

use crate::error::{Error, Result};
use crate::size::try_with_capacity;
use crate::summary::memory;

/// A buffer a layer keeps from one pass to the next: the gradient its backward pass consumed,
/// to hold its next forward output. Activations of a few megabytes freed and allocated again
/// every step go back to the system and are faulted in again, page by page (T2 spent 7 % of
/// its time in the kernel doing so); a buffer kept here is reused instead. A clone starts
/// empty, and `Debug` shows only its capacity.
#[derive(Default)]
pub(crate) struct Spare(Vec<f32>);

impl Spare {
    /// An empty vector with room for `len` values: the kept buffer when it fits (holding at
    /// most twice that), else a new one (see [`try_with_capacity`]).
    pub(crate) fn take(&mut self, layer: &str, len: usize) -> Result<Vec<f32>> {
        let mut v = std::mem::take(&mut self.0);
        if (len..=len.saturating_mul(2)).contains(&v.capacity()) {
            v.clear();
            Ok(v)
        } else {
            try_with_capacity(layer, len)
        }
    }

    /// Keeps `buffer` for the next [`Spare::take`].
    pub(crate) fn keep(&mut self, buffer: Vec<f32>) {
        self.0 = buffer;
    }
}

impl Clone for Spare {
    fn clone(&self) -> Self {
        Spare::default()
    }
}

impl std::fmt::Debug for Spare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spare({} values)", self.0.capacity())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_buffer_is_reused_only_when_it_fits() {
        let mut spare = Spare::default();
        let kept = vec![1.0f32; 100];
        let at = kept.as_ptr();
        spare.keep(kept);
        assert!(
            format!("{:?}", spare.clone()).contains("0 values"),
            "a clone starts empty"
        );
        let v = spare.take("layer", 60).unwrap();
        assert!(v.is_empty() && v.as_ptr() == at, "reused, emptied");
        spare.keep(v);
        assert!(
            spare.take("layer", 101).unwrap().capacity() >= 101,
            "too small: new"
        );
        spare.keep(vec![0.0; 100]);
        assert!(
            spare.take("layer", 10).unwrap().capacity() < 100,
            "too large: new"
        );
    }
}
