//! Conversions from user data (nested vectors, flat buffers with a shape) to model inputs.

use crate::error::{Error, Result, fmt_shape};
use crate::tensor::{Features, Sequence, TokenBatch};

/// A tensor type that can be a model's input.
pub trait ModelInput: crate::tensor::Tensor {
    /// Whether the input has a time axis (token ids and sequences do, vectors do not).
    const TIME_AXIS: bool;
    /// Time steps, for sequence inputs.
    fn time_steps(&self) -> Option<usize>;
    /// The input's shape as Keras prints it, with `batch`/`time` placeholders.
    fn expected_shape(time: Option<usize>) -> String;
    /// Rows `[start, end)` of the batch.
    ///
    /// # Panics
    /// If the range is not inside the batch, as slicing panics; `fit`, `evaluate` and
    /// `predict_batched` pass ranges of the batch only.
    fn rows(&self, start: usize, end: usize) -> Self;
    /// The rows at `index`, in that order (for shuffled mini-batches).
    ///
    /// # Panics
    /// If an index is not a row of the batch, as slicing panics.
    fn gather(&self, index: &[usize]) -> Self;
}

#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    reason = "rows of a valid batch (see the trait's `# Panics`): the products are at most \
              the batch's length, which exists in memory"
)]
impl ModelInput for TokenBatch {
    const TIME_AXIS: bool = true;
    fn time_steps(&self) -> Option<usize> {
        Some(self.time())
    }
    fn expected_shape(time: Option<usize>) -> String {
        format!(
            "(batch, {})",
            time.map_or("time".to_string(), |t| t.to_string())
        )
    }
    fn rows(&self, start: usize, end: usize) -> Self {
        let t = self.time();
        TokenBatch::from_flat(self.ids()[start * t..end * t].to_vec(), end - start, t)
            .expect("a non-empty row range of a valid batch is valid")
    }
    fn gather(&self, index: &[usize]) -> Self {
        let ids = index
            .iter()
            .flat_map(|&b| self.row(b).iter().copied())
            .collect();
        TokenBatch::from_flat(ids, index.len(), self.time())
            .expect("gathering existing rows keeps the batch valid")
    }
}

#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    reason = "rows of a valid batch (see the trait's `# Panics`): the products are at most \
              the batch's length, which exists in memory"
)]
impl<const D: usize> ModelInput for Sequence<D> {
    const TIME_AXIS: bool = true;
    fn time_steps(&self) -> Option<usize> {
        Some(self.time())
    }
    fn expected_shape(time: Option<usize>) -> String {
        format!(
            "(batch, {}, {D})",
            time.map_or("time".to_string(), |t| t.to_string())
        )
    }
    fn rows(&self, start: usize, end: usize) -> Self {
        let (batch, time) = (self.batch(), self.time());
        let n = end - start;
        let mut data = Vec::with_capacity(n * time * D);
        for t in 0..time {
            let step = self.step(t);
            data.extend_from_slice(&step[start * D..end * D]);
        }
        debug_assert!(end <= batch);
        Sequence::from_time_major(n, time, data)
    }
    fn gather(&self, index: &[usize]) -> Self {
        let time = self.time();
        let mut data = Vec::with_capacity(index.len() * time * D);
        for t in 0..time {
            let step = self.step(t);
            for &b in index {
                data.extend_from_slice(&step[b * D..(b + 1) * D]);
            }
        }
        Sequence::from_time_major(index.len(), time, data)
    }
}

#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::expect_used,
    reason = "rows of a valid batch (see the trait's `# Panics`): the products are at most \
              the batch's length, which exists in memory"
)]
impl<const D: usize> ModelInput for Features<D> {
    const TIME_AXIS: bool = false;
    fn time_steps(&self) -> Option<usize> {
        None
    }
    fn expected_shape(_: Option<usize>) -> String {
        format!("(batch, {D})")
    }
    fn rows(&self, start: usize, end: usize) -> Self {
        Features::from_vec(end - start, self.as_slice()[start * D..end * D].to_vec())
    }
    fn gather(&self, index: &[usize]) -> Self {
        let data = index
            .iter()
            .flat_map(|&b| self.row(b).iter().copied())
            .collect();
        Features::from_vec(index.len(), data)
    }
}

