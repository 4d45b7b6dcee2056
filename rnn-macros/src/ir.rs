//! The checked model: what the checking stage produces and the only thing code generation
//! reads. Every choice is a typed value (cells, activations and merge modes come from
//! `rnn_spec`); nothing here refers back to the syntax tree.

use rnn_spec::{Activation, Cell, Initializer, LayerClass, MergeMode, defaults};

/// A model whose layers all check.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Keras' model name, the scope of every weight name.
    pub name: &'static str,
    pub input: Input,
    /// Fixed time steps (from `Input(timesteps, ..)` or `input_length`).
    pub input_time: Option<usize>,
    /// A fixed batch size (from `batch_input_shape`), checked at run time and printed in the
    /// output shapes instead of `None`, as Keras does.
    pub input_batch: Option<usize>,
    pub layers: Vec<Layer>,
    /// The sum of the layers' counts, when every size is a literal; in `u128`, which sizes
    /// up to 2^32 cannot overflow, and checked against the limit before it is written.
    pub params: Option<u128>,
    /// `#[params = N]` and where it is written, when the count depends on constants and the
    /// compiler compares it (its error then points at `N`).
    pub declared_params: Option<DeclaredParams>,
}

/// `#[params = N]`, to be compared by the compiler.
#[derive(Clone, Copy, Debug)]
pub struct DeclaredParams {
    pub count: u128,
    /// Where `N` is written.
    pub span: proc_macro2::Span,
}

/// Two declarations are the same count; where they are written does not matter.
impl PartialEq for DeclaredParams {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count
    }
}

/// A size: an integer literal, or a constant expression (`VOCAB`, `VOCAB + 1`, `{ 2 * H }`)
/// that only the compiler can evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Lit(usize),
    /// The expression's source text, and where it is written. The text is leaked to keep
    /// the IR `Copy`: a macro expansion is a short-lived process that makes a handful.
    Const(&'static str, At),
}

/// Where a constant size is written, so that the compiler's errors about it point there.
/// Comparisons ignore it.
#[derive(Clone, Copy, Debug)]
pub struct At(pub proc_macro2::Span);

impl PartialEq for At {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for At {}

impl Size {
    /// A constant expression, as written at `span`.
    pub fn constant(source: String, span: proc_macro2::Span) -> Size {
        Size::Const(Box::leak(source.into_boxed_str()), At(span))
    }

    /// The value, for a literal.
    pub fn known(self) -> Option<usize> {
        match self {
            Size::Lit(n) => Some(n),
            Size::Const(..) => None,
        }
    }

    /// `k` times this size.
    pub fn times(self, k: usize) -> Size {
        match self {
            Size::Lit(n) => Size::Lit(k * n),
            Size::Const(..) if k == 1 => self,
            Size::Const(e, at) => Size::constant(format!("{k} * ({e})"), at.0),
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Size::Lit(n) => write!(f, "{n}"),
            Size::Const(e, _) => f.write_str(e),
        }
    }
}

impl From<usize> for Size {
    fn from(n: usize) -> Size {
        Size::Lit(n)
    }
}

/// What the model takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Token ids, for a model that starts with `Embedding`.
    Tokens,
    /// Sequences of this many features.
    Sequence(Size),
    /// Vectors of this many features.
    Features(Size),
}

/// The shape of one batch of a layer's output, without the batch axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `(batch, time, features)`; `time` is `None` when any number of steps is accepted.
    Sequence { time: Option<usize>, features: Size },
    /// `(batch, features)`.
    Vector { features: Size },
}

impl Shape {
    /// As Keras' `summary()` prints it, batch axis first: `(None, 5, 4)` or `(None, 4)`.
    pub fn describe(self) -> String {
        describe(self)
    }
}

fn none_or(n: Option<usize>) -> String {
    n.map_or("None".into(), |n| n.to_string())
}

/// `(None, 5, 4)` or `(None, 4)`.
pub fn describe(shape: Shape) -> String {
    describe_batched(shape, None)
}

/// With a fixed batch size: `(8, 5, 4)`.
pub fn describe_batched(shape: Shape, batch: Option<usize>) -> String {
    describe_with(shape, batch, &mut |s| s.to_string())
}

/// Each size written by `size`.
fn describe_with(
    shape: Shape,
    batch: Option<usize>,
    size: &mut dyn FnMut(Size) -> String,
) -> String {
    let batch = none_or(batch);
    match shape {
        Shape::Sequence { time, features } => {
            format!("({batch}, {}, {})", none_or(time), size(features))
        }
        Shape::Vector { features } => format!("({batch}, {})", size(features)),
    }
}

