//! Trainable weights, with their Keras names, shapes and gradients.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result, check_finite, fmt_shape};

/// Which version of its values a [`Param`] holds: a number drawn afresh from one counter for
/// the whole process whenever the values may change, so that tables derived from weights
/// (an Embedding folded into the next layer's input projection) know when to rebuild. Values
/// compare equal whatever their history.
#[derive(Clone, Copy, Debug)]
struct Stamp(u64);

impl Stamp {
    fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Stamp(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl PartialEq for Stamp {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// One trainable weight array: Keras name, Keras shape, row-major values and gradient.
///
/// ```
/// use rnn_runtime::Param;
/// let p = Param::zeros("sequential/dense/bias", vec![3]);
/// assert_eq!(p.name(), "sequential/dense/bias");
/// assert_eq!(p.values(), &[0.0; 3]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    name: String,
    shape: Vec<usize>,
    value: Vec<f32>,
    /// Empty until the first backward pass, so inference never pays for gradients.
    grad: Vec<f32>,
    stamp: Stamp,
}

impl Param {
    /// A weight of zeros.
    pub fn zeros(name: impl Into<String>, shape: Vec<usize>) -> Self {
        let len = shape.iter().product();
        Param {
            name: name.into(),
            shape,
            value: vec![0.0; len],
            grad: Vec::new(),
            stamp: Stamp::fresh(),
        }
    }

    /// A weight with the given values.
    ///
    /// # Panics
    /// If `value.len()` is not the product of `shape` (a programming error, not user input).
    pub fn new(name: impl Into<String>, shape: Vec<usize>, value: Vec<f32>) -> Self {
        assert_eq!(value.len(), shape.iter().product::<usize>(), "param size");
        Param {
            name: name.into(),
            shape,
            value,
            grad: Vec::new(),
            stamp: Stamp::fresh(),
        }
    }

    /// Keras variable path, e.g. `sequential/lstm/lstm_cell/kernel`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Keras shape, e.g. `[16, 256]` for an LSTM kernel.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the weight holds no scalars.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Row-major values.
    pub fn values(&self) -> &[f32] {
        &self.value
    }

    /// Row-major values, writable.
    pub fn values_mut(&mut self) -> &mut [f32] {
        self.stamp = Stamp::fresh();
        &mut self.value
    }

    /// The version of the values: it changes whenever they may have changed.
    pub(crate) fn stamp(&self) -> u64 {
        self.stamp.0
    }

    /// The accumulated gradient; empty until the first backward pass allocates it.
    pub fn grad(&self) -> &[f32] {
        &self.grad
    }

    /// The gradient buffer, allocated (as zeros) on first use.
    pub fn grad_mut(&mut self) -> &mut [f32] {
        if self.grad.len() != self.value.len() {
            self.grad = vec![0.0; self.value.len()];
        }
        &mut self.grad
    }

    /// Values and gradient at once, for optimizers.
    pub fn values_and_grad_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        if self.grad.len() != self.value.len() {
            self.grad = vec![0.0; self.value.len()];
        }
        self.stamp = Stamp::fresh();
        (&mut self.value, &mut self.grad)
    }

    /// Sets the gradient to zero.
    pub fn zero_grad(&mut self) {
        self.grad.iter_mut().for_each(|g| *g = 0.0);
    }

    /// Replaces the values, checking the length (and the shape, when given) and finiteness.
    pub fn assign(&mut self, values: &[f32], shape: Option<&[usize]>) -> Result<()> {
        if let Some(shape) = shape
            && shape != self.shape.as_slice()
        {
            return Err(Error::WeightShape {
                name: self.name.clone(),
                expected: fmt_shape(&self.shape),
                actual: fmt_shape(shape),
            });
        }
        if values.len() != self.value.len() {
            return Err(Error::WeightShape {
                name: self.name.clone(),
                expected: format!("{} ({} values)", fmt_shape(&self.shape), self.value.len()),
                actual: format!("{} values", values.len()),
            });
        }
        check_finite(values, "set_weights", &format!("weight `{}`", self.name))?;
        self.stamp = Stamp::fresh();
        self.value.copy_from_slice(values);
        Ok(())
    }
}

/// A copy of one weight, as `get_weights()` returns it: Keras name, shape and row-major values.
///
/// ```
/// use rnn_runtime::Weight;
/// let w = Weight { name: "dense/bias".into(), shape: vec![2], values: vec![0.5, -0.5] };
/// assert_eq!(w.as_ref(), &[0.5, -0.5]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    /// Keras variable path.
    pub name: String,
    /// Keras shape.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

impl AsRef<[f32]> for Weight {
    fn as_ref(&self) -> &[f32] {
        &self.values
    }
}

impl From<&Param> for Weight {
    fn from(p: &Param) -> Self {
        Weight {
            name: p.name.clone(),
            shape: p.shape.clone(),
            values: p.value.clone(),
        }
    }
}

/// Something `set_weights` can read one weight from: a flat buffer, or a [`Weight`] whose shape
/// is checked too.
///
/// ```
/// use rnn_runtime::WeightData;
/// let v = vec![1.0f32, 2.0];
/// assert_eq!(v.values(), &[1.0, 2.0]);
/// assert!(v.shape().is_none());
/// ```
pub trait WeightData {
    /// Row-major values.
    fn values(&self) -> &[f32];
    /// The shape, when the source knows it.
    fn shape(&self) -> Option<&[usize]> {
        None
    }
}

impl WeightData for Vec<f32> {
    fn values(&self) -> &[f32] {
        self
    }
}

impl WeightData for &[f32] {
    fn values(&self) -> &[f32] {
        self
    }
}

impl<const N: usize> WeightData for [f32; N] {
    fn values(&self) -> &[f32] {
        self
    }
}

impl WeightData for Weight {
    fn values(&self) -> &[f32] {
        &self.values
    }
    fn shape(&self) -> Option<&[usize]> {
        Some(&self.shape)
    }
}

impl<T: WeightData + ?Sized> WeightData for &T {
    fn values(&self) -> &[f32] {
        (**self).values()
    }
    fn shape(&self) -> Option<&[usize]> {
        (**self).shape()
    }
}

/// Access to the trainable weights of a layer or a stack of layers, in Keras' order.
///
/// `PARAMS` is the layer's parameter count as a constant: the `model!` macro asserts at
/// compile time that these constants add up to the count it computed.
///
/// ```
/// use rnn_runtime::{Dense, Weights, seeded_rng};
/// assert_eq!(<Dense<4, 3> as Weights>::PARAMS, 15);
/// let d = Dense::<4, 3>::new("sequential/dense", rnn_runtime::Activation::Linear, &mut seeded_rng(1));
/// let names: Vec<&str> = d.params().iter().map(|p| p.name()).collect();
/// assert_eq!(names, ["sequential/dense/kernel", "sequential/dense/bias"]);
/// ```
pub trait Weights {
    /// Number of trainable scalars.
    const PARAMS: usize;
    /// Every weight, in Keras' order.
    fn params(&self) -> Vec<&Param>;
    /// Every weight, mutably, in Keras' order.
    fn params_mut(&mut self) -> Vec<&mut Param>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_checks_length_shape_and_values() {
        let mut p = Param::zeros("k", vec![2, 3]);
        assert!(p.assign(&[1.0; 6], None).is_ok());
        assert_eq!(p.values(), &[1.0; 6]);
        let err = p.assign(&[1.0; 5], None).unwrap_err();
        assert!(err.to_string().contains("weight `k`"), "{err}");
        let err = p.assign(&[1.0; 6], Some(&[3, 2])).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected shape (2, 3), got (3, 2)"),
            "{err}"
        );
        let mut bad = [1.0; 6];
        bad[4] = f32::NAN;
        assert!(p.assign(&bad, None).is_err());
        assert_eq!(
            p.values(),
            &[1.0; 6],
            "a rejected assignment changes nothing"
        );
    }

    #[test]
    fn gradients_are_allocated_on_first_use() {
        let mut p = Param::zeros("b", vec![4]);
        assert!(p.grad().is_empty());
        p.grad_mut()[2] = 1.5;
        assert_eq!(p.grad(), &[0.0, 0.0, 1.5, 0.0]);
        p.zero_grad();
        assert_eq!(p.grad(), &[0.0; 4]);
    }
}
