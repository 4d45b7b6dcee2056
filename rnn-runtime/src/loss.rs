//! Losses with Keras' semantics (placeholder until implemented).

/// A Keras loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// `mean_squared_error`.
    MeanSquaredError,
}

/// Targets of a loss.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// Same layout as the predictions.
    Dense(&'a [f32]),
}
