//! `Embedding`: token ids to vectors, optionally producing a mask for id 0.

#![allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "Not yet converted to checked forms (issue 12): indices and sizes here derive \
              from tensors whose shapes were checked on entry and whose lengths \
              `size::checked_len` bounded"
)]

use crate::error::{Error, Result};
use crate::init::{Rng, uniform};
use crate::layer::{Layer, Mode, no_state_grads};
use crate::layer_step::{LayerStep, StepContext, StepData, check_step_len};
use crate::param::{Param, Weights};
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
#[derive(Clone, Debug)]
pub struct Embedding<const VOCAB: usize, const DIM: usize> {
    name: String,
    mask_zero: bool,
    table: Param,
}

impl<const VOCAB: usize, const DIM: usize> Embedding<VOCAB, DIM> {
    /// A table named `{path}/embeddings`, drawn from Keras' default `uniform(-0.05, 0.05)`.
    pub fn new(path: &str, mask_zero: bool, rng: &mut Rng) -> Self {
        Embedding {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            mask_zero,
            table: Param::new(
                format!("{path}/embeddings"),
                vec![VOCAB, DIM],
                uniform(VOCAB * DIM, 0.05, rng),
            ),
        }
    }

    /// Whether id 0 is masked.
    pub fn mask_zero(&self) -> bool {
        self.mask_zero
    }

    /// The vector of one id, e.g. to inspect a trained embedding.
    pub fn vector(&self, id: u32) -> Option<&[f32]> {
        let id = id as usize;
        (id < VOCAB).then(|| &self.table.values()[id * DIM..(id + 1) * DIM])
    }

    fn check_ids(&self, ids: &TokenBatch) -> Result<()> {
        match ids.ids().iter().position(|&id| id as usize >= VOCAB) {
            None => Ok(()),
            Some(at) => Err(Error::TokenOutOfRange {
                layer: self.name.clone(),
                id: ids.ids()[at],
                batch: at / ids.time(),
                step: at % ids.time(),
                vocab: VOCAB,
            }),
        }
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
        let table = self.table.values();
        let mut data = vec![0.0f32; batch * time * DIM];
        for t in 0..time {
            for b in 0..batch {
                let id = ids.get(b, t) as usize;
                let at = (t * batch + b) * DIM;
                data[at..at + DIM].copy_from_slice(&table[id * DIM..(id + 1) * DIM]);
            }
        }
        let mut out = Sequence::from_time_major(batch, time, data);
        if self.mask_zero {
            let mut valid = vec![true; batch * time];
            for t in 0..time {
                for b in 0..batch {
                    valid[t * batch + b] = ids.get(b, t) != 0;
                }
            }
            out.set_mask(Some(Mask::from_time_major(batch, time, valid)));
        }
        Ok(out)
    }

    fn check_input(&self, ids: &TokenBatch) -> Result<()> {
        self.check_ids(ids)
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
        let grad = self.table.grad_mut();
        for t in 0..time {
            let step = dy.step(t);
            for b in 0..batch {
                let id = ids.get(b, t) as usize;
                let row = &mut grad[id * DIM..(id + 1) * DIM];
                row.iter_mut()
                    .zip(&step[b * DIM..(b + 1) * DIM])
                    .for_each(|(g, d)| *g += d);
            }
        }
        Ok(())
    }

    fn step_init(&self, batch: usize) -> Result<LayerStep> {
        Ok(LayerStep::plain(&self.name, batch, DIM))
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
        if let Some(b) = ids.iter().position(|&id| id as usize >= VOCAB) {
            return Err(Error::TokenOutOfRange {
                layer: self.name.clone(),
                id: ids[b],
                batch: b,
                step: cx.step,
                vocab: VOCAB,
            });
        }
        let table = self.table.values();
        for (&id, row) in ids.iter().zip(state.out.chunks_exact_mut(DIM)) {
            let id = id as usize;
            row.copy_from_slice(&table[id * DIM..(id + 1) * DIM]);
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
