//! Models and weights in other libraries' files: Keras' `.keras` archives, `.weights.h5` files
//! and legacy `.h5` full-model files (see [`keras`]), and PyTorch state dicts (see [`torch`]).

mod h5;
pub mod keras;
mod keras_config;
pub mod torch;
