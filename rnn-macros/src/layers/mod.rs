//! One check per kind of layer: each reads its bound arguments, asks for the input it needs
//! and returns the checked layer with what it passes on, or `None` after reporting why not.

mod bidirectional;
mod dense;
mod dropout;
mod embedding;
mod input;
mod pooling;
mod recurrent;
mod time_distributed;

pub use embedding::embedding;
pub use input::{declared, input};

use rnn_spec::LayerClass;

use crate::ast::LayerCall;
use crate::bind::Args;
use crate::ctxt::Ctxt;
use crate::ir::{Layer, Shape, Size};
use crate::messages;
use crate::shapes::Flow;

/// A checked layer.
pub struct Checked {
    /// Named later, in model order.
    pub layer: Layer,
    /// What the next layer receives.
    pub next: Shape,
    /// The name the user gave the wrapped layer, if any.
    pub inner_name: Option<String>,
}

/// A layer already checked, as later messages refer to it.
#[derive(Clone)]
pub struct Prev<'a> {
    pub call: &'a LayerCall,
    pub class: LayerClass,
    pub name: String,
    /// Number of outputs (more than one with `return_state` or `merge_mode = none`).
    pub outputs: usize,
}

/// A layer after the first and what feeds it.
pub struct Feed<'a> {
    pub call: &'a LayerCall,
    pub class: LayerClass,
    pub flow: Flow,
    /// The layer before, if it checked.
    pub prev: Option<&'a Prev<'a>>,
    /// The layer whose output lost the time axis, if one did.
    pub dropped_time: Option<&'a Prev<'a>>,
}

/// Checks a layer after the first (`Input` and `Embedding` are checked by the caller).
pub fn check(feed: &Feed, args: &Args, cx: &Ctxt) -> Option<Checked> {
    match feed.class {
        LayerClass::SimpleRnn | LayerClass::Lstm | LayerClass::Gru => {
            recurrent::recurrent(feed, args, cx)
        }
        LayerClass::Bidirectional => bidirectional::bidirectional(feed, args, cx),
        LayerClass::TimeDistributed => time_distributed::time_distributed(feed, args, cx),
        LayerClass::Dense => dense::dense(feed, args, cx),
        LayerClass::Dropout => dropout::dropout(feed, args, cx),
        LayerClass::GlobalAveragePooling1D => pooling::pooling(feed, cx),
        LayerClass::Input | LayerClass::Embedding => unreachable!("checked by the caller"),
    }
}

/// A checked layer that wraps no other.
fn plain(layer: Layer, next: Shape) -> Checked {
    Checked {
        layer,
        next,
        inner_name: None,
    }
}

impl Feed<'_> {
    /// The shape fed in, if known.
    fn shape(&self) -> Option<Shape> {
        match self.flow {
            Flow::Known(shape) => Some(shape),
            Flow::Start | Flow::Unknown => None,
        }
    }

    /// The `(time, features)` of the sequence fed in, or an error that says how to get one.
    fn sequence(&self, cx: &Ctxt) -> Option<(Option<usize>, Size)> {
        let features = match self.shape()? {
            Shape::Sequence { time, features } => return Some((time, features)),
            Shape::Vector { features } => features,
        };
        let class = self.class;
        let (before, help) = match self.prev {
            Some(p) if p.class.is_recurrent() => (
                messages::named(&p.name, p.class),
                messages::return_sequences_before(&p.call.source_with("return_sequences", "true")),
            ),
            Some(p) if p.class == LayerClass::Bidirectional => (
                messages::named(&p.name, p.class),
                messages::return_sequences_before(&messages::bidirectional_with_sequences(p.call)),
            ),
            Some(p) => (
                messages::named(&p.name, p.class),
                match self.dropped_time {
                    Some(d) if d.class.is_recurrent() => messages::time_axis_ends_at(
                        &d.name,
                        &d.call.source_with("return_sequences", "true"),
                    ),
                    Some(d) if d.class == LayerClass::Bidirectional => messages::time_axis_ends_at(
                        &d.name,
                        &messages::bidirectional_with_sequences(d.call),
                    ),
                    Some(d) => messages::time_axis_ends_before(&d.name, d.class, class),
                    None => messages::INPUT_WITHOUT_TIME.to_string(),
                },
            ),
            None => ("the input".to_string(), messages::give_input_time(features)),
        };
        let shape = Shape::Vector { features }.describe();
        cx.error_spanned_by(
            self.call,
            messages::needs_sequence(class, &before, &shape, &help),
        );
        None
    }
}

/// Whether a layer reads sequences only, so that Keras 2's `input_dim` alone on it means any
/// number of time steps.
pub fn reads_sequences(class: LayerClass) -> bool {
    class.is_recurrent()
        || matches!(
            class,
            LayerClass::Bidirectional | LayerClass::TimeDistributed
        )
}

/// Whether `class` takes every one of these keyword arguments.
pub fn takes_all(class: LayerClass, args: &[&crate::ast::Arg]) -> bool {
    args.iter().all(|a| {
        a.key
            .as_ref()
            .is_some_and(|k| class.arg(&k.to_string()).is_some())
    })
}

/// Whether a first layer already declares the model's input (`Input`, `input_length` of an
/// `Embedding`, or one of Keras 2's input-shape arguments).
pub fn declares_input(class: LayerClass, call: &LayerCall) -> bool {
    class == LayerClass::Input
        || call.args.iter().any(|a| {
            a.key.as_ref().is_some_and(|k| {
                let k = k.to_string();
                class.is_first_layer_arg(&k)
                    || (class == LayerClass::Embedding && k == "input_length")
            })
        })
}

/// Keras 2's input-shape arguments on a wrapped layer belong on its wrapper: an error that
/// shows the wrapper with them, `None` if there are any.
fn input_shape_on_wrapper(outer: &LayerCall, inner: &Args, cx: &Ctxt) -> Option<()> {
    let given = inner.first_layer_args();
    if given.is_empty() {
        return Some(());
    }
    let mut fixed = messages::clean(outer);
    for arg in &mut fixed.args {
        if let crate::ast::Value::Layer(l) = &mut arg.value {
            l.args
                .retain(|a| a.key.is_none() || !given.iter().any(|g| g.key == a.key));
        }
    }
    let mut text = fixed.source();
    for arg in &given {
        let key = arg.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
        text = match syn::parse_str::<LayerCall>(&text) {
            Ok(call) => call.source_with(&key, &crate::bind::value_source(&arg.value)),
            Err(_) => text,
        };
    }
    let wrapper =
        LayerClass::from_keras_name(&outer.name.to_string()).unwrap_or(LayerClass::Bidirectional);
    cx.error_spanned_by(given[0], messages::first_layer_arg_wrapped(wrapper, &text));
    None
}

/// The layer class named by `call`, or an error suggesting the nearest name.
pub fn resolve(call: &LayerCall, cx: &Ctxt) -> Option<LayerClass> {
    let name = call.name.to_string();
    let class = LayerClass::from_keras_name(&name);
    if class.is_none() {
        cx.error_spanned_by(&call.name, messages::unknown_layer(&name));
    }
    class
}
