//! Reuters-21578, Distribution 1.0: 21,578 Reuters newswires of 1987 with topic labels, read
//! from the original SGML files (`reut2-000.sgm` ... `reut2-021.sgm`, Latin-1), split as in
//! ModApte and labelled by their first topic.
//!
//! Selection, step by step:
//! 1. **ModApte split**: documents with `TOPICS="YES"` and `LEWISSPLIT="TRAIN"` (9,603) or
//!    `LEWISSPLIT="TEST"` (3,299); the rest (`NOT-USED`, or `TOPICS="NO"`/`"BYPASS"`) is left
//!    out.
//! 2. **At least one topic**: of those, the documents whose `<TOPICS>` lists a topic.
//! 3. **First topic**: each document is labelled by the first topic it lists, as the Keras
//!    `reuters` data set does (single-label classification).
//! 4. **Most frequent topics**: the [`ReutersOptions::num_topics`] (46) first topics most
//!    frequent among the *training* documents are kept, and so are the training and test
//!    documents labelled with one of them. Counting on the training split alone keeps the test
//!    labels out of the choice.
//!
//! Label indices follow that frequency: index 0 is the most frequent training topic (`earn`),
//! ties broken by name; [`Reuters::topics`] holds the names. A document's text is its title and
//! body joined by a newline (or the title alone for `TYPE="BRIEF"`, or the unstructured text
//! for `TYPE="UNPROC"`), with character references resolved and the control characters of the
//! wire format dropped.
//!
//! This is not the Keras `reuters.npz` selection (11,228 newswires, 46 topics, shuffled and
//! split 80/20 into 8,982 and 2,246): Keras started from the documents with topics regardless
//! of the ModApte split and its exact list of documents is not published with the data, so it
//! cannot be reproduced from the SGML.
//!
//! The copyright of the texts and annotations resides with Reuters Ltd.; Reuters Ltd. and
//! Carnegie Group, Inc. allow free distribution *for research purposes only*. Publications
//! should acknowledge "Reuters-21578, Distribution 1.0".
//!
//! ```no_run
//! use rnn_runtime::datasets::Reuters;
//! let reuters = Reuters::load(Some(std::path::Path::new("reuters21578")))?;
//! assert_eq!(reuters.topics.len(), 46);
//! assert_eq!(reuters.topics[0], "earn");
//! # Ok::<(), rnn_runtime::datasets::DatasetError>(())
//! ```

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::DatasetError;
use super::cache::{Cache, Remote};
use super::sgml::{Token, Tokens, attributes, decode};

/// The collection's archive at the UCI KDD archive. No SHA-256 is published for it (only an
/// MD5 digest circulates), so it is not downloaded unverified: put the archive, or the
/// directory of `.sgm` files, under `reuters21578/` in the cache, pass its path, or use
/// [`Cache::fetch_verified`] with a digest you trust.
pub const REMOTE: Remote<'static> = Remote {
    dir: "reuters21578",
    file: "reuters21578.tar.gz",
    url: "https://archive.ics.uci.edu/ml/machine-learning-databases/reuters21578-mld/reuters21578.tar.gz",
    sha256: None,
    also: &[],
};

/// Number of SGML files in the collection.
pub const FILES: usize = 22;

/// The `i`-th SGML file's name: `reut2-000.sgm` ... `reut2-021.sgm`.
///
/// ```
/// assert_eq!(rnn_runtime::datasets::reuters::file_name(21), "reut2-021.sgm");
/// ```
pub fn file_name(i: usize) -> String {
    format!("reut2-{i:03}.sgm")
}

/// The ModApte newswires labelled by their first topic.
///
/// ```no_run
/// let r = rnn_runtime::datasets::Reuters::load(None)?;
/// println!("{} train, {} test, {} topics", r.train.len(), r.test.len(), r.topics.len());
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reuters {
    /// ModApte training documents, by NEWID.
    pub train: Newswires,
    /// ModApte test documents, by NEWID.
    pub test: Newswires,
    /// Topic names; label `i` is `topics[i]`. Most frequent (in the training split) first.
    pub topics: Vec<String>,
}

