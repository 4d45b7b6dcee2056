//! Training: `compile`, `fit`, `evaluate` and `train_on_batch`, with Keras' semantics.
//!
//! One step: forward in training mode, the loss on the main output (masked sequence steps
//! weighted as Keras weighs them), the backward pass (from the logits when the loss is a
//! cross-entropy after sigmoid or softmax, which stays finite where the probabilities
//! underflow), a finiteness check, then the optimizer. A step whose loss or gradient is not
//! finite stops training with an error before any weight changes.
//!
//! The loop (`run`) sees the model only through a narrow trait (`network::Network`), and what
//! `compile` sets up (`compiled::Compiled`) sees only the arrays and parameter lists it is
//! handed; the model's public methods that drive them are in `model::training`.

pub(crate) mod compiled;
pub(crate) mod history;
pub(crate) mod metrics;
pub(crate) mod network;
pub(crate) mod options;
pub(crate) mod progress;
pub(crate) mod run;
pub(crate) mod stopper;
pub(crate) mod targets;
pub(crate) mod totals;
