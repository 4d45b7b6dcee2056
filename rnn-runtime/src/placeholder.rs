//! The stand-in that `model!` emits for a model with compile errors.

use crate::error::Result;
use crate::output::Outputs;
use crate::param::{Weight, WeightData};

/// Offers the model API with the loosest signatures, so that code using a model whose
/// declaration has errors type-checks and the user sees only the real errors. It is never
/// constructed: the program does not compile.
#[doc(hidden)]
#[derive(Clone, Debug, Default)]
pub struct Placeholder {
    _private: (),
}

#[doc(hidden)]
#[allow(missing_docs, clippy::new_without_default)]
impl Placeholder {
    pub fn new() -> Self {
        unreachable!("a model with compile errors cannot be built")
    }
    pub fn predict<X>(&mut self, _x: X) -> Result<Outputs> {
        unreachable!()
    }
    pub fn forward<X, M>(&mut self, _x: &X, _mode: M) -> Result<Outputs> {
        unreachable!()
    }
    pub fn backward<G>(&mut self, _grads: &[&[f32]]) -> Result<G> {
        unreachable!()
    }
    pub fn summary(&self) -> String {
        unreachable!()
    }
    pub fn summary_width(&self, _columns: usize) -> String {
        unreachable!()
    }
    pub fn get_weights(&self) -> Vec<Weight> {
        unreachable!()
    }
    pub fn set_weights<W: WeightData>(&mut self, _weights: &[W]) -> Result<()> {
        unreachable!()
    }
    pub fn gradients(&self) -> Vec<Weight> {
        unreachable!()
    }
    pub fn zero_grad(&mut self) {
        unreachable!()
    }
    pub fn count_params(&self) -> usize {
        unreachable!()
    }
}
