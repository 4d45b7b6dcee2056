//! `Dense(units, activation, use_bias, kernel_initializer, bias_initializer)`.

use rnn_spec::{Activation, LayerClass};

use super::{Checked, Feed, plain};
use crate::bind::Args;
use crate::ctxt::Ctxt;
use crate::ir::{self, Init, Layer, LayerKind, Shape, Size};
use crate::shapes;

/// A `Dense` layer's arguments, before its input size is known.
#[derive(Clone, Copy)]
pub struct Options {
    pub units: Size,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Init,
    pub bias_initializer: Init,
}

impl Options {
    pub fn fed(self, input: Size) -> ir::Dense {
        ir::Dense {
            input,
            units: self.units,
            activation: self.activation,
            use_bias: self.use_bias,
            kernel_initializer: self.kernel_initializer,
            bias_initializer: self.bias_initializer,
        }
    }
}

/// Reads every argument of a `Dense`, reporting each bad one.
pub fn read(args: &Args, cx: &Ctxt) -> Option<Options> {
    let units = args.required_size("units", "Dense(1, sigmoid)", cx);
    let activation = args.activation("activation", cx);
    let use_bias = args.boolean("use_bias", cx);
    let kernel_initializer = args.initializer("kernel_initializer", false, cx);
    let bias_initializer = args.initializer("bias_initializer", true, cx);
    Some(Options {
        units: units?,
        activation: activation?,
        use_bias: use_bias?,
        kernel_initializer: kernel_initializer?,
        bias_initializer: bias_initializer?,
    })
}

/// `Dense` takes vectors or sequences: it acts on the last axis.
pub fn dense(feed: &Feed, args: &Args, cx: &Ctxt) -> Option<Checked> {
    let options = read(args, cx)?;
    let input = feed.shape()?;
    let features = match input {
        Shape::Sequence { features, .. } | Shape::Vector { features } => features,
    };
    let dense = options.fed(features);
    let output = shapes::dense(input, dense.units);
    let layer = Layer {
        name: String::new(),
        class: LayerClass::Dense,
        outputs: vec![output],
        params: dense.params(),
        kind: LayerKind::Dense(dense),
    };
    Some(plain(layer, output))
}
