//! RMSprop, plain or centered, with optional momentum.

use super::{
    BASE_VARIABLES, Core, Optimizer, OptimizerState, check_positive, check_rate, clip_builders,
    ensure_slot,
};
use crate::error::Result;
use crate::param::Param;

/// Keras' `RMSprop`: `v = rho*v + (1-rho)*g²` (v starts at 0) and
/// `inc = lr*g/sqrt(v + epsilon)`, epsilon inside the square root. Centered, it also keeps
/// `a = rho*a + (1-rho)*g` and divides by `sqrt(v - a² + epsilon)`. With a momentum above 0,
/// `mom = momentum*mom + inc` and `w -= mom`; otherwise `w -= inc`.
///
/// Defaults are Keras': learning rate 1e-3, rho 0.9, momentum 0, epsilon 1e-7, not centered.
///
/// ```
/// use rnn_runtime::Param;
/// use rnn_runtime::optim::{Optimizer, RmsProp};
///
/// let mut w = Param::new("w", vec![1], vec![1.0]);
/// w.grad_mut()[0] = 1.0;
/// let mut opt = RmsProp::new(0.01);
/// opt.step(&mut [&mut w]);
/// // v = 0.1, so the step is 0.01 / sqrt(0.1).
/// assert!((w.values()[0] - (1.0 - 0.01 / 0.1f32.sqrt())).abs() < 1e-6);
/// assert!((opt.slots()[0].1[0][0] - 0.1).abs() < 1e-7);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp {
    core: Core,
    rho: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
    velocities: Vec<Vec<f32>>,
    momentums: Vec<Vec<f32>>,
    average_gradients: Vec<Vec<f32>>,
}

impl RmsProp {
    /// RMSprop with this learning rate and Keras' other defaults.
    ///
    /// ```
    /// use rnn_runtime::optim::{Optimizer, RmsProp};
    /// assert_eq!(RmsProp::new(0.01).learning_rate(), 0.01);
    /// ```
    pub fn new(learning_rate: f32) -> Self {
        RmsProp {
            core: Core::new(learning_rate),
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            velocities: Vec::new(),
            momentums: Vec::new(),
            average_gradients: Vec::new(),
        }
    }

    /// Decay rate of the moving averages (default 0.9).
    ///
    /// ```
    /// use rnn_runtime::optim::RmsProp;
    /// let opt = RmsProp::default().rho(0.95);
    /// ```
    pub fn rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }

    /// Momentum (default 0); above 0 it adds a `momentum` slot.
    ///
    /// ```
    /// use rnn_runtime::optim::{Optimizer, RmsProp};
    /// assert_eq!(RmsProp::default().momentum(0.9).state_size(10, 1), 2 + 2 * 10);
    /// ```
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Added to the second moment under the square root (default 1e-7).
    ///
    /// ```
    /// use rnn_runtime::optim::RmsProp;
    /// let opt = RmsProp::default().epsilon(1e-6);
    /// ```
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Centered RMSprop: normalise by the estimated variance of the gradient instead of its
    /// second moment (adds an `average_gradient` slot).
    ///
    /// ```
    /// use rnn_runtime::optim::{Optimizer, RmsProp};
    /// assert_eq!(RmsProp::default().centered(true).state_size(10, 1), 2 + 2 * 10);
    /// ```
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }

    /// The slot variables by Keras' slot name, in Keras' order: `velocity`, then `momentum`
    /// (momentum above 0) and `average_gradient` (centered), one buffer per parameter (empty
    /// before the first step).
    ///
    /// ```
    /// use rnn_runtime::optim::RmsProp;
    /// let opt = RmsProp::default().momentum(0.5).centered(true);
    /// let names: Vec<&str> = opt.slots().iter().map(|s| s.0).collect();
    /// assert_eq!(names, ["velocity", "momentum", "average_gradient"]);
    /// ```
    pub fn slots(&self) -> Vec<(&'static str, &[Vec<f32>])> {
        let mut slots = vec![("velocity", &self.velocities[..])];
        if self.momentum > 0.0 {
            slots.push(("momentum", &self.momentums[..]));
        }
        if self.centered {
            slots.push(("average_gradient", &self.average_gradients[..]));
        }
        slots
    }
}

