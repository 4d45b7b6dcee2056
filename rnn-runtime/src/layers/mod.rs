//! The layers, one file each: forward and backward side by side. The recurrent layer is
//! generic over its cell (`cell.rs`, `recurrent.rs`); each Keras cell and its layer are in
//! `simple_rnn.rs`, `lstm.rs` and `gru.rs`.

pub mod bidirectional;
pub mod cell;
pub mod dense;
pub mod dropout;
pub mod embedding;
pub mod gru;
pub mod lstm;
pub mod pooling;
pub mod recurrent;
pub mod rnn_config;
mod rnn_dropout;
pub mod simple_rnn;
