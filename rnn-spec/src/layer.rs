//! The layer classes: Keras' class and default names, and every argument in Keras'
//! positional order with its default.

use crate::defaults as d;
use crate::{Activation, Cell, Initializer, MergeMode, text};

/// A layer class of the DSL, named as in Keras.
///
/// ```
/// use rnn_spec::LayerClass;
/// assert_eq!(LayerClass::from_keras_name("SimpleRNN"), Some(LayerClass::SimpleRnn));
/// assert_eq!(LayerClass::GlobalAveragePooling1D.default_name(), "global_average_pooling1d");
/// assert_eq!(LayerClass::Dense.required(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerClass {
    /// `Input(timesteps, features)`, or `Input(features)` for vectors.
    Input,
    /// `Embedding(input_dim, output_dim, ...)`.
    Embedding,
    /// `SimpleRNN(units, ...)`.
    SimpleRnn,
    /// `LSTM(units, ...)`.
    Lstm,
    /// `GRU(units, ...)`.
    Gru,
    /// `Bidirectional(layer, merge_mode)`.
    Bidirectional,
    /// `TimeDistributed(layer)`.
    TimeDistributed,
    /// `Dense(units, activation, use_bias, kernel_initializer, bias_initializer)`.
    Dense,
    /// `Dropout(rate)`.
    Dropout,
    /// `GlobalAveragePooling1D`.
    GlobalAveragePooling1D,
}

/// One argument of a layer: its Keras name and default.
///
/// ```
/// use rnn_spec::{ArgDefault, LayerClass};
/// let units = &LayerClass::Lstm.args()[0];
/// assert_eq!((units.name, units.default), ("units", ArgDefault::Required));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arg {
    /// Keras' keyword, e.g. `"return_sequences"`.
    pub name: &'static str,
    /// The value when the argument is not given.
    pub default: ArgDefault,
}

/// The default of an argument.
///
/// ```
/// use rnn_spec::{ArgDefault, LayerClass};
/// let mask_zero = LayerClass::Embedding.arg("mask_zero").map(|a| a.default);
/// assert_eq!(mask_zero.and_then(ArgDefault::as_bool), Some(false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ArgDefault {
    /// The argument must be given.
    Required,
    /// Optional, with no value when not given (Keras' `None`), e.g. `input_length`, `name`.
    Unset,
    /// A flag.
    Bool(bool),
    /// An activation.
    Activation(Activation),
    /// A `Bidirectional` merge mode.
    Merge(MergeMode),
    /// A weight initializer, with its own default arguments.
    Initializer(Initializer),
    /// A dropout rate in `[0, 1)`.
    Rate(f64),
}