/// Anything `predict` (and the training API) accepts as input `I`: the tensor itself, nested
/// vectors, or a flat row-major buffer with its shape. Every conversion checks the shape and
/// the values and returns an error rather than panicking.
///
/// ```
/// use rnn_runtime::{IntoInput, Sequence, TokenBatch};
/// let ids: TokenBatch = vec![vec![1u32, 2, 3]].into_input().unwrap();
/// let x: Sequence<2> = (&[0.5f32; 8][..], [2, 2, 2]).into_input().unwrap();
/// let bad: Result<Sequence<3>, _> = (&[0.5f32; 8][..], [2, 2, 2]).into_input();
/// assert!(bad.is_err());
/// ```
///
/// Token ids may also be `i32`, `i64` or `usize` (as NumPy or a tokenizer may give them);
/// a negative id or one above `u32::MAX` is an error naming its place:
///
/// ```
/// use rnn_runtime::{IntoInput, TokenBatch};
/// let ids: TokenBatch = vec![vec![1i64, 2, 3]].into_input().unwrap();
/// assert_eq!(ids.ids(), &[1, 2, 3]);
/// let bad: Result<TokenBatch, _> = vec![vec![4i32, -1]].into_input();
/// assert!(bad.unwrap_err().to_string().contains("token id -1 at [batch 0, step 1]"));
/// ```
pub trait IntoInput<I> {
    /// Converts, checking shape and values.
    fn into_input(self) -> Result<I>;
}

impl<T: Clone> IntoInput<T> for &T {
    fn into_input(self) -> Result<T> {
        Ok(self.clone())
    }
}

impl IntoInput<TokenBatch> for TokenBatch {
    fn into_input(self) -> Result<TokenBatch> {
        Ok(self)
    }
}

impl<const D: usize> IntoInput<Sequence<D>> for Sequence<D> {
    fn into_input(self) -> Result<Sequence<D>> {
        Ok(self)
    }
}

impl<const D: usize> IntoInput<Features<D>> for Features<D> {
    fn into_input(self) -> Result<Features<D>> {
        Ok(self)
    }
}

impl IntoInput<TokenBatch> for Vec<Vec<u32>> {
    fn into_input(self) -> Result<TokenBatch> {
        TokenBatch::new(self)
    }
}

impl IntoInput<TokenBatch> for &Vec<Vec<u32>> {
    fn into_input(self) -> Result<TokenBatch> {
        TokenBatch::from_rows(self)
    }
}

/// Token ids of another integer type, each checked to be a `u32`.
fn checked_ids<T: Copy + ToString>(rows: &[Vec<T>]) -> Result<Vec<Vec<u32>>>
where
    u32: TryFrom<T>,
{
    rows.iter()
        .enumerate()
        .map(|(batch, row)| {
            row.iter()
                .enumerate()
                .map(|(step, &id)| {
                    u32::try_from(id).map_err(|_| Error::BadTokenId {
                        value: id.to_string(),
                        batch,
                        step,
                    })
                })
                .collect()
        })
        .collect()
}

// Token ids as `i32`, `i64` or `usize` (as NumPy or a tokenizer may give them), checked to be
// in `u32`'s range.
macro_rules! wide_token_ids {
    ($($t:ty),*) => {$(
        impl IntoInput<TokenBatch> for Vec<Vec<$t>> {
            fn into_input(self) -> Result<TokenBatch> {
                TokenBatch::new(checked_ids(&self)?)
            }
        }

        impl IntoInput<TokenBatch> for &Vec<Vec<$t>> {
            fn into_input(self) -> Result<TokenBatch> {
                TokenBatch::new(checked_ids(self)?)
            }
        }

        impl IntoInput<TokenBatch> for &[Vec<$t>] {
            fn into_input(self) -> Result<TokenBatch> {
                TokenBatch::new(checked_ids(self)?)
            }
        }
    )*};
}

wide_token_ids!(i32, i64, usize);

