//! `Bidirectional(layer, merge_mode)`: a recurrent layer read both ways.

use rnn_spec::LayerClass;

use super::recurrent::{self, Options};
use super::{Checked, Feed, resolve};
use crate::ast::LayerCall;
use crate::bind::{Args, bind};
use crate::ctxt::Ctxt;
use crate::ir::{self, Layer, LayerKind};
use crate::{messages, shapes};

pub fn bidirectional(feed: &Feed, args: &Args, cx: &Ctxt) -> Option<Checked> {
    let merge = args.merge_mode(cx);
    let inner = args
        .nested("Bidirectional(LSTM(64))", cx)
        .and_then(|inner| wrapped(feed.call, inner, cx));
    let (time, input) = feed.sequence(cx)?;
    let ((options, inner_name), merge) = (inner?, merge?);
    let rnn = options.fed(input);
    let outputs = shapes::bidirectional(&rnn, merge, time);
    let layer = Layer {
        name: String::new(),
        class: LayerClass::Bidirectional,
        outputs,
        params: rnn.params().map(|n| 2 * n),
        kind: LayerKind::Bidirectional(ir::Bidirectional {
            inner: rnn,
            inner_name: String::new(),
            merge,
            out: rnn.units.times(merge.features(1)),
        }),
    };
    Some(Checked {
        layer,
        next: shapes::bidirectional_next(&rnn, merge, time),
        inner_name,
    })
}

/// The wrapped layer, and its name if the user gave one.
fn wrapped(outer: &LayerCall, inner: &LayerCall, cx: &Ctxt) -> Option<(Options, Option<String>)> {
    let class = match resolve(inner, cx)? {
        class if class.is_recurrent() => class,
        other => {
            cx.error_spanned_by(inner, messages::bidirectional_not_recurrent(other));
            return None;
        }
    };
    let (args, bound) = bind(inner, class, cx);
    let name = args.custom_name(cx);
    let moved = super::input_shape_on_wrapper(outer, &args, cx);
    let options = recurrent::read(class, &args, cx)?;
    if options.go_backwards {
        // Keras refuses this too: the backward copy would read the same way as the forward one.
        cx.error_spanned_by(inner, messages::bidirectional_go_backwards(inner));
        return None;
    }
    bound?;
    moved?;
    Some((options, name?))
}
