//! Keras' sequence helpers: `pad_sequences`, `to_categorical`, and the n-gram expansion of
//! the text-generation tutorials.

use crate::error::{Error, Result};
use crate::size::{checked_len, try_zeroed};
use crate::tensor::TokenBatch;

/// Which end of a sequence `pad_sequences` pads or truncates (Keras' `"pre"` / `"post"`).
///
/// ```
/// use rnn_runtime::text::{Pad, pad_sequences_vec};
/// let cut = pad_sequences_vec(&[vec![1, 2, 3]], Some(2), Pad::Pre, Pad::Post, 0).unwrap();
/// assert_eq!(cut, vec![vec![1, 2]]);
/// assert_eq!(Pad::default(), Pad::Pre);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Pad {
    /// At the start (Keras' default for both padding and truncating).
    #[default]
    Pre,
    /// At the end.
    Post,
}

/// Keras' `pad_sequences` as rows of ids: every sequence cut or padded with `value` to
/// `maxlen` steps (by default the longest sequence's length).
///
/// As in Keras: empty sequences become rows of `value`; without `maxlen` the length is that
/// of the longest sequence, so all-empty sequences give empty rows. Errors for no sequences
/// without `maxlen` (Keras fails there too) and for `maxlen = Some(0)` (where Keras either
/// fails or returns rows of no steps, depending on `truncating`).
///
/// ```
/// use rnn_runtime::text::{Pad, pad_sequences_vec};
/// let seqs = vec![vec![1], vec![2, 3], vec![4, 5, 6]];
/// let padded = pad_sequences_vec(&seqs, Some(2), Pad::Pre, Pad::Pre, 0).unwrap();
/// assert_eq!(padded, vec![vec![0, 1], vec![2, 3], vec![5, 6]]);
/// let padded = pad_sequences_vec(&seqs, None, Pad::Post, Pad::Pre, 9).unwrap();
/// assert_eq!(padded, vec![vec![1, 9, 9], vec![2, 3, 9], vec![4, 5, 6]]);
/// ```
pub fn pad_sequences_vec<Q: AsRef<[u32]>>(
    sequences: &[Q],
    maxlen: Option<usize>,
    padding: Pad,
    truncating: Pad,
    value: u32,
) -> Result<Vec<Vec<u32>>> {
    let len = padded_len(sequences, maxlen)?;
    Ok(sequences
        .iter()
        .map(|s| {
            let mut row = vec![value; len];
            fill(&mut row, s.as_ref(), padding, truncating);
            row
        })
        .collect())
}

/// Keras' `pad_sequences`, as a [`TokenBatch`] that models take as input directly.
///
/// Like [`pad_sequences_vec`], and also errors where a batch would be empty: no sequences,
/// or every sequence empty without `maxlen`.
///
/// ```
/// use rnn_runtime::text::{Pad, pad_sequences};
/// let ids = pad_sequences(&[vec![7, 8, 9], vec![5]], Some(2), Pad::Post, Pad::Post, 0).unwrap();
/// assert_eq!((ids.row(0), ids.row(1)), (&[7, 8][..], &[5, 0][..]));
/// ```
pub fn pad_sequences<Q: AsRef<[u32]>>(
    sequences: &[Q],
    maxlen: Option<usize>,
    padding: Pad,
    truncating: Pad,
    value: u32,
) -> Result<TokenBatch> {
    let len = padded_len(sequences, maxlen)?;
    // `maxlen` is the user's: a huge one is an error, not a wrapped size or an abort.
    let mut ids = try_zeroed(
        "pad_sequences",
        checked_len("pad_sequences", &[sequences.len(), len])?,
    )?;
    ids.fill(value);
    if len > 0 {
        for (row, s) in ids.chunks_exact_mut(len).zip(sequences) {
            fill(row, s.as_ref(), padding, truncating);
        }
    }
    TokenBatch::from_flat(ids, sequences.len(), len)
}

fn padded_len<Q: AsRef<[u32]>>(sequences: &[Q], maxlen: Option<usize>) -> Result<usize> {
    match maxlen {
        Some(0) => Err(Error::config(
            "pad_sequences",
            "maxlen is 0; give at least 1 step, or None for the longest sequence's length",
        )),
        Some(n) => Ok(n),
        None if sequences.is_empty() => Err(Error::Empty {
            layer: "pad_sequences".into(),
            what: "there are no sequences, so there is no longest length; give maxlen".into(),
        }),
        None => Ok(sequences
            .iter()
            .map(|s| s.as_ref().len())
            .max()
            .unwrap_or(0)),
    }
}

/// Writes `seq`, cut to `row.len()`, into `row` (already filled with the padding value).
fn fill(row: &mut [u32], seq: &[u32], padding: Pad, truncating: Pad) {
    // `n` is at most both lengths, so every split point lies inside its slice.
    let n = row.len().min(seq.len());
    let kept = match truncating {
        Pad::Pre => seq.split_at(seq.len().saturating_sub(n)).1,
        Pad::Post => seq.split_at(n).0,
    };
    let len = row.len();
    let dst = match padding {
        Pad::Pre => row.split_at_mut(len.saturating_sub(n)).1,
        Pad::Post => row.split_at_mut(n).0,
    };
    dst.copy_from_slice(kept);
}

