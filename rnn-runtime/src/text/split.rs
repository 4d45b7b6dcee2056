//! Turning one text into tokens exactly as keras_preprocessing does: `str.lower()`, every
//! filter character translated to the split string, `str.split(split)` without the empty
//! pieces; or, at character level, every character of the lowered text.

/// How a tokenizer cuts texts into tokens; derived from its configuration.
#[derive(Clone, Debug)]
pub(crate) struct Splitter {
    lower: bool,
    mode: Mode,
}

#[derive(Clone, Debug)]
enum Mode {
    /// Every character (code point) is a token; filters and split are not used.
    Chars,
    /// A one-character split string: translating the filters to it and splitting on it is
    /// the same as splitting on any character of `filters ∪ {split}`, without building the
    /// translated text.
    OneChar {
        /// Separators below 128, looked up by value.
        ascii: [bool; 128],
        /// Separators from 128 up, sorted for binary search.
        other: Vec<char>,
    },
    /// A longer split string: a filter turned into it may join with the characters around it
    /// into new occurrences, so the text is translated first, as Python does.
    Translate { filters: Vec<char>, split: String },
}

/// Reused buffers, so that a text costs at most one allocation-free pass once they are warm.
#[derive(Default)]
pub(crate) struct Scratch {
    lowered: String,
    translated: String,
}

impl Splitter {
    /// `split` must not be empty unless `char_level` (checked by the tokenizer).
    pub(crate) fn new(filters: &str, lower: bool, split: &str, char_level: bool) -> Self {
        let mode = if char_level {
            Mode::Chars
        } else {
            let mut sep = split.chars();
            match (sep.next(), sep.next()) {
                (Some(s), None) => {
                    let mut ascii = [false; 128];
                    let mut other = Vec::new();
                    for c in filters.chars().chain([s]) {
                        match usize::try_from(u32::from(c)) {
                            Ok(i) if i < 128 => {
                                if let Some(slot) = ascii.get_mut(i) {
                                    *slot = true;
                                }
                            }
                            _ => other.push(c),
                        }
                    }
                    other.sort_unstable();
                    other.dedup();
                    Mode::OneChar { ascii, other }
                }
                _ => Mode::Translate {
                    filters: filters.chars().collect(),
                    split: split.to_string(),
                },
            }
        };
        Splitter { lower, mode }
    }

    /// Calls `f` with every token of `text`, in order.
    pub(crate) fn for_each_token(
        &self,
        text: &str,
        scratch: &mut Scratch,
        mut f: impl FnMut(&str),
    ) {
        let text = if self.lower {
            lower_into(text, &mut scratch.lowered);
            scratch.lowered.as_str()
        } else {
            text
        };
        match &self.mode {
            Mode::Chars => {
                let mut buf = [0u8; 4];
                for c in text.chars() {
                    f(c.encode_utf8(&mut buf));
                }
            }
            Mode::OneChar { ascii, other } if other.is_empty() => {
                // Only ASCII separators: no byte of a multi-byte UTF-8 character is ASCII, so
                // cutting the bytes at separator bytes cuts the text at the same characters,
                // without decoding it.
                let mut start = 0;
                for (i, &b) in text.as_bytes().iter().enumerate() {
                    if ascii.get(usize::from(b)).copied().unwrap_or(false) {
                        if let Some(word) = text.get(start..i).filter(|w| !w.is_empty()) {
                            f(word);
                        }
                        start = i.saturating_add(1);
                    }
                }
                if let Some(word) = text.get(start..).filter(|w| !w.is_empty()) {
                    f(word);
                }
            }
            Mode::OneChar { ascii, other } => {
                let is_sep = |c: char| match ascii.get(c as usize) {
                    Some(&sep) => sep,
                    None => (c as u32) >= 128 && other.binary_search(&c).is_ok(),
                };
                text.split(is_sep).filter(|w| !w.is_empty()).for_each(f);
            }
            Mode::Translate { filters, split } => {
                let out = &mut scratch.translated;
                out.clear();
                for c in text.chars() {
                    if filters.contains(&c) {
                        out.push_str(split);
                    } else {
                        out.push(c);
                    }
                }
                out.split(split.as_str())
                    .filter(|w| !w.is_empty())
                    .for_each(f);
            }
        }
    }
}

/// Python's `str.lower()`: the full Unicode mapping (`İ` becomes `i̇`, a final `Σ` becomes
/// `ς`), with a cheaper path for ASCII text, which is most text.
fn lower_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_lowercase();
    } else {
        *out = text.to_lowercase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

    fn tokens(s: &Splitter, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        s.for_each_token(text, &mut Scratch::default(), |w| out.push(w.to_string()));
        out
    }

    #[test]
    fn words_are_lowered_and_cut_at_filters() {
        let s = Splitter::new(FILTERS, true, " ", false);
        assert_eq!(
            tokens(&s, "Hello, World!  It's\tme."),
            ["hello", "world", "it's", "me"]
        );
        assert!(tokens(&s, "").is_empty());
        assert!(tokens(&s, " ,.! ").is_empty());
    }

    #[test]
    fn unicode_is_lowered_like_python() {
        let s = Splitter::new(FILTERS, true, " ", false);
        assert_eq!(tokens(&s, "CAFÉ ΟΔΟΣ"), ["café", "οδος"]);
        assert_eq!(tokens(&s, "그의 말이 법이다"), ["그의", "말이", "법이다"]);
    }

    #[test]
    fn non_ascii_separators_are_found_in_non_ascii_text() {
        let s = Splitter::new("。", true, "、", false);
        assert_eq!(tokens(&s, "말이。법이다、Café"), ["말이", "법이다", "café"]);
    }

    #[test]
    fn a_long_split_string_is_matched_after_translation() {
        // Python: "a,b".translate({",": "ab"}) == "aabb", and "aabb".split("ab") == ["a", "b"].
        let s = Splitter::new(",", false, "ab", false);
        assert_eq!(tokens(&s, "a,b"), ["a", "b"]);
    }

    #[test]
    fn char_level_keeps_every_character() {
        let s = Splitter::new(FILTERS, true, " ", true);
        assert_eq!(tokens(&s, "Ab, 말"), ["a", "b", ",", " ", "말"]);
    }
}