/// One split: parallel vectors, one element per document.
///
/// ```
/// let n = rnn_runtime::datasets::Newswires::default();
/// assert!(n.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Newswires {
    /// Title and body, joined by a newline.
    pub texts: Vec<String>,
    /// Index of the document's first topic in [`Reuters::topics`].
    pub labels: Vec<u32>,
    /// The document's NEWID (1 to 21,578).
    pub ids: Vec<u32>,
}

impl Newswires {
    /// Number of documents.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::datasets::Newswires::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are no documents.
    ///
    /// ```
    /// assert!(rnn_runtime::datasets::Newswires::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// Options of [`Reuters::load_with`].
///
/// ```
/// assert_eq!(rnn_runtime::datasets::ReutersOptions::default().num_topics, 46);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReutersOptions {
    /// How many of the most frequent first topics to keep (46, as Keras).
    pub num_topics: usize,
}

impl Default for ReutersOptions {
    fn default() -> Self {
        ReutersOptions { num_topics: 46 }
    }
}

/// One newswire as the SGML gives it.
///
/// ```
/// use rnn_runtime::datasets::reuters::parse_sgml;
/// let sgml = r#"<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="1">
/// <TOPICS><D>cocoa</D></TOPICS>
/// <TEXT>&#2;
/// <TITLE>BAHIA COCOA REVIEW</TITLE>
/// <BODY>Showers continued &lt;in&gt; Bahia.
///  Reuter
/// &#3;</BODY></TEXT>
/// </REUTERS>"#;
/// let docs = parse_sgml(sgml, "reut2-000.sgm")?;
/// assert_eq!(docs[0].topics, ["cocoa"]);
/// assert_eq!(docs[0].text(), "BAHIA COCOA REVIEW\nShowers continued <in> Bahia.\n Reuter");
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// The NEWID attribute.
    pub new_id: u32,
    /// The LEWISSPLIT attribute: `TRAIN`, `TEST` or `NOT-USED`.
    pub lewis_split: String,
    /// The TOPICS attribute: `YES`, `NO` or `BYPASS`.
    pub has_topics: String,
    /// The topics listed in `<TOPICS>`, in order.
    pub topics: Vec<String>,
    /// The `<TITLE>`, if any.
    pub title: String,
    /// The `<BODY>`, if any.
    pub body: String,
    /// Text directly inside `<TEXT>` (the whole text of `TYPE="UNPROC"` documents).
    pub unstructured: String,
}

impl Document {
    /// Title and body joined by a newline, each trimmed; whichever exists when one is missing;
    /// the unstructured text when both are.
    ///
    /// ```
    /// use rnn_runtime::datasets::reuters::Document;
    /// let d = Document { title: "T ".into(), body: " b\n".into(), ..Default::default() };
    /// assert_eq!(d.text(), "T\nb");
    /// ```
    pub fn text(&self) -> String {
        let (title, body) = (self.title.trim(), self.body.trim());
        match (title.is_empty(), body.is_empty()) {
            (false, false) => format!("{title}\n{body}"),
            (false, true) => title.to_string(),
            (true, false) => body.to_string(),
            (true, true) => self.unstructured.trim().to_string(),
        }
    }

    /// Whether ModApte puts the document in its training (`Some(true)`) or test
    /// (`Some(false)`) split.
    ///
    /// ```
    /// use rnn_runtime::datasets::reuters::Document;
    /// let d = Document { has_topics: "YES".into(), lewis_split: "TEST".into(), ..Default::default() };
    /// assert_eq!(d.mod_apte(), Some(false));
    /// ```
    pub fn mod_apte(&self) -> Option<bool> {
        match (self.has_topics.as_str(), self.lewis_split.as_str()) {
            ("YES", "TRAIN") => Some(true),
            ("YES", "TEST") => Some(false),
            _ => None,
        }
    }
}

