//! `Embedding`: token ids to vectors, optionally producing a mask for id 0.

use crate::alloc::{Spare, reserve_params};
use crate::error::{Error, Result};
use crate::init::{Initializer, Rng};
use crate::layer::{Layer, Mode, no_state_grads};
use crate::layer_step::{LayerStep, StepContext, StepData, check_step_len};
use crate::param::{Param, Weights};
use crate::size::{checked_len, row, row_mut};
use crate::tensor::{Mask, Sequence, TokenBatch};

/// A lookup table of `VOCAB` rows of `DIM` values (Keras `Embedding(input_dim, output_dim)`).
///
/// With `mask_zero`, id 0 is padding: the output carries a mask that recurrent layers and
/// pooling honour, as in Keras.
///
/// ```
/// use rnn_runtime::{Embedding, Layer, Mode, TokenBatch, seeded_rng};
/// let mut emb = Embedding::<5, 2>::new("embedding", false, &mut seeded_rng(0));
/// let ids = TokenBatch::new(vec![vec![1, 4]]).unwrap();
/// let x = emb.forward(&ids, Mode::Inference).unwrap();
/// assert_eq!(x.shape(), [1, 2, 2]);
/// let bad = TokenBatch::new(vec![vec![5]]).unwrap();
/// assert!(emb.forward(&bad, Mode::Inference).is_err()); // ids must be < 5
/// ```
/// With `VOCAB` = [`ANY_VOCAB`] the number of rows is chosen at construction
/// ([`Embedding::with_vocab`]), as `model!` does for `Embedding(_, 16)`.
#[derive(Clone, Debug)]
pub struct Embedding<const VOCAB: usize, const DIM: usize> {
    name: String,
    mask_zero: bool,
    /// The number of rows: `VOCAB`, or the one given to `with_vocab`.
    vocab: usize,
    table: Param,
    /// The last output gradient, which has the output's size: the next output's buffer.
    spare: Spare,
}

/// The `VOCAB` of an [`Embedding`] whose number of rows (`input_dim`) is chosen at run time,
/// with [`Embedding::with_vocab`]: `Embedding<ANY_VOCAB, 16>` is Keras' `Embedding(vocab, 16)`
/// for a `vocab` read from a fitted tokenizer. Its type-level [`Weights::PARAMS`] is 0, since
/// no row is known to the compiler; `count_params()` and `summary()` count the table.
///
/// ```
/// use rnn_runtime::{ANY_VOCAB, Embedding, Weights, seeded_rng};
/// let emb = Embedding::<ANY_VOCAB, 4>::with_vocab("embedding", 30, false, &mut seeded_rng(0))?;
/// assert_eq!(emb.vocab(), 30);
/// assert_eq!(emb.params()[0].shape(), &[30, 4]);
/// # Ok::<(), rnn_runtime::Error>(())
/// ```
pub const ANY_VOCAB: usize = 0;

impl<const VOCAB: usize, const DIM: usize> Embedding<VOCAB, DIM> {
    /// A table named `{path}/embeddings`, drawn from Keras' default `uniform(-0.05, 0.05)`.
    /// With `VOCAB` = [`ANY_VOCAB`] the table has no rows: build it with
    /// [`Embedding::with_vocab`].
    pub fn new(path: &str, mask_zero: bool, rng: &mut Rng) -> Self {
        Self::with_initializer(path, mask_zero, Initializer::RANDOM_UNIFORM, rng)
    }

    /// [`new`](Self::new) with Keras' `embeddings_initializer`.
    ///
    /// ```
    /// use rnn_runtime::{Embedding, Initializer, seeded_rng};
    /// let init = Initializer::TruncatedNormal { mean: 0.0, stddev: 0.1 };
    /// let emb = Embedding::<5, 2>::with_initializer("sequential/embedding", false, init, &mut seeded_rng(0));
    /// assert!(emb.vector(4).is_some_and(|v| v.iter().all(|x| x.abs() <= 0.2)));
    /// ```
    pub fn with_initializer(
        path: &str,
        mask_zero: bool,
        embeddings_initializer: Initializer,
        rng: &mut Rng,
    ) -> Self {
        Embedding {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            mask_zero,
            vocab: VOCAB,
            table: Param::new(
                format!("{path}/embeddings"),
                vec![VOCAB, DIM],
                embeddings_initializer.fill(&[VOCAB, DIM], rng),
            ),
            spare: Spare::default(),
        }
    }

