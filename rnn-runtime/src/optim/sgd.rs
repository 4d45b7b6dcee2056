//! Stochastic gradient descent, with optional (Nesterov) momentum.

use super::{BASE_VARIABLES, Core, Optimizer, OptimizerState, check, clip_builders, ensure_slot};
use crate::error::Result;
use crate::param::Param;

/// Keras' `SGD`: `w -= lr*g`, or with momentum `m = momentum*m - lr*g` (m starts at 0) and
/// `w += m`; with Nesterov momentum `w += momentum*m - lr*g`, using the new `m`.
///
/// Defaults are Keras': learning rate 0.01, momentum 0, no Nesterov.
///
/// ```
/// use rnn_runtime::Param;
/// use rnn_runtime::optim::{Optimizer, Sgd};
///
/// let mut w = Param::new("w", vec![1], vec![1.0]);
/// let mut opt = Sgd::new(0.5).momentum(0.5);
/// w.grad_mut()[0] = 1.0;
/// opt.step(&mut [&mut w]); // m = -0.5
/// opt.step(&mut [&mut w]); // m = 0.5*(-0.5) - 0.5 = -0.75
/// assert_eq!(w.values(), &[-0.25]);
/// assert_eq!(opt.slots()[0].1, &[vec![-0.75]]);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    core: Core,
    momentum: f64,
    nesterov: bool,
    momentums: Vec<Vec<f32>>,
}

impl Sgd {
    /// Plain SGD with this learning rate.
    ///
    /// ```
    /// use rnn_runtime::optim::{Optimizer, Sgd};
    /// assert_eq!(Sgd::new(0.1).learning_rate(), 0.1);
    /// ```
    pub fn new(learning_rate: f32) -> Self {
        Sgd {
            core: Core::new(learning_rate),
            momentum: 0.0,
            nesterov: false,
            momentums: Vec::new(),
        }
    }

    /// Momentum in `[0, 1]`; 0 (the default) keeps no momentum slot. A value outside is
    /// an error of [`Optimizer::validate`] (so of `fit`), as Keras raises a `ValueError`.
    ///
    /// ```
    /// use rnn_runtime::optim::{Optimizer, Sgd};
    /// let opt = Sgd::default().momentum(0.9);
    /// assert_eq!(opt.state_size(100, 2), 102);
    /// ```
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Nesterov momentum (only matters with a momentum above 0).
    ///
    /// ```
    /// use rnn_runtime::Param;
    /// use rnn_runtime::optim::{Optimizer, Sgd};
    /// let mut w = Param::new("w", vec![1], vec![1.0]);
    /// w.grad_mut()[0] = 1.0;
    /// let mut opt = Sgd::new(0.5).momentum(0.5).nesterov(true);
    /// opt.step(&mut [&mut w]); // m = -0.5; w += 0.5*m - 0.5*g
    /// assert_eq!(w.values(), &[0.25]);
    /// ```
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// The slot variables by Keras' slot name: `momentum` when the momentum is above 0, one
    /// buffer per parameter (empty before the first step).
    ///
    /// ```
    /// use rnn_runtime::optim::Sgd;
    /// assert!(Sgd::default().slots().is_empty());
    /// assert_eq!(Sgd::default().momentum(0.9).slots()[0].0, "momentum");
    /// ```
    pub fn slots(&self) -> Vec<(&'static str, &[Vec<f32>])> {
        if self.momentum != 0.0 {
            vec![("momentum", &self.momentums[..])]
        } else {
            Vec::new()
        }
    }
}

impl Default for Sgd {
    /// Keras' defaults: learning rate 0.01, no momentum.
    fn default() -> Self {
        Sgd::new(0.01)
    }
}

clip_builders!(Sgd);

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "sgd"
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
        let lr = self.core.lr;
        if self.momentum == 0.0 {
            self.core.for_each(params, |_, w, g| {
                for (w, &g) in w.iter_mut().zip(g) {
                    *w -= g * lr;
                }
            });
            return;
        }
        ensure_slot(&mut self.momentums, params, 0.0, rebuild);
        let mu = self.momentum as f32;
        let nesterov = self.nesterov;
        let momentums = &mut self.momentums;
        self.core.for_each(params, |k, w, g| {
            for ((w, m), &g) in w.iter_mut().zip(momentums[k].iter_mut()).zip(g) {
                *m = *m * mu - g * lr;
                *w += if nesterov { *m * mu - g * lr } else { *m };
            }
        });
    }

    fn validate(&self) -> Result<()> {
        let name = self.name();
        self.core.validate(name)?;
        check(
            name,
            "momentum",
            self.momentum,
            (0.0..=1.0).contains(&self.momentum),
            "in [0, 1]",
        )
    }

    fn save_state(&self, into: &mut OptimizerState) {
        self.core.save(&[&self.momentums], into);
    }

    fn restore_state(&mut self, from: &OptimizerState) {
        self.core.restore(&mut [&mut self.momentums], from);
    }

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`param_count` counts f32s in memory (at most `isize::MAX / 4`), so a few \
                  slots of them plus a constant fit in `usize`"
    )]
    fn state_size(&self, param_count: usize, _tensors: usize) -> usize {
        let slots = usize::from(self.momentum != 0.0);
        BASE_VARIABLES + slots * param_count
    }
}
