//! `Dropout(rate)`: passes its input on unchanged in shape.

use rnn_spec::LayerClass;

use super::{Checked, Feed, plain};
use crate::bind::Args;
use crate::ctxt::Ctxt;
use crate::ir::{Layer, LayerKind};

pub fn dropout(feed: &Feed, args: &Args, cx: &Ctxt) -> Option<Checked> {
    let rate = args.rate(cx)?;
    let shape = feed.shape()?;
    let layer = Layer {
        name: String::new(),
        class: LayerClass::Dropout,
        outputs: vec![shape],
        params: Some(0),
        kind: LayerKind::Dropout { rate },
    };
    Some(plain(layer, shape))
}
