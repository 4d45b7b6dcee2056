//! The tensors that flow between layers, with their feature size in the type.
//!
//! Batch and time are run-time sizes; the feature size `D` is a const generic, so a layer
//! that expects 128 features cannot be handed a tensor of 100 features: that is a type error.
//! Data is stored as a nalgebra matrix with `D` rows and one column per position, which is the
//! row-major `(positions, D)` layout that GEMM and the gate kernels want.
//!
//! Sequences are stored time-major internally (column `t * batch + b`), because a recurrent
//! step reads and writes all rows of one time step; the constructors and accessors speak the
//! Keras layout `(batch, time, features)`.

use std::fmt;
use std::sync::Arc;

use nalgebra::{Const, Dyn, OMatrix};

use crate::error::{Error, Result, check_finite, fmt_shape};
use crate::size::{checked_len, try_with_capacity, try_zeroed};

/// A value that flows between layers.
///
/// ```
/// use rnn_runtime::{Features, Tensor};
/// let x = Features::<3>::from_rows(&[vec![1.0, 2.0, 3.0]]).unwrap();
/// assert_eq!(x.batch(), 1);
/// assert_eq!(x.shape(), [1, 3]);
/// ```
pub trait Tensor: Clone + fmt::Debug + Send + Sync + 'static {
    /// The type of the loss gradient with respect to this tensor (`()` for token ids).
    type Grad: Send;
    /// Number of rows in the batch.
    fn batch(&self) -> usize;
    /// Keras shape, batch first.
    fn shape(&self) -> Vec<usize>;
    /// The token ids, when this is a [`TokenBatch`].
    #[doc(hidden)]
    fn as_tokens(&self) -> Option<&TokenBatch> {
        None
    }
}

/// Which positions of a batch of sequences hold real tokens (Keras `mask_zero`).
///
/// ```
/// use rnn_runtime::{Embedding, Layer, Mode, TokenBatch};
/// let ids = TokenBatch::new(vec![vec![0, 3, 4]]).unwrap();
/// let mut emb = Embedding::<10, 2>::new("embedding", true, &mut rnn_runtime::seeded_rng(0));
/// let out = emb.forward(&ids, Mode::Inference).unwrap();
/// let mask = out.mask().unwrap();
/// assert!(!mask.is_valid(0, 0) && mask.is_valid(0, 1));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    batch: usize,
    time: usize,
    /// Time-major: entry `t * batch + b`.
    valid: Arc<[bool]>,
}

impl Mask {
    pub(crate) fn from_time_major(batch: usize, time: usize, valid: Vec<bool>) -> Self {
        debug_assert_eq!(Some(valid.len()), batch.checked_mul(time));
        Mask {
            batch,
            time,
            valid: valid.into(),
        }
    }

    /// Builds a mask from `(batch, time)` rows of booleans, `true` where the step is valid.
    ///
    /// ```
    /// let mask = rnn_runtime::Mask::from_rows(&[vec![true, false]]).unwrap();
    /// assert!(mask.is_valid(0, 0) && !mask.is_valid(0, 1));
    /// ```
    pub fn from_rows(rows: &[Vec<bool>]) -> Result<Self> {
        let (batch, time) = nested_dims(rows.iter().map(Vec::len), "mask", "steps")?;
        // Time-major transpose; every row has `time` entries (checked above), so each step
        // takes one value from every row.
        let valid = (0..time)
            .flat_map(|t| rows.iter().filter_map(move |row| row.get(t).copied()))
            .collect();
        Ok(Mask::from_time_major(batch, time, valid))
    }

    /// Number of rows.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Number of time steps.
    pub fn time(&self) -> usize {
        self.time
    }

    /// Whether step `t` of row `b` is a real (unmasked) step.
    ///
    /// # Panics
    /// If `b >= batch` or `t >= time`, as slice indexing panics.
    #[allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "the position is checked against the shape first, so the offset is below \
                  `batch * time`, the length of `valid`"
    )]
    pub fn is_valid(&self, b: usize, t: usize) -> bool {
        check_position("Mask::is_valid", b, t, self.batch, self.time);
        self.valid[t * self.batch + b]
    }

    /// Validity of every row at step `t`.
    ///
    /// # Panics
    /// If `t >= time`, as slice indexing panics.
    #[allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "`t < time` is checked first, so the range ends at most at `batch * time`, \
                  the length of `valid`"
    )]
    pub fn step(&self, t: usize) -> &[bool] {
        check_step("Mask::step", t, self.time);
        &self.valid[t * self.batch..(t + 1) * self.batch]
    }

    /// Whether every position is valid (then the mask changes nothing).
    pub fn all_valid(&self) -> bool {
        self.valid.iter().all(|&v| v)
    }
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mask")
            .field("batch", &self.batch)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