    /// A table of `vocab` rows, for `VOCAB` = [`ANY_VOCAB`] (or `vocab` = `VOCAB`): ids
    /// from 0 to `vocab - 1`, as Keras' `Embedding(vocab, DIM)`.
    ///
    /// An error when `vocab` is 0, differs from a fixed `VOCAB`, exceeds the `u32` id range
    /// (2^32 rows), or when the table's memory cannot be allocated; the error names the
    /// layer and the byte size.
    ///
    /// ```
    /// use rnn_runtime::{ANY_VOCAB, Embedding, seeded_rng};
    /// let mut rng = seeded_rng(0);
    /// assert!(Embedding::<ANY_VOCAB, 4>::with_vocab("embedding", 0, false, &mut rng).is_err());
    /// assert!(Embedding::<10, 4>::with_vocab("embedding", 11, false, &mut rng).is_err());
    /// let emb = Embedding::<ANY_VOCAB, 4>::with_vocab("embedding", 11, false, &mut rng)?;
    /// assert_eq!(emb.vector(10).map(<[f32]>::len), Some(4));
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn with_vocab(path: &str, vocab: usize, mask_zero: bool, rng: &mut Rng) -> Result<Self> {
        Self::with_vocab_and_initializer(path, vocab, mask_zero, Initializer::RANDOM_UNIFORM, rng)
    }

    /// [`with_vocab`](Self::with_vocab) with Keras' `embeddings_initializer`.
    ///
    /// ```
    /// use rnn_runtime::{ANY_VOCAB, Embedding, Initializer, seeded_rng};
    /// let emb = Embedding::<ANY_VOCAB, 2>::with_vocab_and_initializer(
    ///     "embedding", 3, false, Initializer::Ones, &mut seeded_rng(0))?;
    /// assert_eq!(emb.vector(2), Some(&[1.0, 1.0][..]));
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn with_vocab_and_initializer(
        path: &str,
        vocab: usize,
        mask_zero: bool,
        embeddings_initializer: Initializer,
        rng: &mut Rng,
    ) -> Result<Self> {
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        let fixed = if VOCAB == ANY_VOCAB {
            String::new()
        } else {
            format!(" (the model fixes it at {VOCAB})")
        };
        // Every id is a u32, so a table of more than 2^32 rows has rows no id reaches.
        let ids: u64 = 1 << 32;
        let max_id = vocab.checked_sub(1).map(u32::try_from);
        if !matches!(max_id, Some(Ok(_))) || (VOCAB != ANY_VOCAB && vocab != VOCAB) {
            return Err(Error::config(
                name,
                format!(
                    "the vocabulary size (input_dim) must be from 1 to {ids}{fixed}, found \
                     {vocab}: token ids go from 0 to vocab - 1 (a tokenizer's `vocab_size()`, \
                     Keras' `len(word_index) + 1`)"
                ),
            ));
        }
        let len = checked_len(&name, &[vocab, DIM])?;
        // Reserved first, so a table too large for memory is an error, not an abort.
        reserve_params(&name, len)?;
        let values = embeddings_initializer.fill(&[vocab, DIM], rng);
        Ok(Embedding {
            name,
            mask_zero,
            vocab,
            table: Param::new(format!("{path}/embeddings"), vec![vocab, DIM], values),
            spare: Spare::default(),
        })
    }

    /// The number of rows (`input_dim`): `VOCAB`, or the one given to
    /// [`Embedding::with_vocab`].
    ///
    /// ```
    /// use rnn_runtime::{Embedding, seeded_rng};
    /// assert_eq!(Embedding::<7, 2>::new("embedding", false, &mut seeded_rng(0)).vocab(), 7);
    /// ```
    pub fn vocab(&self) -> usize {
        self.vocab
    }

