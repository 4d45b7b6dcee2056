//! Keras 3 activations: forward in place, and backward from the activation's output.

use crate::kernels::math;

/// An activation function, by its Keras name.
///
/// Every derivative here can be computed from the activation's *output*, so layers keep only
/// their outputs for the backward pass.
///
/// ```
/// use rnn_runtime::Activation;
/// let mut x = [-4.0f32, 0.0, 4.0];
/// Activation::HardSigmoid.apply(&mut x, 3);
/// assert_eq!(x, [0.0, 0.5, 1.0]); // Keras 3: clip(x / 6 + 0.5, 0, 1)
/// assert_eq!(Activation::from_keras_name("tanh"), Some(Activation::Tanh));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// Identity.
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// `e^x / sum(e^x)` over the last axis.
    Softmax,
    /// Keras 3's `clip(x / 6 + 0.5, 0, 1)` (Keras 2 used a slope of 0.2).
    HardSigmoid,
}

impl Activation {
    /// All activations, in the order of [`rnn_spec::Activation::ALL`].
    ///
    /// ```
    /// assert_eq!(rnn_runtime::Activation::ALL[0], rnn_runtime::Activation::Linear);
    /// ```
    #[allow(
        clippy::indexing_slicing,
        reason = "evaluated at compile time: an index out of range is a build error"
    )]
    pub const ALL: [Activation; 6] = {
        let spec = rnn_spec::Activation::ALL;
        let mut all = [Activation::Linear; 6];
        let mut i = 0;
        while i < all.len() {
            all[i] = Activation::from_spec(spec[i]);
            i += 1;
        }
        all
    };

    /// The runtime's activation for the spec's, by variant.
    const fn from_spec(a: rnn_spec::Activation) -> Self {
        match a {
            rnn_spec::Activation::Linear => Activation::Linear,
            rnn_spec::Activation::Relu => Activation::Relu,
            rnn_spec::Activation::Sigmoid => Activation::Sigmoid,
            rnn_spec::Activation::Tanh => Activation::Tanh,
            rnn_spec::Activation::Softmax => Activation::Softmax,
            rnn_spec::Activation::HardSigmoid => Activation::HardSigmoid,
        }
    }

    /// The spec's activation for this one, whose names and defaults live there.
    ///
    /// ```
    /// use rnn_runtime::Activation;
    /// assert_eq!(Activation::Tanh.spec(), rnn_spec::Activation::Tanh);
    /// ```
    pub const fn spec(self) -> rnn_spec::Activation {
        match self {
            Activation::Linear => rnn_spec::Activation::Linear,
            Activation::Relu => rnn_spec::Activation::Relu,
            Activation::Sigmoid => rnn_spec::Activation::Sigmoid,
            Activation::Tanh => rnn_spec::Activation::Tanh,
            Activation::Softmax => rnn_spec::Activation::Softmax,
            Activation::HardSigmoid => rnn_spec::Activation::HardSigmoid,
        }
    }

    /// The Keras name, e.g. `"hard_sigmoid"`.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::Activation::HardSigmoid.keras_name(), "hard_sigmoid");
    /// ```
    pub const fn keras_name(self) -> &'static str {
        self.spec().keras_name()
    }

    /// The activation with this Keras name.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::Activation::from_keras_name("swish"), None);
    /// ```
    pub const fn from_keras_name(name: &str) -> Option<Self> {
        match rnn_spec::Activation::from_keras_name(name) {
            Some(a) => Some(Activation::from_spec(a)),
            None => None,
        }
    }

    /// Applies the activation in place to consecutive rows of `width` values (`width` matters
    /// only for softmax, which normalises each row).
    pub fn apply(self, x: &mut [f32], width: usize) {
        match self {
            Activation::Linear => {}
            Activation::Relu => x.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Sigmoid => math::sigmoid_slice(x),
            Activation::Tanh => math::tanh_slice(x),
            Activation::HardSigmoid => x
                .iter_mut()
                .for_each(|v| *v = (*v * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0)),
            Activation::Softmax => x.chunks_exact_mut(width).for_each(softmax_row),
        }
    }

    /// Turns `dy` (the gradient with respect to the output `y`) into the gradient with respect
    /// to the activation's input, in place. `y` holds the outputs, in rows of `width`.
    pub fn backward(self, y: &[f32], dy: &mut [f32], width: usize) {
        debug_assert_eq!(y.len(), dy.len());
        match self {
            Activation::Linear => {}
            Activation::Relu => dy
                .iter_mut()
                .zip(y)
                .for_each(|(d, &y)| *d = if y > 0.0 { *d } else { 0.0 }),
            Activation::Sigmoid => math::sigmoid_grad_slice(y, dy),
            Activation::Tanh => math::tanh_grad_slice(y, dy),
            Activation::HardSigmoid => dy.iter_mut().zip(y).for_each(|(d, &y)| {
                *d = if y > 0.0 && y < 1.0 {
                    *d * (1.0 / 6.0)
                } else {
                    0.0
                }
            }),
            Activation::Softmax => {
                for (dr, yr) in dy.chunks_exact_mut(width).zip(y.chunks_exact(width)) {
                    let s: f32 = dr.iter().zip(yr).map(|(d, y)| d * y).sum();
                    dr.iter_mut().zip(yr).for_each(|(d, &y)| *d = y * (*d - s));
                }
            }
        }
    }
}

