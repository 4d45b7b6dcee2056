//! The error type of the data-set loaders.

/// What can go wrong while finding, downloading or reading a data set.
///
/// Every variant names the file (or URL) involved; download errors also say where to put the
/// file by hand.
///
/// ```
/// use rnn_runtime::datasets::{DatasetError, Sarcasm};
/// let dir = std::env::temp_dir().join(format!("rnn-doc-dataset-error-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("bad.csv");
/// std::fs::write(&path, "is_sarcastic,text\n1,fine\nyes,not a label\n").unwrap();
/// let err = Sarcasm::load(Some(&path)).unwrap_err();
/// assert!(matches!(err, DatasetError::Format { .. }));
/// assert!(err.to_string().contains("bad.csv: line 3"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// A file or directory that cannot be opened or read.
    #[error("{path}: {message}")]
    Io {
        /// The file or directory.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// Content that does not have the data set's format.
    #[error("{file}: {location}: {message}")]
    Format {
        /// The file (for archives: the archive).
        file: String,
        /// Where in the file: `line 12`, `entry aclImdb/train/pos/0_9.txt`, `NEWID 17`, ...
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A data set with more or fewer items than it must have, e.g. a partial archive.
    #[error("{file}: expected {expected} {what}, found {actual}")]
    Count {
        /// The file.
        file: String,
        /// What was counted, e.g. `reviews in train/pos`.
        what: String,
        /// The published count.
        expected: usize,
        /// The count found.
        actual: usize,
    },
    /// A download that failed (HTTP error, refused connection, cut-off transfer); nothing was
    /// written to the cache.
    #[error(
        "downloading {url} failed: {message}; nothing was written to the cache. To install the \
         file by hand, download it and put it at {dest}"
    )]
    Download {
        /// The URL.
        url: String,
        /// Where the file would have been stored.
        dest: String,
        /// What went wrong.
        message: String,
    },
    /// A download whose SHA-256 digest is not the expected one; it was discarded.
    #[error(
        "downloading {url}: SHA-256 mismatch: expected {expected}, got {actual}; the download was \
         discarded and nothing was written to the cache. If you trust another copy of the file, \
         put it at {dest}"
    )]
    Checksum {
        /// The URL.
        url: String,
        /// Where the file would have been stored.
        dest: String,
        /// The expected digest (lower-case hex).
        expected: String,
        /// The digest of what was received.
        actual: String,
    },
    /// A data set that is not in the cache and whose public copy has no known checksum, so it
    /// is not downloaded unverified.
    #[error(
        "{dest} does not exist, and {url} has no published SHA-256 digest to verify a download \
         against. Download the file yourself and put it at {dest}, pass its path to the loader, \
         or call Cache::fetch_verified with a digest you trust"
    )]
    NoChecksum {
        /// The URL.
        url: String,
        /// Where the file is looked for.
        dest: String,
    },
    /// No cache directory: `RNN_DATA` is unset and the platform has no per-user cache.
    #[error(
        "no cache directory for data sets: set RNN_DATA to a directory, or pass the file's path \
         to the loader"
    )]
    NoCacheDir,
}

impl DatasetError {
    pub(crate) fn io(path: impl Into<String>, err: &std::io::Error) -> Self {
        DatasetError::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }

    pub(crate) fn format(
        file: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        DatasetError::Format {
            file: file.into(),
            location: location.into(),
            message: message.into(),
        }
    }

    pub(crate) fn count(
        file: impl Into<String>,
        what: impl Into<String>,
        expected: usize,
        actual: usize,
    ) -> Self {
        DatasetError::Count {
            file: file.into(),
            what: what.into(),
            expected,
            actual,
        }
    }
}
