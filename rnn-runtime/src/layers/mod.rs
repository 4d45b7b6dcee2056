//! The layers, one file each: forward and backward side by side.

pub mod bidirectional;
pub mod dense;
pub mod dropout;
pub mod embedding;
pub mod gru;
pub mod lstm;
pub mod pooling;
pub mod recurrent;
pub mod simple_rnn;
