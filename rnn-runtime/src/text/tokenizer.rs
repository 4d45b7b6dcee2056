//! Keras' `Tokenizer` (keras_preprocessing 1.1.2): a vocabulary ranked by word frequency and
//! the conversion of texts to id sequences and back.

use std::fmt;

use indexmap::IndexMap;
use rayon::prelude::*;

use super::split::{Scratch, Splitter};
use super::vocab::{Counter, Counts, Lookup};
use crate::error::{Error, Result};
use crate::kernels::pool::install;

/// Insertion-ordered map with a fast hash; the order is what Python's dicts keep.
pub(crate) type OrderedMap<K, V> = IndexMap<K, V, foldhash::fast::RandomState>;

/// The default filters of Keras' `Tokenizer`: ASCII punctuation except `'`, tab and newline.
///
/// ```
/// assert!(rnn_runtime::text::DEFAULT_FILTERS.contains('!'));
/// assert!(!rnn_runtime::text::DEFAULT_FILTERS.contains('\''));
/// ```
pub const DEFAULT_FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/// Texts fewer than this are tokenized on the calling thread: spawning costs more.
const PARALLEL_MIN_TEXTS: usize = 64;

/// Keras' text `Tokenizer`: fits a vocabulary on texts, ranks it by frequency, and turns
/// texts into sequences of ids (and back), with the semantics of keras_preprocessing 1.1.2.
///
/// - Id 0 is never assigned (it is the padding id); the most frequent word gets id 1, or 2
///   when there is an out-of-vocabulary token, which always gets id 1. Words with the same
///   count keep the order in which they were first seen.
/// - With `num_words(n)`, only ids below `n` are emitted: a word whose id is `n` or more is
///   dropped, or replaced by the OOV id when there is an OOV token. As in Keras,
///   `num_words(0)` means no limit.
/// - Texts are `&str`, so they are always valid UTF-8; decode bytes first (for instance with
///   `String::from_utf8_lossy`).
///
/// ```
/// use rnn_runtime::text::Tokenizer;
/// let mut tok = Tokenizer::builder().oov_token("<OOV>").build().unwrap();
/// tok.fit_on_texts(&["The cat sat.", "The dog sat on the mat!"]);
/// assert_eq!(tok.index_of("<OOV>"), Some(1));
/// assert_eq!(tok.index_of("the"), Some(2));
/// let seqs = tok.texts_to_sequences(&["the cat ate the mat"]);
/// assert_eq!(seqs, vec![vec![2, 4, 1, 2, 7]]);
/// assert_eq!(tok.sequences_to_texts(&seqs), vec!["the cat <OOV> the mat"]);
/// ```
#[derive(Clone)]
pub struct Tokenizer {
    pub(crate) config: Config,
    pub(crate) splitter: Splitter,
    pub(crate) document_count: u64,
    /// Python's `word_counts`: an `OrderedDict` in first-seen order.
    pub(crate) word_counts: OrderedMap<String, u64>,
    /// Python's `word_docs`: how many documents contain each word.
    pub(crate) word_docs: OrderedMap<String, u64>,
    /// Python's `index_docs`: `word_docs` keyed by id.
    pub(crate) index_docs: OrderedMap<u32, u64>,
    pub(crate) word_index: OrderedMap<String, u32>,
    pub(crate) index_word: OrderedMap<u32, String>,
    /// `word_index` again, laid out for fast lookups.
    pub(crate) lookup: Lookup,
}

/// The constructor arguments of Keras' `Tokenizer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) num_words: Option<usize>,
    pub(crate) filters: String,
    pub(crate) lower: bool,
    pub(crate) split: String,
    pub(crate) char_level: bool,
    pub(crate) oov_token: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            num_words: None,
            filters: DEFAULT_FILTERS.to_string(),
            lower: true,
            split: " ".to_string(),
            char_level: false,
            oov_token: None,
        }
    }
}

