//! Signatures of the layers for messages, and nearest-name suggestions for misspellings.

use rnn_spec::LayerClass;

/// The required arguments, then `...` if there are optional ones: `LSTM(units, ...)`.
pub fn short_signature(class: LayerClass) -> String {
    let args = class.args();
    let mut names: Vec<&str> = args[..class.required()].iter().map(|a| a.name).collect();
    if args.len() > class.required() {
        names.push("...");
    }
    format!("{}({})", class.keras_name(), names.join(", "))
}

/// Every argument in positional order, then the keyword-only ones, for messages:
/// `Dense(units, activation, use_bias, name)`.
pub fn signature(class: LayerClass) -> String {
    let names: Vec<&str> = class
        .args()
        .iter()
        .chain(class.keyword_args())
        .map(|a| a.name)
        .collect();
    if names.is_empty() {
        class.keras_name().to_string()
    } else {
        format!("{}({})", class.keras_name(), names.join(", "))
    }
}

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
    use rnn_spec::Activation;

    #[test]
    fn suggests_near_names_only() {
        let layers = LayerClass::ALL.map(LayerClass::keras_name);
        assert_eq!(nearest("Lstm", layers), Some("LSTM"));
        assert_eq!(nearest("SimpleRnn", layers), Some("SimpleRNN"));
        assert_eq!(nearest("Dens", layers), Some("Dense"));
        assert_eq!(
            nearest("GlobalAveragePooling", layers),
            Some("GlobalAveragePooling1D")
        );
        assert_eq!(nearest("Conv2D", layers), None);
        let acts = Activation::ALL.map(Activation::keras_name);
        assert_eq!(nearest("sigmoide", acts), Some("sigmoid"));
        assert_eq!(nearest("hardsigmoid", acts), Some("hard_sigmoid"));
        assert_eq!(nearest("swish", acts), None);
        let lstm_args = LayerClass::Lstm.args().iter().map(|a| a.name);
        assert_eq!(
            nearest("return_sequence", lstm_args),
            Some("return_sequences")
        );
    }

    #[test]
    fn signatures() {
        assert_eq!(short_signature(LayerClass::Lstm), "LSTM(units, ...)");
        assert_eq!(
            short_signature(LayerClass::Input),
            "Input(timesteps, features)"
        );
        assert_eq!(
            signature(LayerClass::Dense),
            "Dense(units, activation, use_bias, name)"
        );
        assert_eq!(
            signature(LayerClass::GlobalAveragePooling1D),
            "GlobalAveragePooling1D(name)"
        );
    }
}