impl Reuters {
    /// Reads the collection from `path` (a directory holding the 22 `.sgm` files, or the
    /// `.tar.gz` archive); without a path, from `reuters21578/` in the [`Cache`].
    ///
    /// ```no_run
    /// let r = rnn_runtime::datasets::Reuters::load(Some(std::path::Path::new("reuters21578.tar.gz")))?;
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn load(path: Option<&Path>) -> Result<Self, DatasetError> {
        Self::load_with(path, &ReutersOptions::default())
    }

    /// Like [`Reuters::load`], with options.
    ///
    /// ```no_run
    /// use rnn_runtime::datasets::{Reuters, ReutersOptions};
    /// let r = Reuters::load_with(None, &ReutersOptions { num_topics: 10 })?;
    /// assert_eq!(r.topics.len(), 10);
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn load_with(path: Option<&Path>, options: &ReutersOptions) -> Result<Self, DatasetError> {
        Ok(Self::from_documents(&read_documents(path)?, options))
    }

    /// The ModApte selection of already parsed documents (see the module documentation).
    ///
    /// ```
    /// use rnn_runtime::datasets::{Reuters, ReutersOptions, reuters::Document};
    /// let doc = |id, split: &str, topics: &[&str]| Document {
    ///     new_id: id,
    ///     lewis_split: split.into(),
    ///     has_topics: "YES".into(),
    ///     topics: topics.iter().map(|t| t.to_string()).collect(),
    ///     title: format!("doc {id}"),
    ///     ..Default::default()
    /// };
    /// let docs = [doc(1, "TRAIN", &["earn"]), doc(2, "TRAIN", &["acq", "earn"]),
    ///             doc(3, "TRAIN", &["earn"]), doc(4, "TEST", &["acq"]), doc(5, "TEST", &["gold"])];
    /// let r = Reuters::from_documents(&docs, &ReutersOptions { num_topics: 2 });
    /// assert_eq!(r.topics, ["earn", "acq"]);
    /// assert_eq!(r.train.labels, [0, 1, 0]);
    /// assert_eq!(r.test.ids, [4]); // `gold` is not among the kept topics
    /// ```
    pub fn from_documents(docs: &[Document], options: &ReutersOptions) -> Self {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for d in docs {
            if d.mod_apte() == Some(true)
                && let Some(t) = d.topics.first()
            {
                let count = counts.entry(t.as_str()).or_default();
                // Counts documents of a slice: at most its length.
                *count = count.saturating_add(1);
            }
        }
        let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        ranked.truncate(options.num_topics);
        let topics: Vec<String> = ranked.iter().map(|(t, _)| t.to_string()).collect();
        let index: HashMap<&str, u32> = ranked
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (*t, i as u32))
            .collect();

        let mut sorted: Vec<&Document> = docs.iter().collect();
        sorted.sort_by_key(|d| d.new_id);
        let (mut train, mut test) = (Newswires::default(), Newswires::default());
        for d in sorted {
            let (Some(is_train), Some(first)) = (d.mod_apte(), d.topics.first()) else {
                continue;
            };
            let Some(&label) = index.get(first.as_str()) else {
                continue;
            };
            let split = if is_train { &mut train } else { &mut test };
            split.texts.push(d.text());
            split.labels.push(label);
            split.ids.push(d.new_id);
        }
        Reuters {
            train,
            test,
            topics,
        }
    }
}