impl Default for RmsProp {
    /// Keras' defaults: learning rate 1e-3, rho 0.9, no momentum, epsilon 1e-7, not centered.
    fn default() -> Self {
        RmsProp::new(1e-3)
    }
}

clip_builders!(RmsProp);

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        "rmsprop"
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
        let with_momentum = self.momentum > 0.0;
        ensure_slot(&mut self.velocities, params, 0.0, rebuild);
        if with_momentum {
            ensure_slot(&mut self.momentums, params, 0.0, rebuild);
        }
        if self.centered {
            ensure_slot(&mut self.average_gradients, params, 0.0, rebuild);
        }
        let h = Hyper {
            lr: self.core.lr,
            rho: self.rho as f32,
            one_minus_rho: (1.0 - self.rho) as f32,
            momentum: self.momentum as f32,
            epsilon: self.epsilon as f32,
        };
        let centered = self.centered;
        let (vs, moms, avgs) = (
            &mut self.velocities,
            &mut self.momentums,
            &mut self.average_gradients,
        );
        self.core.for_each(params, |k, w, g| {
            let v = &mut vs[k][..];
            match (centered, with_momentum) {
                (false, false) => update::<false, false>(&h, w, g, v, &mut [], &mut []),
                (false, true) => update::<false, true>(&h, w, g, v, &mut [], &mut moms[k]),
                (true, false) => update::<true, false>(&h, w, g, v, &mut avgs[k], &mut []),
                (true, true) => update::<true, true>(&h, w, g, v, &mut avgs[k], &mut moms[k]),
            }
        });
    }

    fn validate(&self) -> Result<()> {
        let name = self.name();
        self.core.validate(name)?;
        check_rate(name, "rho", self.rho)?;
        check_rate(name, "momentum", self.momentum)?;
        check_positive(name, "epsilon", self.epsilon)
    }

    fn save_state(&self, into: &mut OptimizerState) {
        self.core.save(
            &[&self.velocities, &self.momentums, &self.average_gradients],
            into,
        );
    }

    fn restore_state(&mut self, from: &OptimizerState) {
        self.core.restore(
            &mut [
                &mut self.velocities,
                &mut self.momentums,
                &mut self.average_gradients,
            ],
            from,
        );
    }

    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`param_count` counts f32s in memory (at most `isize::MAX / 4`), so a few \
                  slots of them plus a constant fit in `usize`"
    )]
    fn state_size(&self, param_count: usize, _tensors: usize) -> usize {
        let slots = 1 + usize::from(self.momentum > 0.0) + usize::from(self.centered);
        BASE_VARIABLES + slots * param_count
    }
}

/// The scalars of one step, cast to the parameters' `f32` as Keras casts them.
struct Hyper {
    lr: f32,
    rho: f32,
    one_minus_rho: f32,
    momentum: f32,
    epsilon: f32,
}

/// One parameter's update; `avg` and `mom` are only touched when `CENTERED` / `MOMENTUM`.
#[allow(
    clippy::indexing_slicing,
    reason = "the gradient and the slot buffers hold one value per weight (`ensure_slot`); \
              re-slicing them to `n = w.len()` first makes every `[i]` with `i < n` provably \
              in range, so the hot loop keeps no bounds checks"
)]
fn update<const CENTERED: bool, const MOMENTUM: bool>(
    h: &Hyper,
    w: &mut [f32],
    g: &[f32],
    v: &mut [f32],
    avg: &mut [f32],
    mom: &mut [f32],
) {
    let n = w.len();
    let (g, v) = (&g[..n], &mut v[..n]);
    let avg = if CENTERED { &mut avg[..n] } else { avg };
    let mom = if MOMENTUM { &mut mom[..n] } else { mom };
    for i in 0..n {
        v[i] = h.rho * v[i] + h.one_minus_rho * (g[i] * g[i]);
        let denominator = if CENTERED {
            avg[i] = h.rho * avg[i] + h.one_minus_rho * g[i];
            v[i] - avg[i] * avg[i] + h.epsilon
        } else {
            v[i] + h.epsilon
        };
        let increment = h.lr * g[i] / denominator.sqrt();
        if MOMENTUM {
            mom[i] = h.momentum * mom[i] + increment;
            w[i] -= mom[i];
        } else {
            w[i] -= increment;
        }
    }
}
