//! Real text data sets, read from their original files: IMDB reviews, sarcastic headlines,
//! Reuters newswires, *Alice's Adventures in Wonderland* and a collection of Irish song lyrics.
//!
//! Every loader takes an optional path. With a path it reads that file (or directory); without
//! one it looks in the [`Cache`] (the `RNN_DATA` directory, else the per-user cache, e.g.
//! `~/.cache/rnn`) and, where the data set has a public home and a known checksum, downloads it
//! there first. The sarcasm headlines and *Alice* ship with the crate, so they load on a fresh
//! machine without any download.
//!
//! | data set | loader | cache file (under the cache directory) |
//! |---|---|---|
//! | IMDB reviews (aclImdb v1) | [`Imdb::load`] | `imdb/aclImdb_v1.tar.gz` |
//! | Sarcasm headlines (v1) | [`Sarcasm::load`] | `sarcasm/Sarcasm_Headlines_Dataset.csv`, else bundled |
//! | Reuters-21578 (ModApte) | [`Reuters::load`] | `reuters21578/` (the `.sgm` files or `reuters21578.tar.gz`) |
//! | *Alice* (PG eBook #11) | [`alice::load`] | `alice/11-0.txt`, else bundled |
//! | Irish lyrics | [`irish_lyrics::load`] | `irish_lyrics/irish-lyrics-eof.txt` |
//!
//! ```
//! use rnn_runtime::datasets::Sarcasm;
//! let data = Sarcasm::load(None)?; // the copy bundled with the crate
//! assert_eq!(data.len(), 26_709);
//! let (train, test) = data.split(20_000);
//! assert_eq!((train.len(), test.len()), (20_000, 6_709));
//! # Ok::<(), rnn_runtime::datasets::DatasetError>(())
//! ```

pub mod alice;
pub mod cache;
pub mod error;
pub mod imdb;
pub mod irish_lyrics;
pub mod reuters;
pub mod sarcasm;
mod sgml;

pub use cache::{Cache, Remote};
pub use error::DatasetError;
pub use imdb::{Imdb, ImdbOptions, Reviews};
pub use reuters::{Newswires, Reuters, ReutersOptions};
pub use sarcasm::Sarcasm;

use std::io::Read;
use std::path::Path;

/// Decompresses a gzip stream fully, naming `what` in the error.
fn gunzip(reader: impl Read, what: &str) -> Result<Vec<u8>, DatasetError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(reader)
        .read_to_end(&mut out)
        .map_err(|e| DatasetError::format(what, "gzip stream", e.to_string()))?;
    Ok(out)
}

/// Reads a whole file, gunzipping it when its name ends in `.gz`.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DatasetError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| DatasetError::io(&name, &e))?;
    if path.extension().is_some_and(|e| e == "gz") {
        gunzip(bytes.as_slice(), &name)
    } else {
        Ok(bytes)
    }
}

/// Decodes UTF-8 text, naming the file and the line of the first invalid byte.
fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, DatasetError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let newlines = e
            .as_bytes()
            .iter()
            .take(at)
            .filter(|&&b| b == b'\n')
            .count();
        // A count of bytes in memory is below `usize::MAX`.
        let line = newlines.saturating_add(1);
        DatasetError::format(
            what,
            format!("line {line}"),
            format!("invalid UTF-8 at byte {at}"),
        )
    })
}