/// Every document of the collection, in file order: from `path` (a directory of the 22 `.sgm`
/// files or the `.tar.gz` archive), or from `reuters21578/` in the cache. All 22 files must be
/// present, and NEWIDs must be unique.
///
/// ```no_run
/// let docs = rnn_runtime::datasets::reuters::read_documents(None)?;
/// assert_eq!(docs.len(), 21_578);
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
pub fn read_documents(path: Option<&Path>) -> Result<Vec<Document>, DatasetError> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => cached()?,
    };
    let sources = if path.is_dir() {
        read_dir(&path)?
    } else if path.extension().is_some_and(|e| e == "sgm") {
        return Err(DatasetError::format(
            path.display().to_string(),
            "path",
            "the collection is 22 files: pass the directory that holds them, or the .tar.gz archive",
        ));
    } else {
        read_archive(&path)?
    };
    let mut docs = Vec::new();
    let mut seen = HashSet::new();
    for (name, bytes) in sources {
        // The files are ASCII except for one byte in reut2-017.sgm, which is Latin-1; each byte
        // of Latin-1 is the code point of the same value.
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        for doc in parse_sgml(&text, &name)? {
            if !seen.insert(doc.new_id) {
                return Err(DatasetError::format(
                    &name,
                    format!("NEWID {}", doc.new_id),
                    "this NEWID occurs twice in the collection",
                ));
            }
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// The cache's copy: the directory of `.sgm` files if it is there, else the archive (fetched
/// as [`Cache::fetch`] does).
fn cached() -> Result<PathBuf, DatasetError> {
    let cache = Cache::from_env()?;
    let dir = cache.dir().join(REMOTE.dir);
    if dir.join(file_name(0)).is_file() {
        Ok(dir)
    } else {
        cache.fetch(&REMOTE)
    }
}

fn read_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, DatasetError> {
    (0..FILES)
        .map(|i| {
            let path = dir.join(file_name(i));
            let name = path.display().to_string();
            std::fs::read(&path)
                .map(|b| (name.clone(), b))
                .map_err(|e| DatasetError::io(name, &e))
        })
        .collect()
}

fn read_archive(path: &Path) -> Result<Vec<(String, Vec<u8>)>, DatasetError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(&name, &e))?;
    let broken = |location: String, e: std::io::Error| {
        DatasetError::format(
            &name,
            location,
            format!("{e} (the archive is truncated or corrupt)"),
        )
    };
    let mut archive =
        tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut files: Vec<Option<(String, Vec<u8>)>> = vec![None; FILES];
    let mut last = String::from("the start of the archive");
    let entries = archive
        .entries()
        .map_err(|e| broken(format!("after {last}"), e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| broken(format!("after entry {last}"), e))?;
        let entry_path = entry
            .path()
            .map_err(|e| broken(format!("after entry {last}"), e))?
            .to_string_lossy()
            .into_owned();
        last.clone_from(&entry_path);
        let file_part = entry_path.rsplit('/').next().unwrap_or_default();
        let Some(slot) = files
            .iter_mut()
            .enumerate()
            .find_map(|(i, slot)| (file_name(i) == file_part).then_some(slot))
        else {
            continue;
        };
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| broken(format!("entry {entry_path}"), e))?;
        *slot = Some((format!("{name}: {entry_path}"), bytes));
    }
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink())
        .map_err(|e| broken(format!("after entry {last}"), e))?;
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            f.ok_or_else(|| {
                DatasetError::format(&name, file_name(i), "this file is missing from the archive")
            })
        })
        .collect()
}

