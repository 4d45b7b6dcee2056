//! Adagrad.

use super::{
    BASE_VARIABLES, Core, Optimizer, OptimizerState, check, check_positive, clip_builders,
    ensure_slot,
};
use crate::error::Result;
use crate::param::Param;

/// Keras' `Adagrad`: the accumulator starts at `initial_accumulator_value` (0.1, not 0), then
/// `acc += g²` and `w -= lr*g/sqrt(acc + epsilon)`, epsilon inside the square root.
///
/// Defaults are Keras': learning rate 1e-3, initial accumulator 0.1, epsilon 1e-7.
///
/// ```
/// use rnn_runtime::Param;
/// use rnn_runtime::optim::{Adagrad, Optimizer};
///
/// let mut w = Param::new("w", vec![1], vec![1.0]);
/// w.grad_mut()[0] = 0.3;
/// let mut opt = Adagrad::new(0.1);
/// opt.step(&mut [&mut w]);
/// // acc = 0.1 + 0.09 = 0.19
/// assert!((w.values()[0] - (1.0 - 0.1 * 0.3 / 0.19f32.sqrt())).abs() < 1e-6);
/// assert!((opt.slots()[0].1[0][0] - 0.19).abs() < 1e-7);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad {
    core: Core,
    initial_accumulator_value: f64,
    epsilon: f64,
    accumulators: Vec<Vec<f32>>,
}

impl Adagrad {
    /// Adagrad with this learning rate and Keras' other defaults.
    ///
    /// ```
    /// use rnn_runtime::optim::{Adagrad, Optimizer};
    /// assert_eq!(Adagrad::new(0.05).learning_rate(), 0.05);
    /// ```
    pub fn new(learning_rate: f32) -> Self {
        Adagrad {
            core: Core::new(learning_rate),
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            accumulators: Vec::new(),
        }
    }

    /// Starting value of every accumulator element (default 0.1). It takes effect when the
    /// slots are built, at the first step.
    ///
    /// ```
    /// use rnn_runtime::Param;
    /// use rnn_runtime::optim::{Adagrad, Optimizer};
    /// let mut opt = Adagrad::default().initial_accumulator_value(1.0);
    /// let mut w = Param::zeros("w", vec![2]);
    /// opt.step(&mut [&mut w]);
    /// assert_eq!(opt.slots()[0].1, &[vec![1.0, 1.0]]);
    /// ```
    pub fn initial_accumulator_value(mut self, value: f64) -> Self {
        self.initial_accumulator_value = value;
        self
    }

    /// Added to the accumulator under the square root (default 1e-7).
    ///
    /// ```
    /// use rnn_runtime::optim::Adagrad;
    /// let opt = Adagrad::default().epsilon(1e-6);
    /// ```
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// The slot variables by Keras' slot name: `accumulator`, one buffer per parameter (empty
    /// before the first step).
    ///
    /// ```
    /// use rnn_runtime::optim::Adagrad;
    /// assert_eq!(Adagrad::default().slots()[0].0, "accumulator");
    /// ```
    pub fn slots(&self) -> Vec<(&'static str, &[Vec<f32>])> {
        vec![("accumulator", &self.accumulators[..])]
    }
}

impl Default for Adagrad {
    /// Keras' defaults: learning rate 1e-3, initial accumulator 0.1, epsilon 1e-7.
    fn default() -> Self {
        Adagrad::new(1e-3)
    }
}

clip_builders!(Adagrad);

impl Optimizer for Adagrad {
    fn name(&self) -> &'static str {
        "adagrad"
    }

    fn learning_rate(&self) -> f32 {
        self.core.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.core.lr = lr;
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "`ensure_slot` gave every slot one buffer per parameter, and `for_each` \
                  passes the index `k` of a parameter"
    )]
    fn step(&mut self, params: &mut [&mut Param]) {
        if params.is_empty() {
            return;
        }
        let rebuild = self.core.begin(params);
        let init = self.initial_accumulator_value as f32;
        ensure_slot(&mut self.accumulators, params, init, rebuild);
        let lr = self.core.lr;
        let eps = self.epsilon as f32;
        let accumulators = &mut self.accumulators;
        self.core.for_each(params, |k, w, g| {
            for ((w, acc), &g) in w.iter_mut().zip(accumulators[k].iter_mut()).zip(g) {
                *acc += g * g;
                *w -= lr * g / (*acc + eps).sqrt();
            }
        });
    }

    fn validate(&self) -> Result<()> {
        let name = self.name();
        self.core.validate(name)?;
        check(
            name,
            "initial_accumulator_value",
            self.initial_accumulator_value,
            self.initial_accumulator_value.is_finite() && self.initial_accumulator_value >= 0.0,
            "finite and >= 0",
        )?;
        check_positive(name, "epsilon", self.epsilon)
    }

    fn save_state(&self, into: &mut OptimizerState) {
        self.core.save(&[&self.accumulators], into);
    }

    fn restore_state(&mut self, from: &OptimizerState) {
        self.core.restore(&mut [&mut self.accumulators], from);
    }

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`param_count` counts f32s in memory (at most `isize::MAX / 4`), so a few \
                  slots of them plus a constant fit in `usize`"
    )]
    fn state_size(&self, param_count: usize, _tensors: usize) -> usize {
        BASE_VARIABLES + param_count
    }
}
