//! The crate's thread pool, sized by [`set_num_threads`](crate::set_num_threads), and splitting
//! a product between its threads.
//!
//! A pass with more than one row runs on the pool (`on_pool`); inside it, large products split
//! their columns between its threads with `rayon::join`, and Bidirectional runs its two
//! directions side by side (`join`). Running the whole pass on a worker, rather than calling
//! `join` from outside, saves a wake-up per time step: inside the pool a join runs one half on
//! the calling thread and lets an idle worker take the other, or runs both itself if none is
//! free.
//!
//! A caller already on a rayon thread of its own (a `par_iter` over models, say) has spread
//! its work over the cores itself: there every pass stays on the calling thread and nothing is
//! split, so the cores are not oversubscribed.

#![allow(
    clippy::arithmetic_side_effects,
    reason = "Hot loops over buffers whose bounds `MatRef::check`, `gemm` and `gemm_packed` \
              assert at entry with checked arithmetic: every index stays below those bounds"
)]

use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Below this many multiply-adds (about 0.1 ms of work) a product stays on one thread: handing
/// half of it to another costs more than it saves.
const PARALLEL_WORK: usize = 1 << 21;

/// Columns are split in multiples of this, which keeps every part's micro-kernel tiles full
/// (and the packed kernel's panels whole).
pub(crate) const COLUMN_BLOCK: usize = 16;

/// The thread count set by `set_num_threads`; 0 until set.
static SETTING: AtomicUsize = AtomicUsize::new(0);

/// The pool, built on first use with the thread count of that time.
static POOL: Mutex<Option<Arc<ThreadPool>>> = Mutex::new(None);

thread_local! {
    /// Whether this thread is a worker of the crate's pool.
    static WORKER: Cell<bool> = const { Cell::new(false) };
}

/// The number of threads every kernel of this crate uses at most: the last value given to
/// [`set_num_threads`], else the `RNN_NUM_THREADS` environment variable, else the machine's
/// cores.
///
/// ```
/// assert!(rnn_runtime::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    match SETTING.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Sets the number of threads every kernel of this crate uses (passes, products,
/// Bidirectional's two directions, the tokenizer); `0` restores the default (see
/// [`num_threads`]). Passes already running finish with the threads they had.
///
/// Called from a thread of a rayon pool of your own, the crate runs each pass on that thread
/// alone, whatever this setting: your pool already spreads the work over the cores.
///
/// ```
/// rnn_runtime::set_num_threads(1);
/// assert_eq!(rnn_runtime::num_threads(), 1);
/// rnn_runtime::set_num_threads(0);
/// assert!(rnn_runtime::num_threads() >= 1);
/// ```
pub fn set_num_threads(threads: usize) {
    SETTING.store(threads, Ordering::Relaxed);
}

fn default_threads() -> usize {
    std::env::var("RNN_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1)
}

/// The pool for the current setting, rebuilt when the setting changed; `None` for one thread
/// (or if the system refuses new threads, when everything runs on the caller's thread).
fn pool() -> Option<Arc<ThreadPool>> {
    let threads = num_threads();
    if threads < 2 {
        return None;
    }
    let mut slot = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if slot
        .as_ref()
        .is_none_or(|p| p.current_num_threads() != threads)
    {
        *slot = ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("rnn-worker-{i}"))
            .start_handler(|_| WORKER.with(|w| w.set(true)))
            .build()
            .ok()
            .map(Arc::new);
    }
    slot.clone()
}

/// Whether the current thread is a worker of the crate's pool.
fn on_worker() -> bool {
    WORKER.with(Cell::get)
}

