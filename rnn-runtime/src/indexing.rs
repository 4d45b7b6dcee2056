//! Reading outputs by sample and step, without index arithmetic: `out[(row, step)]`,
//! `out[row]`, fallible getters (`row(i)`, `step(i, t)`, `try_get`) and iterators over the
//! samples, for [`Array`] (what `predict` returns), [`Features`] and [`Sequence`].
//!
//! The indexing operators panic on an index out of range, as slices do, with a message
//! naming the index and the shape; the getters return `None` instead.

use std::ops::Index;

use crate::output::Array;
use crate::tensor::{Features, Sequence};

impl Array {
    /// The values of sample `i` (batch first): its `F` features, or its `T * F` values of a
    /// `(batch, T, F)` sequence output; `None` beyond the batch.
    ///
    /// ```
    /// use rnn_runtime::Array;
    /// let probs = Array::new("output", vec![2, 3], vec![0.1, 0.2, 0.7, 0.6, 0.3, 0.1]);
    /// assert_eq!(probs.row(1), Some(&[0.6, 0.3, 0.1][..]));
    /// assert_eq!(probs.row(2), None);
    /// ```
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let width = self.sample_width();
        let start = i.checked_mul(width)?;
        self.data.get(start..start.checked_add(width)?)
    }

    /// The `F` features of sample `i` at step `t` of a `(batch, T, F)` output; `None` out of
    /// range or for an output without a time axis.
    ///
    /// ```
    /// use rnn_runtime::Array;
    /// // 1 sample, 2 steps, 2 features.
    /// let seq = Array::new("output", vec![1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(seq.step(0, 1), Some(&[3.0, 4.0][..]));
    /// assert_eq!(seq[(0, 1)], [3.0, 4.0]);
    /// assert_eq!(seq.step(0, 2), None);
    /// ```
    pub fn step(&self, i: usize, t: usize) -> Option<&[f32]> {
        let &[batch, time, features] = self.shape.as_slice() else {
            return None;
        };
        if i >= batch || t >= time {
            return None;
        }
        // The fields are public, so the shape need not match the data: checked.
        let position = i.checked_mul(time)?.checked_add(t)?;
        crate::size::row(&self.data, position, features)
    }

    /// The value at a multi-index, or `None` for an index of the wrong rank or out of range
    /// (the fallible [`Array::get`]).
    ///
    /// ```
    /// use rnn_runtime::Array;
    /// let a = Array::new("output", vec![2, 1], vec![0.25, 0.75]);
    /// assert_eq!(a.try_get(&[1, 0]), Some(0.75));
    /// assert_eq!(a.try_get(&[2, 0]), None);
    /// assert_eq!(a.try_get(&[1]), None);
    /// ```
    pub fn try_get(&self, index: &[usize]) -> Option<f32> {
        if index.len() != self.shape.len() {
            return None;
        }
        let mut flat = 0usize;
        for (&i, &d) in index.iter().zip(&self.shape) {
            if i >= d {
                return None;
            }
            flat = flat.checked_mul(d)?.checked_add(i)?;
        }
        self.data.get(flat).copied()
    }

    /// The number of samples (the first axis).
    ///
    /// ```
    /// use rnn_runtime::Array;
    /// assert_eq!(Array::new("output", vec![3, 2], vec![0.0; 6]).batch(), 3);
    /// ```
    pub fn batch(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// The values per sample: the product of every axis but the first.
    fn sample_width(&self) -> usize {
        self.shape.iter().skip(1).product()
    }
}

/// `out[i]`: the values of sample `i`, as [`Array::row`].
///
/// ```
/// use rnn_runtime::Array;
/// let probs = Array::new("output", vec![2, 2], vec![0.9, 0.1, 0.2, 0.8]);
/// assert_eq!(probs[1], [0.2, 0.8]);
/// let best: Vec<usize> = (0..probs.batch())
///     .map(|i| if probs[i][0] > probs[i][1] { 0 } else { 1 })
///     .collect();
/// assert_eq!(best, [0, 1]);
/// ```
impl Index<usize> for Array {
    type Output = [f32];

    fn index(&self, i: usize) -> &[f32] {
        match self.row(i) {
            Some(row) => row,
            None => panic!(
                "sample {i} is out of range for `{}` of shape {:?}",
                self.name, self.shape
            ),
        }
    }
}

/// `out[(i, t)]`: the features of sample `i` at step `t` of a `(batch, T, F)` output, as
/// [`Array::step`].
impl Index<(usize, usize)> for Array {
    type Output = [f32];

    fn index(&self, (i, t): (usize, usize)) -> &[f32] {
        match self.step(i, t) {
            Some(features) => features,
            None => panic!(
                "(sample {i}, step {t}) is out of range for `{}` of shape {:?}: indexing by \
                 (sample, step) takes a (batch, time, features) output",
                self.name, self.shape
            ),
        }
    }
}

impl<const D: usize> Features<D> {
    /// Row `b`, or `None` beyond the batch (the fallible [`Features::row`]).
    ///
    /// ```
    /// use rnn_runtime::Features;
    /// let x = Features::<2>::from_rows(&[vec![1.0, 2.0]]).unwrap();
    /// assert_eq!(x.try_row(0), Some(&[1.0, 2.0][..]));
    /// assert_eq!(x.try_row(1), None);
    /// ```
    pub fn try_row(&self, b: usize) -> Option<&[f32]> {
        let start = b.checked_mul(D)?;
        self.as_slice().get(start..start.checked_add(D)?)
    }

