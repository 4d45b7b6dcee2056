//! The stand-in that `model!` emits for a model with compile errors.
//!
//! Its methods are not written here: every public `impl` block of [`Sequential`] carries
//! `#[model_api]`, which adds the same methods to [`Placeholder`] with loosened types and
//! unreachable bodies. A method added to the model's API is thereby on the stand-in too.
//!
//! [`Sequential`]: crate::Sequential

/// Offers the model API with the loosest signatures, so that code using a model whose
/// declaration has errors type-checks and the user sees only the real errors. It is never
/// constructed: the program does not compile.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct Placeholder {
    _private: (),
}
