//! What the integration tests share: reading the Keras reference fixtures (`fixtures`), the
//! tolerances and the asserts that apply them (`tolerance`), float64 reference formulas and
//! finite differences (`reference`), and model inputs built from fixtures and input gradients
//! read back as flat arrays (`input`), and bf16 and int8 inference checked against `f32`
//! (`reduced`).
//!
//! Each test file compiles this module and uses a part of it.
#![allow(dead_code, unused_imports)]

pub mod fixtures;
pub mod input;
pub mod reduced;
pub mod reference;
pub mod tolerance;

pub use fixtures::*;
pub use input::*;
pub use reduced::*;
pub use reference::*;
pub use tolerance::*;
