//! Gradient clipping, applied before every update.

use crate::param::Param;

/// Gradient clipping as in Keras: `clipnorm` clips each gradient array by its own L2 norm
/// (keras.src.optimizers.base_optimizer: clip_by_norm), `global_clipnorm` clips all arrays by
/// their joint norm, `clipvalue` clips each element to [-v, v].
///
/// Keras 3 accepts only one of the three (its constructor raises otherwise), and with one set
/// the results here are Keras 3's. When several are set they apply in the order of tf.keras 2's
/// `OptimizerV2._transform_gradients`, the last Keras that allowed combining them: `clipvalue`,
/// then `clipnorm`, then `global_clipnorm`, so every bound holds afterwards. As in Keras, a
/// setting of zero or below means no clipping, and a non-finite joint norm makes every clipped
/// gradient NaN rather than silently skipping the clip. Norms are summed in `f64`.
///
/// ```
/// use rnn_runtime::Param;
/// use rnn_runtime::optim::{Clip, Optimizer, Sgd};
///
/// let mut w = Param::zeros("w", vec![2]);
/// w.grad_mut().copy_from_slice(&[3.0, 4.0]); // norm 5
/// let mut opt = Sgd::new(1.0).with_clip(Clip { norm: Some(1.0), ..Clip::default() });
/// opt.step(&mut [&mut w]);
/// assert_eq!(w.values(), &[-0.6, -0.8]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Clip {
    /// Keras' `clipnorm`: the largest L2 norm of each gradient array.
    pub norm: Option<f32>,
    /// Keras' `global_clipnorm`: the largest joint L2 norm of all gradient arrays.
    pub global_norm: Option<f32>,
    /// Keras' `clipvalue`: the largest absolute value of each gradient element.
    pub value: Option<f32>,
}

impl Clip {
    /// The `clipvalue` bound, if it clips at all (Keras: `if clipvalue and clipvalue > 0`).
    pub(super) fn value_limit(&self) -> Option<f32> {
        self.value.filter(|&v| v > 0.0)
    }

    /// One factor per parameter that applies `clipnorm` and `global_clipnorm` to the
    /// value-clipped gradient (an unallocated gradient counts as zeros).
    pub(super) fn scales(&self, params: &[&mut Param], out: &mut Vec<f32>) {
        out.clear();
        out.resize(params.len(), 1.0);
        let norm = self.norm.filter(|&c| c > 0.0).map(f64::from);
        let global = self.global_norm.filter(|&c| c > 0.0).map(f64::from);
        if norm.is_none() && global.is_none() {
            return;
        }
        let limit = self.value_limit();
        let mut scales: Vec<f64> = Vec::with_capacity(params.len());
        let mut joint = 0.0f64;
        for p in params {
            let sum_sq: f64 = p
                .grad()
                .iter()
                .map(|&g| f64::from(clip_value(g, limit)).powi(2))
                .sum();
            let s = norm.map_or(1.0, |c| norm_scale(sum_sq.sqrt(), c));
            joint += s * s * sum_sq;
            scales.push(s);
        }
        let g = global.map_or(1.0, |c| global_scale(joint.sqrt(), c));
        for (o, s) in out.iter_mut().zip(scales) {
            *o = (s * g) as f32;
        }
    }
}

/// `clip(g, -v, v)`; NaN stays NaN, as in `ops.clip`.
#[inline]
pub(super) fn clip_value(g: f32, limit: Option<f32>) -> f32 {
    match limit {
        Some(v) => g.clamp(-v, v),
        None => g,
    }
}

/// Keras' `_clip_by_norm`: `g * c / max(norm, c)`. A NaN norm propagates, and an infinite one
/// gives a zero factor.
fn norm_scale(norm: f64, c: f64) -> f64 {
    if norm.is_nan() {
        f64::NAN
    } else if norm > c {
        c / norm
    } else {
        1.0
    }
}

/// Keras' `clip_by_global_norm`: `c * min(1/norm, 1/c)`, plus `norm - norm` to turn a
/// non-finite norm into NaN.
fn global_scale(norm: f64, c: f64) -> f64 {
    if !norm.is_finite() {
        f64::NAN
    } else if norm > c {
        c / norm
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grads(values: &[&[f32]]) -> Vec<Param> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut p = Param::zeros(format!("w{i}"), vec![v.len()]);
                p.grad_mut().copy_from_slice(v);
                p
            })
            .collect()
    }

    fn scales(clip: Clip, ps: &mut [Param]) -> Vec<f32> {
        let refs: Vec<&mut Param> = ps.iter_mut().collect();
        let mut out = Vec::new();
        clip.scales(&refs, &mut out);
        out
    }

    #[test]
    fn norm_clips_each_array_on_its_own() {
        let mut ps = grads(&[&[3.0, 4.0], &[0.3, 0.4], &[0.0, 0.0]]);
        let clip = Clip {
            norm: Some(1.0),
            ..Clip::default()
        };
        assert_eq!(scales(clip, &mut ps), [0.2, 1.0, 1.0]);
    }

    #[test]
    fn global_norm_scales_all_arrays_together() {
        let mut ps = grads(&[&[3.0], &[4.0]]);
        let clip = Clip {
            global_norm: Some(2.5),
            ..Clip::default()
        };
        assert_eq!(scales(clip, &mut ps), [0.5, 0.5]);
        let clip = Clip {
            global_norm: Some(5.0),
            ..Clip::default()
        };
        assert_eq!(scales(clip, &mut ps), [1.0, 1.0]);
    }

    #[test]
    fn non_positive_settings_do_not_clip() {
        let mut ps = grads(&[&[30.0, 40.0]]);
        let clip = Clip {
            norm: Some(0.0),
            global_norm: Some(-1.0),
            value: Some(0.0),
        };
        assert_eq!(scales(clip, &mut ps), [1.0]);
        assert_eq!(clip.value_limit(), None);
    }

    #[test]
    fn combined_settings_clip_values_first_then_norms() {
        // clipvalue 1 turns (3, 4) into (1, 1) and (0.5, 0) stays; per-array norm 1 scales
        // the first by 1/sqrt(2); the joint norm is then sqrt(1 + 0.25) > 0.5.
        let mut ps = grads(&[&[3.0, 4.0], &[0.5, 0.0]]);
        let clip = Clip {
            norm: Some(1.0),
            global_norm: Some(0.5),
            value: Some(1.0),
        };
        let s = scales(clip, &mut ps);
        let g = 0.5 / 1.25f64.sqrt();
        assert!((f64::from(s[0]) - g / 2f64.sqrt()).abs() < 1e-7, "{s:?}");
        assert!((f64::from(s[1]) - g).abs() < 1e-7, "{s:?}");
    }

    #[test]
    fn non_finite_norms_propagate_like_keras() {
        let mut ps = grads(&[&[f32::INFINITY, 1.0], &[1.0]]);
        let global = Clip {
            global_norm: Some(1.0),
            ..Clip::default()
        };
        assert!(scales(global, &mut ps).iter().all(|s| s.is_nan()));
        let each = Clip {
            norm: Some(1.0),
            ..Clip::default()
        };
        assert_eq!(scales(each, &mut ps), [0.0, 1.0]);
        let mut ps = grads(&[&[f32::NAN]]);
        assert!(scales(each, &mut ps)[0].is_nan());
    }
}
