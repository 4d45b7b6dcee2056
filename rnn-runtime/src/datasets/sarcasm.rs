//! News Headlines Dataset for Sarcasm Detection (v1, Rishabh Misra): 26,709 lower-cased
//! headlines, 11,724 sarcastic ones from The Onion (label 1) and 14,985 from HuffPost
//! (label 0), in the original record order.
//!
//! A copy ships with the crate (`data/sarcasm/`, gzipped CSV with the columns
//! `is_sarcastic,text`), so [`Sarcasm::load`] works offline. The author states no license and
//! asks users to cite Rishabh Misra and Prahal Arora, "Sarcasm Detection using News Headlines
//! Dataset", AI Open 4 (2023) 13-18, and Rishabh Misra and Jigyasa Grover, "Sculpting Data
//! for ML: The first act of Machine Learning" (2021).
//!
//! ```
//! use rnn_runtime::datasets::Sarcasm;
//! let data = Sarcasm::load(None)?;
//! assert_eq!(data.labels.iter().filter(|&&l| l == 1).count(), 11_724);
//! let (train, test) = data.split(Sarcasm::TRAINING_SIZE);
//! assert_eq!(test.len(), 6_709);
//! # Ok::<(), rnn_runtime::datasets::DatasetError>(())
//! ```

use std::path::{Path, PathBuf};

use super::{Cache, DatasetError, gunzip, read_maybe_gz, utf8};

/// The copy shipped with the crate.
static BUNDLED: &[u8] = include_bytes!("../../data/sarcasm/Sarcasm_Headlines_Dataset.csv.gz");
const BUNDLED_NAME: &str = "Sarcasm_Headlines_Dataset.csv.gz (bundled)";

/// The cache sub-directory and file name looked for before the bundled copy.
pub const CACHE_FILE: (&str, &str) = ("sarcasm", "Sarcasm_Headlines_Dataset.csv");

/// Headlines and labels, in the file's order.
///
/// ```
/// use rnn_runtime::datasets::Sarcasm;
/// let data = Sarcasm::load(None)?;
/// assert_eq!(data.texts[0], "former versace store clerk sues over secret 'black code' for minority shoppers");
/// assert_eq!(data.labels[0], 0);
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sarcasm {
    /// The headlines.
    pub texts: Vec<String>,
    /// 1 for sarcastic (The Onion), 0 for not (HuffPost).
    pub labels: Vec<u32>,
}

impl Sarcasm {
    /// Rows in the published data set (v1).
    pub const ROWS: usize = 26_709;

    /// The training-set size of the TensorFlow course: the first 20,000 rows train, the other
    /// 6,709 test.
    pub const TRAINING_SIZE: usize = 20_000;

    /// Reads the CSV at `path` (gzipped when the name ends in `.gz`); without a path, the copy
    /// in the cache (`sarcasm/Sarcasm_Headlines_Dataset.csv`) if there is one, else the copy
    /// shipped with the crate.
    ///
    /// ```
    /// let data = rnn_runtime::datasets::Sarcasm::load(None)?;
    /// assert_eq!(data.len(), 26_709);
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn load(path: Option<&Path>) -> Result<Self, DatasetError> {
        match path.map(Path::to_path_buf).or_else(cached) {
            Some(p) => {
                let name = p.display().to_string();
                Self::from_csv(&utf8(read_maybe_gz(&p)?, &name)?, &name)
            }
            None => Self::bundled(),
        }
    }

    /// The copy shipped with the crate.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::datasets::Sarcasm::bundled()?.len(), 26_709);
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn bundled() -> Result<Self, DatasetError> {
        let text = utf8(gunzip(BUNDLED, BUNDLED_NAME)?, BUNDLED_NAME)?;
        Self::from_csv(&text, BUNDLED_NAME)
    }

    /// Parses CSV text with the header `is_sarcastic,text`; `name` names it in errors.
    ///
    /// ```
    /// use rnn_runtime::datasets::Sarcasm;
    /// let data = Sarcasm::from_csv("is_sarcastic,text\n1,\"area man, 40, wins\"\n", "mine.csv")?;
    /// assert_eq!((data.texts[0].as_str(), data.labels[0]), ("area man, 40, wins", 1));
    /// let err = Sarcasm::from_csv("is_sarcastic,text\n1,a,b\n", "mine.csv").unwrap_err();
    /// assert!(err.to_string().starts_with("mine.csv: line 2"));
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn from_csv(text: &str, name: &str) -> Result<Self, DatasetError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| DatasetError::format(name, "line 1", e.to_string()))?;
        if headers.iter().collect::<Vec<_>>() != ["is_sarcastic", "text"] {
            return Err(DatasetError::format(
                name,
                "line 1",
                format!(
                    "expected the header `is_sarcastic,text`, got `{}`",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        }
        let mut data = Sarcasm::default();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("expected {expected_len} fields, found {len}"),
                    _ => e.to_string(),
                };
                DatasetError::format(name, format!("line {line}"), message)
            })?;
            let line = record.position().map_or(0, |p| p.line());
            // The two-field header and `flexible(false)` give every record two fields.
            let (Some(label), Some(text)) = (record.get(0), record.get(1)) else {
                return Err(DatasetError::format(
                    name,
                    format!("line {line}"),
                    format!("expected 2 fields, found {}", record.len()),
                ));
            };
            let label = match label {
                "0" => 0,
                "1" => 1,
                other => {
                    return Err(DatasetError::format(
                        name,
                        format!("line {line}"),
                        format!("is_sarcastic must be 0 or 1, got `{other}`"),
                    ));
                }
            };
            data.texts.push(text.to_string());
            data.labels.push(label);
        }
        Ok(data)
    }

    /// Number of headlines.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::datasets::Sarcasm::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are no headlines.
    ///
    /// ```
    /// assert!(rnn_runtime::datasets::Sarcasm::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The first `at` headlines and the rest, in order (as the course's
    /// `sentences[0:training_size]`, `sentences[training_size:]`; an `at` past the end keeps
    /// everything in the first part).
    ///
    /// ```
    /// use rnn_runtime::datasets::Sarcasm;
    /// let data = Sarcasm { texts: vec!["a".into(), "b".into(), "c".into()], labels: vec![0, 1, 0] };
    /// let (train, test) = data.split(2);
    /// assert_eq!((train.texts, test.labels), (vec!["a".to_string(), "b".into()], vec![0]));
    /// ```
    pub fn split(mut self, at: usize) -> (Sarcasm, Sarcasm) {
        let at = at.min(self.len());
        let test = Sarcasm {
            texts: self.texts.split_off(at),
            labels: self.labels.split_off(at),
        };
        (self, test)
    }
}

fn cached() -> Option<PathBuf> {
    let cache = Cache::from_env().ok()?;
    let path = cache.dir().join(CACHE_FILE.0).join(CACHE_FILE.1);
    path.is_file().then_some(path)
}
