//! Hash tables over words stored back to back in one string: the hot loops of tokenizing
//! are word lookups, whose cost is the memory they touch.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// A word as the tables store it: words of up to 16 bytes inline (most words), so that
/// comparing one costs two integer comparisons instead of a read of the arena; longer words
/// as their place in the arena.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    /// The bytes, zero-padded; or `[start, len]` in the arena.
    bytes: [u64; 2],
    /// The length up to [`INLINE`], or [`LONG`].
    len: u32,
}

const INLINE: usize = 16;
const LONG: u32 = u32::MAX;

impl Key {
    /// The key of `word`; `arena_at` is where `word` is (or would be) stored if long.
    fn of(word: &str, arena_at: usize) -> Key {
        let len = word.len();
        if len <= INLINE {
            let mut buf = [0u8; INLINE];
            for (dst, &src) in buf.iter_mut().zip(word.as_bytes()) {
                *dst = src;
            }
            let (lo, hi) = buf.split_at(8);
            let word = |half: &[u8]| u64::from_le_bytes(half.try_into().unwrap_or_default());
            Key {
                bytes: [word(lo), word(hi)],
                len: len as u32,
            }
        } else {
            Key {
                bytes: [arena_at as u64, len as u64],
                len: LONG,
            }
        }
    }

    /// The hash of the word (the same for a probe and a stored key).
    fn hash(&self, word: &str) -> u64 {
        if self.len == LONG {
            HASHER.hash_one(word)
        } else {
            HASHER.hash_one((self.bytes, self.len))
        }
    }

    /// The stored word (a long one is read from `arena`).
    fn word<'a>(&self, arena: &'a str, buf: &'a mut [u8; INLINE]) -> &'a str {
        if self.len == LONG {
            let (start, len) = (self.bytes[0] as usize, self.bytes[1] as usize);
            return start
                .checked_add(len)
                .and_then(|end| arena.get(start..end))
                .unwrap_or_default();
        }
        let bytes = self.bytes.iter().flat_map(|half| half.to_le_bytes());
        for (dst, src) in buf.iter_mut().zip(bytes) {
            *dst = src;
        }
        // Inline keys hold the bytes of a word that was a `&str`.
        buf.get(..self.len as usize)
            .and_then(|word| std::str::from_utf8(word).ok())
            .unwrap_or_default()
    }

    /// Whether this stored key is `word`, whose key is `probe`.
    fn matches(&self, word: &str, probe: &Key, arena: &str) -> bool {
        if self.len != probe.len {
            return false;
        }
        if self.len != LONG {
            return self.bytes == probe.bytes;
        }
        let (start, len) = (self.bytes[0] as usize, self.bytes[1] as usize);
        start
            .checked_add(len)
            .and_then(|end| arena.as_bytes().get(start..end))
            == Some(word.as_bytes())
    }

    /// Stores `word` in the arena when it is not inline.
    fn store(&self, word: &str, arena: &mut String) {
        if self.len == LONG {
            arena.push_str(word);
        }
    }
}

/// A fixed hash, so that equal words hash equally in every table (and every run).
const HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5eed);

/// 32 bytes: the hash is recomputed when the table grows rather than stored, so that more
/// words fit in the cache.
#[derive(Clone, Copy)]
struct Slot {
    key: Key,
    id: u32,
}

/// Words looked up in a table of their own before the others: in natural text (Zipf's law)
/// most tokens are among the most frequent words (the 16,384 most frequent of the IMDB
/// reviews are 96% of their words), whose table, half a megabyte, then stays in the core's
/// cache instead of being spread over a table of the whole vocabulary.
const HOT_WORDS: usize = 16384;

/// Word -> id, read-only once built; the first [`HOT_WORDS`] words given in a table of their
/// own.
#[derive(Clone, Default)]
pub(crate) struct Lookup {
    arena: String,
    hot: HashTable<Slot>,
    cold: HashTable<Slot>,
}

impl Lookup {
    /// A lookup of `words`, most frequent first; a repeated word keeps its first id
    /// (callers pass unique words).
    pub(crate) fn new<'a>(words: impl ExactSizeIterator<Item = (&'a str, u32)>) -> Self {
        let n = words.len();
        let mut lookup = Lookup {
            arena: String::new(),
            hot: HashTable::with_capacity(n.min(HOT_WORDS)),
            cold: HashTable::with_capacity(n.saturating_sub(HOT_WORDS)),
        };
        for (word, id) in words {
            let key = Key::of(word, lookup.arena.len());
            let hash = key.hash(word);
            if lookup.find(hash, word, &key).is_none() {
                key.store(word, &mut lookup.arena);
                let Lookup { arena, hot, cold } = &mut lookup;
                let table = if hot.len() < HOT_WORDS { hot } else { cold };
                let rehash = |s: &Slot| s.key.hash(s.key.word(arena, &mut [0; INLINE]));
                table.insert_unique(hash, Slot { key, id }, rehash);
            }
        }
        lookup
    }

    fn find(&self, hash: u64, word: &str, key: &Key) -> Option<&Slot> {
        let arena = self.arena.as_str();
        let eq = |s: &Slot| s.key.matches(word, key, arena);
        self.hot.find(hash, eq).or_else(|| self.cold.find(hash, eq))
    }

    /// The id of `word`.
    pub(crate) fn get(&self, word: &str) -> Option<u32> {
        let key = Key::of(word, 0);
        self.find(key.hash(word), word, &key).map(|s| s.id)
    }
}

