//! `SimpleRNN`, `LSTM` and `GRU`.

use rnn_spec::{Activation, Cell, LayerClass, defaults};

use super::{Checked, Feed, plain};
use crate::bind::Args;
use crate::ctxt::Ctxt;
use crate::ir::{Init, Layer, LayerKind, Rate, Rnn, RnnCell, Size};
use crate::shapes;

/// A recurrent layer's arguments, before its input size is known.
#[derive(Clone, Copy)]
pub struct Options {
    pub cell: RnnCell,
    pub units: Size,
    pub activation: Activation,
    pub recurrent_activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Init,
    pub recurrent_initializer: Init,
    pub bias_initializer: Init,
    pub return_sequences: bool,
    pub return_state: bool,
    pub go_backwards: bool,
    pub dropout: Rate,
    pub recurrent_dropout: Rate,
}

impl Options {
    pub fn fed(self, input: Size) -> Rnn {
        Rnn {
            cell: self.cell,
            input,
            units: self.units,
            activation: self.activation,
            recurrent_activation: self.recurrent_activation,
            use_bias: self.use_bias,
            kernel_initializer: self.kernel_initializer,
            recurrent_initializer: self.recurrent_initializer,
            bias_initializer: self.bias_initializer,
            return_sequences: self.return_sequences,
            return_state: self.return_state,
            go_backwards: self.go_backwards,
            dropout: self.dropout,
            recurrent_dropout: self.recurrent_dropout,
        }
    }
}

/// Reads every argument of a recurrent layer of `class`, reporting each bad one.
pub fn read(class: LayerClass, args: &Args, cx: &Ctxt) -> Option<Options> {
    let example = format!("{}(64)", class.keras_name());
    let units = args.required_size("units", &example, cx);
    let activation = args.activation("activation", cx);
    // Arguments only some cells have, read in Keras' order with the others so that errors
    // come in the order they are written.
    let has = |name: &str| class.arg(name).is_some();
    // The runtime's configuration is shared by all cells; SimpleRNN has no gates and keeps
    // the shared default, which it ignores.
    let recurrent_activation = if has("recurrent_activation") {
        args.activation("recurrent_activation", cx)
    } else {
        Some(defaults::RECURRENT_ACTIVATION)
    };
    let use_bias = args.boolean("use_bias", cx);
    let kernel_initializer = args.initializer("kernel_initializer", false, cx);
    let recurrent_initializer = args.initializer("recurrent_initializer", false, cx);
    // The bias is a vector, except GRU's two rows with `reset_after` (read later, in Keras'
    // order, so looked up here without reporting).
    let two_rows = class == LayerClass::Gru && args.boolean_or_default("reset_after") == Some(true);
    let bias_initializer = args.initializer("bias_initializer", !two_rows, cx);
    let unit_forget_bias = has("unit_forget_bias").then(|| args.boolean("unit_forget_bias", cx));
    let dropout = args.dropout_rate("dropout", cx);
    let recurrent_dropout = args.dropout_rate("recurrent_dropout", cx);
    let return_sequences = args.boolean("return_sequences", cx);
    let return_state = args.boolean("return_state", cx);
    let go_backwards = args.boolean("go_backwards", cx);
    let reset_after = has("reset_after").then(|| args.boolean("reset_after", cx));
    let cell = match class.cell()? {
        Cell::Simple => RnnCell::Simple,
        Cell::Lstm => RnnCell::Lstm {
            unit_forget_bias: unit_forget_bias.flatten()?,
        },
        Cell::Gru => RnnCell::Gru {
            reset_after: reset_after.flatten()?,
        },
    };
    Some(Options {
        cell,
        units: units?,
        activation: activation?,
        recurrent_activation: recurrent_activation?,
        use_bias: use_bias?,
        kernel_initializer: kernel_initializer?,
        recurrent_initializer: recurrent_initializer?,
        bias_initializer: bias_initializer?,
        return_sequences: return_sequences?,
        return_state: return_state?,
        go_backwards: go_backwards?,
        dropout: Rate(dropout?),
        recurrent_dropout: Rate(recurrent_dropout?),
    })
}

pub fn recurrent(feed: &Feed, args: &Args, cx: &Ctxt) -> Option<Checked> {
    let options = read(feed.class, args, cx);
    let (time, input) = feed.sequence(cx)?;
    let rnn = options?.fed(input);
    let outputs = shapes::recurrent(&rnn, time);
    let next = outputs[0];
    let layer = Layer {
        name: String::new(),
        class: feed.class,
        outputs,
        params: rnn.params(),
        kind: LayerKind::Recurrent(rnn),
    };
    Some(plain(layer, next))
}
