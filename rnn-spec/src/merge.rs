//! `Bidirectional` merge modes by their Keras names.

use crate::text;

/// How `Bidirectional` combines its forward and backward outputs (Keras `merge_mode`).
///
/// Each variant has the same name as the runtime's merge type (`rnn::Concat`, ...,
/// `rnn::NoMerge`).
///
/// ```
/// use rnn_spec::MergeMode;
/// assert_eq!(MergeMode::from_keras_name("ave"), Some(MergeMode::Ave));
/// assert_eq!(MergeMode::Concat.features(64), 128);
/// assert_eq!(MergeMode::NoMerge.outputs(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MergeMode {
    /// `concat` (the default): forward and backward side by side.
    Concat,
    /// `sum`.
    Sum,
    /// `mul`: element-wise product.
    Mul,
    /// `ave`: element-wise mean.
    Ave,
    /// `none` (Python's `None`): both directions returned as separate outputs.
    NoMerge,
}

impl MergeMode {
    /// Every merge mode, in the order messages list them.
    ///
    /// ```
    /// assert_eq!(rnn_spec::MergeMode::ALL[0], rnn_spec::MergeMode::Concat);
    /// ```
    pub const ALL: [MergeMode; 5] = [
        MergeMode::Concat,
        MergeMode::Sum,
        MergeMode::Mul,
        MergeMode::Ave,
        MergeMode::NoMerge,
    ];

    /// The Keras spelling, e.g. `"concat"`; `"none"` for Python's `None`.
    ///
    /// ```
    /// assert_eq!(rnn_spec::MergeMode::NoMerge.keras_name(), "none");
    /// ```
    pub const fn keras_name(self) -> &'static str {
        match self {
            MergeMode::Concat => "concat",
            MergeMode::Sum => "sum",
            MergeMode::Mul => "mul",
            MergeMode::Ave => "ave",
            MergeMode::NoMerge => "none",
        }
    }

    /// The name of the runtime's merge type, e.g. `"NoMerge"`.
    ///
    /// ```
    /// assert_eq!(rnn_spec::MergeMode::Sum.type_name(), "Sum");
    /// ```
    pub const fn type_name(self) -> &'static str {
        match self {
            MergeMode::Concat => "Concat",
            MergeMode::Sum => "Sum",
            MergeMode::Mul => "Mul",
            MergeMode::Ave => "Ave",
            MergeMode::NoMerge => "NoMerge",
        }
    }

    /// Output features per unit of the wrapped layer: 2 for `concat`, 1 otherwise (each of the
    /// two outputs of `none` has the wrapped layer's width).
    ///
    /// ```
    /// assert_eq!(rnn_spec::MergeMode::Concat.factor(), 2);
    /// ```
    pub const fn factor(self) -> usize {
        match self {
            MergeMode::Concat => 2,
            _ => 1,
        }
    }

    /// Output features of a `Bidirectional` whose wrapped layer has `units`.
    ///
    /// ```
    /// assert_eq!(rnn_spec::MergeMode::Sum.features(64), 64);
    /// ```
    pub const fn features(self, units: usize) -> usize {
        self.factor() * units
    }

    /// Main outputs (before any states): 2 for `none`, 1 for the merging modes.
    ///
    /// ```
    /// assert_eq!(rnn_spec::MergeMode::Mul.outputs(), 1);
    /// ```
    pub const fn outputs(self) -> usize {
        match self {
            MergeMode::NoMerge => 2,
            _ => 1,
        }
    }

    /// The merge mode with this Keras spelling; Python's `None` is `"none"` here.
    ///
    /// ```
    /// assert_eq!(rnn_spec::MergeMode::from_keras_name("max"), None);
    /// ```
    pub const fn from_keras_name(name: &str) -> Option<MergeMode> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if text::eq(Self::ALL[i].keras_name(), name) {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in MergeMode::ALL {
            assert_eq!(MergeMode::from_keras_name(m.keras_name()), Some(m));
        }
    }
}
