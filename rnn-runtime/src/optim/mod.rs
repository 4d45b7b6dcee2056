//! Optimizers with Keras 3's update rules: [`Sgd`], [`Adam`], [`RmsProp`] and [`Adagrad`], each
//! with Keras' defaults, slot variables and gradient clipping ([`Clip`]).
//!
//! Element-wise updates run in `f32`, like the parameters; scalar schedules (Adam's bias
//! corrections) and hyperparameters are kept in `f64`, as Keras keeps them as Python floats.
//!
//! ```
//! use rnn_runtime::Param;
//! use rnn_runtime::optim::{Adam, Optimizer};
//!
//! let mut w = Param::new("dense/kernel", vec![2], vec![1.0, -1.0]);
//! w.grad_mut().copy_from_slice(&[0.5, -0.5]);
//! let mut opt = Adam::default();
//! opt.step(&mut [&mut w]);
//! // Adam's first step moves every weight by about the learning rate, against its gradient.
//! assert!((w.values()[0] - 0.999).abs() < 1e-6);
//! assert!((w.values()[1] + 0.999).abs() < 1e-6);
//! ```

mod adagrad;
mod adam;
mod clip;
mod rmsprop;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use clip::Clip;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::error::{Error, Result};
use crate::param::Param;

/// A Keras optimizer: updates parameters in place from their gradients.
///
/// ```
/// use rnn_runtime::Param;
/// use rnn_runtime::optim::{Optimizer, Sgd};
///
/// let mut opt: Box<dyn Optimizer> = Box::new(Sgd::new(0.1));
/// assert_eq!(opt.name(), "sgd");
/// let mut b = Param::new("bias", vec![2], vec![1.0, 2.0]);
/// b.grad_mut().copy_from_slice(&[1.0, -1.0]);
/// opt.step(&mut [&mut b]);
/// assert_eq!(b.values(), &[0.9, 2.1]);
/// ```
pub trait Optimizer: Send + Sync + std::fmt::Debug {
    /// Keras' name: "sgd", "adam", "rmsprop", "adagrad".
    ///
    /// ```
    /// use rnn_runtime::optim::{Optimizer, RmsProp};
    /// assert_eq!(RmsProp::default().name(), "rmsprop");
    /// ```
    fn name(&self) -> &'static str;

    /// The learning rate of the next step.
    ///
    /// ```
    /// use rnn_runtime::optim::{Adagrad, Optimizer};
    /// assert_eq!(Adagrad::default().learning_rate(), 1e-3);
    /// ```
    fn learning_rate(&self) -> f32;

    /// Changes the learning rate; slots and the iteration count are kept.
    ///
    /// ```
    /// use rnn_runtime::optim::{Adam, Optimizer};
    /// let mut opt = Adam::default();
    /// opt.set_learning_rate(0.01);
    /// assert_eq!(opt.learning_rate(), 0.01);
    /// ```
    fn set_learning_rate(&mut self, lr: f32);

    /// One update of every parameter from its current gradient (clipping first, per the
    /// optimizer's Clip settings). `params` has the same length and order on every call;
    /// slot buffers are allocated on the first call (and re-created if sizes change).
    ///
    /// A parameter whose gradient was never allocated is updated with a zero gradient, so
    /// optimizers with momentum keep moving it. If the number or the sizes of the parameters
    /// change, every slot and the iteration count start afresh, as for a new Keras optimizer.
    /// An empty `params` is a no-op, as Keras' `apply` with no gradients.
    ///
    /// ```
    /// use rnn_runtime::Param;
    /// use rnn_runtime::optim::{Optimizer, Sgd};
    /// let mut w = Param::new("w", vec![1], vec![1.0]);
    /// let mut opt = Sgd::new(0.5).momentum(0.5);
    /// w.grad_mut()[0] = 1.0;
    /// opt.step(&mut [&mut w]); // m = -0.5
    /// w.zero_grad();
    /// opt.step(&mut [&mut w]); // m = -0.25: momentum alone moves it
    /// assert_eq!(w.values(), &[0.25]);
    /// ```
    fn step(&mut self, params: &mut [&mut Param]);

    /// Number of optimizer state scalars as Keras counts `optimizer.variables` after it is
    /// built (for the "Optimizer params" line of model.summary()); `param_count` is the
    /// number of trainable scalars and `tensors` the number of weight arrays.
    ///
    /// Keras' count includes its iteration counter and learning-rate variable (one scalar
    /// each) besides one slot per weight array and slot kind, so it does not depend on
    /// `tensors`.
    ///
    /// ```
    /// use rnn_runtime::optim::{Adam, Optimizer, Sgd};
    /// // An LSTM(4) on 3 features and a Dense(2): 138 scalars in 5 arrays.
    /// assert_eq!(Adam::default().state_size(138, 5), 278);
    /// assert_eq!(Sgd::default().state_size(138, 5), 2);
    /// ```
    fn state_size(&self, param_count: usize, tensors: usize) -> usize;