impl ArgDefault {
    /// The flag, for a boolean default.
    ///
    /// ```
    /// assert_eq!(rnn_spec::ArgDefault::Bool(true).as_bool(), Some(true));
    /// ```
    pub const fn as_bool(self) -> Option<bool> {
        match self {
            ArgDefault::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The activation, for an activation default.
    ///
    /// ```
    /// use rnn_spec::{Activation, ArgDefault};
    /// assert_eq!(ArgDefault::Activation(Activation::Tanh).as_activation(), Some(Activation::Tanh));
    /// ```
    pub const fn as_activation(self) -> Option<Activation> {
        match self {
            ArgDefault::Activation(a) => Some(a),
            _ => None,
        }
    }

    /// The initializer, for an initializer default.
    ///
    /// ```
    /// use rnn_spec::{ArgDefault, Initializer};
    /// let zeros = ArgDefault::Initializer(Initializer::Zeros);
    /// assert_eq!(zeros.as_initializer(), Some(Initializer::Zeros));
    /// ```
    pub const fn as_initializer(self) -> Option<Initializer> {
        match self {
            ArgDefault::Initializer(i) => Some(i),
            _ => None,
        }
    }

    /// The merge mode, for a merge-mode default.
    ///
    /// ```
    /// use rnn_spec::{ArgDefault, MergeMode};
    /// assert_eq!(ArgDefault::Merge(MergeMode::Concat).as_merge(), Some(MergeMode::Concat));
    /// ```
    pub const fn as_merge(self) -> Option<MergeMode> {
        match self {
            ArgDefault::Merge(m) => Some(m),
            _ => None,
        }
    }

    /// The rate, for a dropout-rate default.
    ///
    /// ```
    /// use rnn_spec::{ArgDefault, LayerClass};
    /// let rate = LayerClass::Lstm.arg("recurrent_dropout").map(|a| a.default);
    /// assert_eq!(rate.and_then(ArgDefault::as_rate), Some(0.0));
    /// ```
    pub const fn as_rate(self) -> Option<f64> {
        match self {
            ArgDefault::Rate(r) => Some(r),
            _ => None,
        }
    }
}

const fn required(name: &'static str) -> Arg {
    Arg {
        name,
        default: ArgDefault::Required,
    }
}

const fn unset(name: &'static str) -> Arg {
    Arg {
        name,
        default: ArgDefault::Unset,
    }
}

const fn flag(name: &'static str, value: bool) -> Arg {
    Arg {
        name,
        default: ArgDefault::Bool(value),
    }
}

const fn rate(name: &'static str, value: f64) -> Arg {
    Arg {
        name,
        default: ArgDefault::Rate(value),
    }
}

const fn activation(name: &'static str, value: Activation) -> Arg {
    Arg {
        name,
        default: ArgDefault::Activation(value),
    }
}

const fn initializer(name: &'static str, value: Initializer) -> Arg {
    Arg {
        name,
        default: ArgDefault::Initializer(value),
    }
}

const INPUT: [Arg; 2] = [required("timesteps"), required("features")];
const EMBEDDING: [Arg; 5] = [
    required("input_dim"),
    required("output_dim"),
    initializer("embeddings_initializer", d::EMBEDDINGS_INITIALIZER),
    flag("mask_zero", d::MASK_ZERO),
    unset("input_length"),
];
const SIMPLE_RNN: [Arg; 11] = [
    required("units"),
    activation("activation", d::ACTIVATION),
    flag("use_bias", d::USE_BIAS),
    initializer("kernel_initializer", d::KERNEL_INITIALIZER),
    initializer("recurrent_initializer", d::RECURRENT_INITIALIZER),
    initializer("bias_initializer", d::BIAS_INITIALIZER),
    rate("dropout", d::DROPOUT),
    rate("recurrent_dropout", d::RECURRENT_DROPOUT),
    flag("return_sequences", d::RETURN_SEQUENCES),
    flag("return_state", d::RETURN_STATE),
    flag("go_backwards", d::GO_BACKWARDS),
];
const LSTM: [Arg; 13] = [
    required("units"),
    activation("activation", d::ACTIVATION),
    activation("recurrent_activation", d::RECURRENT_ACTIVATION),
    flag("use_bias", d::USE_BIAS),
    initializer("kernel_initializer", d::KERNEL_INITIALIZER),
    initializer("recurrent_initializer", d::RECURRENT_INITIALIZER),
    initializer("bias_initializer", d::BIAS_INITIALIZER),
    flag("unit_forget_bias", d::UNIT_FORGET_BIAS),
    rate("dropout", d::DROPOUT),
    rate("recurrent_dropout", d::RECURRENT_DROPOUT),
    flag("return_sequences", d::RETURN_SEQUENCES),
    flag("return_state", d::RETURN_STATE),
    flag("go_backwards", d::GO_BACKWARDS),
];
const GRU: [Arg; 13] = [
    required("units"),
    activation("activation", d::ACTIVATION),
    activation("recurrent_activation", d::RECURRENT_ACTIVATION),
    flag("use_bias", d::USE_BIAS),
    initializer("kernel_initializer", d::KERNEL_INITIALIZER),
    initializer("recurrent_initializer", d::RECURRENT_INITIALIZER),
    initializer("bias_initializer", d::BIAS_INITIALIZER),
    rate("dropout", d::DROPOUT),
    rate("recurrent_dropout", d::RECURRENT_DROPOUT),
    flag("return_sequences", d::RETURN_SEQUENCES),
    flag("return_state", d::RETURN_STATE),
    flag("go_backwards", d::GO_BACKWARDS),
    flag("reset_after", d::RESET_AFTER),
];
const BIDIRECTIONAL: [Arg; 2] = [
    required("layer"),
    Arg {
        name: "merge_mode",
        default: ArgDefault::Merge(d::MERGE_MODE),
    },
];
const TIME_DISTRIBUTED: [Arg; 1] = [required("layer")];
const DENSE: [Arg; 5] = [
    required("units"),
    activation("activation", d::DENSE_ACTIVATION),
    flag("use_bias", d::USE_BIAS),
    initializer("kernel_initializer", d::KERNEL_INITIALIZER),
    initializer("bias_initializer", d::BIAS_INITIALIZER),
];
const DROPOUT: [Arg; 1] = [required("rate")];
const NAME: [Arg; 1] = [unset("name")];
/// `name`, then Keras 2's input-shape arguments of a recurrent layer.
const RECURRENT_KEYWORDS: [Arg; 5] = [
    unset("name"),
    unset("input_shape"),
    unset("batch_input_shape"),
    unset("input_dim"),
    unset("input_length"),
];
/// `name`, then Keras 2's input-shape arguments of any other layer that can come first.
const LAYER_KEYWORDS: [Arg; 4] = [
    unset("name"),
    unset("input_shape"),
    unset("batch_input_shape"),
    unset("input_dim"),
];

/// Keras 2's arguments that give the model's input shape on its first layer instead of an
/// `Input`: `input_shape = (timesteps, features)`, `batch_input_shape = (batch, timesteps,
/// features)`, `input_dim = features` and, on recurrent layers, `input_length = timesteps`.
/// They are accepted on the first layer only.
///
/// ```
/// assert!(rnn_spec::FIRST_LAYER_ARGS.contains(&"input_shape"));
/// ```
pub const FIRST_LAYER_ARGS: [&str; 4] = [
    "input_shape",
    "batch_input_shape",
    "input_dim",
    "input_length",
];

impl LayerClass {
    /// Every layer class, in the order messages list them.
    ///
    /// ```
    /// assert_eq!(rnn_spec::LayerClass::ALL.len(), 10);
    /// ```
    pub const ALL: [LayerClass; 10] = [
        LayerClass::Input,
        LayerClass::Embedding,
        LayerClass::SimpleRnn,
        LayerClass::Lstm,
        LayerClass::Gru,
        LayerClass::Bidirectional,
        LayerClass::TimeDistributed,
        LayerClass::Dense,
        LayerClass::Dropout,
        LayerClass::GlobalAveragePooling1D,
    ];

    /// Keras' class name, which is also the name written in the DSL.
    ///
    /// ```
    /// assert_eq!(rnn_spec::LayerClass::Gru.keras_name(), "GRU");
    /// ```
    pub const fn keras_name(self) -> &'static str {
        match self {
            LayerClass::Input => "Input",
            LayerClass::Embedding => "Embedding",
            LayerClass::SimpleRnn => "SimpleRNN",
            LayerClass::Lstm => "LSTM",
            LayerClass::Gru => "GRU",
            LayerClass::Bidirectional => "Bidirectional",
            LayerClass::TimeDistributed => "TimeDistributed",
            LayerClass::Dense => "Dense",
            LayerClass::Dropout => "Dropout",
            LayerClass::GlobalAveragePooling1D => "GlobalAveragePooling1D",
        }
    }

    /// Keras' default layer name (the snake-case class name), numbered `_1`, `_2`, ... for
    /// later layers of the same class.
    ///
    /// ```
    /// assert_eq!(rnn_spec::LayerClass::SimpleRnn.default_name(), "simple_rnn");
    /// ```
    pub const fn default_name(self) -> &'static str {
        match self {
            LayerClass::Input => "input_layer",
            LayerClass::Embedding => "embedding",
            LayerClass::SimpleRnn => "simple_rnn",
            LayerClass::Lstm => "lstm",
            LayerClass::Gru => "gru",
            LayerClass::Bidirectional => "bidirectional",
            LayerClass::TimeDistributed => "time_distributed",
            LayerClass::Dense => "dense",
            LayerClass::Dropout => "dropout",
            LayerClass::GlobalAveragePooling1D => "global_average_pooling1d",
        }
    }

