//! Weights exchanged with other libraries: [`torch`] reads and writes PyTorch state dicts.

pub mod torch;