    /// Whether id 0 is masked.
    pub fn mask_zero(&self) -> bool {
        self.mask_zero
    }

    /// The vector of one id, e.g. to inspect a trained embedding.
    pub fn vector(&self, id: u32) -> Option<&[f32]> {
        self.table().row(id)
    }

    fn check_ids(&self, ids: &TokenBatch) -> Result<()> {
        self.table().check(ids)
    }

    fn table(&self) -> Lookup<'_> {
        Lookup {
            name: &self.name,
            table: self.table.values(),
            vocab: self.vocab,
            dim: DIM,
            mask_zero: self.mask_zero,
            stamp: self.table.stamp(),
        }
    }
}

/// An Embedding's table as the layer after it sees it at inference, to fold the table into
/// its input projection (see [`Layer::forward_lookup`]).
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Lookup<'a> {
    name: &'a str,
    /// `(vocab, dim)`, row-major.
    pub(crate) table: &'a [f32],
    pub(crate) vocab: usize,
    pub(crate) dim: usize,
    mask_zero: bool,
    /// The table's version (see `Param`).
    pub(crate) stamp: u64,
}

impl<'a> Lookup<'a> {
    /// Checks that every id has a row.
    pub(crate) fn check(&self, ids: &TokenBatch) -> Result<()> {
        // A batch has at least one step; `max(1)` only keeps `chunks_exact` total.
        for (b, row) in ids.ids().chunks_exact(ids.time().max(1)).enumerate() {
            if let Some((t, &id)) = row
                .iter()
                .enumerate()
                .find(|&(_, &id)| id as usize >= self.vocab)
            {
                return Err(self.out_of_range(id, b, t));
            }
        }
        Ok(())
    }

    /// The row of `id`, or `None` when the table has none.
    pub(crate) fn row(&self, id: u32) -> Option<&'a [f32]> {
        let id = id as usize;
        if id >= self.vocab {
            return None;
        }
        crate::size::row(self.table, id, self.dim)
    }

    fn out_of_range(&self, id: u32, batch: usize, step: usize) -> Error {
        Error::TokenOutOfRange {
            layer: self.name.to_string(),
            id,
            batch,
            step,
            vocab: self.vocab,
        }
    }

    /// The mask of `ids` with `mask_zero` (id 0 is padding), else `None`.
    pub(crate) fn mask(&self, ids: &TokenBatch) -> Option<Mask> {
        if !self.mask_zero {
            return None;
        }
        let (batch, time) = (ids.batch(), ids.time());
        let valid = (0..time)
            .flat_map(|t| (0..batch).map(move |b| ids.get(b, t) != 0))
            .collect();
        Some(Mask::from_time_major(batch, time, valid))
    }
}

impl<const VOCAB: usize, const DIM: usize> Weights for Embedding<VOCAB, DIM> {
    const PARAMS: usize = rnn_spec::embedding_params(VOCAB, DIM);
    fn params(&self) -> Vec<&Param> {
        vec![&self.table]
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.table]
    }
}

impl<const VOCAB: usize, const DIM: usize> Layer<TokenBatch> for Embedding<VOCAB, DIM> {
    type Output = Sequence<DIM>;

    fn forward(&mut self, ids: &TokenBatch, _mode: Mode) -> Result<Sequence<DIM>> {
        self.check_ids(ids)?;
        let (batch, time) = (ids.batch(), ids.time());
        let len = checked_len(&self.name, &[batch, time, DIM])?;
        let mut data = self.spare.take(&self.name, len)?;
        let table = self.table();
        for t in 0..time {
            for b in 0..batch {
                let id = ids.get(b, t);
                let row = table.row(id).ok_or_else(|| table.out_of_range(id, b, t))?;
                data.extend_from_slice(row);
            }
        }
        let mut out = Sequence::from_time_major(batch, time, data);
        out.set_mask(self.table().mask(ids));
        Ok(out)
    }

    fn check_input(&self, ids: &TokenBatch) -> Result<()> {
        self.check_ids(ids)
    }

