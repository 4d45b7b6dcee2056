//! The tokenizer's JSON, in the layout of keras_preprocessing's `Tokenizer.to_json`: a
//! `{"class_name": "Tokenizer", "config": {...}}` object whose five maps are themselves
//! JSON strings, written as Python's `json.dumps` writes them.

use std::io;

use serde::{Deserialize, Serialize};
use serde_json::ser::Formatter;

use super::tokenizer::{Config, DEFAULT_FILTERS, OrderedMap, Tokenizer};
use super::vocab::Lookup;
use crate::error::{Error, Result};

const PLACE: &str = "Tokenizer::from_json";

#[derive(Serialize)]
struct SavedRef<'a> {
    class_name: &'static str,
    config: SavedConfigRef<'a>,
}

/// Field order is that of Keras' `get_config`.
#[derive(Serialize)]
struct SavedConfigRef<'a> {
    num_words: Option<usize>,
    filters: &'a str,
    lower: bool,
    split: &'a str,
    char_level: bool,
    oov_token: Option<&'a str>,
    document_count: u64,
    word_counts: String,
    word_docs: String,
    index_docs: String,
    index_word: String,
    word_index: String,
}

#[derive(Deserialize)]
struct Saved {
    config: SavedConfig,
}

/// Keras builds the tokenizer with `Tokenizer(**config)`, so the constructor arguments are
/// optional and unknown ones are refused; the five maps are required.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedConfig {
    #[serde(default)]
    num_words: Option<usize>,
    #[serde(default = "default_filters")]
    filters: String,
    #[serde(default = "default_true")]
    lower: bool,
    #[serde(default = "default_split")]
    split: String,
    #[serde(default)]
    char_level: bool,
    #[serde(default)]
    oov_token: Option<String>,
    #[serde(default)]
    document_count: u64,
    word_counts: String,
    word_docs: String,
    index_docs: String,
    index_word: String,
    word_index: String,
}

fn default_filters() -> String {
    DEFAULT_FILTERS.to_string()
}

fn default_true() -> bool {
    true
}

fn default_split() -> String {
    " ".to_string()
}

impl Tokenizer {
    /// The tokenizer as JSON, in the layout (and byte for byte the formatting) of Keras'
    /// `Tokenizer.to_json()`, so that `tokenizer_from_json` loads it in Python.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let mut tok = Tokenizer::new();
    /// tok.fit_on_texts(&["Ça va?"]);
    /// let json = tok.to_json();
    /// assert!(json.starts_with(r#"{"class_name": "Tokenizer", "config": {"num_words": null"#));
    /// assert!(json.contains(r#""word_index": "{\"\\u00e7a\": 1, \"va\": 2}""#));
    /// assert_eq!(Tokenizer::from_json(&json).unwrap(), tok);
    /// ```
    pub fn to_json(&self) -> String {
        let saved = SavedRef {
            class_name: "Tokenizer",
            config: SavedConfigRef {
                num_words: self.config.num_words,
                filters: &self.config.filters,
                lower: self.config.lower,
                split: &self.config.split,
                char_level: self.config.char_level,
                oov_token: self.config.oov_token.as_deref(),
                document_count: self.document_count,
                word_counts: python_dumps(&self.word_counts),
                word_docs: python_dumps(&self.word_docs),
                index_docs: python_dumps(&self.index_docs),
                index_word: python_dumps(&self.index_word),
                word_index: python_dumps(&self.word_index),
            },
        };
        python_dumps(&saved)
    }

    /// Loads a tokenizer saved by [`Tokenizer::to_json`] or by Keras' `to_json()`; errors
    /// name the field that is missing or malformed.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let err = Tokenizer::from_json(r#"{"config": {"word_counts": "{}"}}"#).unwrap_err();
    /// assert!(err.to_string().contains("missing field `word_docs`"));
    /// ```
    pub fn from_json(json: &str) -> Result<Tokenizer> {
        let saved: Saved = serde_json::from_str(json)
            .map_err(|e| Error::config(PLACE, format!("not a saved Tokenizer: {e}")))?;
        let c = saved.config;
        let config = Config {
            num_words: c.num_words,
            filters: c.filters,
            lower: c.lower,
            split: c.split,
            char_level: c.char_level,
            oov_token: c.oov_token,
        };
        config.check(PLACE)?;
        let word_counts: OrderedMap<String, u64> =
            inner(&c.word_counts, "word_counts", "word -> count")?;
        let word_docs: OrderedMap<String, u64> =
            inner(&c.word_docs, "word_docs", "word -> document count")?;
        let index_docs: OrderedMap<u32, u64> =
            inner(&c.index_docs, "index_docs", "id -> document count")?;
        let index_word: OrderedMap<u32, String> = inner(&c.index_word, "index_word", "id -> word")?;
        let word_index: OrderedMap<String, u32> = inner(&c.word_index, "word_index", "word -> id")?;
        // A later fit re-ranks `word_counts` and looks every `word_docs` word up in it, as
        // Keras does (where a missing one is a KeyError).
        if let Some(word) = word_docs.keys().find(|w| !word_counts.contains_key(*w)) {
            return Err(Error::config(
                PLACE,
                format!("`word_docs` has the word {word:?}, which `word_counts` does not have"),
            ));
        }
        let lookup = Lookup::new(word_index.iter().map(|(w, &i)| (w.as_str(), i)));
        Ok(Tokenizer {
            lookup,
            splitter: config.splitter(),
            config,
            document_count: c.document_count,
            word_counts,
            word_docs,
            index_docs,
            word_index,
            index_word,
        })
    }
}

/// Parses one of the maps stored as a JSON string.
fn inner<T: serde::de::DeserializeOwned>(text: &str, field: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        Error::config(
            PLACE,
            format!("`config.{field}` is not a JSON object of {what}: {e}"),
        )
    })
}

/// `json.dumps(value)` with Python's defaults: `", "` and `": "` separators and
/// `ensure_ascii`, which writes every character outside printable ASCII as `\uXXXX`.
#[allow(
    clippy::expect_used,
    reason = "serializing strings, integers and maps of them into a Vec cannot fail, and the \
              formatter escapes everything outside printable ASCII"
)]
fn python_dumps<T: Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value
        .serialize(&mut ser)
        .expect("strings, integers and maps of them always serialize into memory");
    String::from_utf8(out).expect("the formatter writes only ASCII")
}

struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            // `start` and `i` are char boundaries of `fragment`, in order.
            w.write_all(fragment.get(start..i).unwrap_or_default().as_bytes())?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i.saturating_add(c.len_utf8());
        }
        w.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }
}