#[derive(Clone, Copy)]
struct CountSlot {
    key: Key,
    hash: u64,
    /// Position in first-seen order.
    seen: usize,
    /// The last document (index within this counter's texts) the word was counted in.
    last_doc: usize,
    count: u64,
    docs: u64,
}

/// Occurrences and document counts of words, for one slice of texts.
#[derive(Default)]
pub(crate) struct Counter {
    arena: String,
    table: HashTable<CountSlot>,
}

impl Counter {
    /// Counts one occurrence of `word` in document `doc` (documents come in increasing order).
    pub(crate) fn add(&mut self, word: &str, doc: usize) {
        let key = Key::of(word, self.arena.len());
        let hash = key.hash(word);
        let arena = self.arena.as_str();
        let found = self
            .table
            .find_mut(hash, |s| s.hash == hash && s.key.matches(word, &key, arena));
        match found {
            Some(slot) => {
                // A u64 of words read one at a time does not fill up.
                slot.count = slot.count.saturating_add(1);
                if slot.last_doc != doc {
                    slot.last_doc = doc;
                    slot.docs = slot.docs.saturating_add(1);
                }
            }
            None => {
                key.store(word, &mut self.arena);
                let slot = CountSlot {
                    key,
                    hash,
                    seen: self.table.len(),
                    last_doc: doc,
                    count: 1,
                    docs: 1,
                };
                self.table.insert_unique(hash, slot, |s| s.hash);
            }
        }
    }

    /// The counts in first-seen order.
    pub(crate) fn into_counts(self) -> Counts {
        let mut slots: Vec<CountSlot> = self.table.into_iter().collect();
        slots.sort_unstable_by_key(|s| s.seen);
        Counts {
            arena: self.arena,
            slots,
        }
    }
}

/// The result of a [`Counter`], in first-seen order.
pub(crate) struct Counts {
    arena: String,
    slots: Vec<CountSlot>,
}

impl Counts {
    /// Calls `f(word, occurrences, documents)` in first-seen order.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, u64, u64)) {
        let mut buf = [0; INLINE];
        for s in &self.slots {
            f(s.key.word(&self.arena, &mut buf), s.count, s.docs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_frequent_and_rare_words() {
        let words: Vec<String> = (0..HOT_WORDS + 500).map(|i| format!("w{i}")).collect();
        let lookup = Lookup::new(
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.as_str(), i as u32)),
        );
        assert_eq!((lookup.hot.len(), lookup.cold.len()), (HOT_WORDS, 500));
        for (i, w) in words.iter().enumerate() {
            assert_eq!(lookup.get(w), Some(i as u32));
        }
        assert_eq!(lookup.get("w"), None);
    }

    #[test]
    fn lookup_finds_every_word_and_only_them() {
        let words = [
            "the",
            "a",
            "théâtre",
            "",
            "말이",
            "a rather long word, over 16 bytes",
        ];
        let lookup = Lookup::new(words.iter().enumerate().map(|(i, w)| (*w, i as u32 + 1)));
        for (i, w) in words.iter().enumerate() {
            assert_eq!(lookup.get(w), Some(i as u32 + 1));
        }
        assert_eq!(lookup.get("th"), None);
        assert_eq!(lookup.get("말"), None);
    }

    #[test]
    fn counter_keeps_first_seen_order_and_counts_documents_once() {
        let mut c = Counter::default();
        for (doc, text) in ["b a b", "c a", "a"].iter().enumerate() {
            for w in text.split(' ') {
                c.add(w, doc);
            }
        }
        let mut counts = Vec::new();
        c.into_counts()
            .for_each(|w, n, d| counts.push((w.to_string(), n, d)));
        let want = [("b", 2, 1), ("a", 3, 3), ("c", 1, 1)];
        // Long words live in the arena.
        let mut long = Counter::default();
        for w in [
            "x".repeat(20),
            "y".repeat(17),
            "x".repeat(20),
            "z".to_string(),
        ] {
            long.add(&w, 0);
        }
        let mut got = Vec::new();
        long.into_counts()
            .for_each(|w, n, _| got.push((w.to_string(), n)));
        assert_eq!(
            got,
            [
                ("x".repeat(20), 2),
                ("y".repeat(17), 1),
                ("z".to_string(), 1)
            ]
        );
        let want: Vec<_> = want
            .iter()
            .map(|(w, n, d)| (w.to_string(), *n, *d))
            .collect();
        assert_eq!(counts, want);
    }
}
