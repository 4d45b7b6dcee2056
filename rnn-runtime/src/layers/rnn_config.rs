//! Options of the recurrent layers: [`RnnConfig`] (run-time options) and [`ReturnMode`]
//! (what a layer returns, a type parameter).

use crate::activation::Activation;
use crate::init::Initializer;
use crate::tensor::{Features, Mask, Sequence, Tensor};

/// Options of SimpleRNN, LSTM and GRU that do not change shapes or parameter counts (those
/// are const generics of the layer types). Defaults are Keras 3's.
///
/// ```
/// use rnn_runtime::{Activation, RnnConfig};
/// let cfg = RnnConfig::default().go_backwards(true).activation(Activation::Relu);
/// assert_eq!(cfg.recurrent_activation, Activation::Sigmoid);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnConfig {
    /// Output activation (`tanh`).
    pub activation: Activation,
    /// Gate activation of LSTM and GRU (`sigmoid`).
    pub recurrent_activation: Activation,
    /// Also return the final states (`false`).
    pub return_state: bool,
    /// Read the sequence from the last step to the first (`false`).
    pub go_backwards: bool,
    /// LSTM: initialise the forget-gate bias to 1 (`true`).
    pub unit_forget_bias: bool,
    /// The input kernel's initializer (`GlorotUniform`).
    pub kernel_initializer: Initializer,
    /// The recurrent kernel's initializer (`Orthogonal`).
    pub recurrent_initializer: Initializer,
    /// The bias's initializer (`Zeros`); with LSTM's `unit_forget_bias`, the forget gate's
    /// quarter is ones and the other gates are drawn as Keras draws them, `(units,)` then
    /// `(2 * units,)`.
    pub bias_initializer: Initializer,
    /// Fraction of the input features dropped in training, one mask per sequence (`0.0`).
    pub dropout: f32,
    /// Fraction of the previous state's units dropped before the recurrent product in
    /// training, one mask per sequence (`0.0`).
    pub recurrent_dropout: f32,
}

impl Default for RnnConfig {
    fn default() -> Self {
        use rnn_spec::defaults;
        RnnConfig {
            activation: defaults::ACTIVATION.into(),
            recurrent_activation: defaults::RECURRENT_ACTIVATION.into(),
            return_state: defaults::RETURN_STATE,
            go_backwards: defaults::GO_BACKWARDS,
            unit_forget_bias: defaults::UNIT_FORGET_BIAS,
            kernel_initializer: defaults::KERNEL_INITIALIZER.into(),
            recurrent_initializer: defaults::RECURRENT_INITIALIZER.into(),
            bias_initializer: defaults::BIAS_INITIALIZER.into(),
            dropout: defaults::DROPOUT as f32,
            recurrent_dropout: defaults::RECURRENT_DROPOUT as f32,
        }
    }
}

impl RnnConfig {
    /// Sets `activation`.
    pub fn activation(mut self, a: Activation) -> Self {
        self.activation = a;
        self
    }
    /// Sets `recurrent_activation`.
    pub fn recurrent_activation(mut self, a: Activation) -> Self {
        self.recurrent_activation = a;
        self
    }
    /// Sets `return_state`.
    pub fn return_state(mut self, on: bool) -> Self {
        self.return_state = on;
        self
    }
    /// Sets `go_backwards`.
    pub fn go_backwards(mut self, on: bool) -> Self {
        self.go_backwards = on;
        self
    }
    /// Sets `unit_forget_bias`.
    pub fn unit_forget_bias(mut self, on: bool) -> Self {
        self.unit_forget_bias = on;
        self
    }
    /// Sets `dropout`: in training each input feature of a sequence is zeroed with
    /// probability `rate` (the same features at every step) and the others are scaled by
    /// `1 / (1 - rate)`; at inference the input is used as is.
    ///
    /// ```
    /// use rnn_runtime::RnnConfig;
    /// let cfg = RnnConfig::default().dropout(0.2).recurrent_dropout(0.2);
    /// assert_eq!((cfg.dropout, cfg.recurrent_dropout), (0.2, 0.2));
    /// ```
    ///
    /// # Panics
    /// If `rate` is outside `[0, 1)`, as [`Dropout::new`](crate::Dropout::new) does; the
    /// `model!` macro checks it at compile time.
    pub fn dropout(mut self, rate: f32) -> Self {
        assert!((0.0..1.0).contains(&rate), "dropout must be in [0, 1)");
        self.dropout = rate;
        self
    }
    /// Sets `recurrent_dropout`: in training each unit of the previous state is zeroed
    /// with probability `rate` before the recurrent product (the same units at every step of
    /// a sequence; LSTM and GRU draw one mask per gate, as Keras 3 does) and the others are
    /// scaled by `1 / (1 - rate)`.
    ///
    /// # Panics
    /// If `rate` is outside `[0, 1)`.
    pub fn recurrent_dropout(mut self, rate: f32) -> Self {
        assert!(
            (0.0..1.0).contains(&rate),
            "recurrent_dropout must be in [0, 1)"
        );
        self.recurrent_dropout = rate;
        self
    }
    /// Sets `kernel_initializer`.
    ///
    /// ```
    /// use rnn_runtime::{Initializer, Last, Lstm, RnnConfig, Weights, seeded_rng};
    /// let cfg = RnnConfig::default()
    ///     .kernel_initializer(Initializer::Constant(0.1))
    ///     .recurrent_initializer(Initializer::Identity { gain: 1.0 })
    ///     .bias_initializer(Initializer::Zeros);
    /// let lstm = Lstm::<2, 3, Last>::new("sequential/lstm", cfg, &mut seeded_rng(0));
    /// assert!(lstm.params()[0].values().iter().all(|&v| v == 0.1));
    /// ```
    pub fn kernel_initializer(mut self, init: Initializer) -> Self {
        self.kernel_initializer = init;
        self
    }
    /// Sets `recurrent_initializer`.
    pub fn recurrent_initializer(mut self, init: Initializer) -> Self {
        self.recurrent_initializer = init;
        self
    }
    /// Sets `bias_initializer`.
    pub fn bias_initializer(mut self, init: Initializer) -> Self {
        self.bias_initializer = init;
        self
    }
}