/// A batch of sequences with `D` features per step: Keras shape `(batch, time, D)`.
///
/// ```
/// use rnn_runtime::Sequence;
/// let x = Sequence::<2>::from_nested(&[vec![vec![1.0, 2.0], vec![3.0, 4.0]]]).unwrap();
/// assert_eq!((x.batch(), x.time()), (1, 2));
/// assert_eq!(x.get(0, 1), &[3.0, 4.0]);
/// assert_eq!(x.to_batch_major(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Sequence<const D: usize> {
    batch: usize,
    time: usize,
    /// `D` rows, one column per position `t * batch + b`.
    data: OMatrix<f32, Const<D>, Dyn>,
    mask: Option<Mask>,
}

impl<const D: usize> Sequence<D> {
    /// A sequence of zeros.
    ///
    /// # Panics
    /// If `batch * time * D` values cannot be addressed or allocated, as `vec!` panics;
    /// [`Sequence::try_zeros`] returns an error instead.
    pub fn zeros(batch: usize, time: usize) -> Self {
        match Self::try_zeros(batch, time) {
            Ok(x) => x,
            Err(e) => panic!("Sequence::zeros: {e}"),
        }
    }

    /// A sequence of zeros, or [`Error::TooLarge`] when `batch * time * D` overflows or the
    /// memory cannot be allocated.
    ///
    /// ```
    /// use rnn_runtime::Sequence;
    /// assert_eq!(Sequence::<2>::try_zeros(3, 4).unwrap().shape(), [3, 4, 2]);
    /// assert!(Sequence::<2>::try_zeros((1 << 63) + 1, 2).is_err());
    /// ```
    pub fn try_zeros(batch: usize, time: usize) -> Result<Self> {
        let len = checked_len("input", &[batch, time, D])?;
        Ok(Self::from_time_major(
            batch,
            time,
            try_zeroed("input", len)?,
        ))
    }

