//! `GlobalAveragePooling1D`: the mean over time, mask-aware.

use crate::error::{Error, Result};
use crate::layer::{Layer, Mode, no_state_grads};
use crate::layer_step::LayerStep;
use crate::param::{Param, Weights};
use crate::size::checked_len;
use crate::tensor::{Features, Sequence};

/// Keras `GlobalAveragePooling1D`: `(batch, time, D)` to `(batch, D)` by averaging over time.
///
/// With a mask it averages the valid steps only, and masked steps get zero gradient. A row
/// with no valid step gives zeros (Keras divides 0 by 0 and returns NaN there).
///
/// ```
/// use rnn_runtime::{GlobalAveragePooling1D, Layer, Mode, Sequence};
/// let x = Sequence::<1>::from_batch_major(&[1.0, 2.0, 6.0], 1, 3).unwrap();
/// let y = GlobalAveragePooling1D::new("gap").forward(&x, Mode::Inference).unwrap();
/// assert_eq!(y.as_slice(), &[3.0]);
/// ```
#[derive(Clone, Debug)]
pub struct GlobalAveragePooling1D {
    name: String,
}

impl GlobalAveragePooling1D {
    /// A pooling layer.
    pub fn new(name: &str) -> Self {
        GlobalAveragePooling1D {
            name: name.to_string(),
        }
    }

    /// The layer's Keras name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Weights for GlobalAveragePooling1D {
    const PARAMS: usize = 0;
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }
}

/// Weight of each `(t, b)` position in the average: `1 / valid steps of row b`, 0 if masked.
/// Time-major, `batch * time` entries: a successful return bounds that product.
fn step_weights<const D: usize>(layer: &str, x: &Sequence<D>) -> Result<Vec<f32>> {
    let (batch, time) = (x.batch(), x.time());
    let len = checked_len(layer, &[batch, time])?;
    Ok(match x.mask() {
        None => vec![1.0 / time as f32; len],
        Some(mask) => {
            let valid: Vec<usize> = (0..batch)
                .map(|b| (0..time).filter(|&t| mask.is_valid(b, t)).count())
                .collect();
            let valid = &valid;
            (0..time)
                .flat_map(|t| {
                    valid.iter().enumerate().map(move |(b, &n)| {
                        if mask.is_valid(b, t) {
                            1.0 / n as f32
                        } else {
                            0.0
                        }
                    })
                })
                .collect()
        }
    })
}

impl<const D: usize> Layer<Sequence<D>> for GlobalAveragePooling1D {
    type Output = Features<D>;

    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`b < batch` and `t < time` of a sequence holding `batch * time * D` values \
                  (and `step_weights` checked `batch * time`), so every product and index is \
                  bounded by those lengths"
    )]
    fn forward(&mut self, x: &Sequence<D>, _mode: Mode) -> Result<Features<D>> {
        let batch = x.batch();
        let weights = step_weights(&self.name, x)?;
        let mut out = vec![0.0f32; batch * D];
        // Sum in f64: a long sequence of f32 additions would drift from Keras' reference.
        let mut acc = vec![0.0f64; batch * D];
        for t in 0..x.time() {
            let step = x.step(t);
            for b in 0..batch {
                let w = weights[t * batch + b] as f64;
                if w != 0.0 {
                    for (a, &v) in acc[b * D..(b + 1) * D]
                        .iter_mut()
                        .zip(&step[b * D..(b + 1) * D])
                    {
                        *a += w * v as f64;
                    }
                }
            }
        }
        out.iter_mut().zip(&acc).for_each(|(o, a)| *o = *a as f32);
        Ok(Features::from_vec(batch, out))
    }

    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`b < batch` and `t < time` of a sequence holding `batch * time * D` values \
                  (and `step_weights` checked `batch * time`), so every product and index is \
                  bounded by those lengths; `dy` has `batch` rows, checked first"
    )]
    fn backward(
        &mut self,
        x: &Sequence<D>,
        dy: Features<D>,
        dstates: &[&[f32]],
    ) -> Result<Sequence<D>> {
        no_state_grads(&self.name, dstates)?;
        let (batch, time) = (x.batch(), x.time());
        if dy.batch() != batch {
            return Err(Error::shape(
                format!("{}: output gradient", self.name),
                format!("({batch}, {D})"),
                format!("({}, {D})", dy.batch()),
            ));
        }
        let weights = step_weights(&self.name, x)?;
        let mut dx = vec![0.0f32; batch * time * D];
        for t in 0..time {
            for b in 0..batch {
                let w = weights[t * batch + b];
                let at = (t * batch + b) * D;
                dx[at..at + D]
                    .iter_mut()
                    .zip(dy.row(b))
                    .for_each(|(d, g)| *d = w * g);
            }
        }
        Ok(Sequence::from_time_major(batch, time, dx))
    }

    fn step_init(&self, _batch: usize) -> Result<LayerStep> {
        Err(Error::config(
            self.name.clone(),
            "GlobalAveragePooling1D averages the whole sequence, so it cannot run one step at \
             a time",
        ))
    }
}
