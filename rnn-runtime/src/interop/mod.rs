//! Models in other libraries' files: Keras' `.keras` archives, `.weights.h5` files and legacy
//! `.h5` full-model files (see [`keras`]).

mod h5;
pub mod keras;
mod keras_config;
