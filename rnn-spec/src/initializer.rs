//! Weight initializers by their Keras names: class names, string aliases, arguments and
//! defaults (Keras 3's `keras.initializers`).

use crate::text;

/// A weight initializer class, named as in Keras.
///
/// Each variant has the same name as the runtime's `rnn::Initializer` variant it maps to.
///
/// ```
/// use rnn_spec::Initializer;
/// assert_eq!(Initializer::from_keras_name("glorot_uniform"), Some(Initializer::GlorotUniform));
/// assert_eq!(Initializer::from_keras_name("uniform"), Some(Initializer::RandomUniform));
/// assert_eq!(Initializer::RandomUniform.args()[0].name, "minval");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initializer {
    /// `Constant(value = 0.0)`.
    Constant,
    /// `Zeros`.
    Zeros,
    /// `Ones`.
    Ones,
    /// `GlorotUniform`: uniform in `±sqrt(6 / (fan_in + fan_out))`.
    GlorotUniform,
    /// `GlorotNormal`: truncated normal, `stddev = sqrt(2 / (fan_in + fan_out)) / 0.8796`.
    GlorotNormal,
    /// `HeUniform`: uniform in `±sqrt(6 / fan_in)`.
    HeUniform,
    /// `HeNormal`: truncated normal, `stddev = sqrt(2 / fan_in) / 0.8796`.
    HeNormal,
    /// `LecunUniform`: uniform in `±sqrt(3 / fan_in)`.
    LecunUniform,
    /// `LecunNormal`: truncated normal, `stddev = sqrt(1 / fan_in) / 0.8796`.
    LecunNormal,
    /// `Orthogonal(gain = 1.0)`: a random orthogonal matrix times `gain`.
    Orthogonal,
    /// `RandomUniform(minval = -0.05, maxval = 0.05)`.
    RandomUniform,
    /// `RandomNormal(mean = 0.0, stddev = 0.05)`.
    RandomNormal,
    /// `TruncatedNormal(mean = 0.0, stddev = 0.05)`: a normal cut at two standard deviations.
    TruncatedNormal,
    /// `Identity(gain = 1.0)`: `gain` times the identity matrix (rectangular ones too).
    Identity,
}

/// One argument of an initializer: its Keras keyword and default.
///
/// ```
/// let gain = rnn_spec::Initializer::Orthogonal.args()[0];
/// assert_eq!((gain.name, gain.default), ("gain", 1.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitializerArg {
    /// Keras' keyword, e.g. `"stddev"`.
    pub name: &'static str,
    /// The value when the argument is not given.
    pub default: f64,
}

const fn arg(name: &'static str, default: f64) -> InitializerArg {
    InitializerArg { name, default }
}

const VALUE: [InitializerArg; 1] = [arg("value", 0.0)];
const GAIN: [InitializerArg; 1] = [arg("gain", 1.0)];
const UNIFORM: [InitializerArg; 2] = [arg("minval", -0.05), arg("maxval", 0.05)];
const NORMAL: [InitializerArg; 2] = [arg("mean", 0.0), arg("stddev", 0.05)];

/// Keras' other names for some initializers (`keras.initializers.get("uniform")`), beside the
/// class name and its snake case.
const ALIASES: [(&str, Initializer); 6] = [
    ("normal", Initializer::RandomNormal),
    ("one", Initializer::Ones),
    ("uniform", Initializer::RandomUniform),
    ("zero", Initializer::Zeros),
    ("IdentityInitializer", Initializer::Identity),
    ("OrthogonalInitializer", Initializer::Orthogonal),
];

/// The divisor of Keras' variance-scaling truncated normals: the standard deviation of a
/// standard normal truncated at ±2, so that the truncated draw has the intended variance.
///
/// ```
/// assert!((rnn_spec::TRUNCATION_STDDEV - 0.8796).abs() < 1e-4);
/// ```
pub const TRUNCATION_STDDEV: f64 = 0.879_625_661_034_239_8;

impl Initializer {
    /// Every initializer, in the order messages list them.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Initializer::ALL.len(), 14);
    /// ```
    pub const ALL: [Initializer; 14] = [
        Initializer::Constant,
        Initializer::Zeros,
        Initializer::Ones,
        Initializer::GlorotUniform,
        Initializer::GlorotNormal,
        Initializer::HeUniform,
        Initializer::HeNormal,
        Initializer::LecunUniform,
        Initializer::LecunNormal,
        Initializer::Orthogonal,
        Initializer::RandomUniform,
        Initializer::RandomNormal,
        Initializer::TruncatedNormal,
        Initializer::Identity,
    ];