/// What a recurrent layer computes beyond its shapes, as
/// [`Layer::rnn_options`](crate::Layer::rnn_options) reports it.
///
/// ```
/// use rnn_runtime::{Gru, Layer, RnnConfig, Sequence, seeded_rng};
/// let gru = Gru::<3, 4>::new("gru", RnnConfig::default(), &mut seeded_rng(0));
/// let options = Layer::<Sequence<3>>::rnn_options(&gru).unwrap();
/// assert!(options.reset_after);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnOptions {
    /// The run-time options.
    pub config: RnnConfig,
    /// GRU: the reset gate applies after the recurrent product (Keras' `reset_after`);
    /// `false` for the other cells.
    pub reset_after: bool,
}

/// What a recurrent layer returns as its main output: the last output (`Last`, Keras'
/// default) or the whole sequence (`Sequences`, `return_sequences=True`).
pub trait ReturnMode: Send + Sync + 'static {
    /// Whether the whole sequence is returned.
    const SEQUENCES: bool;
    /// `Features<D>` for [`Last`], `Sequence<D>` for [`Sequences`].
    type Output<const D: usize>: RecurrentOutput;
}

/// The main output of one recurrent direction, `Features<D>` or `Sequence<D>`, as raw data.
///
/// ```
/// use rnn_runtime::{Features, RecurrentOutput, Sequence};
/// assert_eq!(Features::<2>::zeros(1).steps(), None);
/// assert_eq!(Sequence::<2>::zeros(1, 5).steps(), Some(5));
/// ```
pub trait RecurrentOutput: Tensor<Grad = Self> {
    /// Wraps raw data: time-major `(time, batch, D)` for sequences, `(batch, D)` otherwise.
    #[doc(hidden)]
    fn wrap(batch: usize, time: usize, data: Vec<f32>, mask: Option<&Mask>) -> Self;
    /// The raw data, as `wrap` takes it.
    #[doc(hidden)]
    fn unwrap(self) -> Vec<f32>;
    /// The raw data in place, as `wrap` takes it.
    #[doc(hidden)]
    fn raw(&self) -> &[f32];
    /// Time steps, for sequences.
    fn steps(&self) -> Option<usize>;
}

/// Return the last output only: `(batch, units)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Last;

/// Return the output of every step: `(batch, time, units)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequences;

impl ReturnMode for Last {
    const SEQUENCES: bool = false;
    type Output<const D: usize> = Features<D>;
}

impl ReturnMode for Sequences {
    const SEQUENCES: bool = true;
    type Output<const D: usize> = Sequence<D>;
}

impl<const D: usize> RecurrentOutput for Features<D> {
    fn wrap(batch: usize, _: usize, data: Vec<f32>, _: Option<&Mask>) -> Self {
        Features::from_vec(batch, data)
    }
    fn unwrap(self) -> Vec<f32> {
        self.into_vec()
    }
    fn raw(&self) -> &[f32] {
        self.as_slice()
    }
    fn steps(&self) -> Option<usize> {
        None
    }
}

impl<const D: usize> RecurrentOutput for Sequence<D> {
    fn wrap(batch: usize, time: usize, data: Vec<f32>, mask: Option<&Mask>) -> Self {
        // Keras passes the input mask on unchanged when the sequence is returned.
        Sequence::from_time_major(batch, time, data).with_mask(mask.cloned())
    }
    fn unwrap(self) -> Vec<f32> {
        self.into_time_major()
    }
    fn raw(&self) -> &[f32] {
        self.as_slice()
    }
    fn steps(&self) -> Option<usize> {
        Some(self.time())
    }
}
