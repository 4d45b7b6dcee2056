//! `Embedding(input_dim, output_dim, embeddings_initializer, mask_zero, input_length)`: token ids to vectors.

use rnn_spec::LayerClass;

use super::{Checked, plain};
use crate::bind::Args;
use crate::ctxt::Ctxt;
use crate::ir::{self, Layer, LayerKind, Shape, Size};

/// The checked layer and its fixed number of steps, if it is the model's first layer (the
/// caller reports a later one; its arguments are still checked here).
pub fn embedding(args: &Args, first: bool, cx: &Ctxt) -> Option<(Checked, Option<usize>)> {
    let example = "Embedding(10000, 64)";
    // `_`: chosen at construction (`Name::with_vocab`), since no later size depends on it.
    let vocab = if args.run_time("input_dim") {
        Some(None)
    } else {
        args.required_size("input_dim", example, cx).map(Some)
    };
    let dim = args.required_size("output_dim", example, cx);
    let init = args.initializer("embeddings_initializer", false, cx);
    let mask_zero = args.boolean("mask_zero", cx);
    let time = args.literal_size("input_length", cx);
    let (vocab, dim, init, mask_zero, time) = (vocab?, dim?, init?, mask_zero?, time?);
    first.then_some(())?;
    let output = Shape::Sequence {
        time,
        features: dim,
    };
    let layer = Layer {
        name: String::new(),
        class: LayerClass::Embedding,
        outputs: vec![output],
        params: vocab
            .and_then(Size::known)
            .zip(dim.known())
            .map(|(v, d)| v as u128 * d as u128),
        kind: LayerKind::Embedding(ir::Embedding {
            vocab,
            dim,
            embeddings_initializer: init,
            mask_zero,
        }),
    };
    Some((plain(layer, output), time))
}