/// Keras' `activation=None`, which Dense defaults to: [`rnn_spec::defaults::DENSE_ACTIVATION`].
///
/// ```
/// assert_eq!(rnn_runtime::Activation::default(), rnn_runtime::Activation::Linear);
/// ```
impl Default for Activation {
    fn default() -> Self {
        Activation::from_spec(rnn_spec::defaults::DENSE_ACTIVATION)
    }
}

/// ```
/// use rnn_runtime::Activation;
/// assert_eq!(Activation::from(rnn_spec::Activation::Relu), Activation::Relu);
/// ```
impl From<rnn_spec::Activation> for Activation {
    fn from(a: rnn_spec::Activation) -> Self {
        Activation::from_spec(a)
    }
}

/// ```
/// use rnn_runtime::Activation;
/// assert_eq!(rnn_spec::Activation::from(Activation::Relu), rnn_spec::Activation::Relu);
/// ```
impl From<Activation> for rnn_spec::Activation {
    fn from(a: Activation) -> Self {
        a.spec()
    }
}

fn softmax_row(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let inv = 1.0 / math::exp_shifted_sum(row, max);
    row.iter_mut().for_each(|v| *v *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_grad(a: Activation, x: &[f32], r: &[f32], width: usize) -> Vec<f32> {
        // d/dx_i of sum(r * act(x)), by central differences in f64 on the f32 function.
        (0..x.len())
            .map(|i| {
                let eval = |delta: f32| {
                    let mut v = x.to_vec();
                    v[i] += delta;
                    a.apply(&mut v, width);
                    v.iter()
                        .zip(r)
                        .map(|(a, b)| (*a as f64) * (*b as f64))
                        .sum::<f64>()
                };
                ((eval(1e-2) - eval(-1e-2)) / 2e-2) as f32
            })
            .collect()
    }

    #[test]
    fn backward_matches_finite_differences() {
        let x = [-2.5f32, -0.7, 0.3, 1.1, 2.9, -4.0];
        let r = [0.3f32, -1.2, 0.8, 0.5, -0.4, 1.0];
        for a in Activation::ALL {
            let mut y = x;
            a.apply(&mut y, 3);
            let mut d = r;
            a.backward(&y, &mut d, 3);
            let want = numeric_grad(a, &x, &r, 3);
            for (g, w) in d.iter().zip(&want) {
                assert!((g - w).abs() < 2e-3, "{a:?}: {d:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_and_survive_large_inputs() {
        let mut x = [1000.0f32, 1001.0, 999.0, -5.0, 0.0, 5.0];
        Activation::Softmax.apply(&mut x, 3);
        assert!((x[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((x[3..].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(x.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn names_round_trip() {
        for a in Activation::ALL {
            assert_eq!(Activation::from_keras_name(a.keras_name()), Some(a));
        }
        assert_eq!(Activation::from_keras_name("swish"), None);
    }
}
