//! An Embedding folded into the recurrent layer after it, at inference: the layer's input
//! projection of token `v` is `E[v] W + b` whatever the step, so a table of those rows,
//! made once per version of the weights, turns the projection of every step into a lookup.
//!
//! Making the table costs as much as projecting `vocab` tokens, so it is made only once that
//! many tokens have gone through the layer since the weights last changed (until then the
//! Embedding runs as usual): folding then never costs more than twice what it saves, and a
//! model that predicts more than its vocabulary's worth of tokens between weight updates pays
//! one lookup per token. Training (and `Mode::InferenceGrad`) never folds: the weights change
//! at every step and the backward pass needs the embedded input.

use crate::error::Result;
use crate::layers::cell::Cell;
use crate::layers::embedding::Lookup;
use crate::param::Param;
use crate::tensor::{Mask, TokenBatch};

use super::RnnCore;

/// Largest table folded, in values (64 MiB): a larger vocabulary times gates is left to the
/// product, whose input is the smaller Embedding row.
const MAX_VALUES: usize = 1 << 24;

/// The folded table and what it was made from.
#[derive(Clone, Debug, Default)]
pub(super) struct Folded {
    /// Versions of the Embedding's table, the kernel and the bias the table is for.
    key: (u64, u64, u64),
    /// Tokens projected since those versions, while the table is not made.
    seen: usize,
    /// `(vocab, G*H)`: row `v` is `E[v] W + b`; empty until made.
    rows: Vec<f32>,
}

impl<C: Cell> RnnCore<C> {
    /// An inference pass over `ids` embedded by `lookup`, reading the folded table; returns
    /// the input mask. `None` when the table is not (yet) worth making: then the caller runs
    /// the Embedding and [`RnnCore::forward`].
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::indexing_slicing,
        reason = "`vocab * gh <= MAX_VALUES` is checked first and bounds the table; every id \
                  is checked against `vocab` before the run, a batch has at least one row, \
                  and `z` holds `batch * time` rows of `gh`"
    )]
    pub(crate) fn forward_lookup(
        &mut self,
        ids: &TokenBatch,
        lookup: Lookup<'_>,
    ) -> Option<Result<Option<Mask>>> {
        let gh = C::GATES * self.units;
        if lookup.dim != self.input || lookup.vocab.checked_mul(gh).is_none_or(|n| n > MAX_VALUES) {
            return None;
        }
        let key = (
            lookup.stamp,
            self.kernel.stamp(),
            self.bias.as_ref().map_or(0, Param::stamp),
        );
        if self.fold.key != key {
            self.fold = Folded {
                key,
                ..Folded::default()
            };
        }
        if self.fold.rows.is_empty() {
            self.fold.seen = self.fold.seen.saturating_add(ids.ids().len());
            if self.fold.seen < lookup.vocab {
                return None;
            }
            let mut rows = vec![0.0f32; lookup.vocab * gh];
            self.project_input(lookup.table, lookup.vocab, &mut rows);
            self.fold.rows = rows;
        }
        if let Err(e) = lookup.check(ids) {
            return Some(Err(e));
        }
        let mask = lookup.mask(ids);
        let (batch, time) = (ids.batch(), ids.time());
        let rows = std::mem::take(&mut self.fold.rows);
        let done = self.run(
            batch,
            time,
            mask.as_ref(),
            crate::layer::Mode::Inference,
            |_, steps, z| {
                for (at, z) in z.chunks_exact_mut(gh).enumerate() {
                    // `z` is time-major from `steps.start`: row `at` is step `at / batch` of
                    // the block, of sequence `at % batch`.
                    let id = ids.get(at % batch, steps.start + at / batch) as usize;
                    z.copy_from_slice(&rows[id * gh..(id + 1) * gh]);
                }
            },
        );
        self.fold.rows = rows;
        Some(done.map(|()| mask))
    }
}

#[cfg(test)]
mod tests {
    use crate::layer::{Layer, Mode, Stack, stack};
    use crate::layers::embedding::Embedding;
    use crate::layers::lstm::Lstm;
    use crate::layers::rnn_config::{RnnConfig, Sequences};
    use crate::param::Weights;
    use crate::tensor::TokenBatch;

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-6 + 1e-5 * y.abs(), "{x} vs {y}");
        }
    }

    #[test]
    fn the_table_is_made_after_a_vocabulary_of_tokens_and_again_after_new_weights() {
        let mut rng = crate::init::seeded_rng(3);
        let mut emb = Embedding::<30, 5>::new("embedding", true, &mut rng);
        let mut lstm = Lstm::<5, 7, Sequences>::new("lstm", RnnConfig::default(), &mut rng);
        // 24 tokens, padding (id 0) included: the first pass counts them, the second (48 in
        // all, more than the vocabulary of 30) makes the table and reads it.
        let ids = TokenBatch::new(vec![
            vec![0, 3, 11, 4, 4, 9, 1, 2],
            vec![5, 6, 0, 7, 8, 29, 11, 3],
            vec![1, 1, 2, 3, 5, 8, 0, 0],
        ])
        .unwrap();
        for round in 0..3 {
            let x = emb.forward(&ids, Mode::Inference).unwrap();
            let want = lstm.forward(&x, Mode::Inference).unwrap();
            let lookup = emb.lookup().unwrap();
            assert!(lstm.forward_lookup(&ids, lookup).is_none(), "round {round}");
            let got = lstm.forward_lookup(&ids, lookup).unwrap().unwrap();
            close(got.as_slice(), want.as_slice());
            assert_eq!(got.mask(), want.mask());
            assert!(got.mask().is_some());
            // New weights (the embedding, then the kernel): the table is made again.
            let p = if round == 0 {
                &mut emb.params_mut()[0]
            } else {
                &mut lstm.params_mut()[0]
            };
            p.values_mut().iter_mut().for_each(|v| *v = -*v * 0.5);
        }
        let bad = TokenBatch::new(vec![vec![30; 48]]).unwrap();
        assert!(
            lstm.forward_lookup(&bad, emb.lookup().unwrap())
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn a_chain_folds_at_inference_only_and_gives_the_same_outputs() {
        let mut rng = crate::init::seeded_rng(4);
        let mut net = stack::<TokenBatch, _>(Embedding::<6, 3>::new("embedding", false, &mut rng))
            .then(Lstm::<3, 4>::new("lstm", RnnConfig::default(), &mut rng));
        let ids = TokenBatch::new(vec![vec![1, 2, 3, 4, 5, 0, 1, 2]]).unwrap();
        // `InferenceGrad` records, so it never folds: the reference.
        let want = net.forward(&ids, Mode::InferenceGrad).unwrap();
        for _ in 0..3 {
            let got = net.forward(&ids, Mode::Inference).unwrap();
            close(got.as_slice(), want.as_slice());
        }
    }
}