    /// Feature `j` of row `b`, or `None` out of range.
    ///
    /// ```
    /// use rnn_runtime::Features;
    /// let x = Features::<2>::from_rows(&[vec![1.0, 2.0]]).unwrap();
    /// assert_eq!(x.try_get(0, 1), Some(2.0));
    /// assert_eq!(x[(0, 1)], 2.0);
    /// assert_eq!(x.try_get(0, 2), None);
    /// ```
    pub fn try_get(&self, b: usize, j: usize) -> Option<f32> {
        self.try_row(b)?.get(j).copied()
    }

    /// The rows, one per sample.
    ///
    /// ```
    /// use rnn_runtime::Features;
    /// let x = Features::<2>::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
    /// let sums: Vec<f32> = x.rows().map(|r| r.iter().sum()).collect();
    /// assert_eq!(sums, [3.0, 7.0]);
    /// ```
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.as_slice().chunks_exact(D)
    }
}

/// `x[b]`: row `b`, as [`Features::row`].
///
/// ```
/// use rnn_runtime::Features;
/// let x = Features::<2>::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
/// assert_eq!(x[1], [3.0, 4.0]);
/// ```
impl<const D: usize> Index<usize> for Features<D> {
    type Output = [f32];

    fn index(&self, b: usize) -> &[f32] {
        match self.try_row(b) {
            Some(row) => row,
            None => panic!("row {b} is out of range for a batch of {}", self.batch()),
        }
    }
}

/// `x[(b, j)]`: feature `j` of row `b`.
impl<const D: usize> Index<(usize, usize)> for Features<D> {
    type Output = f32;

    fn index(&self, (b, j): (usize, usize)) -> &f32 {
        match self.try_row(b).and_then(|row| row.get(j)) {
            Some(v) => v,
            None => panic!(
                "(row {b}, feature {j}) is out of range for shape ({}, {D})",
                self.batch()
            ),
        }
    }
}

impl<const D: usize> Sequence<D> {
    /// The features of row `b` at step `t`, or `None` out of range (the fallible
    /// [`Sequence::get`]).
    ///
    /// ```
    /// use rnn_runtime::Sequence;
    /// let x = Sequence::<2>::from_nested(&[vec![vec![1.0, 2.0], vec![3.0, 4.0]]]).unwrap();
    /// assert_eq!(x.try_get(0, 1), Some(&[3.0, 4.0][..]));
    /// assert_eq!(x[(0, 1)], [3.0, 4.0]);
    /// assert_eq!(x.try_get(1, 0), None);
    /// ```
    pub fn try_get(&self, b: usize, t: usize) -> Option<&[f32]> {
        if b >= self.batch() || t >= self.time() {
            return None;
        }
        // Time-major: position `t * batch + b`.
        let position = t.checked_mul(self.batch())?.checked_add(b)?;
        crate::size::row(self.as_slice(), position, D)
    }

    /// The steps of row `b`, in order, or `None` beyond the batch.
    ///
    /// ```
    /// use rnn_runtime::Sequence;
    /// let x = Sequence::<1>::from_nested(&[vec![vec![1.0], vec![2.0]], vec![vec![3.0], vec![4.0]]]).unwrap();
    /// let steps: Vec<&[f32]> = x.sample(1).unwrap().collect();
    /// assert_eq!(steps, [&[3.0][..], &[4.0][..]]);
    /// ```
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`b < batch` and `t < time`, so `(t * batch + b + 1) * D` is at most \
                  `batch * time * D`, the length of the sequence's data"
    )]
    pub fn sample(&self, b: usize) -> Option<impl ExactSizeIterator<Item = &[f32]> + '_> {
        let (batch, data) = (self.batch(), self.as_slice());
        // Row `b` of step `t` is at position `t * batch + b`, in bounds for `b < batch`.
        (b < batch).then(|| {
            (0..self.time()).map(move |t| {
                let start = (t * batch + b) * D;
                &data[start..start + D]
            })
        })
    }
}

/// `x[(b, t)]`: the features of row `b` at step `t`, as [`Sequence::get`].
impl<const D: usize> Index<(usize, usize)> for Sequence<D> {
    type Output = [f32];

    fn index(&self, (b, t): (usize, usize)) -> &[f32] {
        match self.try_get(b, t) {
            Some(features) => features,
            None => panic!(
                "(row {b}, step {t}) is out of range for shape ({}, {}, {D})",
                self.batch(),
                self.time()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_index_by_sample_and_step() {
        // 2 samples, 3 steps, 2 features: value = 100 * sample + 10 * step + feature.
        let data = (0..2)
            .flat_map(|i| {
                (0..3).flat_map(move |t| (0..2).map(move |f| (100 * i + 10 * t + f) as f32))
            })
            .collect();
        let a = Array::new("output", vec![2, 3, 2], data);
        assert_eq!(a[(1, 2)], [120.0, 121.0]);
        assert_eq!(a[1].len(), 6);
        assert_eq!(a.step(1, 3), None);
        assert_eq!(a.step(2, 0), None);
        assert_eq!(a.row(2), None);
        assert_eq!(a.try_get(&[1, 2, 1]), Some(121.0));
        let flat = Array::new("output", vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(flat.step(0, 0), None);
        let outcome = std::panic::catch_unwind(|| flat[(0, 0)].len());
        assert!(outcome.is_err());
    }

    #[test]
    fn sequences_index_the_time_major_layout() {
        let x = Sequence::<1>::from_nested(&[
            vec![vec![1.0], vec![2.0], vec![3.0]],
            vec![vec![4.0], vec![5.0], vec![6.0]],
        ])
        .unwrap();
        for b in 0..2 {
            for t in 0..3 {
                assert_eq!(x[(b, t)], *x.get(b, t));
            }
        }
        let second: Vec<f32> = x.sample(1).unwrap().map(|s| s[0]).collect();
        assert_eq!(second, [4.0, 5.0, 6.0]);
        assert!(x.sample(2).is_none());
    }
}