impl Config {
    pub(crate) fn check(&self, place: &str) -> Result<()> {
        if self.split.is_empty() && !self.char_level {
            return Err(Error::config(
                place,
                "`split` is empty; give the separator between words (Keras' default is \" \"), \
                 or use char_level",
            ));
        }
        Ok(())
    }

    /// The splitter of texts into words that these arguments describe.
    pub(crate) fn splitter(&self) -> Splitter {
        Splitter::new(&self.filters, self.lower, &self.split, self.char_level)
    }
}

/// Builds a [`Tokenizer`] with Keras' constructor arguments; every one has Keras' default.
///
/// ```
/// use rnn_runtime::text::Tokenizer;
/// let tok = Tokenizer::builder()
///     .num_words(10_000)
///     .oov_token("<OOV>")
///     .filters("!?.,")
///     .lower(false)
///     .split(" ")
///     .char_level(false)
///     .build()
///     .unwrap();
/// assert_eq!(tok.num_words(), Some(10_000));
/// assert!(Tokenizer::builder().split("").build().is_err());
/// ```
#[derive(Clone, Debug, Default)]
pub struct TokenizerBuilder {
    config: Config,
}

impl TokenizerBuilder {
    /// Keep only ids below `n` (the `n - 1` most frequent words, or `n - 2` and the OOV
    /// token); `0` means no limit, as in Keras.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let tok = Tokenizer::builder().num_words(100).build().unwrap();
    /// assert_eq!(tok.num_words(), Some(100));
    /// ```
    pub fn num_words(mut self, n: usize) -> Self {
        self.config.num_words = Some(n);
        self
    }

    /// Characters removed from texts (each becomes a separator). Default [`DEFAULT_FILTERS`].
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let mut tok = Tokenizer::builder().filters("!").build().unwrap();
    /// tok.fit_on_texts(&["a! b."]);
    /// assert_eq!(tok.index_of("b."), Some(2));
    /// ```
    pub fn filters(mut self, filters: &str) -> Self {
        self.config.filters = filters.to_string();
        self
    }

    /// Whether texts are lowercased first, as Python's `str.lower()` does. Default `true`.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let mut tok = Tokenizer::builder().lower(false).build().unwrap();
    /// tok.fit_on_texts(&["A a"]);
    /// assert_eq!(tok.word_index().len(), 2);
    /// ```
    pub fn lower(mut self, lower: bool) -> Self {
        self.config.lower = lower;
        self
    }

    /// The separator between words. Default `" "`; must not be empty for word tokens.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let mut tok = Tokenizer::builder().split("|").build().unwrap();
    /// tok.fit_on_texts(&["new york|paris"]);
    /// assert_eq!(tok.index_of("new york"), Some(1));
    /// ```
    pub fn split(mut self, split: &str) -> Self {
        self.config.split = split.to_string();
        self
    }

    /// Whether every character is a token (filters and split are then not used, as in
    /// Keras). Default `false`.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let mut tok = Tokenizer::builder().char_level(true).build().unwrap();
    /// tok.fit_on_texts(&["말이"]);
    /// assert_eq!(tok.text_to_sequence("이말"), vec![2, 1]);
    /// ```
    pub fn char_level(mut self, char_level: bool) -> Self {
        self.config.char_level = char_level;
        self
    }

    /// The token that stands for words outside the vocabulary; it gets id 1.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// let mut tok = Tokenizer::builder().oov_token("<OOV>").build().unwrap();
    /// tok.fit_on_texts(&["a"]);
    /// assert_eq!(tok.text_to_sequence("a z"), vec![2, 1]);
    /// ```
    pub fn oov_token(mut self, token: &str) -> Self {
        self.config.oov_token = Some(token.to_string());
        self
    }

    /// The tokenizer, with an empty vocabulary; errors if `split` is empty for word tokens.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// assert!(Tokenizer::builder().build().is_ok());
    /// assert!(Tokenizer::builder().split("").build().is_err());
    /// assert!(Tokenizer::builder().split("").char_level(true).build().is_ok());
    /// ```
    pub fn build(self) -> Result<Tokenizer> {
        self.config.check("Tokenizer")?;
        Ok(Tokenizer::from_config(self.config))
    }
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer::from_config(Config::default())
    }
}

