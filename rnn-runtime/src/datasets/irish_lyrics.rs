//! A collection of traditional and folk Irish song lyrics used by the TensorFlow course for
//! next-word generation (`irish-lyrics-eof.txt`, 1,692 lines).
//!
//! The course hosts the file on Google Cloud Storage and states no license or digest, so the
//! loader does not download it unverified: put the file at `irish_lyrics/irish-lyrics-eof.txt`
//! in the cache, pass its path, or fetch it with [`Cache::fetch_verified`](super::Cache::fetch_verified)
//! and a digest you trust. (The copy checked for this project, LF line endings and no trailing
//! newline, has SHA-256 `7a6daabd738dfd5b53c86a4213d98431fcbc132bae62e54c4a71a3e75648c7d5`;
//! whether the course URL serves exactly those bytes has not been verified.)
//!
//! ```no_run
//! use rnn_runtime::datasets::irish_lyrics;
//! let lines = irish_lyrics::load(None)?;
//! assert_eq!(lines.len(), 1_692);
//! assert_eq!(lines[0], "come all ye maidens young and fair");
//! # Ok::<(), rnn_runtime::datasets::DatasetError>(())
//! ```

use std::path::Path;

use super::cache::locate;
use super::{DatasetError, Remote, read_maybe_gz, utf8};

/// The course's copy. No digest is published for it (see the module documentation).
pub const REMOTE: Remote<'static> = Remote {
    dir: "irish_lyrics",
    file: "irish-lyrics-eof.txt",
    url: "https://storage.googleapis.com/laurencemoroney-blog.appspot.com/irish-lyrics-eof.txt",
    sha256: None,
    also: &[],
};

/// The lines of the corpus as the course makes them: `data.lower().split("\n")` (every line
/// lower-cased, split on LF only, an empty last line kept if the file ends with a newline).
///
/// ```no_run
/// let lines = rnn_runtime::datasets::irish_lyrics::load(Some(std::path::Path::new("irish-lyrics-eof.txt")))?;
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
pub fn load(path: Option<&Path>) -> Result<Vec<String>, DatasetError> {
    Ok(lines(&load_text(path)?))
}

/// The file's text as it is (gzipped when the name ends in `.gz`), from `path` or the cache.
///
/// ```no_run
/// let text = rnn_runtime::datasets::irish_lyrics::load_text(None)?;
/// assert_eq!(text.len(), 68_969);
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
pub fn load_text(path: Option<&Path>) -> Result<String, DatasetError> {
    let path = locate(path, &REMOTE)?;
    let name = path.display().to_string();
    utf8(read_maybe_gz(&path)?, &name)
}

/// `text.lower().split("\n")`: lower-cased lines split on LF.
///
/// ```
/// use rnn_runtime::datasets::irish_lyrics::lines;
/// assert_eq!(lines("In the Town\nOF Athy"), ["in the town", "of athy"]);
/// assert_eq!(lines("a\n"), ["a", ""]);
/// ```
pub fn lines(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split('\n')
        .map(str::to_string)
        .collect()
}
