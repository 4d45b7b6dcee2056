//! Keras' facts about the layers of the `rnn` crate, written once: layer classes and their
//! default names, every argument in Keras' positional order with its default, activations,
//! initializers and merge modes with their Keras spellings, gate counts, state and cell names, and the
//! parameter-count formulas.
//!
//! Everything is `const` data or a `const fn`, so both the `model!` macro (at expansion time)
//! and the runtime (in `const` items) read the same numbers.
//!
//! ```
//! use rnn_spec::{Activation, ArgDefault, Cell, LayerClass};
//! assert_eq!(LayerClass::Lstm.keras_name(), "LSTM");
//! assert_eq!(LayerClass::Lstm.default_name(), "lstm");
//! assert_eq!(
//!     LayerClass::Lstm.arg("recurrent_activation").map(|a| a.default),
//!     Some(ArgDefault::Activation(Activation::Sigmoid))
//! );
//! assert_eq!(Cell::Lstm.params(100, 100, true, false), 80_400);
//! ```
//!
//! The formulas are `const fn`s, for `const` items over a layer type's generic sizes:
//!
//! ```
//! struct Gru<const IN: usize, const H: usize, const RESET_AFTER: bool>;
//! impl<const IN: usize, const H: usize, const RESET_AFTER: bool> Gru<IN, H, RESET_AFTER> {
//!     const PARAMS: usize = rnn_spec::Cell::Gru.params(IN, H, true, RESET_AFTER);
//! }
//! assert_eq!(Gru::<100, 128, true>::PARAMS, 88_320);
//! ```

#![no_std]

mod activation;
mod cell;
pub mod defaults;
mod initializer;
mod layer;
mod merge;
mod params;
mod text;

pub use activation::Activation;
pub use cell::Cell;
pub use initializer::{Initializer, InitializerArg, TRUNCATION_STDDEV};
pub use layer::{Arg, ArgDefault, FIRST_LAYER_ARGS, LayerClass};
pub use merge::MergeMode;
pub use params::{
    bidirectional_params, dense_params, dense_params_wide, embedding_params, recurrent_params,
    recurrent_params_wide,
};

/// Keras' name of a `Sequential` model, the first component of every weight path
/// (`sequential/lstm/lstm_cell/kernel`).
///
/// ```
/// assert_eq!(rnn_spec::MODEL_NAME, "sequential");
/// ```
pub const MODEL_NAME: &str = "sequential";
