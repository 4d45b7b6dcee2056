//! Adam, in Keras' "epsilon hat" form, with optional AMSGrad.

use super::{
    BASE_VARIABLES, Clip, Core, Optimizer, OptimizerState, check_positive, check_rate,
    clip_builders, ensure_slot, slot_fits,
};
use crate::error::Result;
use crate::param::Param;

mod sweeps;

/// Keras' `Adam`. With `t` the 1-based step,
/// `alpha = lr*sqrt(1-beta_2^t)/(1-beta_1^t)`, `m += (g-m)(1-beta_1)`,
/// `v += (g²-v)(1-beta_2)` and `w -= alpha*m/(sqrt(v) + epsilon)`: epsilon is added outside the
/// square root and is not bias-corrected. With AMSGrad, `v_hat = max(v_hat, v)` takes the place
/// of `v` in the update.
///
/// Defaults are Keras': learning rate 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7, no AMSGrad.
/// The bias corrections are computed in `f64`.
///
/// ```
/// use rnn_runtime::Param;
/// use rnn_runtime::optim::{Adam, Optimizer};
///
/// let mut w = Param::new("w", vec![2], vec![0.0, 0.0]);
/// w.grad_mut().copy_from_slice(&[2.0, -0.1]);
/// let mut opt = Adam::new(0.01);
/// opt.step(&mut [&mut w]);
/// // The first step is about lr * sign(g), whatever the gradient's size.
/// assert!((w.values()[0] + 0.01).abs() < 1e-6);
/// assert!((w.values()[1] - 0.01).abs() < 1e-6);
/// let names: Vec<&str> = opt.slots().iter().map(|s| s.0).collect();
/// assert_eq!(names, ["momentum", "velocity"]);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    core: Core,
    beta_1: f64,
    beta_2: f64,
    epsilon: f64,
    amsgrad: bool,
    momentums: Vec<Vec<f32>>,
    velocities: Vec<Vec<f32>>,
    velocity_hats: Vec<Vec<f32>>,
}

impl Adam {
    /// Adam with this learning rate and Keras' other defaults.
    ///
    /// ```
    /// use rnn_runtime::optim::{Adam, Optimizer};
    /// assert_eq!(Adam::new(3e-4).learning_rate(), 3e-4);
    /// ```
    pub fn new(learning_rate: f32) -> Self {
        Adam {
            core: Core::new(learning_rate),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            momentums: Vec::new(),
            velocities: Vec::new(),
            velocity_hats: Vec::new(),
        }
    }

    /// Decay rate of the first moment (default 0.9).
    ///
    /// ```
    /// use rnn_runtime::optim::Adam;
    /// let opt = Adam::default().beta_1(0.8);
    /// ```
    pub fn beta_1(mut self, beta_1: f64) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Decay rate of the second moment (default 0.999).
    ///
    /// ```
    /// use rnn_runtime::optim::Adam;
    /// let opt = Adam::default().beta_2(0.99);
    /// ```
    pub fn beta_2(mut self, beta_2: f64) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Added to `sqrt(v)` in the denominator (default 1e-7).
    ///
    /// ```
    /// use rnn_runtime::optim::Adam;
    /// let opt = Adam::default().epsilon(1e-8);
    /// ```
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// AMSGrad: divide by the largest second moment seen so far (adds a `velocity_hat` slot).
    ///
    /// ```
    /// use rnn_runtime::optim::{Adam, Optimizer};
    /// assert_eq!(Adam::default().amsgrad(true).state_size(10, 1), 2 + 3 * 10);
    /// ```
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    /// The slot variables by Keras' slot name: `momentum`, `velocity`, and `velocity_hat` with
    /// AMSGrad, one buffer per parameter (empty before the first step).
    ///
    /// ```
    /// use rnn_runtime::optim::Adam;
    /// let names: Vec<&str> = Adam::default().amsgrad(true).slots().iter().map(|s| s.0).collect();
    /// assert_eq!(names, ["momentum", "velocity", "velocity_hat"]);
    /// ```
    pub fn slots(&self) -> Vec<(&'static str, &[Vec<f32>])> {
        let mut slots = vec![
            ("momentum", &self.momentums[..]),
            ("velocity", &self.velocities[..]),
        ];
        if self.amsgrad {
            slots.push(("velocity_hat", &self.velocity_hats[..]));
        }
        slots
    }

    fn slot_kinds(&self) -> usize {
        if self.amsgrad { 3 } else { 2 }
    }

    /// The factors of the step after `iterations` steps.
    fn coeffs(&self, iterations: u64) -> Coeffs {
        // Keras computes `t` and the powers in the variable's dtype; f64 keeps the bias
        // corrections exact enough that only the element-wise f32 rounding remains.
        let t = iterations as f64 + 1.0;
        let alpha = f64::from(self.core.lr) * (1.0 - self.beta_2.powf(t)).sqrt()
            / (1.0 - self.beta_1.powf(t));
        Coeffs {
            alpha: alpha as f32,
            one_minus_b1: (1.0 - self.beta_1) as f32,
            one_minus_b2: (1.0 - self.beta_2) as f32,
            eps: self.epsilon as f32,
        }
    }
}

/// The f32 factors of one step, and its arithmetic, shared by the step and its check.
#[derive(Clone, Copy)]
struct Coeffs {
    alpha: f32,
    one_minus_b1: f32,
    one_minus_b2: f32,
    eps: f32,
}

