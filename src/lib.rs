//! Recurrent neural networks declared with one macro, shape-checked by the compiler, and
//! numerically matching Keras.
//!
//! ```
//! use rnn::prelude::*;
//!
//! model! {
//!     /// The tutorial's sentiment model.
//!     #[params = 529_441]
//!     pub struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
//! }
//!
//! let mut model = Quiz::new(42);
//! assert_eq!(Quiz::PARAMS, 529_441);
//! let p = model.predict(vec![vec![12u32, 7, 431, 9]]).unwrap();
//! assert_eq!(p.main().shape, vec![1, 1]);
//! ```

// Lets the macro's `::rnn::...` paths resolve inside this crate's own tests too.
extern crate self as rnn;

pub use rnn_macros::{model, model_from_keras};
/// The `rand` the runtime uses (re-exported by `rnn_runtime`), for samplers of your own that
/// take or share its generator, whatever `rand` your crate depends on:
///
/// ```
/// use rnn::rand::RngExt;
/// let mut rng = rnn::seeded_rng(7);
/// let temperature: f32 = rng.random_range(0.5..1.5);
/// assert!((0.5..1.5).contains(&temperature));
/// ```
#[doc(no_inline)]
pub use rnn_runtime::rand;
pub use rnn_runtime::*;

/// The README: setup, the macro and its layer table, training, checkpoints and benchmarks.
/// Every Rust example in it is compiled and run as a test.
#[doc = include_str!("../README.md")]
pub mod guide {}

#[doc(hidden)]
pub mod __private {
    pub use rnn_runtime::placeholder::Placeholder;
}

/// Everything a model needs: the macro, the model API and the tensor types.
pub mod prelude {
    pub use rnn_macros::{model, model_from_keras};
    pub use rnn_runtime::interop::keras::KerasModel;
    pub use rnn_runtime::{
        Activation, Adagrad, Adam, Array, EarlyStopping, Error, Features, Fit, History, IntoInput,
        IntoTargets, Layer, Logs, Loss, Metric, Mode, Optimizer, Outputs, RmsProp, Sequence,
        Sequential, Sgd, Stack, StepInput, StepState, Targets, Tensor, TokenBatch, Weight, Weights,
    };
}