    /// Wraps time-major data (`(time, batch, D)` row-major).
    ///
    /// `data.len()` must be `batch * time * D`; callers build it from that checked product.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "callers pass `batch * time * D` values, so for `D >= 1` the product is at \
                  most `data.len()`; the public constructors of a `Sequence<0>` check \
                  `batch * time` with `checked_len`"
    )]
    pub(crate) fn from_time_major(batch: usize, time: usize, data: Vec<f32>) -> Self {
        debug_assert_eq!(
            Some(data.len()),
            batch.checked_mul(time).and_then(|n| n.checked_mul(D))
        );
        Sequence {
            batch,
            time,
            data: OMatrix::<f32, Const<D>, Dyn>::from_vec_generic(
                Const::<D>,
                Dyn(batch * time),
                data,
            ),
            mask: None,
        }
    }

    /// Builds a sequence batch from `batch x time x D` nested vectors, checking that the batch is
    /// not empty, rows are not ragged, every step has `D` features and all values are finite.
    pub fn from_nested(rows: &[Vec<Vec<f32>>]) -> Result<Self> {
        let (batch, time) = nested_dims(rows.iter().map(Vec::len), "input", "steps")?;
        let mut data = try_with_capacity("input", checked_len("input", &[batch, time, D])?)?;
        for (b, row) in rows.iter().enumerate() {
            for (t, step) in row.iter().enumerate() {
                if step.len() != D {
                    return Err(Error::shape(
                        "input",
                        fmt_shape(&["batch".to_string(), "time".to_string(), D.to_string()]),
                        format!(
                            "{} features at [batch {b}, step {t}] (shape ({batch}, {time}, {}))",
                            step.len(),
                            step.len()
                        ),
                    ));
                }
            }
        }
        // Time-major transpose; every row has `time` steps of `D` values (checked above).
        for t in 0..time {
            for step in rows.iter().filter_map(|row| row.get(t)) {
                data.extend_from_slice(step);
            }
        }
        check_finite(&data, "input", "the input sequence")?;
        Ok(Self::from_time_major(batch, time, data))
    }

    /// Builds a sequence batch from a flat row-major `(batch, time, D)` buffer.
    ///
    /// ```
    /// let x = rnn_runtime::Sequence::<3>::from_batch_major(&[0.5; 12], 2, 2).unwrap();
    /// assert_eq!(x.shape(), [2, 2, 3]);
    /// ```
    pub fn from_batch_major(data: &[f32], batch: usize, time: usize) -> Result<Self> {
        check_nonempty(batch, time, "input")?;
        if data.len() != checked_len("input", &[batch, time, D])? {
            return Err(Error::shape(
                "input",
                fmt_shape(&[batch, time, D]),
                format!("{} values", data.len()),
            ));
        }
        check_finite(data, "input", "the input sequence")?;
        let mut out = try_with_capacity("input", data.len())?;
        // Time-major transpose: step `t` of row `b` is chunk `b * time + t` of `data`.
        if D > 0 {
            for t in 0..time {
                for step in data.chunks_exact(D).skip(t).step_by(time) {
                    out.extend_from_slice(step);
                }
            }
        }
        Ok(Self::from_time_major(batch, time, out))
    }

    /// Number of rows.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Number of time steps.
    pub fn time(&self) -> usize {
        self.time
    }

    /// Keras shape `(batch, time, D)`.
    pub fn shape(&self) -> [usize; 3] {
        [self.batch, self.time, D]
    }

    /// The mask carried by this sequence, if an `Embedding(mask_zero = true)` produced it.
    pub fn mask(&self) -> Option<&Mask> {
        self.mask.as_ref()
    }

    /// Attaches (or removes) a mask.
    ///
    /// # Panics
    /// If the mask's batch or time differs from the sequence's.
    pub fn with_mask(mut self, mask: Option<Mask>) -> Self {
        if let Some(m) = &mask {
            assert_eq!((m.batch, m.time), (self.batch, self.time), "mask shape");
        }
        self.mask = mask;
        self
    }

    pub(crate) fn set_mask(&mut self, mask: Option<Mask>) {
        self.mask = mask;
    }

    /// The features of row `b` at step `t`.
    ///
    /// # Panics
    /// If `b >= batch` or `t >= time`, as slice indexing panics.
    #[allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "the position is checked against the shape first, so the range ends at most \
                  at `batch * time * D`, the length of the data"
    )]
    pub fn get(&self, b: usize, t: usize) -> &[f32] {
        check_position("Sequence::get", b, t, self.batch, self.time);
        let at = (t * self.batch + b) * D;
        &self.data.as_slice()[at..at + D]
    }

    /// All rows at step `t`: a `(batch, D)` row-major slice.
    ///
    /// # Panics
    /// If `t >= time`, as slice indexing panics.
    #[allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "`t < time` is checked first, so the range ends at most at \
                  `batch * time * D`, the length of the data"
    )]
    pub fn step(&self, t: usize) -> &[f32] {
        check_step("Sequence::step", t, self.time);
        let n = self.batch * D;
        &self.data.as_slice()[t * n..(t + 1) * n]
    }

    /// The data as a nalgebra matrix: `D` rows, one column per position `t * batch + b`.
    pub fn as_matrix(&self) -> &OMatrix<f32, Const<D>, Dyn> {
        &self.data
    }

    /// Time-major data: `(time, batch, D)` row-major.
    pub fn as_slice(&self) -> &[f32] {
        self.data.as_slice()
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [f32] {
        self.data.as_mut_slice()
    }

    pub(crate) fn into_time_major(self) -> Vec<f32> {
        self.data.data.into()
    }

    /// The data in Keras' layout, `(batch, time, D)` row-major.
    pub fn to_batch_major(&self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.data.len());
        // Row `b` at step `t` is chunk `t * batch + b` of the time-major data.
        if D > 0 {
            for b in 0..self.batch {
                for step in self
                    .data
                    .as_slice()
                    .chunks_exact(D)
                    .skip(b)
                    .step_by(self.batch)
                {
                    out.extend_from_slice(step);
                }
            }
        }
        out
    }
}

impl<const D: usize> fmt::Debug for Sequence<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sequence")
            .field("shape", &(self.batch, self.time, D))
            .field("masked", &self.mask.is_some())
            .finish_non_exhaustive()
    }
}

impl<const D: usize> Tensor for Sequence<D> {
    type Grad = Sequence<D>;
    fn batch(&self) -> usize {
        self.batch
    }
    fn shape(&self) -> Vec<usize> {
        Sequence::shape(self).to_vec()
    }
}