    /// The class with this Keras name.
    ///
    /// ```
    /// use rnn_spec::LayerClass;
    /// assert_eq!(LayerClass::from_keras_name("LSTM"), Some(LayerClass::Lstm));
    /// assert_eq!(LayerClass::from_keras_name("Lstm"), None);
    /// ```
    pub const fn from_keras_name(name: &str) -> Option<LayerClass> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if text::eq(Self::ALL[i].keras_name(), name) {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// The recurrent cell of SimpleRNN, LSTM and GRU.
    ///
    /// ```
    /// use rnn_spec::{Cell, LayerClass};
    /// assert_eq!(LayerClass::Gru.cell(), Some(Cell::Gru));
    /// assert_eq!(LayerClass::Dense.cell(), None);
    /// ```
    pub const fn cell(self) -> Option<Cell> {
        match self {
            LayerClass::SimpleRnn => Some(Cell::Simple),
            LayerClass::Lstm => Some(Cell::Lstm),
            LayerClass::Gru => Some(Cell::Gru),
            _ => None,
        }
    }

    /// Whether this is SimpleRNN, LSTM or GRU.
    ///
    /// ```
    /// assert!(rnn_spec::LayerClass::Lstm.is_recurrent());
    /// ```
    pub const fn is_recurrent(self) -> bool {
        self.cell().is_some()
    }

    /// The arguments in Keras' positional order.
    ///
    /// ```
    /// let names: Vec<&str> = rnn_spec::LayerClass::Dense.args().iter().map(|a| a.name).collect();
    /// assert_eq!(
    ///     names,
    ///     ["units", "activation", "use_bias", "kernel_initializer", "bias_initializer"]
    /// );
    /// ```
    pub const fn args(self) -> &'static [Arg] {
        match self {
            LayerClass::Input => &INPUT,
            LayerClass::Embedding => &EMBEDDING,
            LayerClass::SimpleRnn => &SIMPLE_RNN,
            LayerClass::Lstm => &LSTM,
            LayerClass::Gru => &GRU,
            LayerClass::Bidirectional => &BIDIRECTIONAL,
            LayerClass::TimeDistributed => &TIME_DISTRIBUTED,
            LayerClass::Dense => &DENSE,
            LayerClass::Dropout => &DROPOUT,
            LayerClass::GlobalAveragePooling1D => &[],
        }
    }

