//! Runtime of the `rnn` crate: statically shaped recurrent layers, batched kernels, and
//! weights in Keras' order.
//!
//! Feature sizes are const generics, so a chain of layers whose sizes do not line up does not
//! compile; batch size and sequence length are run-time values. Most users reach this crate
//! through the `rnn` facade and its `model!` macro; the types here can also be composed by
//! hand:
//!
//! ```
//! use rnn_runtime::*;
//! let mut rng = seeded_rng(42);
//! let mut net = stack::<TokenBatch, _>(Embedding::<100, 8>::new("embedding", false, &mut rng))
//!     .then(Lstm::<8, 16>::new("lstm", RnnConfig::default(), &mut rng))
//!     .then(Dense::<16, 1>::new("dense", Activation::Sigmoid, &mut rng));
//! let ids = TokenBatch::new(vec![vec![3, 14, 15, 92]]).unwrap();
//! let p = net.forward(&ids, Mode::Inference).unwrap();
//! assert!(p.row(0)[0] > 0.0 && p.row(0)[0] < 1.0);
//! ```

// No panic reachable from user input in library code: no unwrap/expect, no unchecked
// indexing and no integer arithmetic that can overflow. Modules whose loops are bounded by
// shapes checked on entry carry a module-level `allow` with that argument as its reason;
// tests may panic freely.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

pub mod activation;
mod alloc;
pub mod checkpoint;
pub mod datasets;
mod debug_build;
pub mod error;
mod fixed_batch;
pub mod generate;
pub mod indexing;
pub mod init;
pub mod input;
pub mod interop;
pub(crate) mod kernels {
    pub(crate) mod bf16;
    pub(crate) mod gemm;
    pub(crate) mod gemv;
    pub(crate) mod int8;
    pub(crate) mod low;
    pub(crate) mod math;
    pub(crate) mod packed;
    pub(crate) mod panels;
    pub(crate) mod pool;
    pub(crate) mod qr;
    pub(crate) mod tall;
    #[cfg(test)]
    pub(crate) mod test_support;
}
pub mod layer;
pub mod layer_step;
pub mod layers;
pub mod loss;
pub mod model;
pub mod optim;
pub mod output;
pub mod param;
#[doc(hidden)]
pub mod placeholder;
pub mod precision;
mod size;
pub mod step;
pub mod summary;
pub mod tensor;
pub mod text;
pub mod train;

pub use activation::Activation;
pub use alloc::reserve_params;
pub use error::{Error, Result};
pub use init::{Initializer, Rng, seeded_rng};
pub use input::{IntoInput, ModelInput};
pub use kernels::pool::{num_threads, set_num_threads};
pub use layer::{Chain, First, Layer, Mode, Stack, stack};
pub use layer_step::{LayerStep, StepContext, StepData};
pub use layers::bidirectional::{Ave, Bidirectional, Concat, Merge, Mul, NoMerge, Sum};
pub use layers::cell::{Cell, cell_params};
pub use layers::dense::{Dense, TimeDistributed};
pub use layers::dropout::Dropout;
pub use layers::embedding::{ANY_VOCAB, Embedding};
pub use layers::gru::{Gru, GruCell};
pub use layers::lstm::{Lstm, LstmCell};
pub use layers::pooling::GlobalAveragePooling1D;
pub use layers::recurrent::{Recurrent, Rnn};
pub use layers::rnn_config::{Last, RecurrentOutput, ReturnMode, RnnConfig, Sequences};
pub use layers::simple_rnn::{SimpleRnn, SimpleRnnCell};
pub use loss::{Loss, Target};
pub use model::Sequential;
pub use optim::{Adagrad, Adam, Clip, Optimizer, RmsProp, Sgd};
pub use output::{Array, ModelOutput, Outputs};
pub use param::{Param, Weight, WeightData, Weights};
pub use precision::Precision;
/// The `rand` this crate draws its initial weights and shuffles with, so that a sampler of
/// your own (`rnn::rand::Rng`) is of the same version.
pub use rand;
pub use step::{StepInput, StepState};
pub use summary::{LayerSpec, ModelSpec};
pub use tensor::{Features, Mask, Sequence, Tensor, TokenBatch, Unmerged};
pub use train::history::{History, Logs};
pub use train::metrics::Metric;
pub use train::options::{EarlyStopping, Fit, NoValidation, ValidationData};
pub use train::targets::{IntoTargets, Targets};