/// A batch of feature vectors: Keras shape `(batch, D)`.
///
/// ```
/// use rnn_runtime::Features;
/// let x = Features::<2>::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
/// assert_eq!(x.row(1), &[3.0, 4.0]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Features<const D: usize> {
    /// `D` rows, one column per batch row.
    data: OMatrix<f32, Const<D>, Dyn>,
}

impl<const D: usize> Features<D> {
    /// A batch of zeros.
    ///
    /// # Panics
    /// If `batch * D` values cannot be addressed or allocated, as `vec!` panics;
    /// [`Features::try_zeros`] returns an error instead.
    pub fn zeros(batch: usize) -> Self {
        match Self::try_zeros(batch) {
            Ok(x) => x,
            Err(e) => panic!("Features::zeros: {e}"),
        }
    }

    /// A batch of zeros, or [`Error::TooLarge`] when `batch * D` overflows or the memory
    /// cannot be allocated.
    ///
    /// ```
    /// use rnn_runtime::Features;
    /// assert_eq!(Features::<4>::try_zeros(2).unwrap().shape(), [2, 4]);
    /// assert!(Features::<4>::try_zeros((1 << 62) + 1).is_err());
    /// ```
    pub fn try_zeros(batch: usize) -> Result<Self> {
        let len = checked_len("input", &[batch, D])?;
        Ok(Self::from_vec(batch, try_zeroed("input", len)?))
    }

    pub(crate) fn from_vec(batch: usize, data: Vec<f32>) -> Self {
        debug_assert_eq!(Some(data.len()), batch.checked_mul(D));
        Features {
            data: OMatrix::<f32, Const<D>, Dyn>::from_vec_generic(Const::<D>, Dyn(batch), data),
        }
    }

    /// Builds a batch from rows of `D` values, checking emptiness, lengths and finiteness.
    pub fn from_rows(rows: &[Vec<f32>]) -> Result<Self> {
        if rows.is_empty() {
            return Err(empty_batch("input"));
        }
        let mut data = Vec::with_capacity(checked_len("input", &[rows.len(), D])?);
        for (b, row) in rows.iter().enumerate() {
            if row.len() != D {
                return Err(Error::shape(
                    "input",
                    fmt_shape(&["batch".to_string(), D.to_string()]),
                    format!("{} features in row {b}", row.len()),
                ));
            }
            data.extend_from_slice(row);
        }
        check_finite(&data, "input", "the input")?;
        Ok(Self::from_vec(rows.len(), data))
    }

    /// Builds a batch from a flat row-major `(batch, D)` buffer.
    ///
    /// ```
    /// let x = rnn_runtime::Features::<2>::from_flat(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    /// assert_eq!(x.batch(), 2);
    /// ```
    pub fn from_flat(data: &[f32]) -> Result<Self> {
        if data.is_empty() {
            return Err(empty_batch("input"));
        }
        if !data.len().is_multiple_of(D) {
            return Err(Error::shape(
                "input",
                fmt_shape(&["batch".to_string(), D.to_string()]),
                format!("{} values, not a multiple of {D}", data.len()),
            ));
        }
        check_finite(data, "input", "the input")?;
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "`D > 0`: a non-empty buffer is a multiple of `D == 0` never"
        )]
        let batch = data.len() / D;
        Ok(Self::from_vec(batch, data.to_vec()))
    }

    /// Number of rows.
    pub fn batch(&self) -> usize {
        self.data.ncols()
    }

    /// Keras shape `(batch, D)`.
    pub fn shape(&self) -> [usize; 2] {
        [self.batch(), D]
    }

    /// Row `b`.
    ///
    /// # Panics
    /// If `b >= batch`, as slice indexing panics.
    #[allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "`b < batch` is checked first, so the range ends at most at `batch * D`, \
                  the length of the data"
    )]
    pub fn row(&self, b: usize) -> &[f32] {
        check_row("Features::row", b, self.batch());
        &self.data.as_slice()[b * D..(b + 1) * D]
    }

    /// Row-major `(batch, D)` data.
    pub fn as_slice(&self) -> &[f32] {
        self.data.as_slice()
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [f32] {
        self.data.as_mut_slice()
    }

    /// The data as a nalgebra matrix: `D` rows, one column per batch row.
    pub fn as_matrix(&self) -> &OMatrix<f32, Const<D>, Dyn> {
        &self.data
    }

    pub(crate) fn into_vec(self) -> Vec<f32> {
        self.data.data.into()
    }
}

impl<const D: usize> fmt::Debug for Features<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Features")
            .field("shape", &(self.batch(), D))
            .finish_non_exhaustive()
    }
}

