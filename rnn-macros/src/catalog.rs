//! The layers the DSL knows: Keras names, arguments in Keras' positional order, activations
//! and merge modes, and nearest-name suggestions for misspellings.

/// The layers of the DSL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerType {
    Input,
    Embedding,
    SimpleRnn,
    Lstm,
    Gru,
    Bidirectional,
    TimeDistributed,
    Dense,
    Dropout,
    GlobalAveragePooling1D,
}

impl LayerType {
    pub const ALL: [LayerType; 10] = [
        LayerType::Input,
        LayerType::Embedding,
        LayerType::SimpleRnn,
        LayerType::Lstm,
        LayerType::Gru,
        LayerType::Bidirectional,
        LayerType::TimeDistributed,
        LayerType::Dense,
        LayerType::Dropout,
        LayerType::GlobalAveragePooling1D,
    ];

    /// The name written in the DSL, which is Keras' class name.
    pub fn keras(self) -> &'static str {
        match self {
            LayerType::Input => "Input",
            LayerType::Embedding => "Embedding",
            LayerType::SimpleRnn => "SimpleRNN",
            LayerType::Lstm => "LSTM",
            LayerType::Gru => "GRU",
            LayerType::Bidirectional => "Bidirectional",
            LayerType::TimeDistributed => "TimeDistributed",
            LayerType::Dense => "Dense",
            LayerType::Dropout => "Dropout",
            LayerType::GlobalAveragePooling1D => "GlobalAveragePooling1D",
        }
    }

    /// Keras' default name prefix (the snake-case class name) used for numbering.
    pub fn prefix(self) -> &'static str {
        match self {
            LayerType::Input => "input_layer",
            LayerType::Embedding => "embedding",
            LayerType::SimpleRnn => "simple_rnn",
            LayerType::Lstm => "lstm",
            LayerType::Gru => "gru",
            LayerType::Bidirectional => "bidirectional",
            LayerType::TimeDistributed => "time_distributed",
            LayerType::Dense => "dense",
            LayerType::Dropout => "dropout",
            LayerType::GlobalAveragePooling1D => "global_average_pooling1d",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.keras() == name)
    }

    pub fn is_recurrent(self) -> bool {
        matches!(
            self,
            LayerType::SimpleRnn | LayerType::Lstm | LayerType::Gru
        )
    }

    /// Argument names in Keras' positional order.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            LayerType::Input => &["timesteps", "features"],
            LayerType::Embedding => &["input_dim", "output_dim", "mask_zero", "input_length"],
            LayerType::SimpleRnn => &[
                "units",
                "activation",
                "use_bias",
                "return_sequences",
                "return_state",
                "go_backwards",
            ],
            LayerType::Lstm => &[
                "units",
                "activation",
                "recurrent_activation",
                "use_bias",
                "unit_forget_bias",
                "return_sequences",
                "return_state",
                "go_backwards",
            ],
            LayerType::Gru => &[
                "units",
                "activation",
                "recurrent_activation",
                "use_bias",
                "return_sequences",
                "return_state",
                "go_backwards",
                "reset_after",
            ],
            LayerType::Bidirectional => &["layer", "merge_mode"],
            LayerType::TimeDistributed => &["layer"],
            LayerType::Dense => &["units", "activation", "use_bias"],
            LayerType::Dropout => &["rate"],
            LayerType::GlobalAveragePooling1D => &[],
        }
    }

    /// Keyword-only arguments, after the positional ones: every layer but `Input` can be
    /// named, as in Keras.
    pub fn keyword_only(self) -> &'static [&'static str] {
        if self == LayerType::Input {
            &[]
        } else {
            &["name"]
        }
    }

    /// How many leading arguments are required.
    pub fn required(self) -> usize {
        match self {
            LayerType::Input | LayerType::Embedding => 2,
            LayerType::GlobalAveragePooling1D => 0,
            _ => 1,
        }
    }

    /// The required arguments, then `...` if there are optional ones: `LSTM(units, ...)`.
    pub fn short_signature(self) -> String {
        let params = self.params();
        let mut names: Vec<&str> = params[..self.required()].to_vec();
        if params.len() > self.required() {
            names.push("...");
        }
        format!("{}({})", self.keras(), names.join(", "))
    }

    /// Every argument in positional order, then the keyword-only ones, for messages:
    /// `Dense(units, activation, use_bias, name)`.
    pub fn signature(self) -> String {
        let names: Vec<&str> = self
            .params()
            .iter()
            .chain(self.keyword_only())
            .copied()
            .collect();
        if names.is_empty() {
            self.keras().to_string()
        } else {
            format!("{}({})", self.keras(), names.join(", "))
        }
    }
}

/// Activations by Keras name, as runtime `Activation` variants.
pub const ACTIVATIONS: [(&str, &str); 6] = [
    ("linear", "Linear"),
    ("relu", "Relu"),
    ("sigmoid", "Sigmoid"),
    ("tanh", "Tanh"),
    ("softmax", "Softmax"),
    ("hard_sigmoid", "HardSigmoid"),
];

/// Merge modes by Keras name, as runtime merge types.
pub const MERGE_MODES: [(&str, &str); 5] = [
    ("concat", "Concat"),
    ("sum", "Sum"),
    ("mul", "Mul"),
    ("ave", "Ave"),
    ("none", "NoMerge"),
];

/// The candidate closest to `name`, if it is close enough to be a plausible misspelling.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let score = strsim::normalized_damerau_levenshtein(&lower, &c.to_lowercase());
            (c, score)
        })
        .filter(|&(c, score)| {
            score >= 0.6
                || c.to_lowercase().starts_with(&lower)
                || lower.starts_with(&c.to_lowercase())
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// ` Did you mean `x`?` or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match nearest(name, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let layers = LayerType::ALL.map(LayerType::keras);
        assert_eq!(nearest("Lstm", layers), Some("LSTM"));
        assert_eq!(nearest("SimpleRnn", layers), Some("SimpleRNN"));
        assert_eq!(nearest("Dens", layers), Some("Dense"));
        assert_eq!(
            nearest("GlobalAveragePooling", layers),
            Some("GlobalAveragePooling1D")
        );
        assert_eq!(nearest("Conv2D", layers), None);
        let acts = ACTIVATIONS.map(|a| a.0);
        assert_eq!(nearest("sigmoide", acts), Some("sigmoid"));
        assert_eq!(nearest("hardsigmoid", acts), Some("hard_sigmoid"));
        assert_eq!(nearest("swish", acts), None);
        let lstm_args = LayerType::Lstm.params().iter().copied();
        assert_eq!(
            nearest("return_sequence", lstm_args),
            Some("return_sequences")
        );
    }

    #[test]
    fn every_layer_round_trips_its_name() {
        for t in LayerType::ALL {
            assert_eq!(LayerType::from_name(t.keras()), Some(t));
        }
        assert_eq!(
            LayerType::Dense.signature(),
            "Dense(units, activation, use_bias, name)"
        );
        assert_eq!(
            LayerType::GlobalAveragePooling1D.signature(),
            "GlobalAveragePooling1D(name)"
        );
    }
}
