//! Nearest-name suggestions for misspelt layers, keywords, activations and merge modes.

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
    use rnn_spec::{Activation, LayerClass};

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
}
