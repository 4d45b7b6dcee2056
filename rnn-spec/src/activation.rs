//! Activations by their Keras names.

use crate::text;

/// An activation function the layers accept, named as in Keras.
///
/// Each variant has the same name as the runtime's `rnn::Activation` variant it maps to.
///
/// ```
/// use rnn_spec::Activation;
/// assert_eq!(Activation::from_keras_name("hard_sigmoid"), Some(Activation::HardSigmoid));
/// assert_eq!(Activation::HardSigmoid.variant_name(), "HardSigmoid");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `linear` (also written `None` in Keras): the identity.
    Linear,
    /// `relu`.
    Relu,
    /// `sigmoid`.
    Sigmoid,
    /// `tanh`.
    Tanh,
    /// `softmax`, over the last axis.
    Softmax,
    /// `hard_sigmoid`, Keras 3's `clip(x / 6 + 0.5, 0, 1)`.
    HardSigmoid,
}

impl Activation {
    /// Every activation, in the order messages list them.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Activation::ALL.len(), 6);
    /// ```
    pub const ALL: [Activation; 6] = [
        Activation::Linear,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softmax,
        Activation::HardSigmoid,
    ];

    /// The Keras spelling, e.g. `"hard_sigmoid"`.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Activation::Tanh.keras_name(), "tanh");
    /// ```
    pub const fn keras_name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
            Activation::HardSigmoid => "hard_sigmoid",
        }
    }

    /// The name of the runtime's `rnn::Activation` variant, e.g. `"HardSigmoid"`.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Activation::Relu.variant_name(), "Relu");
    /// ```
    pub const fn variant_name(self) -> &'static str {
        match self {
            Activation::Linear => "Linear",
            Activation::Relu => "Relu",
            Activation::Sigmoid => "Sigmoid",
            Activation::Tanh => "Tanh",
            Activation::Softmax => "Softmax",
            Activation::HardSigmoid => "HardSigmoid",
        }
    }

    /// The activation with this Keras spelling. Python's `None` is Keras' way of writing
    /// `linear`; callers that accept it map it first.
    ///
    /// ```
    /// use rnn_spec::Activation;
    /// assert_eq!(Activation::from_keras_name("relu"), Some(Activation::Relu));
    /// assert_eq!(Activation::from_keras_name("swish"), None);
    /// ```
    pub const fn from_keras_name(name: &str) -> Option<Activation> {
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
        for a in Activation::ALL {
            assert_eq!(Activation::from_keras_name(a.keras_name()), Some(a));
        }
    }
}
