//! What a model returns: named arrays in Keras' order, each with its shape and row-major data.

use std::ops::Index;

use crate::error::{Error, Result, check_finite, fmt_shape};
use crate::tensor::{Features, Sequence, Tensor, Unmerged};

/// One output array: Keras role name (`output`, `state_h`, ...), shape and row-major values.
///
/// ```
/// use rnn_runtime::Array;
/// let a = Array::new("output", vec![2, 1], vec![0.25, 0.75]);
/// assert_eq!(a.get(&[1, 0]), 0.75);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Role name, as in Keras' return order: `output`, `state_h`, `state_c`,
    /// `forward_output`, `backward_output`, `forward_state_h`, ...
    pub name: String,
    /// Shape, batch first.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

impl Array {
    /// An array from its parts.
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape`.
    pub fn new(name: impl Into<String>, shape: Vec<usize>, data: Vec<f32>) -> Self {
        let len = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        assert_eq!(Some(data.len()), len, "array size");
        Array {
            name: name.into(),
            shape,
            data,
        }
    }

    /// The value at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds.
    pub fn get(&self, index: &[usize]) -> f32 {
        assert_eq!(index.len(), self.shape.len(), "index rank");
        let flat = index
            .iter()
            .zip(&self.shape)
            .try_fold(0usize, |flat, (&i, &d)| {
                assert!(i < d, "index out of bounds");
                flat.checked_mul(d)?.checked_add(i)
            });
        match flat.and_then(|flat| self.data.get(flat)) {
            Some(&value) => value,
            None => panic!("index out of bounds: the data is shorter than the shape"),
        }
    }

    /// The rows of a rank-2 array (batch first), e.g. class probabilities per sample.
    pub fn rows(&self) -> impl Iterator<Item = &[f32]> {
        // A width past `usize::MAX` is wider than any data: one chunk, as for any width
        // at least the data's length.
        let width = self
            .shape
            .iter()
            .skip(1)
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .unwrap_or(usize::MAX)
            .max(1);
        self.data.chunks(width)
    }
}

/// Every output of a forward pass, in Keras' order: the main output first, then the states
/// when the last layer has `return_state = true`.
///
/// ```
/// use rnn_runtime::{Array, Outputs};
/// let out = Outputs::new(vec![Array::new("output", vec![1, 1], vec![0.5])]);
/// assert_eq!(out.main().data, vec![0.5]);
/// assert_eq!(out["output"].shape, vec![1, 1]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    arrays: Vec<Array>,
}

impl Outputs {
    /// Wraps arrays (main output first).
    pub fn new(arrays: Vec<Array>) -> Self {
        Outputs { arrays }
    }

    /// The main output (for `merge_mode = none`, the forward half).
    ///
    /// # Panics
    /// If there are no outputs, which only [`Outputs::new`] of an empty vector makes.
    pub fn main(&self) -> &Array {
        match self.arrays.first() {
            Some(main) => main,
            None => panic!("no outputs: a model's outputs start with its main output"),
        }
    }

    /// The output with this role name.
    pub fn get(&self, name: &str) -> Option<&Array> {
        self.arrays.iter().find(|a| a.name == name)
    }

    /// Number of outputs.
    pub fn len(&self) -> usize {
        self.arrays.len()
    }

    /// Always false: a model has at least one output.
    pub fn is_empty(&self) -> bool {
        self.arrays.is_empty()
    }

    /// All outputs, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Array> {
        self.arrays.iter()
    }

    /// The arrays, in order.
    pub fn into_vec(self) -> Vec<Array> {
        self.arrays
    }
}

impl Index<usize> for Outputs {
    type Output = Array;
    fn index(&self, i: usize) -> &Array {
        match self.arrays.get(i) {
            Some(array) => array,
            None => panic!("no output {i}: there are {} outputs", self.arrays.len()),
        }
    }
}

impl Index<&str> for Outputs {
    type Output = Array;
    fn index(&self, name: &str) -> &Array {
        self.get(name)
            .unwrap_or_else(|| panic!("no output named `{name}`"))
    }
}

impl<'a> IntoIterator for &'a Outputs {
    type Item = &'a Array;
    type IntoIter = std::slice::Iter<'a, Array>;
    fn into_iter(self) -> Self::IntoIter {
        self.arrays.iter()
    }
}

/// A tensor type that can be a model's main output: converted to named row-major arrays, and
/// its gradient built back from arrays of the same shapes.
///
/// The shape of an output is known from its type and the input, without running the model:
///
/// ```
/// use rnn_runtime::{Features, ModelOutput, Sequence};
/// assert_eq!(<Sequence<4>>::shape_for(2, Some(7)), vec![2, 7, 4]);
/// assert_eq!(<Features<3>>::shape_for(2, Some(7)), vec![2, 3]);
/// assert_eq!(<Features<3>>::ARRAYS, 1);
/// ```
pub trait ModelOutput: Tensor {
    /// Size of the last axis of each array (the class count of a classifier).
    const FEATURES: usize;