/// Keras' `to_categorical`: one one-hot row per id, with `num_classes` columns (by default
/// the largest id + 1).
///
/// ```
/// let y = rnn_runtime::text::to_categorical(&[0, 2], Some(3)).unwrap();
/// assert_eq!(y, vec![vec![1.0, 0.0, 0.0], vec![0.0, 0.0, 1.0]]);
/// assert!(rnn_runtime::text::to_categorical(&[3], Some(3)).is_err());
/// ```
pub fn to_categorical(ids: &[u32], num_classes: Option<usize>) -> Result<Vec<Vec<f32>>> {
    let classes = match num_classes {
        // Keras treats 0 like None.
        Some(n) if n > 0 => n,
        _ => match ids.iter().max() {
            Some(&m) => (m as usize).saturating_add(1),
            None => {
                return Err(Error::Empty {
                    layer: "to_categorical".into(),
                    what: "there are no ids, so there is no largest one; give num_classes".into(),
                });
            }
        },
    };
    if let Some((row, &id)) = ids
        .iter()
        .enumerate()
        .find(|(_, id)| **id as usize >= classes)
    {
        return Err(Error::ClassOutOfRange {
            loss: "to_categorical".into(),
            class: id,
            row,
            classes,
        });
    }
    checked_len("to_categorical", &[ids.len(), classes])?;
    Ok(ids
        .iter()
        .map(|&id| {
            let mut row = vec![0.0; classes];
            // Every id was checked to be below `classes` above.
            if let Some(x) = row.get_mut(id as usize) {
                *x = 1.0;
            }
            row
        })
        .collect())
}

/// The training pairs of the word-generation tutorials: for every prefix of two or more ids
/// of each sequence, the prefix without its last id (pre-padded with 0 to a common length)
/// and that last id.
///
/// ```
/// let grams = rnn_runtime::text::ngram_sequences(&[vec![1, 2, 3]]).unwrap();
/// assert_eq!((grams.inputs.row(1), grams.targets[1]), (&[1, 2][..], 3));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NGrams {
    /// `(pairs, maxlen - 1)` ids, where `maxlen` is the longest prefix.
    pub inputs: TokenBatch,
    /// The id that follows each input row.
    pub targets: Vec<u32>,
}

/// Expands sequences into n-gram prefixes as the Keras word-generation tutorials do:
///
/// ```python
/// for token_list in sequences:
///     for i in range(1, len(token_list)):
///         input_sequences.append(token_list[:i+1])
/// max_sequence_len = max(len(x) for x in input_sequences)
/// input_sequences = pad_sequences(input_sequences, maxlen=max_sequence_len, padding='pre')
/// predictors, label = input_sequences[:, :-1], input_sequences[:, -1]
/// ```
///
/// Errors when no sequence has two ids.
///
/// ```
/// let grams = rnn_runtime::text::ngram_sequences(&[vec![4, 2, 7], vec![5]]).unwrap();
/// assert_eq!(grams.inputs.ids(), &[0, 4, 4, 2]);
/// assert_eq!(grams.targets, vec![2, 7]);
/// ```
pub fn ngram_sequences<Q: AsRef<[u32]>>(sequences: &[Q]) -> Result<NGrams> {
    let longest = sequences
        .iter()
        .map(|s| s.as_ref().len())
        .max()
        .unwrap_or(0);
    if longest < 2 {
        return Err(Error::Empty {
            layer: "ngram_sequences".into(),
            what: "no sequence has two ids, so there is no (prefix, next id) pair".into(),
        });
    }
    let width = longest.saturating_sub(1);
    let pairs: usize = sequences
        .iter()
        .map(|s| s.as_ref().len().saturating_sub(1))
        .sum();
    // Quadratic in the longest sequence: a long one is an error, not an abort.
    let mut ids = try_zeroed(
        "ngram_sequences",
        checked_len("ngram_sequences", &[pairs, width])?,
    )?;
    let mut targets = Vec::with_capacity(pairs);
    let mut rows = ids.chunks_exact_mut(width);
    for seq in sequences {
        let seq = seq.as_ref();
        for (end, &target) in seq.iter().enumerate().skip(1) {
            // `end < seq.len() <= longest`, so the prefix fits the row of `longest - 1` ids.
            if let Some(row) = rows.next() {
                let (prefix, _) = seq.split_at(end);
                row.split_at_mut(width.saturating_sub(end))
                    .1
                    .copy_from_slice(prefix);
            }
            targets.push(target);
        }
    }
    Ok(NGrams {
        inputs: TokenBatch::from_flat(ids, pairs, width)?,
        targets,
    })
}