impl Tokenizer {
    /// A tokenizer with Keras' defaults (all words, default filters, lowercase, split on
    /// spaces, no OOV token).
    ///
    /// ```
    /// let tok = rnn_runtime::text::Tokenizer::new();
    /// assert_eq!(tok.document_count(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder for the other constructor arguments.
    ///
    /// ```
    /// let tok = rnn_runtime::text::Tokenizer::builder().char_level(true).build().unwrap();
    /// assert!(tok.char_level());
    /// ```
    pub fn builder() -> TokenizerBuilder {
        TokenizerBuilder::default()
    }

    pub(crate) fn from_config(config: Config) -> Self {
        Tokenizer {
            splitter: config.splitter(),
            config,
            document_count: 0,
            word_counts: OrderedMap::default(),
            word_docs: OrderedMap::default(),
            index_docs: OrderedMap::default(),
            word_index: OrderedMap::default(),
            index_word: OrderedMap::default(),
            lookup: Lookup::default(),
        }
    }

    /// Adds `texts` to the vocabulary and re-ranks it, as Keras' `fit_on_texts`; may be
    /// called repeatedly. Texts are counted in parallel; the result is the same as counting
    /// them one after the other.
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["b a", "a"]);
    /// tok.fit_on_texts(&["c b b"]);
    /// let ranked: Vec<_> = tok.word_index().collect();
    /// assert_eq!(ranked, [("b", 1), ("a", 2), ("c", 3)]);
    /// assert_eq!(tok.document_count(), 3);
    /// ```
    pub fn fit_on_texts<S: AsRef<str> + Sync>(&mut self, texts: &[S]) {
        let parts: Vec<Counts> = if texts.len() < PARALLEL_MIN_TEXTS {
            vec![self.count(texts)]
        } else {
            let this = &*self;
            install(|| {
                let chunk = chunk_len(texts.len());
                texts.par_chunks(chunk).map(|c| this.count(c)).collect()
            })
        };
        // Merging the slices in order keeps the first-seen order of one sequential pass,
        // which decides ties in the ranking.
        self.document_count = self.document_count.saturating_add(texts.len() as u64);
        for part in &parts {
            part.for_each(|word, count, docs| {
                match self.word_counts.get_mut(word) {
                    Some(c) => *c = c.saturating_add(count),
                    None => {
                        self.word_counts.insert(word.to_string(), count);
                    }
                }
                match self.word_docs.get_mut(word) {
                    Some(d) => *d = d.saturating_add(docs),
                    None => {
                        self.word_docs.insert(word.to_string(), docs);
                    }
                }
            });
        }
        self.rank();
    }

    fn count<S: AsRef<str>>(&self, texts: &[S]) -> Counts {
        let mut counter = Counter::default();
        let mut scratch = Scratch::default();
        for (doc, text) in texts.iter().enumerate() {
            self.splitter
                .for_each_token(text.as_ref(), &mut scratch, |w| counter.add(w, doc));
        }
        counter.into_counts()
    }

    /// Rebuilds `word_index`, `index_word` and `index_docs` from the counts, as the end of
    /// Keras' `fit_on_texts` does.
    fn rank(&mut self) {
        let mut ranked: Vec<(&String, u64)> =
            self.word_counts.iter().map(|(w, &c)| (w, c)).collect();
        // Stable, like Python's `list.sort`: equal counts stay in first-seen order.
        ranked.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
        let mut word_index = OrderedMap::default();
        let oov = self.config.oov_token.as_ref();
        for (i, word) in oov
            .into_iter()
            .chain(ranked.into_iter().map(|(w, _)| w))
            .enumerate()
        {
            // A word equal to the OOV token takes the later id but keeps the first place,
            // as with Python's `dict(zip(...))`.
            word_index.insert(word.clone(), i.saturating_add(1) as u32);
        }
        self.index_word = word_index.iter().map(|(w, &i)| (i, w.clone())).collect();
        self.word_index = word_index;
        self.lookup = Lookup::new(self.word_index());
        for (word, &docs) in &self.word_docs {
            if let Some(&id) = self.word_index.get(word) {
                self.index_docs.insert(id, docs);
            }
        }
    }

    /// The id of the OOV token, once fitted.
    fn oov_id(&self) -> Option<u32> {
        let token = self.config.oov_token.as_ref()?;
        self.word_index.get(token).copied()
    }

    fn limited(&self, id: u32) -> bool {
        matches!(self.config.num_words, Some(n) if n > 0 && id as usize >= n)
    }

    /// The ids of one text, as Keras' `texts_to_sequences([text])[0]`.
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["a b b"]);
    /// assert_eq!(tok.text_to_sequence("B, a, z!"), vec![1, 2]);
    /// ```
    pub fn text_to_sequence(&self, text: &str) -> Vec<u32> {
        self.encode(text, self.oov_id(), &mut Scratch::default())
    }

    fn encode(&self, text: &str, oov: Option<u32>, scratch: &mut Scratch) -> Vec<u32> {
        let mut seq = Vec::new();
        self.splitter
            .for_each_token(text, scratch, |w| match self.lookup.get(w) {
                Some(id) if self.limited(id) => seq.extend(oov),
                Some(id) => seq.push(id),
                // Python appends the OOV id whenever there is an OOV token; before any fit it
                // has no id (Python would append `None`), and the word is dropped.
                None => seq.extend(oov),
            });
        seq
    }

    /// The ids of every text, as Keras' `texts_to_sequences`: unknown words (and words at
    /// or beyond `num_words`) are dropped, or become the OOV id. Runs in parallel; the
    /// result is in the order of `texts`.
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::builder().num_words(3).build().unwrap();
    /// tok.fit_on_texts(&["a a a b b c"]);
    /// assert_eq!(tok.texts_to_sequences(&["c b a", ""]), vec![vec![2, 1], vec![]]);
    /// ```
    pub fn texts_to_sequences<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Vec<u32>> {
        let oov = self.oov_id();
        if texts.len() < PARALLEL_MIN_TEXTS {
            let mut scratch = Scratch::default();
            return texts
                .iter()
                .map(|t| self.encode(t.as_ref(), oov, &mut scratch))
                .collect();
        }
        install(|| {
            texts
                .par_iter()
                .with_min_len((chunk_len(texts.len()) / 4).saturating_add(1))
                .map_init(Scratch::default, |scratch, t| {
                    self.encode(t.as_ref(), oov, scratch)
                })
                .collect()
        })
    }

    /// The words of each sequence joined with single spaces, as Keras'
    /// `sequences_to_texts`: ids without a word (and ids at or beyond `num_words`) are
    /// dropped, or become the OOV token when there is one.
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["Hello, hello world"]);
    /// assert_eq!(tok.sequences_to_texts(&[vec![2, 1, 0, 9]]), vec!["world hello"]);
    /// ```
    pub fn sequences_to_texts<Q: AsRef<[u32]>>(&self, sequences: &[Q]) -> Vec<String> {
        let oov_word = self.oov_id().and_then(|id| self.index_word.get(&id));
        sequences
            .iter()
            .map(|seq| {
                let mut words: Vec<&str> = Vec::with_capacity(seq.as_ref().len());
                for id in seq.as_ref() {
                    let word = match self.index_word.get(id) {
                        Some(_) if self.limited(*id) => oov_word,
                        Some(w) => Some(w),
                        None if self.config.oov_token.is_some() => oov_word,
                        None => None,
                    };
                    words.extend(word.map(String::as_str));
                }
                words.join(" ")
            })
            .collect()
    }

    /// Words and their ids, most frequent first (Keras' `word_index`, in its order).
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::builder().oov_token("?").build().unwrap();
    /// tok.fit_on_texts(&["b a a"]);
    /// assert_eq!(tok.word_index().collect::<Vec<_>>(), [("?", 1), ("a", 2), ("b", 3)]);
    /// ```
    pub fn word_index(&self) -> impl ExactSizeIterator<Item = (&str, u32)> + '_ {
        self.word_index.iter().map(|(w, &i)| (w.as_str(), i))
    }

    /// The id of `word` (Keras' `word_index[word]`), ignoring `num_words`.
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["x y y"]);
    /// assert_eq!((tok.index_of("y"), tok.index_of("z")), (Some(1), None));
    /// ```
    pub fn index_of(&self, word: &str) -> Option<u32> {
        self.word_index.get(word).copied()
    }

    /// Ids and their words (Keras' `index_word`, in its order).
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["b a a"]);
    /// assert_eq!(tok.index_word().collect::<Vec<_>>(), [(1, "a"), (2, "b")]);
    /// ```
    pub fn index_word(&self) -> impl ExactSizeIterator<Item = (u32, &str)> + '_ {
        self.index_word.iter().map(|(&i, w)| (i, w.as_str()))
    }

    /// The word of `id` (Keras' `index_word[id]`), ignoring `num_words`.
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["x y y"]);
    /// assert_eq!((tok.word(2), tok.word(0)), (Some("x"), None));
    /// ```
    pub fn word(&self, id: u32) -> Option<&str> {
        self.index_word.get(&id).map(String::as_str)
    }

    /// Occurrences of each word, in first-seen order (Keras' `word_counts`).
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["b a a", "a"]);
    /// assert_eq!(tok.word_counts().collect::<Vec<_>>(), [("b", 1), ("a", 3)]);
    /// ```
    pub fn word_counts(&self) -> impl ExactSizeIterator<Item = (&str, u64)> + '_ {
        self.word_counts.iter().map(|(w, &c)| (w.as_str(), c))
    }

    /// Number of documents containing each word (Keras' `word_docs`).
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["b a a", "a"]);
    /// assert_eq!(tok.word_docs().collect::<Vec<_>>(), [("b", 1), ("a", 2)]);
    /// ```
    pub fn word_docs(&self) -> impl ExactSizeIterator<Item = (&str, u64)> + '_ {
        self.word_docs.iter().map(|(w, &c)| (w.as_str(), c))
    }

    /// Number of documents containing each id (Keras' `index_docs`).
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["b a a", "a"]);
    /// assert_eq!(tok.index_docs().collect::<Vec<_>>(), [(2, 1), (1, 2)]);
    /// ```
    pub fn index_docs(&self) -> impl ExactSizeIterator<Item = (u32, u64)> + '_ {
        self.index_docs.iter().map(|(&i, &c)| (i, c))
    }

    /// Number of texts fitted so far.
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["a", ""]);
    /// assert_eq!(tok.document_count(), 2);
    /// ```
    pub fn document_count(&self) -> u64 {
        self.document_count
    }

    /// The number of rows an `Embedding` needs for the ids this tokenizer emits: one more
    /// than the largest (Keras tutorials write `len(word_index) + 1`, or `num_words`).
    ///
    /// ```
    /// let mut tok = rnn_runtime::text::Tokenizer::new();
    /// tok.fit_on_texts(&["a b c"]);
    /// assert_eq!(tok.vocab_size(), 4);
    /// ```
    pub fn vocab_size(&self) -> usize {
        let largest = self.word_index.values().copied().max().unwrap_or(0) as usize;
        match self.config.num_words {
            Some(n) if n > 0 => {
                let oov = self.oov_id().map_or(0, |i| (i as usize).saturating_add(1));
                n.min(largest.saturating_add(1)).max(oov)
            }
            _ => largest.saturating_add(1),
        }
    }

    /// [`Tokenizer::vocab_size`], or an error when the tokenizer can produce an id of `max`
    /// or more: the check to make before sizing a model whose output is a vocabulary bounded
    /// by a constant (`Dense(MAX_WORDS, softmax)`), so that no id is ever beyond it. Build the
    /// tokenizer with `num_words(MAX_WORDS)` to keep only the most frequent words.
    ///
    /// ```
    /// use rnn_runtime::text::Tokenizer;
    /// const MAX_WORDS: usize = 3;
    /// let texts = ["a a a b b c"];
    /// let mut tok = Tokenizer::new();
    /// tok.fit_on_texts(&texts);
    /// let err = tok.vocab_size_at_most(MAX_WORDS).unwrap_err();
    /// assert!(err.to_string().contains("num_words(3)"), "{err}");
    ///
    /// let mut tok = Tokenizer::builder().num_words(MAX_WORDS).build()?;
    /// tok.fit_on_texts(&texts);
    /// assert_eq!(tok.vocab_size_at_most(MAX_WORDS)?, 3); // ids 0 (padding), 1 and 2
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn vocab_size_at_most(&self, max: usize) -> Result<usize> {
        let vocab = self.vocab_size();
        if vocab <= max {
            return Ok(vocab);
        }
        Err(Error::config(
            "tokenizer",
            format!(
                "its ids go up to {}, beyond the bound of {max} ids (0 to {}) that the model \
                 was sized for; build it with `Tokenizer::builder().num_words({max})` to keep \
                 the {} most frequent words, or raise the bound",
                vocab.saturating_sub(1),
                max.saturating_sub(1),
                max.saturating_sub(1)
            ),
        ))
    }

    /// The `num_words` limit, as given.
    ///
    /// ```
    /// let tok = rnn_runtime::text::Tokenizer::builder().num_words(5).build().unwrap();
    /// assert_eq!(tok.num_words(), Some(5));
    /// ```
    pub fn num_words(&self) -> Option<usize> {
        self.config.num_words
    }

    /// The characters filtered out of texts.
    ///
    /// ```
    /// let tok = rnn_runtime::text::Tokenizer::new();
    /// assert_eq!(tok.filters(), rnn_runtime::text::DEFAULT_FILTERS);
    /// ```
    pub fn filters(&self) -> &str {
        &self.config.filters
    }

    /// Whether texts are lowercased.
    ///
    /// ```
    /// assert!(rnn_runtime::text::Tokenizer::new().lower());
    /// ```
    pub fn lower(&self) -> bool {
        self.config.lower
    }

    /// The separator between words.
    ///
    /// ```
    /// assert_eq!(rnn_runtime::text::Tokenizer::new().split(), " ");
    /// ```
    pub fn split(&self) -> &str {
        &self.config.split
    }

    /// Whether every character is a token.
    ///
    /// ```
    /// assert!(!rnn_runtime::text::Tokenizer::new().char_level());
    /// ```
    pub fn char_level(&self) -> bool {
        self.config.char_level
    }

    /// The out-of-vocabulary token, if any.
    ///
    /// ```
    /// let tok = rnn_runtime::text::Tokenizer::builder().oov_token("<unk>").build().unwrap();
    /// assert_eq!(tok.oov_token(), Some("<unk>"));
    /// ```
    pub fn oov_token(&self) -> Option<&str> {
        self.config.oov_token.as_deref()
    }
}

/// Texts per parallel task: a few tasks per thread balance uneven text lengths.
fn chunk_len(texts: usize) -> usize {
    let tasks = rayon::current_num_threads().saturating_mul(4);
    texts.div_ceil(tasks).max(PARALLEL_MIN_TEXTS)
}

/// Equal when the configuration, the counts and the maps are equal, including their order.
impl PartialEq for Tokenizer {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
            && self.document_count == other.document_count
            && self.word_counts.iter().eq(other.word_counts.iter())
            && self.word_docs.iter().eq(other.word_docs.iter())
            && self.index_docs.iter().eq(other.index_docs.iter())
            && self.word_index.iter().eq(other.word_index.iter())
            && self.index_word.iter().eq(other.index_word.iter())
    }
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("num_words", &self.config.num_words)
            .field("lower", &self.config.lower)
            .field("split", &self.config.split)
            .field("char_level", &self.config.char_level)
            .field("oov_token", &self.config.oov_token)
            .field("document_count", &self.document_count)
            .field("words", &self.word_index.len())
            .finish_non_exhaustive()
    }
}
