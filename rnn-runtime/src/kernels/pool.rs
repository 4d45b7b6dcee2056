//! Running a whole pass on rayon's thread pool.
//!
//! Large products split their columns between threads with `rayon::join`, and Bidirectional
//! runs its two directions side by side. Called from a thread outside the pool, every such
//! join would hand both halves to the pool and put the caller to sleep until they finish,
//! paying a wake-up per time step; inside the pool a join runs one half on the calling thread
//! and lets an idle worker take the other, or runs both itself if none is free.

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
