//! What the training loop needs of a model, and nothing more.

use crate::activation::Activation;
use crate::error::Result;
use crate::input::ModelInput;
use crate::layer::Mode;
use crate::output::ModelOutput;
use crate::param::Param;
use crate::tensor::Tensor;

/// The model as the training loop sees it: a typed forward and backward pass over a
/// parameter list. `Sequential` provides it.
pub(crate) trait Network {
    /// The model's input.
    type In: ModelInput;
    /// The model's main output; its type gives the output shape without a forward pass.
    type Out: ModelOutput;

    /// Rejects what `forward` would reject about `x`, without computing anything, and a
    /// number of rows that is not a whole number of the model's fixed batches (`what` names
    /// the caller in errors).
    fn check_input(&self, x: &Self::In, what: &str) -> Result<()>;

    /// Rejects a `batch_size` that a model with a fixed batch cannot take.
    fn check_batch_size(&self, batch_size: usize, what: &str) -> Result<()>;

    /// A forward pass; with `Mode::Training`, recording what `backward` needs.
    fn forward(&mut self, x: &Self::In, mode: Mode) -> Result<Self::Out>;

    /// How many outputs the last forward pass returned besides the main one (final states).
    fn extra_outputs(&self) -> usize;

    /// The last layer's activation, when a loss can fuse with it.
    fn output_activation(&self) -> Option<Activation>;

    /// Back-propagates `dy` through the last recorded forward pass, accumulating weight
    /// gradients. With `from_logits`, `dy` is the gradient with respect to the input of
    /// [`Network::output_activation`].
    fn backward(
        &mut self,
        x: &Self::In,
        dy: <Self::Out as Tensor>::Grad,
        from_logits: bool,
    ) -> Result<()>;

    /// Every weight, in Keras' order.
    fn params(&self) -> Vec<&Param>;

    /// Every weight, mutably, in Keras' order.
    fn params_mut(&mut self) -> Vec<&mut Param>;
}