    /// Keyword-only arguments, after the positional ones: every layer but `Input` can be
    /// named, as in Keras; the layers that can start a model also take Keras 2's
    /// [`FIRST_LAYER_ARGS`] (`input_length` only on recurrent layers, as in Keras 2).
    ///
    /// ```
    /// use rnn_spec::LayerClass;
    /// assert_eq!(LayerClass::Dense.keyword_args()[0].name, "name");
    /// assert!(LayerClass::Dense.arg("input_shape").is_some());
    /// assert!(LayerClass::Dense.arg("input_length").is_none());
    /// assert!(LayerClass::Lstm.arg("input_length").is_some());
    /// assert!(LayerClass::Input.keyword_args().is_empty());
    /// ```
    pub const fn keyword_args(self) -> &'static [Arg] {
        match self {
            LayerClass::Input => &[],
            LayerClass::SimpleRnn | LayerClass::Lstm | LayerClass::Gru => &RECURRENT_KEYWORDS,
            LayerClass::Bidirectional | LayerClass::TimeDistributed | LayerClass::Dense => {
                &LAYER_KEYWORDS
            }
            LayerClass::Embedding | LayerClass::Dropout | LayerClass::GlobalAveragePooling1D => {
                &NAME
            }
        }
    }

    /// Whether `name` is one of Keras 2's input-shape arguments that only a model's first
    /// layer takes ([`FIRST_LAYER_ARGS`]; `Embedding`'s positional `input_length` is its own).
    ///
    /// ```
    /// use rnn_spec::LayerClass;
    /// assert!(LayerClass::Lstm.is_first_layer_arg("input_shape"));
    /// assert!(!LayerClass::Embedding.is_first_layer_arg("input_length"));
    /// assert!(!LayerClass::Lstm.is_first_layer_arg("units"));
    /// ```
    pub const fn is_first_layer_arg(self, name: &str) -> bool {
        let keywords = self.keyword_args();
        let mut i = 0;
        while i < keywords.len() {
            let mut j = 0;
            while j < FIRST_LAYER_ARGS.len() {
                if text::eq(keywords[i].name, name) && text::eq(FIRST_LAYER_ARGS[j], name) {
                    return true;
                }
                j += 1;
            }
            i += 1;
        }
        false
    }

    /// How many leading arguments are required.
    ///
    /// ```
    /// use rnn_spec::LayerClass;
    /// assert_eq!(LayerClass::Embedding.required(), 2);
    /// assert_eq!(LayerClass::GlobalAveragePooling1D.required(), 0);
    /// ```
    pub const fn required(self) -> usize {
        let args = self.args();
        let mut n = 0;
        while n < args.len() && matches!(args[n].default, ArgDefault::Required) {
            n += 1;
        }
        n
    }

    /// The argument with this keyword, positional or keyword-only.
    ///
    /// ```
    /// use rnn_spec::{ArgDefault, LayerClass};
    /// let reset_after = LayerClass::Gru.arg("reset_after").map(|a| a.default);
    /// assert_eq!(reset_after, Some(ArgDefault::Bool(true)));
    /// assert!(LayerClass::Lstm.arg("reset_after").is_none());
    /// ```
    pub const fn arg(self, name: &str) -> Option<&'static Arg> {
        let mut i = 0;
        while i < self.args().len() {
            if text::eq(self.args()[i].name, name) {
                return Some(&self.args()[i]);
            }
            i += 1;
        }
        let mut i = 0;
        while i < self.keyword_args().len() {
            if text::eq(self.keyword_args()[i].name, name) {
                return Some(&self.keyword_args()[i]);
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_round_trips_its_name() {
        for class in LayerClass::ALL {
            assert_eq!(LayerClass::from_keras_name(class.keras_name()), Some(class));
        }
    }

    #[test]
    fn cells_and_classes_agree() {
        for cell in Cell::ALL {
            assert_eq!(cell.layer().cell(), Some(cell));
        }
    }

    #[test]
    fn required_arguments_come_first() {
        for class in LayerClass::ALL {
            let args = class.args();
            assert!(
                args[class.required()..]
                    .iter()
                    .all(|a| a.default != ArgDefault::Required),
                "{class:?}"
            );
        }
    }

    #[test]
    fn recurrent_defaults() {
        for class in [LayerClass::SimpleRnn, LayerClass::Lstm, LayerClass::Gru] {
            let default = |name| class.arg(name).map(|a| a.default);
            assert_eq!(
                default("activation"),
                Some(ArgDefault::Activation(Activation::Tanh))
            );
            assert_eq!(default("return_sequences"), Some(ArgDefault::Bool(false)));
            assert_eq!(default("name"), Some(ArgDefault::Unset));
        }
    }
}
