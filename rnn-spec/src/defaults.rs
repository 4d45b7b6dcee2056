//! Keras 3's default argument values, each written once; the argument tables of
//! [`LayerClass`](crate::LayerClass) refer to these.
//!
//! ```
//! use rnn_spec::{Activation, defaults};
//! assert_eq!(defaults::ACTIVATION, Activation::Tanh);
//! assert!(defaults::RESET_AFTER);
//! ```

use crate::{Activation, Initializer, MergeMode};

/// `activation` of SimpleRNN, LSTM and GRU: `tanh`.
///
/// ```
/// assert_eq!(rnn_spec::defaults::ACTIVATION.keras_name(), "tanh");
/// ```
pub const ACTIVATION: Activation = Activation::Tanh;

/// `recurrent_activation` of LSTM and GRU: `sigmoid`. The runtime's shared recurrent
/// configuration uses it for SimpleRNN too, which has no gates and ignores it.
///
/// ```
/// assert_eq!(rnn_spec::defaults::RECURRENT_ACTIVATION.keras_name(), "sigmoid");
/// ```
pub const RECURRENT_ACTIVATION: Activation = Activation::Sigmoid;

/// `activation` of Dense: `None`, i.e. linear.
///
/// ```
/// assert_eq!(rnn_spec::defaults::DENSE_ACTIVATION.keras_name(), "linear");
/// ```
pub const DENSE_ACTIVATION: Activation = Activation::Linear;

/// `use_bias` of every layer that has a bias.
///
/// ```
/// assert!(rnn_spec::defaults::USE_BIAS);
/// ```
pub const USE_BIAS: bool = true;

/// `unit_forget_bias` of LSTM: the forget gate's bias starts at 1. The runtime's shared
/// recurrent configuration carries it for every cell; only LSTM reads it.
///
/// ```
/// assert!(rnn_spec::defaults::UNIT_FORGET_BIAS);
/// ```
pub const UNIT_FORGET_BIAS: bool = true;

/// `return_sequences`: only the last output is returned.
///
/// ```
/// assert!(!rnn_spec::defaults::RETURN_SEQUENCES);
/// ```
pub const RETURN_SEQUENCES: bool = false;

/// `return_state`: the final states are not returned.
///
/// ```
/// assert!(!rnn_spec::defaults::RETURN_STATE);
/// ```
pub const RETURN_STATE: bool = false;

/// `go_backwards`: the sequence is read from first to last step.
///
/// ```
/// assert!(!rnn_spec::defaults::GO_BACKWARDS);
/// ```
pub const GO_BACKWARDS: bool = false;

/// `reset_after` of GRU: Keras 3 (and cuDNN) apply the reset gate after the recurrent
/// product, with a second bias row.
///
/// ```
/// assert!(rnn_spec::defaults::RESET_AFTER);
/// ```
pub const RESET_AFTER: bool = true;

/// `dropout` of SimpleRNN, LSTM and GRU: the fraction of each input step's features
/// dropped in training (one mask per sequence, reused at every step); none by default.
///
/// ```
/// assert_eq!(rnn_spec::defaults::DROPOUT, 0.0);
/// ```
pub const DROPOUT: f64 = 0.0;

/// `recurrent_dropout` of SimpleRNN, LSTM and GRU: the fraction of the previous state's
/// units dropped before the recurrent product in training; none by default.
///
/// ```
/// assert_eq!(rnn_spec::defaults::RECURRENT_DROPOUT, 0.0);
/// ```
pub const RECURRENT_DROPOUT: f64 = 0.0;

/// `mask_zero` of Embedding: token 0 is an ordinary token.
///
/// ```
/// assert!(!rnn_spec::defaults::MASK_ZERO);
/// ```
pub const MASK_ZERO: bool = false;

/// `merge_mode` of Bidirectional: `concat`.
///
/// ```
/// assert_eq!(rnn_spec::defaults::MERGE_MODE.keras_name(), "concat");
/// ```
pub const MERGE_MODE: MergeMode = MergeMode::Concat;

/// `kernel_initializer` of SimpleRNN, LSTM, GRU and Dense: `glorot_uniform`.
///
/// ```
/// assert_eq!(rnn_spec::defaults::KERNEL_INITIALIZER.string_name(), "glorot_uniform");
/// ```
pub const KERNEL_INITIALIZER: Initializer = Initializer::GlorotUniform;

/// `recurrent_initializer` of SimpleRNN, LSTM and GRU: `orthogonal`.
///
/// ```
/// assert_eq!(rnn_spec::defaults::RECURRENT_INITIALIZER.string_name(), "orthogonal");
/// ```
pub const RECURRENT_INITIALIZER: Initializer = Initializer::Orthogonal;

/// `bias_initializer` of every layer that has a bias: `zeros`.
///
/// ```
/// assert_eq!(rnn_spec::defaults::BIAS_INITIALIZER.string_name(), "zeros");
/// ```
pub const BIAS_INITIALIZER: Initializer = Initializer::Zeros;

/// `embeddings_initializer` of Embedding: `"uniform"`, i.e. `RandomUniform(-0.05, 0.05)`.
///
/// ```
/// use rnn_spec::{Initializer, defaults};
/// assert_eq!(defaults::EMBEDDINGS_INITIALIZER, Initializer::RandomUniform);
/// assert_eq!(defaults::EMBEDDINGS_INITIALIZER.args()[0].default, -0.05);
/// ```
pub const EMBEDDINGS_INITIALIZER: Initializer = Initializer::RandomUniform;
