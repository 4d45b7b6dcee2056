//! `TimeDistributed(Dense(..))`: a `Dense` applied at every time step.

use rnn_spec::LayerClass;

use super::dense::{self, Options};
use super::{Checked, Feed, resolve};
use crate::ast::LayerCall;
use crate::bind::{Args, bind};
use crate::ctxt::Ctxt;
use crate::ir::{Layer, LayerKind, Shape};
use crate::messages;

pub fn time_distributed(feed: &Feed, args: &Args, cx: &Ctxt) -> Option<Checked> {
    let inner = args
        .nested("TimeDistributed(Dense(10, softmax))", cx)
        .and_then(|inner| wrapped(feed.call, inner, cx));
    let (time, input) = feed.sequence(cx)?;
    let (options, inner_name) = inner?;
    let dense = options.fed(input);
    let output = Shape::Sequence {
        time,
        features: dense.units,
    };
    let layer = Layer {
        name: String::new(),
        class: LayerClass::TimeDistributed,
        outputs: vec![output],
        params: dense.params(),
        kind: LayerKind::TimeDistributed {
            dense,
            dense_name: String::new(),
        },
    };
    Some(Checked {
        layer,
        next: output,
        inner_name,
    })
}

/// The wrapped `Dense`, and its name if the user gave one.
fn wrapped(outer: &LayerCall, inner: &LayerCall, cx: &Ctxt) -> Option<(Options, Option<String>)> {
    match resolve(inner, cx)? {
        LayerClass::Dense => {
            let (args, bound) = bind(inner, LayerClass::Dense, cx);
            let name = args.custom_name(cx);
            let moved = super::input_shape_on_wrapper(outer, &args, cx);
            let options = dense::read(&args, cx);
            bound?;
            moved?;
            Some((options?, name?))
        }
        other => {
            cx.error_spanned_by(inner, messages::time_distributed_not_dense(other));
            None
        }
    }
}