/// Parses one SGML file of the collection; `name` names it in errors.
///
/// A document not closed before the end of the file, a misnested or unknown tag, a missing or
/// non-numeric NEWID is an error naming the file, the line and, once known, the NEWID.
///
/// ```
/// use rnn_runtime::datasets::reuters::parse_sgml;
/// let err = parse_sgml("<REUTERS TOPICS=\"NO\" LEWISSPLIT=\"TRAIN\" NEWID=\"7\">\n<TITLE>x</BODY>", "f.sgm")
///     .unwrap_err();
/// assert_eq!(err.to_string(), "f.sgm: NEWID 7, line 2: expected </TITLE>, found </BODY>");
/// ```
pub fn parse_sgml(text: &str, name: &str) -> Result<Vec<Document>, DatasetError> {
    let mut docs = Vec::new();
    let mut tokens = Tokens::new(text);
    let mut doc: Option<(Document, usize)> = None;
    let mut stack: Vec<&str> = Vec::new();
    let at = |doc: &Option<(Document, usize)>, line: usize| match doc {
        Some((d, _)) => format!("NEWID {}, line {line}", d.new_id),
        None => format!("line {line}"),
    };
    while let Some(token) = tokens.next() {
        let token = token
            .map_err(|message| DatasetError::format(name, at(&doc, tokens.line()), message))?;
        match token {
            Token::Declaration => {}
            Token::Open {
                name: tag,
                attrs,
                line,
            } => {
                if tag == "REUTERS" {
                    if let Some((d, start)) = &doc {
                        return Err(DatasetError::format(
                            name,
                            at(&doc, line),
                            format!(
                                "a new <REUTERS> starts before document NEWID {} (line {start}) is closed",
                                d.new_id
                            ),
                        ));
                    }
                    let d = document_start(attrs).map_err(|message| {
                        DatasetError::format(name, format!("line {line}"), message)
                    })?;
                    doc = Some((d, line));
                    stack.push("REUTERS");
                    continue;
                }
                if doc.is_none() {
                    return Err(DatasetError::format(
                        name,
                        format!("line {line}"),
                        format!("<{tag}> outside a <REUTERS> document"),
                    ));
                }
                if !KNOWN.contains(&tag) {
                    return Err(DatasetError::format(
                        name,
                        at(&doc, line),
                        format!("unknown tag <{tag}>"),
                    ));
                }
                if tag == "D"
                    && stack.last() == Some(&"TOPICS")
                    && let Some((d, _)) = &mut doc
                {
                    d.topics.push(String::new());
                }
                stack.push(tag);
            }
            Token::Close { name: tag, line } => {
                let Some(&open) = stack.last() else {
                    return Err(DatasetError::format(
                        name,
                        format!("line {line}"),
                        format!("</{tag}> without a matching start tag"),
                    ));
                };
                if open != tag {
                    return Err(DatasetError::format(
                        name,
                        at(&doc, line),
                        format!("expected </{open}>, found </{tag}>"),
                    ));
                }
                stack.pop();
                if tag == "REUTERS"
                    && let Some((d, _)) = doc.take()
                {
                    docs.push(d);
                }
            }
            Token::Text { text: chunk, line } => {
                let Some((d, _)) = &mut doc else {
                    if chunk.trim().is_empty() {
                        continue;
                    }
                    let lead = chunk.chars().take_while(|c| c.is_whitespace());
                    // Line numbers count lines of a string in memory.
                    let line = line.saturating_add(lead.filter(|&c| c == '\n').count());
                    return Err(DatasetError::format(
                        name,
                        format!("line {line}"),
                        "text outside a <REUTERS> document",
                    ));
                };
                match stack.as_slice() {
                    [.., "TOPICS", "D"] => {
                        if let Some(topic) = d.topics.last_mut() {
                            decode(chunk, topic);
                        }
                    }
                    [.., "TITLE"] => decode(chunk, &mut d.title),
                    [.., "BODY"] => decode(chunk, &mut d.body),
                    [.., "TEXT"] => decode(chunk, &mut d.unstructured),
                    _ => {}
                }
            }
        }
    }
    if let Some((d, start)) = doc {
        return Err(DatasetError::format(
            name,
            format!("NEWID {}, line {start}", d.new_id),
            "the document is not closed with </REUTERS> before the end of the file (is the file truncated?)",
        ));
    }
    Ok(docs)
}

/// Tags that may appear inside a `<REUTERS>` document.
const KNOWN: [&str; 15] = [
    "DATE",
    "MKNOTE",
    "TOPICS",
    "PLACES",
    "PEOPLE",
    "ORGS",
    "EXCHANGES",
    "COMPANIES",
    "UNKNOWN",
    "TEXT",
    "AUTHOR",
    "DATELINE",
    "TITLE",
    "BODY",
    "D",
];

fn document_start(attrs: &str) -> Result<Document, String> {
    let attrs = attributes(attrs)?;
    let get = |key: &str| {
        attrs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("<REUTERS> has no {key} attribute"))
    };
    let id = get("NEWID")?;
    let new_id = id
        .parse()
        .map_err(|_| format!("NEWID `{id}` is not a number"))?;
    Ok(Document {
        new_id,
        lewis_split: get("LEWISSPLIT")?.to_string(),
        has_topics: get("TOPICS")?.to_string(),
        ..Default::default()
    })
}
