//! The checked model: what the checking stage produces and the only thing code generation
//! reads. Every choice is a typed value (cells, activations and merge modes come from
//! `rnn_spec`); nothing here refers back to the syntax tree.

use rnn_spec::{Activation, Cell, LayerClass, MergeMode, defaults};

/// A model whose layers all check.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Keras' model name, the scope of every weight name.
    pub name: &'static str,
    pub input: Input,
    /// Fixed time steps (from `Input(timesteps, ..)` or `input_length`).
    pub input_time: Option<usize>,
    pub layers: Vec<Layer>,
    /// The sum of the layers' counts.
    pub params: usize,
}

/// What the model takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Token ids, for a model that starts with `Embedding`.
    Tokens,
    /// Sequences of this many features.
    Sequence(usize),
    /// Vectors of this many features.
    Features(usize),
}

/// The shape of one batch of a layer's output, without the batch axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `(batch, time, features)`; `time` is `None` when any number of steps is accepted.
    Sequence {
        time: Option<usize>,
        features: usize,
    },
    /// `(batch, features)`.
    Vector { features: usize },
}

impl Shape {
    /// As Keras' `summary()` prints it, batch axis first: `(None, 5, 4)` or `(None, 4)`.
    pub fn describe(self) -> String {
        let none_or = |n: Option<usize>| n.map_or("None".into(), |n| n.to_string());
        match self {
            Shape::Sequence { time, features } => format!("(None, {}, {features})", none_or(time)),
            Shape::Vector { features } => format!("(None, {features})"),
        }
    }

    /// One shape as it is, several as a list: `[(None, 5, 4), (None, 4)]`.
    pub fn describe_all(shapes: &[Shape]) -> String {
        match shapes {
            [one] => one.describe(),
            _ => {
                let all: Vec<String> = shapes.iter().map(|s| s.describe()).collect();
                format!("[{}]", all.join(", "))
            }
        }
    }
}

/// One checked layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Keras' name: the user's, or the class's default name numbered as Keras does.
    pub name: String,
    pub class: LayerClass,
    /// Every output, the main one first (more with `return_state` or `merge_mode = none`).
    pub outputs: Vec<Shape>,
    pub params: usize,
    pub kind: LayerKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    Embedding(Embedding),
    Recurrent(Rnn),
    Bidirectional(Bidirectional),
    Dense(Dense),
    /// `TimeDistributed(Dense(..))`, the only wrapped layer supported.
    TimeDistributed {
        dense: Dense,
        dense_name: String,
    },
    Dropout {
        rate: f64,
    },
    Pooling,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Embedding {
    pub vocab: usize,
    pub dim: usize,
    pub mask_zero: bool,
}

/// A recurrent layer (alone or inside `Bidirectional`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rnn {
    pub cell: RnnCell,
    pub input: usize,
    pub units: usize,
    pub activation: Activation,
    /// The gates' activation; SimpleRNN has no gates and keeps the default.
    pub recurrent_activation: Activation,
    pub use_bias: bool,
    pub return_sequences: bool,
    pub return_state: bool,
    pub go_backwards: bool,
}

/// The cell of a recurrent layer, with the options only that cell has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnCell {
    Simple,
    Lstm { unit_forget_bias: bool },
    Gru { reset_after: bool },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bidirectional {
    pub inner: Rnn,
    /// The wrapped layer's own Keras name (`lstm_1`), the scope of its weights.
    pub inner_name: String,
    pub merge: MergeMode,
    /// Output features after merging.
    pub out: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    pub input: usize,
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
}

impl RnnCell {
    pub fn cell(self) -> Cell {
        match self {
            RnnCell::Simple => Cell::Simple,
            RnnCell::Lstm { .. } => Cell::Lstm,
            RnnCell::Gru { .. } => Cell::Gru,
        }
    }

    /// The runtime's configuration carries this flag for every cell; only LSTM reads it.
    pub fn unit_forget_bias(self) -> bool {
        match self {
            RnnCell::Lstm { unit_forget_bias } => unit_forget_bias,
            _ => defaults::UNIT_FORGET_BIAS,
        }
    }

    /// Only a GRU has a second bias row; for the other cells this is `false`.
    pub fn reset_after(self) -> bool {
        matches!(self, RnnCell::Gru { reset_after: true })
    }
}

impl Rnn {
    /// Keras' count for one direction.
    pub fn params(&self) -> usize {
        self.cell.cell().params(
            self.input,
            self.units,
            self.use_bias,
            self.cell.reset_after(),
        )
    }
}

impl Dense {
    pub fn params(&self) -> usize {
        rnn_spec::dense_params(self.input, self.units, self.use_bias)
    }
}

impl Layer {
    /// The output shape as Keras' `summary()` prints it: one shape, or a list.
    pub fn output_shape(&self) -> String {
        Shape::describe_all(&self.outputs)
    }
}
