//! Text preprocessing as in Keras: [`Tokenizer`] (keras_preprocessing 1.1.2's, JSON included),
//! [`pad_sequences`], [`to_categorical`], and the n-gram expansion of the text-generation
//! tutorials ([`ngram_sequences`]).
//!
//! ```
//! use rnn_runtime::text::{Pad, Tokenizer, pad_sequences};
//! let texts = ["I love my dog", "I love my cat", "You love my dog!"];
//! let mut tok = Tokenizer::builder().num_words(100).oov_token("<OOV>").build().unwrap();
//! tok.fit_on_texts(&texts);
//! let seqs = tok.texts_to_sequences(&["i really love my dog"]);
//! assert_eq!(seqs, vec![vec![4, 1, 2, 3, 5]]);
//! let batch = pad_sequences(&seqs, Some(8), Pad::Pre, Pad::Pre, 0).unwrap();
//! assert_eq!(batch.row(0), &[0, 0, 0, 4, 1, 2, 3, 5]);
//! ```

mod json;
mod sequence;
mod split;
mod tokenizer;
mod vocab;

pub use sequence::{
    NGrams, Pad, ngram_sequences, pad_sequences, pad_sequences_vec, to_categorical,
};
pub use tokenizer::{DEFAULT_FILTERS, Tokenizer, TokenizerBuilder};