    /// Checks the hyper-parameters (learning rate, decay rates, epsilon, clipping), as Keras'
    /// constructors do; `fit` and `train_on_batch` call it before the first step, so that a
    /// NaN learning rate or `beta_1 = 1` is an error naming the optimizer and the value
    /// rather than NaN weights. The default accepts everything.
    ///
    /// ```
    /// use rnn_runtime::optim::{Adam, Optimizer, Sgd};
    /// assert!(Adam::default().validate().is_ok());
    /// let err = Adam::default().beta_1(1.0).validate().unwrap_err();
    /// assert_eq!(err.to_string(), "adam: beta_1 must be in [0, 1), got 1");
    /// assert!(Sgd::new(f32::NAN).validate().is_err());
    /// ```
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Copies what a step changes besides the weights (the slots and the iteration count)
    /// into `into`, reusing its buffers, so that [`Optimizer::restore_state`] can undo a step
    /// whose update was not finite. The default saves nothing: an optimizer with slots
    /// implements both methods for `fit` to restore them.
    ///
    /// ```
    /// use rnn_runtime::Param;
    /// use rnn_runtime::optim::{Adam, Optimizer, OptimizerState};
    /// let mut w = Param::new("w", vec![1], vec![1.0]);
    /// w.grad_mut()[0] = 1.0;
    /// let mut opt = Adam::default();
    /// opt.step(&mut [&mut w]);
    /// let mut saved = OptimizerState::default();
    /// opt.save_state(&mut saved);
    /// opt.step(&mut [&mut w]);
    /// opt.restore_state(&saved);
    /// assert_eq!(opt.iterations(), 1);
    /// ```
    fn save_state(&self, into: &mut OptimizerState) {
        let _ = into;
    }

    /// Restores what [`Optimizer::save_state`] saved.
    fn restore_state(&mut self, from: &OptimizerState) {
        let _ = from;
    }

    /// Whether [`Optimizer::step`] on `params` would leave every weight finite, found
    /// without changing anything: `Some(Ok(()))` if so, `Some(Err(k))` when parameter `k` is
    /// the first it would not; `None` when the optimizer cannot tell without stepping. `fit`
    /// asks before each step: when the answer is known, it keeps no copy of the weights and
    /// the optimizer's state to undo a step that was not finite.
    ///
    /// ```
    /// use rnn_runtime::Param;
    /// use rnn_runtime::optim::{Adam, Optimizer, Sgd};
    /// let mut w = Param::new("w", vec![1], vec![-3e38]);
    /// w.grad_mut()[0] = 1.0;
    /// assert_eq!(Adam::default().check_step(&[&mut w]), Some(Ok(())));
    /// // The first step moves the weight by about the learning rate: past f32's range.
    /// assert_eq!(Adam::new(1e38).check_step(&[&mut w]), Some(Err(0)));
    /// assert_eq!(Sgd::default().check_step(&[&mut w]), None);
    /// ```
    fn check_step(&self, params: &[&mut Param]) -> Option<std::result::Result<(), usize>> {
        let _ = params;
        None
    }
}

/// An optimizer's slots and iteration count, saved by [`Optimizer::save_state`].
///
/// ```
/// let state = rnn_runtime::optim::OptimizerState::default();
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState {
    iterations: u64,
    sizes: Vec<usize>,
    slots: Vec<Vec<Vec<f32>>>,
}

/// `name` must satisfy `ok`: an error naming the optimizer, the hyper-parameter, the rule and
/// the value otherwise.
fn check(optimizer: &str, name: &str, value: f64, ok: bool, rule: &str) -> Result<()> {
    if ok {
        return Ok(());
    }
    Err(Error::config(
        optimizer,
        format!("{name} must be {rule}, got {value}"),
    ))
}

/// In `[0, 1)`: a decay rate.
fn check_rate(optimizer: &str, name: &str, value: f64) -> Result<()> {
    check(
        optimizer,
        name,
        value,
        (0.0..1.0).contains(&value),
        "in [0, 1)",
    )
}

/// Finite and above zero.
fn check_positive(optimizer: &str, name: &str, value: f64) -> Result<()> {
    check(
        optimizer,
        name,
        value,
        value.is_finite() && value > 0.0,
        "finite and > 0",
    )
}

/// Keras' own variables of every optimizer: `iteration` and `learning_rate`.
const BASE_VARIABLES: usize = 2;