    /// Keras' class name, which is also the runtime's variant name: `"GlorotUniform"`.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Initializer::HeNormal.keras_name(), "HeNormal");
    /// ```
    pub const fn keras_name(self) -> &'static str {
        match self {
            Initializer::Constant => "Constant",
            Initializer::Zeros => "Zeros",
            Initializer::Ones => "Ones",
            Initializer::GlorotUniform => "GlorotUniform",
            Initializer::GlorotNormal => "GlorotNormal",
            Initializer::HeUniform => "HeUniform",
            Initializer::HeNormal => "HeNormal",
            Initializer::LecunUniform => "LecunUniform",
            Initializer::LecunNormal => "LecunNormal",
            Initializer::Orthogonal => "Orthogonal",
            Initializer::RandomUniform => "RandomUniform",
            Initializer::RandomNormal => "RandomNormal",
            Initializer::TruncatedNormal => "TruncatedNormal",
            Initializer::Identity => "Identity",
        }
    }

    /// Keras' string name, the class name in snake case: `"glorot_uniform"`.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Initializer::TruncatedNormal.string_name(), "truncated_normal");
    /// ```
    pub const fn string_name(self) -> &'static str {
        match self {
            Initializer::Constant => "constant",
            Initializer::Zeros => "zeros",
            Initializer::Ones => "ones",
            Initializer::GlorotUniform => "glorot_uniform",
            Initializer::GlorotNormal => "glorot_normal",
            Initializer::HeUniform => "he_uniform",
            Initializer::HeNormal => "he_normal",
            Initializer::LecunUniform => "lecun_uniform",
            Initializer::LecunNormal => "lecun_normal",
            Initializer::Orthogonal => "orthogonal",
            Initializer::RandomUniform => "random_uniform",
            Initializer::RandomNormal => "random_normal",
            Initializer::TruncatedNormal => "truncated_normal",
            Initializer::Identity => "identity",
        }
    }

    /// The initializer Keras finds under this name (`keras.initializers.get`): the class name,
    /// its snake case, or one of Keras' aliases (`"uniform"`, `"normal"`, `"zero"`, `"one"`).
    /// Case matters, as in Keras.
    ///
    /// ```
    /// use rnn_spec::Initializer;
    /// assert_eq!(Initializer::from_keras_name("Orthogonal"), Some(Initializer::Orthogonal));
    /// assert_eq!(Initializer::from_keras_name("he_normal"), Some(Initializer::HeNormal));
    /// assert_eq!(Initializer::from_keras_name("zero"), Some(Initializer::Zeros));
    /// assert_eq!(Initializer::from_keras_name("Glorot_Uniform"), None);
    /// ```
    pub const fn from_keras_name(name: &str) -> Option<Initializer> {
        let mut i = 0;
        while i < Self::ALL.len() {
            let init = Self::ALL[i];
            if text::eq(init.keras_name(), name) || text::eq(init.string_name(), name) {
                return Some(init);
            }
            i += 1;
        }
        let mut i = 0;
        while i < ALIASES.len() {
            if text::eq(ALIASES[i].0, name) {
                return Some(ALIASES[i].1);
            }
            i += 1;
        }
        None
    }

    /// Every name [`from_keras_name`](Self::from_keras_name) accepts, for suggestions.
    ///
    /// ```
    /// let names: Vec<&str> = rnn_spec::Initializer::names().collect();
    /// assert!(names.contains(&"glorot_uniform") && names.contains(&"uniform"));
    /// ```
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL
            .iter()
            .flat_map(|i| [i.keras_name(), i.string_name()])
            .chain(ALIASES.iter().map(|a| a.0))
    }

    /// The arguments in Keras' positional order, each a number (Keras' `seed` is not one of
    /// them: weights are drawn from the model's seed).
    ///
    /// ```
    /// use rnn_spec::Initializer;
    /// assert_eq!(Initializer::Constant.args()[0].name, "value");
    /// assert!(Initializer::GlorotUniform.args().is_empty());
    /// ```
    pub const fn args(self) -> &'static [InitializerArg] {
        match self {
            Initializer::Constant => &VALUE,
            Initializer::Orthogonal | Initializer::Identity => &GAIN,
            Initializer::RandomUniform => &UNIFORM,
            Initializer::RandomNormal | Initializer::TruncatedNormal => &NORMAL,
            _ => &[],
        }
    }

    /// Whether Keras draws random numbers for this initializer (and accepts a `seed`).
    ///
    /// ```
    /// assert!(rnn_spec::Initializer::Orthogonal.is_random());
    /// assert!(!rnn_spec::Initializer::Identity.is_random());
    /// ```
    pub const fn is_random(self) -> bool {
        !matches!(
            self,
            Initializer::Constant | Initializer::Zeros | Initializer::Ones | Initializer::Identity
        )
    }

    /// Whether Keras accepts only matrices (it raises for a vector such as a bias).
    ///
    /// ```
    /// assert!(rnn_spec::Initializer::Identity.needs_matrix());
    /// assert!(!rnn_spec::Initializer::Zeros.needs_matrix());
    /// ```
    pub const fn needs_matrix(self) -> bool {
        matches!(self, Initializer::Orthogonal | Initializer::Identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for i in Initializer::ALL {
            assert_eq!(Initializer::from_keras_name(i.keras_name()), Some(i));
            assert_eq!(Initializer::from_keras_name(i.string_name()), Some(i));
        }
        for (alias, i) in ALIASES {
            assert_eq!(Initializer::from_keras_name(alias), Some(i));
        }
    }

    #[test]
    fn random_ones_take_no_matrix_only_arguments() {
        assert!(Initializer::ALL.iter().all(|i| i.args().len() <= 2));
        assert_eq!(Initializer::TruncatedNormal.args()[1].default, 0.05);
    }
}
