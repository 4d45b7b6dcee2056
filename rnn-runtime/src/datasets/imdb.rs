//! The Large Movie Review Dataset (Maas et al., ACL 2011): 25,000 training and 25,000 test
//! IMDb reviews labelled positive or negative, read straight from the `aclImdb` `.tar.gz`.
//!
//! The archive is streamed: nothing is extracted to disk. Both the official
//! `aclImdb_v1.tar.gz` (84 MB, with the unlabelled `train/unsup/` reviews, which are skipped)
//! and a repack of its labelled part with the same layout are read. Reviews keep their raw
//! `<br />` tags; [`Reviews::replace_br_tags`] turns them into spaces as tutorials do.
//!
//! Order: within each split, negative reviews (label 0) come first, then positive ones
//! (label 1), each by ascending id (the number before `_` in the file name), so that the order
//! does not depend on the archive's. Shuffle before training.
//!
//! The dataset's README states no license and asks users to cite Andrew L. Maas, Raymond E.
//! Daly, Peter T. Pham, Dan Huang, Andrew Y. Ng and Christopher Potts, "Learning Word Vectors
//! for Sentiment Analysis", ACL 2011. The reviews come from IMDb.
//!
//! ```no_run
//! use rnn_runtime::datasets::Imdb;
//! let mut imdb = Imdb::load(None)?; // the cached archive, downloaded on first use
//! imdb.train.replace_br_tags();
//! assert_eq!(imdb.train.len(), 25_000);
//! # Ok::<(), rnn_runtime::datasets::DatasetError>(())
//! ```

use std::collections::HashSet;
use std::io::{BufReader, Read};
use std::path::Path;

use super::DatasetError;
use super::cache::{Remote, locate};

/// The official archive at Stanford. Its SHA-256 is the one published with other loaders of
/// this file (e.g. Julia's MLDatasets and several download scripts) and matches the size and
/// digest recorded for it elsewhere (84,125,825 bytes). A repacked labelled subset
/// (`aclImdb_v1_labelled.tar.gz`) put in the same cache directory by hand is read too; it is
/// never downloaded, so its digest is not checked.
pub const REMOTE: Remote<'static> = Remote {
    dir: "imdb",
    file: "aclImdb_v1.tar.gz",
    url: "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    sha256: Some("c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"),
    also: &["aclImdb_v1_labelled.tar.gz"],
};

/// Reviews per folder (`train/pos`, `train/neg`, `test/pos`, `test/neg`) in the published
/// data set.
pub const PER_FOLDER: usize = 12_500;

/// The labelled IMDB reviews, split as published.
///
/// ```no_run
/// let imdb = rnn_runtime::datasets::Imdb::load(None)?;
/// assert_eq!((imdb.train.len(), imdb.test.len()), (25_000, 25_000));
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imdb {
    /// The 25,000 training reviews.
    pub train: Reviews,
    /// The 25,000 test reviews.
    pub test: Reviews,
}

/// One split: parallel vectors, one element per review.
///
/// ```
/// use rnn_runtime::datasets::Reviews;
/// let mut r = Reviews {
///     texts: vec!["Fine.<br /><br />Really.".into()],
///     labels: vec![1],
///     ratings: vec![8],
///     ids: vec![0],
/// };
/// r.replace_br_tags();
/// assert_eq!(r.texts[0], "Fine.  Really.");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reviews {
    /// Review texts, as in the files (UTF-8, with `<br />` tags).
    pub texts: Vec<String>,
    /// 1 for positive (`pos/`), 0 for negative (`neg/`).
    pub labels: Vec<u32>,
    /// The star rating from the file name: 7 to 10 for positive, 1 to 4 for negative reviews.
    pub ratings: Vec<u8>,
    /// The review's id within its folder (file `<id>_<rating>.txt`).
    pub ids: Vec<u32>,
}

impl Reviews {
    /// Number of reviews.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::datasets::Reviews::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are no reviews.
    ///
    /// ```
    /// assert!(rnn_runtime::datasets::Reviews::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Replaces every `<br />` tag by a space, in place (see [`replace_br`]).
    ///
    /// ```
    /// use rnn_runtime::datasets::Reviews;
    /// let mut r = Reviews { texts: vec!["a<br />b".into()], ..Default::default() };
    /// r.replace_br_tags();
    /// assert_eq!(r.texts, ["a b"]);
    /// ```
    pub fn replace_br_tags(&mut self) {
        for t in &mut self.texts {
            if t.contains(BR) {
                *t = replace_br(t);
            }
        }
    }
}

