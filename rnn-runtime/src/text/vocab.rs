//! Hash tables over words stored back to back in one string: the hot loops of tokenizing
//! are word lookups, whose cost is the memory they touch.

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// A fixed hash, so that equal words hash equally in every table (and every run).
fn hash(word: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(word)
}

#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    start: usize,
    end: usize,
    id: u32,
}

/// Words looked up in a table of their own before the others: in natural text (Zipf's law)
/// most tokens are among the few thousand most frequent words, whose table then stays in
/// the core's cache instead of being spread over a table of the whole vocabulary.
const HOT_WORDS: usize = 4096;

/// Word -> id, read-only once built. Words are stored in the order given (by id, so the
/// frequent words share a few cache lines), the first [`HOT_WORDS`] in a table of their own.
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
            let hash = hash(word);
            if lookup.find(hash, word).is_none() {
                let slot = Slot {
                    hash,
                    start: lookup.arena.len(),
                    end: lookup.arena.len() + word.len(),
                    id,
                };
                lookup.arena.push_str(word);
                let table = if lookup.hot.len() < HOT_WORDS {
                    &mut lookup.hot
                } else {
                    &mut lookup.cold
                };
                table.insert_unique(hash, slot, |s| s.hash);
            }
        }
        lookup
    }

    fn find(&self, hash: u64, word: &str) -> Option<&Slot> {
        let arena = self.arena.as_bytes();
        let eq = |s: &Slot| s.hash == hash && arena.get(s.start..s.end) == Some(word.as_bytes());
        self.hot.find(hash, eq).or_else(|| self.cold.find(hash, eq))
    }

    /// The id of `word`.
    pub(crate) fn get(&self, word: &str) -> Option<u32> {
        self.find(hash(word), word).map(|s| s.id)
    }
}

#[derive(Clone, Copy)]
struct CountSlot {
    hash: u64,
    start: usize,
    end: usize,
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
        let hash = hash(word);
        let arena = self.arena.as_bytes();
        let found = self.table.find_mut(hash, |s| {
            s.hash == hash && arena.get(s.start..s.end) == Some(word.as_bytes())
        });
        match found {
            Some(slot) => {
                slot.count += 1;
                if slot.last_doc != doc {
                    slot.last_doc = doc;
                    slot.docs += 1;
                }
            }
            None => {
                let slot = CountSlot {
                    hash,
                    start: self.arena.len(),
                    end: self.arena.len() + word.len(),
                    last_doc: doc,
                    count: 1,
                    docs: 1,
                };
                self.arena.push_str(word);
                self.table.insert_unique(hash, slot, |s| s.hash);
            }
        }
    }

    /// `(word, occurrences, documents)` in first-seen order, which is the order of the words
    /// in the arena.
    pub(crate) fn into_counts(self) -> Counts {
        let mut slots: Vec<CountSlot> = self.table.into_iter().collect();
        slots.sort_unstable_by_key(|s| s.start);
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
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, u64, u64)> + '_ {
        self.slots
            .iter()
            .map(|s| (&self.arena[s.start..s.end], s.count, s.docs))
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
        let words = ["the", "a", "théâtre", "", "말이"];
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
        let counts: Vec<_> = c
            .into_counts()
            .iter()
            .map(|(w, n, d)| (w.to_string(), n, d))
            .collect();
        let want = [("b", 2, 1), ("a", 3, 3), ("c", 1, 1)];
        let want: Vec<_> = want
            .iter()
            .map(|(w, n, d)| (w.to_string(), *n, *d))
            .collect();
        assert_eq!(counts, want);
    }
}