impl<const D: usize> Tensor for Features<D> {
    type Grad = Features<D>;
    fn batch(&self) -> usize {
        self.batch()
    }
    fn shape(&self) -> Vec<usize> {
        Features::shape(self).to_vec()
    }
}

/// A batch of token-id sequences: Keras shape `(batch, time)`, the input of `Embedding`.
///
/// ```
/// use rnn_runtime::TokenBatch;
/// let ids = TokenBatch::new(vec![vec![4, 2, 7], vec![1, 0, 0]]).unwrap();
/// assert_eq!((ids.batch(), ids.time()), (2, 3));
/// assert_eq!(ids.get(1, 0), 1);
/// assert!(TokenBatch::new(vec![]).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TokenBatch {
    batch: usize,
    time: usize,
    /// Batch-major `(batch, time)`.
    ids: Vec<u32>,
}

impl TokenBatch {
    /// Builds a batch from `batch x time` rows of ids, rejecting an empty batch, empty
    /// sequences and ragged rows. Ids are checked against the vocabulary by `Embedding`.
    pub fn new(rows: Vec<Vec<u32>>) -> Result<Self> {
        Self::from_rows(&rows)
    }

    /// Like [`TokenBatch::new`], from borrowed rows.
    pub fn from_rows(rows: &[Vec<u32>]) -> Result<Self> {
        let (batch, time) = nested_dims(rows.iter().map(Vec::len), "input", "steps")?;
        let ids = rows.iter().flatten().copied().collect();
        Ok(TokenBatch { batch, time, ids })
    }

    /// Builds a batch from a flat row-major `(batch, time)` buffer.
    ///
    /// ```
    /// let ids = rnn_runtime::TokenBatch::from_flat(vec![1, 2, 3, 4], 2, 2).unwrap();
    /// assert_eq!(ids.get(1, 1), 4);
    /// ```
    pub fn from_flat(ids: Vec<u32>, batch: usize, time: usize) -> Result<Self> {
        check_nonempty(batch, time, "input")?;
        if Some(ids.len()) != batch.checked_mul(time) {
            return Err(Error::shape(
                "input",
                fmt_shape(&[batch, time]),
                format!("{} ids", ids.len()),
            ));
        }
        Ok(TokenBatch { batch, time, ids })
    }

    /// Number of rows.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Number of time steps.
    pub fn time(&self) -> usize {
        self.time
    }

    /// The id of row `b` at step `t`.
    ///
    /// # Panics
    /// If `b >= batch` or `t >= time`, as slice indexing panics.
    #[allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "the position is checked against the shape first, so the offset is below \
                  `batch * time`, the number of ids"
    )]
    pub fn get(&self, b: usize, t: usize) -> u32 {
        check_position("TokenBatch::get", b, t, self.batch, self.time);
        self.ids[b * self.time + t]
    }

    /// Row-major `(batch, time)` ids.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Row `b`.
    ///
    /// # Panics
    /// If `b >= batch`, as slice indexing panics.
    #[allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        reason = "`b < batch` is checked first, so the range ends at most at `batch * time`, \
                  the number of ids"
    )]
    pub fn row(&self, b: usize) -> &[u32] {
        check_row("TokenBatch::row", b, self.batch);
        &self.ids[b * self.time..(b + 1) * self.time]
    }
}

impl fmt::Debug for TokenBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBatch")
            .field("shape", &(self.batch, self.time))
            .finish_non_exhaustive()
    }
}

impl Tensor for TokenBatch {
    type Grad = ();
    fn batch(&self) -> usize {
        self.batch
    }
    fn shape(&self) -> Vec<usize> {
        vec![self.batch, self.time]
    }
    fn as_tokens(&self) -> Option<&TokenBatch> {
        Some(self)
    }
}

/// The two halves of a `Bidirectional(..., merge_mode = none)` output.
///
/// No layer takes it as input: in a model it can only come last.
#[derive(Clone, Debug, PartialEq)]
pub struct Unmerged<T> {
    /// The forward layer's output.
    pub forward: T,
    /// The backward layer's output, in the original time order.
    pub backward: T,
}

impl<T: Tensor<Grad = T>> Tensor for Unmerged<T> {
    type Grad = Unmerged<T>;
    fn batch(&self) -> usize {
        self.forward.batch()
    }
    fn shape(&self) -> Vec<usize> {
        self.forward.shape()
    }
}

pub(crate) fn empty_batch(layer: &str) -> Error {
    Error::Empty {
        layer: layer.to_string(),
        what: "the batch has no rows; give at least one sequence".to_string(),
    }
}