/// Threads a product may be split between from the current thread: the pool's on one of its
/// workers, else one.
fn parts() -> usize {
    if on_worker() {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// Calls `run` on column ranges that together cover `0..n` exactly once, halving the range
/// between the pool's threads while each half still has enough work; `work_per_column` is
/// the number of multiply-adds per output column. Splitting by columns gives each thread its
/// own part of the right-hand matrix to pack, so packing, which costs as much as the
/// arithmetic for the few-row products of a recurrence, is shared as well. Off the pool the
/// whole range runs on the calling thread.
pub(crate) fn split_columns(
    n: usize,
    work_per_column: usize,
    run: &(impl Fn(Range<usize>) + Sync),
) {
    halves(0..n, COLUMN_BLOCK, work_per_column, parts(), run);
}

/// Calls `run` on row ranges that together cover `0..m` exactly once, halving them between
/// rayon's threads while each half has enough work (`work_per_row` operations per row), as
/// [`split_columns`] does with columns. For steps whose rows are independent from start to
/// end (a cell's gate sweeps; its backward step, gate derivatives then their product with
/// the recurrent kernel), so each thread does all of it for its rows without waiting.
pub(crate) fn split_rows(m: usize, work_per_row: usize, run: &(impl Fn(Range<usize>) + Sync)) {
    if m * work_per_row < PARALLEL_WORK {
        // Without asking rayon: a single step must not start (or allocate) its pool.
        run(0..m);
    } else {
        halves(0..m, 1, work_per_row, parts(), run);
    }
}

/// Splits `range` in halves whose lengths are multiples of `block` (but the last) while there
/// are `parts` threads to give them to and each half has enough work.
fn halves(
    range: Range<usize>,
    block: usize,
    work_per_item: usize,
    parts: usize,
    run: &(impl Fn(Range<usize>) + Sync),
) {
    let n = range.len();
    if parts > 1 && n >= 2 * block && n * work_per_item >= PARALLEL_WORK {
        // Below n / 2 + block, so both halves are non-empty.
        let mid = range.start + (n / 2).next_multiple_of(block);
        let left_parts = parts / 2;
        rayon::join(
            || halves(range.start..mid, block, work_per_item, left_parts, run),
            || {
                halves(
                    mid..range.end,
                    block,
                    work_per_item,
                    parts - left_parts,
                    run,
                )
            },
        );
    } else {
        run(range);
    }
}

/// Runs `a` and `b`, side by side on the pool's workers, one after the other elsewhere.
pub(crate) fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    if parts() > 1 {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// Runs `f` on a worker of the pool for a batch of `batch` rows: on the current thread if it
/// already is a worker of this pool or of another rayon pool, if the pool has a single
/// thread, or for a single row, whose products are too small to split and would only pay the
/// hand-over (about 30 us).
pub(crate) fn on_pool<R: Send>(batch: usize, f: impl FnOnce() -> R + Send) -> R {
    if batch < 2 || rayon::current_thread_index().is_some() {
        return f();
    }
    match pool() {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// [`on_pool`] for `f` that hands [`split_rows`] `m` rows of `work_per_row` operations: on the
/// pool only when they are enough to split, so that small work does not pay the hand-over.
pub(crate) fn on_pool_to_split_rows<R: Send>(
    m: usize,
    work_per_row: usize,
    f: impl FnOnce() -> R + Send,
) -> R {
    if m.saturating_mul(work_per_row) < PARALLEL_WORK {
        return f();
    }
    on_pool(m, f)
}

/// Runs `f`, whose rayon parallel iterators should use the crate's threads, on the pool;
/// on a rayon thread (this pool's or another) it runs where it is.
pub(crate) fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return f();
    }
    match pool() {
        Some(pool) => pool.install(f),
        // One thread: a pool of one, so that parallel iterators do not reach rayon's
        // global pool.
        None => match ThreadPoolBuilder::new().num_threads(1).build() {
            Ok(one) => one.install(f),
            Err(_) => f(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The threads `split_columns` ran its parts on, for a product large enough to split.
    fn split_threads() -> Vec<(Range<usize>, String)> {
        let seen = Mutex::new(Vec::new());
        split_columns(1024, PARALLEL_WORK, &|cols: Range<usize>| {
            let name = std::thread::current().name().unwrap_or("").to_string();
            seen.lock().unwrap().push((cols, name));
        });
        seen.into_inner().unwrap()
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "rayon's pools use crossbeam-epoch, which breaks Miri's Stacked Borrows rules; \
                  run with MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\" --include-ignored"
    )]
    fn inside_a_foreign_pool_nothing_is_split_or_handed_over() {
        let foreign = ThreadPoolBuilder::new()
            .num_threads(2)
            .thread_name(|i| format!("theirs-{i}"))
            .build()
            .unwrap();
        let (seen, pass_thread, joined) = foreign.install(|| {
            let seen = on_pool(64, split_threads);
            let pass = on_pool(64, || std::thread::current().name().map(String::from));
            let me = std::thread::current().id();
            let joined = join(
                || std::thread::current().id(),
                || std::thread::current().id(),
            );
            (seen, pass, (me, joined))
        });
        assert_eq!(seen.len(), 1, "one part: {seen:?}");
        assert_eq!(seen[0].0, 0..1024);
        assert!(seen[0].1.starts_with("theirs-"), "ran on {}", seen[0].1);
        assert!(pass_thread.is_some_and(|n| n.starts_with("theirs-")));
        let (me, (a, b)) = joined;
        assert!(a == me && b == me, "join ran on the caller's thread");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "rayon's pools use crossbeam-epoch, which breaks Miri's Stacked Borrows rules; \
                  run with MIRIFLAGS=\"-Zmiri-tree-borrows -Zmiri-ignore-leaks\" --include-ignored"
    )]
    fn on_the_pool_large_products_are_split_between_its_workers() {
        let Some(pool) = pool() else {
            eprintln!("note: one thread here, so nothing is split");
            return;
        };
        let seen = pool.install(split_threads);
        assert!(
            (2..=pool.current_num_threads()).contains(&seen.len()),
            "split: {seen:?}"
        );
        let mut cols: Vec<usize> = seen.iter().flat_map(|(c, _)| c.clone()).collect();
        cols.sort_unstable();
        assert_eq!(
            cols,
            (0..1024).collect::<Vec<_>>(),
            "every column exactly once"
        );
        assert!(seen.iter().all(|(_, name)| name.starts_with("rnn-worker-")));
    }

    #[test]
    fn off_the_pool_products_run_whole_on_the_calling_thread() {
        let seen = std::thread::spawn(split_threads).join().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, 0..1024);
    }
}