    fn lookup(&self) -> Option<Lookup<'_>> {
        Some(self.table())
    }

    fn backward(&mut self, ids: &TokenBatch, dy: Sequence<DIM>, dstates: &[&[f32]]) -> Result<()> {
        no_state_grads(&self.name, dstates)?;
        let (batch, time) = (ids.batch(), ids.time());
        if (dy.batch(), dy.time()) != (batch, time) {
            return Err(Error::shape(
                format!("{}: output gradient", self.name),
                format!("({batch}, {time}, {DIM})"),
                format!("({}, {}, {DIM})", dy.batch(), dy.time()),
            ));
        }
        self.check_ids(ids)?;
        let grad = self.table.grad_mut();
        for t in 0..time {
            let step = dy.step(t);
            for b in 0..batch {
                let id = ids.get(b, t);
                // Ids were checked against the table above, and `dy` has `batch` rows.
                let (Some(row), Some(d)) = (row_mut(grad, id as usize, DIM), row(step, b, DIM))
                else {
                    return Err(Error::shape(
                        format!("{}: output gradient", self.name),
                        format!("({batch}, {time}, {DIM})"),
                        format!("({}, {}, {DIM}) with id {id}", dy.batch(), dy.time()),
                    ));
                };
                row.iter_mut().zip(d).for_each(|(g, d)| *g += d);
            }
        }
        self.spare.keep(dy.into_time_major());
        Ok(())
    }

    fn step_init(&self, batch: usize) -> Result<LayerStep> {
        LayerStep::plain(&self.name, batch, DIM)
    }

    /// Looks up one id per row; with `mask_zero`, id 0 marks the row as padding for this step.
    fn step(&self, x: StepData<'_>, cx: &mut StepContext, state: &mut LayerStep) -> Result<()> {
        let StepData::Ids(ids) = x else {
            return Err(Error::config(
                self.name.clone(),
                "takes token ids (u32), not feature values",
            ));
        };
        state.check_owner(&self.name, DIM)?;
        let batch = state.batch();
        check_step_len(&self.name, ids.len(), batch, 1)?;
        let table = self.table();
        if let Some((b, &id)) = ids
            .iter()
            .enumerate()
            .find(|&(_, &id)| table.row(id).is_none())
        {
            return Err(table.out_of_range(id, b, cx.step));
        }
        let out_len = state.out.len();
        for (b, &id) in ids.iter().enumerate() {
            let from = table
                .row(id)
                .ok_or_else(|| table.out_of_range(id, b, cx.step))?;
            let to = row_mut(&mut state.out, b, DIM).ok_or_else(|| {
                Error::shape(
                    format!("{}: step state", self.name),
                    format!("({batch}, {DIM})"),
                    format!("{out_len} values"),
                )
            })?;
            to.copy_from_slice(from);
        }
        cx.masked = false;
        if self.mask_zero {
            cx.valid.resize(batch, true);
            for (v, &id) in cx.valid.iter_mut().zip(ids) {
                *v = id != 0;
                cx.masked |= id == 0;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::seeded_rng;

    /// The next forward pass writes into the gradient the last backward pass consumed, and
    /// gives the values of a fresh layer.
    #[test]
    fn the_next_output_reuses_the_last_gradient_buffer() {
        let mut emb = Embedding::<5, 2>::new("embedding", false, &mut seeded_rng(0));
        let ids = TokenBatch::new(vec![vec![1, 4, 0], vec![3, 3, 2]]).unwrap();
        let first = emb.forward(&ids, Mode::Training).unwrap();
        let dy = Sequence::<2>::from_time_major(2, 3, vec![0.5; 12]);
        let at = dy.as_slice().as_ptr();
        emb.backward(&ids, dy, &[]).unwrap();
        let again = emb.forward(&ids, Mode::Training).unwrap();
        assert_eq!(again.as_slice().as_ptr(), at);
        let fresh = emb.clone().forward(&ids, Mode::Training).unwrap();
        assert_eq!(again.as_slice(), fresh.as_slice());
        assert_eq!(
            first.as_slice(),
            fresh.as_slice(),
            "backward left the table"
        );
    }
}
