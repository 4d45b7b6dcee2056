//! *Alice's Adventures in Wonderland* by Lewis Carroll, Project Gutenberg eBook #11, as one
//! string for character- or word-level text generation.
//!
//! A copy ships with the crate (`data/alice/`): the current edition's book text from Project
//! Gutenberg's repository for eBook #11, without the Project Gutenberg header and licence
//! (151,095 bytes, LF line endings, from `[Illustration]` to `THE END`). The file served by
//! gutenberg.org adds that boilerplate; [`strip_gutenberg`] removes it. The eBook is in the
//! public domain in the United States (see `data/alice/LICENSE.txt`).
//!
//! ```
//! use rnn_runtime::datasets::alice;
//! let text = alice::load(None)?;
//! assert!(text.starts_with("[Illustration]"));
//! assert_eq!(text.chars().count(), 144_600);
//! # Ok::<(), rnn_runtime::datasets::DatasetError>(())
//! ```

use std::path::{Path, PathBuf};

use super::{Cache, DatasetError, Remote, gunzip, read_maybe_gz, utf8};

static BUNDLED: &[u8] = include_bytes!("../../data/alice/11-0.txt.gz");
const BUNDLED_NAME: &str = "11-0.txt.gz (bundled)";

/// The eBook's plain-text file at Project Gutenberg. Gutenberg revises its files now and then,
/// so no digest is recorded: fetch it with [`Cache::fetch_verified`] and a digest you checked,
/// or put a copy at `alice/11-0.txt` in the cache. Without either, [`load`] uses the bundled
/// copy.
pub const REMOTE: Remote<'static> = Remote {
    dir: "alice",
    file: "11-0.txt",
    url: "https://www.gutenberg.org/files/11/11-0.txt",
    sha256: None,
    also: &[],
};

/// Reads the book at `path` (gzipped when the name ends in `.gz`); without a path, the copy
/// in the cache (`alice/11-0.txt`) if there is one, else the copy shipped with the crate. The
/// text is returned as it is in the file; see [`strip_gutenberg`].
///
/// ```
/// let text = rnn_runtime::datasets::alice::load(None)?;
/// assert!(text.trim_end().ends_with("THE END"));
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
pub fn load(path: Option<&Path>) -> Result<String, DatasetError> {
    match path.map(Path::to_path_buf).or_else(cached) {
        Some(p) => {
            let name = p.display().to_string();
            utf8(read_maybe_gz(&p)?, &name)
        }
        None => bundled(),
    }
}

/// The copy shipped with the crate.
///
/// ```
/// assert_eq!(rnn_runtime::datasets::alice::bundled()?.len(), 151_095);
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
pub fn bundled() -> Result<String, DatasetError> {
    utf8(gunzip(BUNDLED, BUNDLED_NAME)?, BUNDLED_NAME)
}

/// The book text between Project Gutenberg's `*** START OF ... ***` and `*** END OF ... ***`
/// lines, without surrounding blank lines; a text without the markers (such as the bundled
/// copy) is returned as it is, minus a leading byte-order mark.
///
/// ```
/// use rnn_runtime::datasets::alice::strip_gutenberg;
/// let file = "\u{feff}The Project Gutenberg eBook of Alice\r\n\
///             *** START OF THE PROJECT GUTENBERG EBOOK 11 ***\r\n\r\nCHAPTER I.\r\nDown.\r\n\r\n\
///             *** END OF THE PROJECT GUTENBERG EBOOK 11 ***\r\nLicence...";
/// assert_eq!(strip_gutenberg(file), "CHAPTER I.\r\nDown.");
/// assert_eq!(strip_gutenberg("CHAPTER I.\n"), "CHAPTER I.\n");
/// ```
pub fn strip_gutenberg(text: &str) -> &str {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let start = marker_line(text, "*** START OF").map(|(_, end)| end);
    let end = marker_line(text, "*** END OF").map(|(begin, _)| begin);
    if start.is_none() && end.is_none() {
        return text;
    }
    let start = start.unwrap_or(0);
    let end = end.filter(|&e| e >= start).unwrap_or(text.len());
    text[start..end].trim_matches(|c| c == '\r' || c == '\n')
}

/// Byte range (start of line, just past its line break) of the first line starting with
/// `prefix`.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "offsets are sums of lengths of consecutive lines of `text`: at most its length"
)]
fn marker_line(text: &str, prefix: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(prefix) {
            return Some((offset, offset + line.len()));
        }
        offset += line.len();
    }
    None
}

fn cached() -> Option<PathBuf> {
    Cache::from_env().ok()?.find(&REMOTE)
}