fn check_nonempty(batch: usize, time: usize, layer: &str) -> Result<()> {
    if batch == 0 {
        return Err(empty_batch(layer));
    }
    if time == 0 {
        return Err(Error::Empty {
            layer: layer.to_string(),
            what: "the sequences have no time steps; give at least one step".to_string(),
        });
    }
    Ok(())
}

/// Panics with the shape when `(b, t)` is outside `(batch, time)`: the accessors document
/// this like slice indexing, and the check keeps a wrapped offset from landing in range.
fn check_position(what: &str, b: usize, t: usize, batch: usize, time: usize) {
    assert!(
        b < batch && t < time,
        "{what}: position [batch {b}, step {t}] is outside the shape ({batch}, {time})"
    );
}

fn check_step(what: &str, t: usize, time: usize) {
    assert!(t < time, "{what}: step {t} is outside {time} time steps");
}

fn check_row(what: &str, b: usize, batch: usize) {
    assert!(b < batch, "{what}: row {b} is outside a batch of {batch}");
}

/// `(batch, time)` of nested rows, rejecting empty and ragged input.
fn nested_dims(
    mut lens: impl Iterator<Item = usize>,
    layer: &str,
    unit: &'static str,
) -> Result<(usize, usize)> {
    let Some(time) = lens.next() else {
        return Err(empty_batch(layer));
    };
    let mut batch = 1usize;
    for len in lens {
        if len != time {
            return Err(Error::Ragged {
                layer: layer.to_string(),
                row: batch,
                len,
                expected: time,
                unit,
            });
        }
        // Counts rows of a slice in memory: at most `isize::MAX`.
        batch = batch.saturating_add(1);
    }
    check_nonempty(batch, time, layer)?;
    Ok((batch, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_round_trip_between_layouts() {
        let rows = vec![
            vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]],
            vec![vec![7.0, 8.0], vec![9.0, 10.0], vec![11.0, 12.0]],
        ];
        let x = Sequence::<2>::from_nested(&rows).unwrap();
        assert_eq!(x.step(1), &[3.0, 4.0, 9.0, 10.0]);
        let flat: Vec<f32> = rows.iter().flatten().flatten().copied().collect();
        assert_eq!(x.to_batch_major(), flat);
        assert_eq!(Sequence::<2>::from_batch_major(&flat, 2, 3).unwrap(), x);
    }

    #[test]
    fn bad_sequences_are_errors() {
        assert!(matches!(
            Sequence::<2>::from_nested(&[]),
            Err(Error::Empty { .. })
        ));
        assert!(matches!(
            Sequence::<2>::from_nested(&[vec![]]),
            Err(Error::Empty { .. })
        ));
        let ragged = vec![vec![vec![1.0, 2.0]], vec![]];
        assert!(matches!(
            Sequence::<2>::from_nested(&ragged),
            Err(Error::Ragged { row: 1, .. })
        ));
        let wrong = vec![vec![vec![1.0, 2.0, 3.0]]];
        let err = Sequence::<2>::from_nested(&wrong).unwrap_err();
        assert!(err.to_string().contains("(batch, time, 2)"), "{err}");
        let nan = vec![vec![vec![1.0, f32::NAN]]];
        assert!(matches!(
            Sequence::<2>::from_nested(&nan),
            Err(Error::NonFinite { index: 1, .. })
        ));
        assert!(Sequence::<2>::from_batch_major(&[1.0; 5], 1, 3).is_err());
    }

    #[test]
    fn token_batches_check_their_shape() {
        assert!(TokenBatch::new(vec![vec![1], vec![2, 3]]).is_err());
        assert!(TokenBatch::new(vec![vec![], vec![]]).is_err());
        assert!(TokenBatch::from_flat(vec![1, 2, 3], 2, 2).is_err());
        let ids = TokenBatch::from_flat(vec![1, 2, 3, 4, 5, 6], 2, 3).unwrap();
        assert_eq!(ids.row(1), &[4, 5, 6]);
    }

    #[test]
    fn features_check_their_shape() {
        assert!(Features::<2>::from_rows(&[]).is_err());
        assert!(Features::<2>::from_rows(&[vec![1.0]]).is_err());
        assert!(Features::<2>::from_flat(&[1.0, 2.0, 3.0]).is_err());
        assert!(Features::<2>::from_flat(&[1.0, f32::INFINITY]).is_err());
    }
}