impl IntoInput<TokenBatch> for &[Vec<u32>] {
    fn into_input(self) -> Result<TokenBatch> {
        TokenBatch::from_rows(self)
    }
}

impl IntoInput<TokenBatch> for (&[u32], [usize; 2]) {
    fn into_input(self) -> Result<TokenBatch> {
        let (ids, [batch, time]) = self;
        TokenBatch::from_flat(ids.to_vec(), batch, time)
    }
}

impl<const D: usize> IntoInput<Sequence<D>> for &[Vec<Vec<f32>>] {
    fn into_input(self) -> Result<Sequence<D>> {
        Sequence::from_nested(self)
    }
}

impl<const D: usize> IntoInput<Sequence<D>> for &Vec<Vec<Vec<f32>>> {
    fn into_input(self) -> Result<Sequence<D>> {
        Sequence::from_nested(self)
    }
}

impl<const D: usize> IntoInput<Sequence<D>> for Vec<Vec<Vec<f32>>> {
    fn into_input(self) -> Result<Sequence<D>> {
        Sequence::from_nested(&self)
    }
}

impl<const D: usize> IntoInput<Sequence<D>> for (&[f32], [usize; 3]) {
    fn into_input(self) -> Result<Sequence<D>> {
        let (data, [batch, time, features]) = self;
        if features != D {
            return Err(Error::shape(
                "input",
                fmt_shape(&["batch".to_string(), "time".to_string(), D.to_string()]),
                fmt_shape(&[batch, time, features]),
            ));
        }
        Sequence::from_batch_major(data, batch, time)
    }
}

impl<const D: usize> IntoInput<Features<D>> for &[Vec<f32>] {
    fn into_input(self) -> Result<Features<D>> {
        Features::from_rows(self)
    }
}

impl<const D: usize> IntoInput<Features<D>> for &Vec<Vec<f32>> {
    fn into_input(self) -> Result<Features<D>> {
        Features::from_rows(self)
    }
}

impl<const D: usize> IntoInput<Features<D>> for Vec<Vec<f32>> {
    fn into_input(self) -> Result<Features<D>> {
        Features::from_rows(&self)
    }
}

impl<const D: usize> IntoInput<Features<D>> for (&[f32], [usize; 2]) {
    fn into_input(self) -> Result<Features<D>> {
        let (data, [batch, features]) = self;
        if features != D || Some(data.len()) != batch.checked_mul(features) {
            return Err(Error::shape(
                "input",
                fmt_shape(&[batch, D]),
                format!(
                    "{} with {} values",
                    fmt_shape(&[batch, features]),
                    data.len()
                ),
            ));
        }
        Features::from_flat(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_inputs_check_their_shape() {
        let ok: Result<TokenBatch> = (&[1u32, 2, 3, 4][..], [2, 2]).into_input();
        assert_eq!(ok.unwrap().row(1), &[3, 4]);
        let bad: Result<TokenBatch> = (&[1u32, 2, 3][..], [2, 2]).into_input();
        assert!(bad.is_err());
        let bad: Result<Features<3>> = (&[1.0f32; 6][..], [3, 2]).into_input();
        assert!(bad.is_err());
        let ok: Result<Features<3>> = (&[1.0f32; 6][..], [2, 3]).into_input();
        assert_eq!(ok.unwrap().batch(), 2);
    }

    #[test]
    fn row_ranges_keep_the_time_axis() {
        let x = Sequence::<1>::from_batch_major(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2).unwrap();
        let part = x.rows(1, 3);
        assert_eq!(part.to_batch_major(), vec![3.0, 4.0, 5.0, 6.0]);
        let ids = TokenBatch::from_flat(vec![1, 2, 3, 4], 2, 2).unwrap();
        assert_eq!(ids.rows(1, 2).ids(), &[3, 4]);
        assert_eq!(ids.gather(&[1, 0, 1]).ids(), &[3, 4, 1, 2, 3, 4]);
        assert_eq!(x.gather(&[2, 0]).to_batch_major(), vec![5.0, 6.0, 1.0, 2.0]);
    }
}