const BR: &str = "<br />";

/// `text` with every `<br />` tag replaced by a space, as in the TensorFlow text tutorials
/// (`tf.strings.regex_replace(text, '<br />', ' ')`).
///
/// ```
/// assert_eq!(rnn_runtime::datasets::imdb::replace_br("one<br /><br />two"), "one  two");
/// ```
pub fn replace_br(text: &str) -> String {
    text.replace(BR, " ")
}

/// Options of [`Imdb::load_with`].
///
/// ```
/// use rnn_runtime::datasets::ImdbOptions;
/// assert_eq!(ImdbOptions::default().per_folder, Some(12_500));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImdbOptions {
    /// The number of reviews each of the four folders must hold; `None` accepts any number
    /// (for subsets). Default: [`PER_FOLDER`].
    pub per_folder: Option<usize>,
}

impl Default for ImdbOptions {
    fn default() -> Self {
        ImdbOptions {
            per_folder: Some(PER_FOLDER),
        }
    }
}

impl Imdb {
    /// Reads the archive at `path`, or the cached one (downloading it on first use) when
    /// `path` is `None`, and checks that each folder holds 12,500 reviews.
    ///
    /// ```no_run
    /// use std::path::Path;
    /// let imdb = rnn_runtime::datasets::Imdb::load(Some(Path::new("aclImdb_v1.tar.gz")))?;
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn load(path: Option<&Path>) -> Result<Self, DatasetError> {
        Self::load_with(path, &ImdbOptions::default())
    }

    /// Like [`Imdb::load`], with options.
    ///
    /// ```no_run
    /// use rnn_runtime::datasets::{Imdb, ImdbOptions};
    /// let subset = Imdb::load_with(
    ///     Some(std::path::Path::new("subset.tar.gz")),
    ///     &ImdbOptions { per_folder: None },
    /// )?;
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn load_with(path: Option<&Path>, options: &ImdbOptions) -> Result<Self, DatasetError> {
        let path = locate(path, &REMOTE)?;
        let name = path.display().to_string();
        let file = std::fs::File::open(&path).map_err(|e| DatasetError::io(&name, &e))?;
        Self::from_reader(BufReader::with_capacity(1 << 16, file), &name, options)
    }

    /// Reads a gzipped tar stream with the `aclImdb` layout; `name` names it in errors.
    ///
    /// ```
    /// use rnn_runtime::datasets::{Imdb, ImdbOptions};
    /// let mut tar = tar::Builder::new(Vec::new());
    /// for (path, text) in [("aclImdb/train/pos/0_9.txt", "Great."), ("aclImdb/test/neg/0_1.txt", "Bad.")] {
    ///     let mut header = tar::Header::new_gnu();
    ///     header.set_size(text.len() as u64);
    ///     header.set_mode(0o644);
    ///     header.set_cksum();
    ///     tar.append_data(&mut header, path, text.as_bytes()).unwrap();
    /// }
    /// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    /// std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
    /// let bytes = gz.finish().unwrap();
    /// let imdb = Imdb::from_reader(bytes.as_slice(), "tiny.tar.gz", &ImdbOptions { per_folder: None })?;
    /// assert_eq!(imdb.train.texts, ["Great."]);
    /// assert_eq!((imdb.test.labels[0], imdb.test.ratings[0]), (0, 1));
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn from_reader(
        reader: impl Read,
        name: &str,
        options: &ImdbOptions,
    ) -> Result<Self, DatasetError> {
        // [split][label] -> (id, rating, text)
        let mut folders: [[Vec<(u32, u8, String)>; 2]; 2] = Default::default();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(reader));
        let broken = |location: String, e: std::io::Error| {
            DatasetError::format(
                name,
                location,
                format!("{e} (the archive is truncated or corrupt)"),
            )
        };
        let mut last = String::from("the start of the archive");
        let entries = archive
            .entries()
            .map_err(|e| broken(format!("after {last}"), e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| broken(format!("after entry {last}"), e))?;
            let path = entry
                .path()
                .map_err(|e| broken(format!("after entry {last}"), e))?
                .to_string_lossy()
                .into_owned();
            last.clone_from(&path);
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let Some((split, label, file)) = review_path(&path) else {
                continue;
            };
            let (id, rating) = parse_file_name(file, label)
                .map_err(|message| DatasetError::format(name, format!("entry {path}"), message))?;
            // The header's size only sizes the first allocation; a corrupt header must not be
            // able to request gigabytes up front.
            let mut bytes = Vec::with_capacity(entry.size().min(1 << 20) as usize);
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| broken(format!("entry {path}"), e))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                DatasetError::format(
                    name,
                    format!("entry {path}"),
                    format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
                )
            })?;
            #[allow(
                clippy::indexing_slicing,
                reason = "`review_path` returns positions in `SPLITS` and `LABELS`, the \
                          dimensions of `folders`"
            )]
            folders[split][label].push((id, rating, text));
        }
        // Reading to the end checks the gzip trailer (CRC and length), which tar's end-of-archive
        // marker would otherwise let a truncated or altered file skip.
        let mut rest = archive.into_inner();
        std::io::copy(&mut rest, &mut std::io::sink())
            .map_err(|e| broken(format!("after entry {last}"), e))?;

        let mut splits = Vec::with_capacity(2);
        for (by_label, split_name) in folders.into_iter().zip(SPLITS) {
            let mut reviews = Reviews::default();
            for ((label, mut items), label_name) in by_label.into_iter().enumerate().zip(LABELS) {
                let folder = format!("{split_name}/{label_name}");
                if let Some(n) = options.per_folder
                    && items.len() != n
                {
                    return Err(DatasetError::count(
                        name,
                        format!("reviews in {folder}"),
                        n,
                        items.len(),
                    ));
                }
                items.sort_unstable_by_key(|&(id, _, _)| id);
                let mut seen = HashSet::with_capacity(items.len());
                for (id, rating, text) in items {
                    if !seen.insert(id) {
                        return Err(DatasetError::format(
                            name,
                            folder,
                            format!("review id {id} occurs twice"),
                        ));
                    }
                    reviews.texts.push(text);
                    reviews.labels.push(label as u32);
                    reviews.ratings.push(rating);
                    reviews.ids.push(id);
                }
            }
            splits.push(reviews);
        }
        let test = splits.pop().unwrap_or_default();
        let train = splits.pop().unwrap_or_default();
        Ok(Imdb { train, test })
    }
}