/// [`describe_all_batched`] with each size written by `size`.
pub fn describe_all_with(
    shapes: &[Shape],
    batch: Option<usize>,
    size: &mut dyn FnMut(Size) -> String,
) -> String {
    match shapes {
        [one] => describe_with(*one, batch, size),
        _ => {
            let all: Vec<String> = shapes
                .iter()
                .map(|s| describe_with(*s, batch, size))
                .collect();
            format!("[{}]", all.join(", "))
        }
    }
}

/// One shape as it is, several as a list: `[(None, 5, 4), (None, 4)]`.
#[cfg(test)]
pub fn describe_all(shapes: &[Shape]) -> String {
    describe_all_batched(shapes, None)
}

/// [`describe_all`] with a fixed batch size in place of `None`.
#[cfg(test)]
pub fn describe_all_batched(shapes: &[Shape], batch: Option<usize>) -> String {
    match shapes {
        [one] => describe_batched(*one, batch),
        _ => {
            let all: Vec<String> = shapes.iter().map(|s| describe_batched(*s, batch)).collect();
            format!("[{}]", all.join(", "))
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
    /// Keras' count, when the layer's sizes are literals.
    pub params: Option<u128>,
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
    /// `None` for `Embedding(_, ..)`: the vocabulary is chosen at construction.
    pub vocab: Option<Size>,
    pub dim: Size,
    pub embeddings_initializer: Init,
    pub mask_zero: bool,
}

/// A weight initializer with every argument in Keras' order, defaults filled in.
#[derive(Clone, Copy, Debug)]
pub struct Init {
    pub class: Initializer,
    /// `class.args().len()` of these are used.
    pub args: [f64; 2],
}

/// Arguments compare by their bits: a checked model holds no NaN (only literals are read).
impl PartialEq for Init {
    fn eq(&self, other: &Self) -> bool {
        self.class == other.class && self.args.map(f64::to_bits) == other.args.map(f64::to_bits)
    }
}

impl Eq for Init {}

impl Init {
    /// The initializer with Keras' default arguments.
    pub fn default_of(class: Initializer) -> Init {
        let mut args = [0.0; 2];
        for (a, d) in args.iter_mut().zip(class.args()) {
            *a = d.default;
        }
        Init { class, args }
    }
}

/// A recurrent layer (alone or inside `Bidirectional`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rnn {
    pub cell: RnnCell,
    pub input: Size,
    pub units: Size,
    pub activation: Activation,
    /// The gates' activation; SimpleRNN has no gates and keeps the default.
    pub recurrent_activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Init,
    pub recurrent_initializer: Init,
    pub bias_initializer: Init,
    pub return_sequences: bool,
    pub return_state: bool,
    pub go_backwards: bool,
    /// `dropout` and `recurrent_dropout`.
    pub dropout: Rate,
    pub recurrent_dropout: Rate,
}

/// A dropout rate, checked to be in `[0, 1)` (so never NaN, which makes it `Eq`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(pub f64);

impl Eq for Rate {}

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
    pub out: Size,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dense {
    pub input: Size,
    pub units: Size,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Init,
    pub bias_initializer: Init,
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
    /// Keras' count for one direction, when both sizes are literals.
    pub fn params(&self) -> Option<u128> {
        Some(rnn_spec::recurrent_params_wide(
            self.cell.cell(),
            self.input.known()? as u128,
            self.units.known()? as u128,
            self.use_bias,
            self.cell.reset_after(),
        ))
    }
}

impl Dense {
    pub fn params(&self) -> Option<u128> {
        Some(rnn_spec::dense_params_wide(
            self.input.known()? as u128,
            self.units.known()? as u128,
            self.use_bias,
        ))
    }
}

impl Model {
    /// Whether the first layer's vocabulary is chosen at construction (`Embedding(_, 16)`).
    pub fn run_time_vocab(&self) -> bool {
        self.layers
            .first()
            .is_some_and(|l| matches!(l.kind, LayerKind::Embedding(Embedding { vocab: None, .. })))
    }
}

impl Layer {
    /// The output shape as Keras' `summary()` prints it: one shape, or a list.
    #[cfg(test)]
    pub fn output_shape(&self) -> String {
        describe_all(&self.outputs)
    }

    /// The output shape with a fixed batch size in place of `None`, as Keras prints a model
    /// built with `batch_input_shape`.
    #[cfg(test)]
    pub fn output_shape_batched(&self, batch: Option<usize>) -> String {
        describe_all_batched(&self.outputs, batch)
    }
}
