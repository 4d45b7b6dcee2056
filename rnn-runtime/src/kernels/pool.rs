//! Running a whole pass on rayon's thread pool, and splitting a product between its threads.
//!
//! Large products split their columns between threads with `rayon::join`, and Bidirectional
//! runs its two directions side by side. Called from a thread outside the pool, every such
//! join would hand both halves to the pool and put the caller to sleep until they finish,
//! paying a wake-up per time step; inside the pool a join runs one half on the calling thread
//! and lets an idle worker take the other, or runs both itself if none is free.

use std::ops::Range;

/// Below this many multiply-adds (about 0.1 ms of work) a product stays on one thread: handing
/// half of it to another costs more than it saves.
const PARALLEL_WORK: usize = 1 << 21;

/// Columns are split in multiples of this, which keeps every part's micro-kernel tiles full
/// (and the packed kernel's panels whole).
pub(crate) const COLUMN_BLOCK: usize = 16;

/// Calls `run` on column ranges that together cover `0..n` exactly once, halving the range
/// between rayon's threads (`RAYON_NUM_THREADS`, default one per core) while each half still
/// has enough work; `work_per_column` is the number of multiply-adds per output column.
/// Splitting by columns gives each thread its own part of the right-hand matrix to pack,
/// so packing, which costs as much as the arithmetic for the few-row products of a
/// recurrence, is shared as well.
pub(crate) fn split_columns(
    n: usize,
    work_per_column: usize,
    run: &(impl Fn(Range<usize>) + Sync),
) {
    halves(
        0..n,
        COLUMN_BLOCK,
        work_per_column,
        rayon::current_num_threads(),
        run,
    );
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
        halves(0..m, 1, work_per_row, rayon::current_num_threads(), run);
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

/// Runs `f` on a worker of rayon's global pool for a batch of `batch` rows: on the current
/// thread if it already is a worker, if the pool has a single thread, or for a single row,
/// whose products are too small to split and would only pay the hand-over (about 30 us).
pub(crate) fn on_pool<R: Send>(batch: usize, f: impl FnOnce() -> R + Send) -> R {
    if batch < 2 || rayon::current_thread_index().is_some() || rayon::current_num_threads() == 1 {
        f()
    } else {
        rayon::scope(|_| f())
    }
}