/// What every optimizer carries besides its slots: learning rate, clipping, the iteration
/// count, the parameter sizes its slots were built for, and reused buffers.
#[derive(Clone, Debug)]
struct Core {
    lr: f32,
    clip: Clip,
    iterations: u64,
    sizes: Vec<usize>,
    scales: Vec<f32>,
    scratch: Vec<f32>,
}

impl Core {
    fn new(lr: f32) -> Self {
        Core {
            lr,
            clip: Clip::default(),
            iterations: 0,
            sizes: Vec::new(),
            scales: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Checks the learning rate and the clipping settings of optimizer `name`.
    fn validate(&self, name: &str) -> Result<()> {
        // Zero is allowed, as Keras allows it: it freezes the weights (and a test of early
        // stopping uses it to make the loss stall).
        let lr = f64::from(self.lr);
        check(
            name,
            "learning_rate",
            lr,
            lr.is_finite() && lr >= 0.0,
            "finite and >= 0",
        )?;
        let clip = [
            ("clipnorm", self.clip.norm),
            ("global_clipnorm", self.clip.global_norm),
            ("clipvalue", self.clip.value),
        ];
        for (what, value) in clip {
            if let Some(v) = value {
                // Zero or below means no clipping, as in Keras; NaN means nothing.
                check(name, what, f64::from(v), !v.is_nan(), "a number")?;
            }
        }
        Ok(())
    }

    /// Saves the iteration count and `slots` (one list of buffers per slot kind).
    fn save(&self, slots: &[&Vec<Vec<f32>>], into: &mut OptimizerState) {
        into.iterations = self.iterations;
        into.sizes.clone_from(&self.sizes);
        into.slots.resize_with(slots.len(), Vec::new);
        // `clone_from` reuses the buffers of the previous save: no allocation per step.
        for (dst, src) in into.slots.iter_mut().zip(slots) {
            dst.clone_from(src);
        }
    }

    /// Restores what [`Core::save`] saved into the same slot kinds.
    fn restore(&mut self, slots: &mut [&mut Vec<Vec<f32>>], from: &OptimizerState) {
        self.iterations = from.iterations;
        self.sizes.clone_from(&from.sizes);
        for (dst, src) in slots.iter_mut().zip(&from.slots) {
            dst.clone_from(src);
        }
    }

    /// Whether the slots were built for these parameters.
    fn same_sizes(&self, params: &[&mut Param]) -> bool {
        self.sizes.len() == params.len()
            && self.sizes.iter().zip(params).all(|(&n, p)| n == p.len())
    }

    /// Prepares a step; returns whether the slots must be rebuilt from scratch because the
    /// parameters are not the ones they were built for.
    fn begin(&mut self, params: &[&mut Param]) -> bool {
        let same = self.same_sizes(params);
        if !same {
            self.sizes = params.iter().map(|p| p.len()).collect();
            self.iterations = 0;
        }
        self.clip.scales(params, &mut self.scales);
        !same
    }

    /// Calls `update(k, values, gradient)` for every parameter with its clipped gradient.
    fn for_each(
        &mut self,
        params: &mut [&mut Param],
        mut update: impl FnMut(usize, &mut [f32], &[f32]),
    ) {
        let limit = self.clip.value_limit();
        // `begin` made one scale per parameter.
        for (k, (p, &scale)) in params.iter_mut().zip(&self.scales).enumerate() {
            if p.grad().is_empty() {
                // Scaled rather than a literal zero, so that a non-finite global norm poisons
                // every gradient, as it does in Keras.
                let zero = clip::clip_value(0.0, limit) * scale;
                self.scratch.clear();
                self.scratch.resize(p.len(), zero);
                update(k, p.values_mut(), &self.scratch);
            } else if scale == 1.0 && limit.is_none() {
                let (w, g) = p.values_and_grad_mut();
                update(k, w, g);
            } else {
                let (w, g) = p.values_and_grad_mut();
                self.scratch.clear();
                self.scratch
                    .extend(g.iter().map(|&x| clip::clip_value(x, limit) * scale));
                update(k, w, &self.scratch);
            }
        }
        // A u64 of steps taken one at a time does not fill up.
        self.iterations = self.iterations.saturating_add(1);
    }
}

/// Whether `slot` holds one buffer per parameter, of its size.
fn slot_fits(slot: &[Vec<f32>], params: &[&mut Param]) -> bool {
    slot.len() == params.len() && slot.iter().zip(params).all(|(s, p)| s.len() == p.len())
}

/// Makes `slot` hold one buffer of `init` per parameter, unless it already fits them.
fn ensure_slot(slot: &mut Vec<Vec<f32>>, params: &[&mut Param], init: f32, rebuild: bool) {
    if rebuild || !slot_fits(slot, params) {
        *slot = params.iter().map(|p| vec![init; p.len()]).collect();
    }
}

/// Adds the clipping builders shared by every optimizer.
macro_rules! clip_builders {
    ($ty:ident) => {
        impl $ty {
            /// Clips each gradient array to this L2 norm (Keras' `clipnorm`).
            ///
            /// ```
            #[doc = concat!("use rnn_runtime::optim::", stringify!($ty), ";")]
            #[doc = concat!("let opt = ", stringify!($ty), "::default().clipnorm(1.0);")]
            /// assert_eq!(opt.clip().norm, Some(1.0));
            /// ```
            pub fn clipnorm(mut self, max_norm: f32) -> Self {
                self.core.clip.norm = Some(max_norm);
                self
            }

            /// Scales all gradient arrays together so that their joint L2 norm is at most
            /// this (Keras' `global_clipnorm`).
            ///
            /// ```
            #[doc = concat!("use rnn_runtime::optim::", stringify!($ty), ";")]
            #[doc = concat!("let opt = ", stringify!($ty), "::default().global_clipnorm(5.0);")]
            /// assert_eq!(opt.clip().global_norm, Some(5.0));
            /// ```
            pub fn global_clipnorm(mut self, max_norm: f32) -> Self {
                self.core.clip.global_norm = Some(max_norm);
                self
            }

            /// Clips every gradient element to `[-max_value, max_value]` (Keras' `clipvalue`).
            ///
            /// ```
            #[doc = concat!("use rnn_runtime::optim::", stringify!($ty), ";")]
            #[doc = concat!("let opt = ", stringify!($ty), "::default().clipvalue(0.5);")]
            /// assert_eq!(opt.clip().value, Some(0.5));
            /// ```
            pub fn clipvalue(mut self, max_value: f32) -> Self {
                self.core.clip.value = Some(max_value);
                self
            }

            /// Replaces all clipping settings at once.
            ///
            /// ```
            #[doc = concat!("use rnn_runtime::optim::{Clip, ", stringify!($ty), "};")]
            /// let clip = Clip { norm: Some(2.0), ..Clip::default() };
            #[doc = concat!("assert_eq!(", stringify!($ty), "::default().with_clip(clip).clip(), clip);")]
            /// ```
            pub fn with_clip(mut self, clip: $crate::optim::Clip) -> Self {
                self.core.clip = clip;
                self
            }

            /// The clipping settings.
            ///
            /// ```
            #[doc = concat!("use rnn_runtime::optim::{Clip, ", stringify!($ty), "};")]
            #[doc = concat!("assert_eq!(", stringify!($ty), "::default().clip(), Clip::default());")]
            /// ```
            pub fn clip(&self) -> $crate::optim::Clip {
                self.core.clip
            }

            /// Number of steps taken (Keras' `optimizer.iterations`).
            ///
            /// ```
            /// use rnn_runtime::Param;
            #[doc = concat!("use rnn_runtime::optim::{Optimizer, ", stringify!($ty), "};")]
            #[doc = concat!("let mut opt = ", stringify!($ty), "::default();")]
            /// let mut w = Param::zeros("w", vec![3]);
            /// opt.step(&mut [&mut w]);
            /// opt.step(&mut [&mut w]);
            /// assert_eq!(opt.iterations(), 2);
            /// ```
            pub fn iterations(&self) -> u64 {
                self.core.iterations
            }
        }
    };
}
use clip_builders;

#[cfg(test)]
mod tests {
    use super::*;

    fn params(sizes: &[usize]) -> Vec<Param> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| Param::zeros(format!("w{i}"), vec![n]))
            .collect()
    }

    #[test]
    fn slots_are_rebuilt_when_sizes_change() {
        let mut opt = Adam::default();
        let mut ps = params(&[2, 3]);
        for p in &mut ps {
            p.grad_mut().fill(1.0);
        }
        opt.step(&mut ps.iter_mut().collect::<Vec<_>>());
        opt.step(&mut ps.iter_mut().collect::<Vec<_>>());
        assert_eq!(opt.iterations(), 2);
        let mut other = params(&[4]);
        opt.step(&mut other.iter_mut().collect::<Vec<_>>());
        assert_eq!(opt.iterations(), 1, "a new parameter set starts at step 1");
        let slots = opt.slots();
        assert_eq!(slots[0].1.len(), 1);
        assert_eq!(
            slots[0].1[0],
            vec![0.0; 4],
            "zero gradient, fresh zero momentum"
        );
    }

    #[test]
    fn empty_parameter_list_is_a_no_op() {
        let mut opt = RmsProp::default();
        opt.step(&mut []);
        assert_eq!(opt.iterations(), 0);
    }
}