    /// Whether each array has a time axis, as long as the input's: no layer changes the
    /// number of steps, it either keeps them or (pooling, `return_sequences = false`) drops
    /// them.
    const PER_STEP: bool;

    /// How many arrays [`ModelOutput::to_arrays`] returns.
    const ARRAYS: usize = 1;

    /// The shape of each array for `batch` rows of an input with `time` steps (`None` for an
    /// input without a time axis).
    fn shape_for(batch: usize, time: Option<usize>) -> Vec<usize> {
        let time = time.filter(|_| Self::PER_STEP);
        [batch]
            .into_iter()
            .chain(time)
            .chain([Self::FEATURES])
            .collect()
    }

    /// The arrays of this output, batch-major, named by their Keras role.
    fn to_arrays(&self) -> Vec<Array>;

    /// Builds the gradient from row-major arrays shaped like [`ModelOutput::to_arrays`].
    fn grad_from_arrays(&self, grads: &[&[f32]]) -> Result<Self::Grad>;

    /// For a masked sequence, the weight of each row of the batch-major output (`batch * time`
    /// rows; 0 at masked steps), which losses and metrics apply as Keras does.
    fn row_mask(&self) -> Option<Vec<f32>> {
        None
    }
}

fn check_grad(name: &str, shape: &[usize], grad: &[f32]) -> Result<()> {
    let want: usize = shape.iter().product();
    if grad.len() != want {
        return Err(Error::shape(
            format!("gradient of `{name}`"),
            fmt_shape(shape),
            format!("{} values", grad.len()),
        ));
    }
    check_finite(grad, "backward", &format!("the gradient of `{name}`"))
}

impl<const D: usize> ModelOutput for Sequence<D> {
    const FEATURES: usize = D;
    const PER_STEP: bool = true;

    fn to_arrays(&self) -> Vec<Array> {
        vec![Array::new(
            "output",
            self.shape().to_vec(),
            self.to_batch_major(),
        )]
    }

    fn grad_from_arrays(&self, grads: &[&[f32]]) -> Result<Sequence<D>> {
        let [g] = grads else {
            return Err(grad_count(1, grads.len()));
        };
        check_grad("output", &self.shape(), g)?;
        Sequence::from_batch_major(g, self.batch(), self.time())
    }

    fn row_mask(&self) -> Option<Vec<f32>> {
        let mask = self.mask()?;
        let (batch, time) = (self.batch(), self.time());
        let rows = (0..batch)
            .flat_map(|b| (0..time).map(move |t| mask.is_valid(b, t) as u8 as f32))
            .collect();
        Some(rows)
    }
}

impl<const D: usize> ModelOutput for Features<D> {
    const FEATURES: usize = D;
    const PER_STEP: bool = false;

    fn to_arrays(&self) -> Vec<Array> {
        vec![Array::new(
            "output",
            self.shape().to_vec(),
            self.as_slice().to_vec(),
        )]
    }

    fn grad_from_arrays(&self, grads: &[&[f32]]) -> Result<Features<D>> {
        let [g] = grads else {
            return Err(grad_count(1, grads.len()));
        };
        check_grad("output", &self.shape(), g)?;
        Features::from_flat(g)
    }
}

impl<T: ModelOutput<Grad = T>> ModelOutput for Unmerged<T> {
    const FEATURES: usize = T::FEATURES;
    const PER_STEP: bool = T::PER_STEP;
    const ARRAYS: usize = 2 * T::ARRAYS;

    fn to_arrays(&self) -> Vec<Array> {
        let mut fw = self.forward.to_arrays();
        let mut bw = self.backward.to_arrays();
        if let Some(main) = fw.first_mut() {
            main.name = "forward_output".into();
        }
        if let Some(main) = bw.first_mut() {
            main.name = "backward_output".into();
        }
        fw.append(&mut bw);
        fw
    }

    fn grad_from_arrays(&self, grads: &[&[f32]]) -> Result<Unmerged<T>> {
        let [f, b] = grads else {
            return Err(grad_count(2, grads.len()));
        };
        Ok(Unmerged {
            forward: self.forward.grad_from_arrays(&[f])?,
            backward: self.backward.grad_from_arrays(&[b])?,
        })
    }
}

fn grad_count(expected: usize, actual: usize) -> Error {
    Error::shape(
        "backward",
        format!("{expected} gradient array(s) for the main output"),
        format!("{actual}"),
    )
}
