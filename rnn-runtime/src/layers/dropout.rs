//! `Dropout`: inverted dropout while training, the identity at inference.

use rand::{RngExt, SeedableRng};

use crate::error::{Error, Result, fmt_shape};
use crate::init::Rng;
use crate::layer::{Layer, Mode, no_state_grads};
use crate::layer_step::{LayerStep, StepContext, StepData, check_step_len};
use crate::param::{Param, Weights};
use crate::tensor::{Features, Sequence};

/// Keras `Dropout(rate)`: in training each value is zeroed with probability `rate` and the
/// others are scaled by `1 / (1 - rate)`; at inference it passes values through unchanged.
/// The drop pattern comes from a generator seeded at construction, so training is
/// reproducible.
///
/// ```
/// use rnn_runtime::{Dropout, Features, Layer, Mode, seeded_rng};
/// let mut d = Dropout::new("dropout", 0.5, &mut seeded_rng(0));
/// let x = Features::<4>::from_rows(&[vec![1.0; 4]]).unwrap();
/// assert_eq!(d.forward(&x, Mode::Inference).unwrap(), x);
/// let y = d.forward(&x, Mode::Training).unwrap();
/// assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 2.0));
/// ```
#[derive(Clone, Debug)]
pub struct Dropout {
    name: String,
    rate: f32,
    rng: Rng,
    /// Per-element factor of the last training pass: 0 or `1 / (1 - rate)`.
    scale: Vec<f32>,
}

impl Dropout {
    /// A dropout layer. `rate` must be in `[0, 1)`; the `model!` macro checks this at compile
    /// time.
    ///
    /// # Panics
    /// If `rate` is outside `[0, 1)`.
    pub fn new(name: &str, rate: f32, rng: &mut Rng) -> Self {
        assert!((0.0..1.0).contains(&rate), "Dropout rate must be in [0, 1)");
        Dropout {
            name: name.to_string(),
            rate,
            rng: Rng::seed_from_u64(rng.random()),
            scale: Vec::new(),
        }
    }

    /// The drop probability.
    pub fn rate(&self) -> f32 {
        self.rate
    }

    /// The layer's Keras name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn drop_in_place(&mut self, data: &mut [f32]) {
        let keep = 1.0 / (1.0 - self.rate);
        self.scale.clear();
        for v in data.iter_mut() {
            let s = if self.rng.random::<f32>() < self.rate {
                0.0
            } else {
                keep
            };
            self.scale.push(s);
            *v *= s;
        }
    }

    fn scale_grad(&self, grad: &mut [f32]) {
        if self.scale.is_empty() {
            return; // the forward pass was the identity (rate 0)
        }
        grad.iter_mut().zip(&self.scale).for_each(|(g, s)| *g *= s);
    }
}

impl Weights for Dropout {
    const PARAMS: usize = 0;
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }
}

/// Dropout works on both kinds of float tensors.
macro_rules! dropout_on {
    ($tensor:ident) => {
        impl<const D: usize> Layer<$tensor<D>> for Dropout {
            type Output = $tensor<D>;

            fn forward(&mut self, x: &$tensor<D>, mode: Mode) -> Result<$tensor<D>> {
                let mut y = x.clone();
                self.scale.clear();
                if mode.drops() && self.rate > 0.0 {
                    self.drop_in_place(y.as_mut_slice());
                }
                Ok(y)
            }

            fn backward(
                &mut self,
                x: &$tensor<D>,
                mut dy: $tensor<D>,
                dstates: &[&[f32]],
            ) -> Result<$tensor<D>> {
                no_state_grads(&self.name, dstates)?;
                if dy.shape() != x.shape() {
                    return Err(Error::shape(
                        format!("{}: output gradient", self.name),
                        fmt_shape(&x.shape()),
                        fmt_shape(&dy.shape()),
                    ));
                }
                self.scale_grad(dy.as_mut_slice());
                Ok(dy)
            }

            fn step_init(&self, batch: usize) -> Result<LayerStep> {
                LayerStep::plain(&self.name, batch, D)
            }

            /// The identity, as at inference.
            fn step(
                &self,
                x: StepData<'_>,
                _: &mut StepContext,
                state: &mut LayerStep,
            ) -> Result<()> {
                let x = x.values(&self.name)?;
                state.check_owner(&self.name, D)?;
                check_step_len(&self.name, x.len(), state.batch(), D)?;
                state.out.copy_from_slice(x);
                Ok(())
            }
        }
    };
}

dropout_on!(Sequence);
dropout_on!(Features);