impl Coeffs {
    /// The new momentum and velocity.
    #[inline]
    fn moments(self, m: f32, v: f32, g: f32) -> (f32, f32) {
        (
            m + (g - m) * self.one_minus_b1,
            v + (g * g - v) * self.one_minus_b2,
        )
    }

    /// The new weight from the new momentum and the velocity it divides by.
    #[inline]
    fn weight(self, w: f32, m: f32, v: f32) -> f32 {
        w - m * self.alpha / (v.sqrt() + self.eps)
    }
}

impl Default for Adam {
    /// Keras' defaults: learning rate 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
    fn default() -> Self {
        Adam::new(1e-3)
    }
}

clip_builders!(Adam);

/// `maximum` that propagates NaN, as `ops.maximum` does.
fn max_nan(a: f32, b: f32) -> f32 {
    if a >= b || a.is_nan() { a } else { b }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "adam"
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
        ensure_slot(&mut self.momentums, params, 0.0, rebuild);
        ensure_slot(&mut self.velocities, params, 0.0, rebuild);
        if self.amsgrad {
            ensure_slot(&mut self.velocity_hats, params, 0.0, rebuild);
        }
        let c = self.coeffs(self.core.iterations);
        let amsgrad = self.amsgrad;
        let (ms, vs, vhs) = (
            &mut self.momentums,
            &mut self.velocities,
            &mut self.velocity_hats,
        );
        let largest = params.iter().map(|p| p.values().len()).max().unwrap_or(0);
        let core = &mut self.core;
        // On the pool when a parameter is large enough to split between its threads.
        sweeps::on_pool(largest, || {
            core.for_each(params, |k, w, g| {
                let (m, v) = (&mut ms[k], &mut vs[k]);
                if !amsgrad {
                    return sweeps::step(c, w, g, m, v);
                }
                for ((m, v), &g) in m.iter_mut().zip(v.iter_mut()).zip(g) {
                    (*m, *v) = c.moments(*m, *v, g);
                }
                let vh = &mut vhs[k];
                for ((w, m), (vh, &v)) in
                    w.iter_mut().zip(m.iter()).zip(vh.iter_mut().zip(v.iter()))
                {
                    *vh = max_nan(*vh, v);
                    *w = c.weight(*w, *m, *vh);
                }
            });
        });
    }

    fn validate(&self) -> Result<()> {
        let name = self.name();
        self.core.validate(name)?;
        check_rate(name, "beta_1", self.beta_1)?;
        check_rate(name, "beta_2", self.beta_2)?;
        check_positive(name, "epsilon", self.epsilon)
    }

    /// Runs the step's arithmetic without storing it (no clipping only: a clipped gradient
    /// would need a copy of its own).
    #[allow(
        clippy::indexing_slicing,
        reason = "`i < w.len()`, and a slot is read only when `slot_fits` found its buffer `k` \
                  to hold exactly as many values as parameter `k`"
    )]
    fn check_step(&self, params: &[&mut Param]) -> Option<std::result::Result<(), usize>> {
        if self.core.clip != Clip::default() {
            return None;
        }
        // Slots that do not fit these parameters are rebuilt as zeros by the step, which
        // then counts from its first iteration.
        let same = self.core.same_sizes(params);
        let iterations = if same { self.core.iterations } else { 0 };
        let c = self.coeffs(iterations);
        let fits = |slot: &[Vec<f32>]| same && slot_fits(slot, params);
        let (ms, vs) = (fits(&self.momentums), fits(&self.velocities));
        let vhs = self.amsgrad.then(|| fits(&self.velocity_hats));
        let largest = params.iter().map(|p| p.values().len()).max().unwrap_or(0);
        // On the pool when a parameter is large enough to split between its threads.
        sweeps::on_pool(largest, || {
            for (k, p) in params.iter().enumerate() {
                let (w, g) = (p.values(), p.grad());
                if ms && vs && vhs.is_none() && g.len() == w.len() {
                    let (m, v) = (&self.momentums[k][..], &self.velocities[k][..]);
                    if !sweeps::all_finite(c, w, g, m, v) {
                        return Some(Err(k));
                    }
                    continue;
                }
                let slot = |kept: bool, s: &[Vec<f32>], i: usize| if kept { s[k][i] } else { 0.0 };
                let bad = (0..w.len()).fold(false, |bad, i| {
                    // A parameter without a gradient steps with zero, as the step does.
                    let gi = g.get(i).copied().unwrap_or(0.0);
                    let (m, v) = c.moments(
                        slot(ms, &self.momentums, i),
                        slot(vs, &self.velocities, i),
                        gi,
                    );
                    let v = match vhs {
                        Some(kept) => max_nan(slot(kept, &self.velocity_hats, i), v),
                        None => v,
                    };
                    bad | !c.weight(w[i], m, v).is_finite()
                });
                if bad {
                    return Some(Err(k));
                }
            }
            Some(Ok(()))
        })
    }

    fn save_state(&self, into: &mut OptimizerState) {
        self.core.save(
            &[&self.momentums, &self.velocities, &self.velocity_hats],
            into,
        );
    }

    fn restore_state(&mut self, from: &OptimizerState) {
        self.core.restore(
            &mut [
                &mut self.momentums,
                &mut self.velocities,
                &mut self.velocity_hats,
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
        BASE_VARIABLES + self.slot_kinds() * param_count
    }
}
