//! Model inputs built from fixture tensors, and input gradients read back as flat arrays.

use rnn::IntoInput;
use rnn::prelude::*;

use super::fixtures;

/// Builds a model input from a fixture tensor: token ids or real values, any layout.
pub trait FromFixture: Sized {
    fn from_fixture(t: &fixtures::Tensor) -> Self;
}

impl FromFixture for TokenBatch {
    fn from_fixture(t: &fixtures::Tensor) -> Self {
        t.id_rows().into_input().unwrap()
    }
}

impl<const D: usize> FromFixture for Sequence<D> {
    fn from_fixture(t: &fixtures::Tensor) -> Self {
        (&t.f32()[..], [t.shape[0], t.shape[1], t.shape[2]])
            .into_input()
            .unwrap()
    }
}

impl<const D: usize> FromFixture for Features<D> {
    fn from_fixture(t: &fixtures::Tensor) -> Self {
        (&t.f32()[..], [t.shape[0], t.shape[1]])
            .into_input()
            .unwrap()
    }
}

/// The gradient with respect to the model input, as a flat batch-major array (if
/// real-valued; token ids have none).
pub trait InputGrad {
    fn flat(&self) -> Option<Vec<f32>>;
}

impl InputGrad for () {
    fn flat(&self) -> Option<Vec<f32>> {
        None
    }
}

impl<const D: usize> InputGrad for Sequence<D> {
    fn flat(&self) -> Option<Vec<f32>> {
        Some(self.to_batch_major())
    }
}

impl<const D: usize> InputGrad for Features<D> {
    fn flat(&self) -> Option<Vec<f32>> {
        Some(self.as_slice().to_vec())
    }
}