const SPLITS: [&str; 2] = ["train", "test"];
const LABELS: [&str; 2] = ["neg", "pos"];

/// `(split, label, file name)` of a labelled review's archive path
/// (`aclImdb/train/pos/0_9.txt`); `None` for every other member.
fn review_path(path: &str) -> Option<(usize, usize, &str)> {
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut parts = path.split('/');
    let (_root, split, label, file) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let split = SPLITS.iter().position(|&s| s == split)?;
    let label = LABELS.iter().position(|&l| l == label)?;
    Some((split, label, file))
}

/// `(id, rating)` from `<id>_<rating>.txt`, checking the rating against the folder's label.
fn parse_file_name(file: &str, label: usize) -> Result<(u32, u8), String> {
    let bad = || format!("expected a file name `<id>_<rating>.txt`, got `{file}`");
    let stem = file.strip_suffix(".txt").ok_or_else(bad)?;
    let (id, rating) = stem.split_once('_').ok_or_else(bad)?;
    let id: u32 = id.parse().map_err(|_| bad())?;
    let rating: u8 = rating.parse().map_err(|_| bad())?;
    let (allowed, folder) = if label == 1 {
        (7..=10, LABELS[1])
    } else {
        (1..=4, LABELS[0])
    };
    if !allowed.contains(&rating) {
        return Err(format!(
            "rating {rating} in a {folder} folder; {folder} reviews are rated {} to {}",
            allowed.start(),
            allowed.end()
        ));
    }
    Ok((id, rating))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_paths() {
        assert_eq!(
            review_path("aclImdb/train/pos/0_9.txt"),
            Some((0, 1, "0_9.txt"))
        );
        assert_eq!(
            review_path("./aclImdb/test/neg/12_1.txt"),
            Some((1, 0, "12_1.txt"))
        );
        assert_eq!(review_path("aclImdb/train/unsup/0_0.txt"), None);
        assert_eq!(review_path("aclImdb/train/urls_pos.txt"), None);
        assert_eq!(review_path("aclImdb/README"), None);
    }

    #[test]
    fn file_names() {
        assert_eq!(parse_file_name("10003_3.txt", 0), Ok((10003, 3)));
        assert_eq!(parse_file_name("7_10.txt", 1), Ok((7, 10)));
        assert!(
            parse_file_name("7_5.txt", 1)
                .unwrap_err()
                .contains("rating 5")
        );
        assert!(
            parse_file_name("x_1.txt", 0)
                .unwrap_err()
                .contains("`x_1.txt`")
        );
        assert!(parse_file_name("1_1", 0).is_err());
    }
}
