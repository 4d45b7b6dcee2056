//! `GlobalAveragePooling1D`: the mean over time steps.

use rnn_spec::LayerClass;

use super::{Checked, Feed, plain};
use crate::ctxt::Ctxt;
use crate::ir::{Layer, LayerKind, Shape};

pub fn pooling(feed: &Feed, cx: &Ctxt) -> Option<Checked> {
    let (_, features) = feed.sequence(cx)?;
    let output = Shape::Vector { features };
    let layer = Layer {
        name: String::new(),
        class: LayerClass::GlobalAveragePooling1D,
        outputs: vec![output],
        params: Some(0),
        kind: LayerKind::Pooling,
    };
    Some(plain(layer, output))
}
