//! Two threads for the small products of batch-1 steps: the calling thread and one helper
//! that, once woken, spins for a while waiting for the next job before it sleeps again.
//!
//! A batch-1 step of a large model is about 25 us of work, split in a few parts (panels,
//! `panels.rs`); handing half of it to the pool (`pool.rs`) costs a wake-up of tens of
//! microseconds per product, more than it saves. The helper here is awake for the whole run
//! of steps of a generation (it spins up to [`SPIN`] between jobs, then parks), and picks
//! parts from the back of the job while the caller takes them from the front: each thread
//! usually does the same half at every step (so its weights stay in its caches), and a
//! helper that is late (descheduled on a busy machine) only leaves the caller more to do,
//! never a wait.
//!
//! The policy is the pool's: nothing is handed over with one thread
//! ([`set_num_threads`](crate::set_num_threads)`(1)` or `RNN_NUM_THREADS=1`), from a rayon
//! thread (the caller's own pool already spreads work over the cores, or the crate's pool is
//! busy with a batched pass), or while another thread is using the helper. Only two threads
//! are ever used: a product that needs more is not a batch-1 product.
//!
//! Nor is anything handed over while the machine has no free core for the helper (threads
//! of other processes ready to run on it, read from the kernel every 50 ms; see
//! `free_core`): there the helper costs the caller more than it saves.

#![allow(
    clippy::arithmetic_side_effects,
    reason = "Counters below the number of parts of a job, which fits in 32 bits"
)]

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, TryLockError};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::pool::num_threads;

/// How long the helper spins for a job before it parks: longer than the gaps between the
/// products of consecutive steps (sampling, the small output layer), far shorter than what
/// a waiting core would notice.
const SPIN: Duration = Duration::from_micros(200);

/// Below this many multiply-adds (256 KiB of `f32` weights, a few microseconds) a product
/// stays on one thread: a hand-over to the spinning helper costs a few hundred nanoseconds,
/// and a helper descheduled mid-part much more.
pub(crate) const MIN_WORK: usize = 1 << 16;

/// No job posted.
const EMPTY: u8 = 0;
/// A job is waiting for the helper.
const POSTED: u8 = 1;
/// The helper is working on the job.
const TAKEN: u8 = 2;
/// The helper has finished with the job.
const DONE: u8 = 3;

/// The job: a borrowed closure, valid while its caller waits (see [`both`]).
type Job = *const (dyn Fn(usize) + Sync);

struct Helper {
    /// `EMPTY`, `POSTED`, `TAKEN` or `DONE`.
    state: AtomicU8,
    /// The parts not yet claimed: front index in the high half, end in the low half.
    parts: AtomicU64,
    /// The current job; written by the caller before `POSTED`, read by the helper after
    /// `TAKEN`.
    job: UnsafeCell<Option<Job>>,
    /// Whether a part run by the helper panicked.
    panicked: AtomicBool,
    /// Whether the helper is parked (or about to be).
    sleeping: AtomicBool,
    thread: Thread,
}

// SAFETY: `job` is written only by the thread holding `USER` while no job is posted, and read
// only by the helper between `POSTED -> TAKEN` and `DONE`, which the caller waits for.
unsafe impl Sync for Helper {}
// SAFETY: as above; the closure it points to is `Sync`.
unsafe impl Send for Helper {}

/// The helper, started on first use (`None` if the system refused a thread).
static HELPER: OnceLock<Option<&'static Helper>> = OnceLock::new();

/// Held by the thread whose job the helper serves.
static USER: Mutex<()> = Mutex::new(());

fn helper() -> Option<&'static Helper> {
    *HELPER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<&'static Helper>();
        let spawned = std::thread::Builder::new()
            .name("rnn-step-helper".into())
            .spawn(move || {
                let me: &'static Helper = Box::leak(Box::new(Helper {
                    state: AtomicU8::new(EMPTY),
                    parts: AtomicU64::new(0),
                    job: UnsafeCell::new(None),
                    panicked: AtomicBool::new(false),
                    sleeping: AtomicBool::new(false),
                    thread: std::thread::current(),
                }));
                if tx.send(me).is_ok() {
                    serve(me);
                }
            });
        spawned.ok().and_then(|_| rx.recv().ok())
    })
}

/// The helper's loop: waits for a job (spinning, then parked), runs parts from the back.
fn serve(me: &'static Helper) {
    loop {
        let start = Instant::now();
        let mut spins = 0u32;
        while me.state.load(Ordering::Acquire) != POSTED {
            std::hint::spin_loop();
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(256) && start.elapsed() > SPIN {
                me.sleeping.store(true, Ordering::SeqCst);
                if me.state.load(Ordering::SeqCst) != POSTED {
                    std::thread::park();
                }
                me.sleeping.store(false, Ordering::SeqCst);
                break;
            }
        }
        if me
            .state
            .compare_exchange(POSTED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Not posted (woken for nothing), or taken back by a caller that did it all.
            continue;
        }
        // SAFETY: the state is `TAKEN`: the caller wrote the job before posting it and waits
        // for `DONE` before its closure goes away.
        let job = unsafe { *me.job.get() };
        if let Some(job) = job {
            // SAFETY: as above: the closure outlives this use.
            let f = unsafe { &*job };
            while let Some(part) = claim(&me.parts, true) {
                if catch_unwind(AssertUnwindSafe(|| f(part))).is_err() {
                    me.panicked.store(true, Ordering::Relaxed);
                }
            }
        }
        me.state.store(DONE, Ordering::Release);
    }
}

/// Claims a part: the first unclaimed one (`back == false`) or the last.
fn claim(parts: &AtomicU64, back: bool) -> Option<usize> {
    let mut cur = parts.load(Ordering::Acquire);
    loop {
        let (front, end) = (cur >> 32, cur & 0xffff_ffff);
        if front >= end {
            return None;
        }
        let (next, part) = if back {
            (cur - 1, end - 1)
        } else {
            (cur + (1 << 32), front)
        };
        match parts.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return Some(part as usize),
            Err(seen) => cur = seen,
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn nanos_since_epoch() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Whether a product of `work` multiply-adds may be split between two threads from this
/// thread: large enough, more than one thread allowed, not on a rayon thread.
fn allowed(work: usize) -> bool {
    work >= MIN_WORK && num_threads() >= 2 && rayon::current_thread_index().is_none()
}

/// Whether the helper may take a part now: a core is free for it.
///
/// (Keeping products on one thread for a while after any long wait for the helper, as an
/// earlier version did, lost most of the gain: a single wait of more than 10 us, which a
/// timer interrupt on the helper's core can cause, stopped the split for 200 ms, and the
/// helper, parked meanwhile, was slow again on its first part after waking. In a one-second
/// G1 run 21 of 32,600 products were split.)
fn now_free(helper_awake: bool) -> bool {
    #[cfg(test)]
    if IGNORE_LOAD.load(Ordering::Relaxed) {
        return true;
    }
    free_core(nanos_since_epoch(), helper_awake)
}

/// Lets the tests hand parts to the helper on a busy machine too.
#[cfg(test)]
static IGNORE_LOAD: AtomicBool = AtomicBool::new(false);

/// How long a reading of the machine's load stands.
const LOAD_EVERY: Duration = Duration::from_millis(50);

/// Nanoseconds after [`epoch`] when the load is read again, and the last reading's verdict.
static LOAD_NEXT: AtomicU64 = AtomicU64::new(0);
static FREE_CORE: AtomicBool = AtomicBool::new(true);

/// Whether the machine has a core for the helper: no thread of another process ready to
/// run on any core but this one's, read every [`LOAD_EVERY`]. The count includes this thread
/// and the helper when it is awake (spinning), which is not counted against it, so that the
/// verdict does not flip with the helper's own state.
///
/// On a machine whose cores are all busy with other work, the scheduler shares them out
/// between processes: a helper spinning between jobs takes its time from the caller's own
/// share, and one descheduled in the middle of a part keeps the caller waiting for a whole
/// time slice. Measured on two busy cores, G1 ran at 0.55x its one-thread speed with the
/// helper; so then everything stays on the calling thread.
fn free_core(now: u64, helper_awake: bool) -> bool {
    if now < LOAD_NEXT.load(Ordering::Relaxed) {
        return FREE_CORE.load(Ordering::Relaxed);
    }
    let every = u64::try_from(LOAD_EVERY.as_nanos()).unwrap_or(u64::MAX);
    LOAD_NEXT.store(now.saturating_add(every), Ordering::Relaxed);
    let own = 1 + usize::from(helper_awake);
    let free = runnable().is_none_or(|r| r.saturating_sub(own) + 2 <= cores());
    FREE_CORE.store(free, Ordering::Relaxed);
    free
}

/// The machine's cores, read once.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Threads ready to run on the whole machine (the fourth field of `/proc/loadavg`,
/// `running/total`); `None` where that is not known, where the helper is used regardless.
/// Reads into a buffer on the stack: no allocation.
#[cfg(target_os = "linux")]
fn runnable() -> Option<usize> {
    use std::io::Read;
    let mut buf = [0u8; 128];
    let n = std::fs::File::open("/proc/loadavg")
        .and_then(|mut f| f.read(&mut buf))
        .ok()?;
    let text = std::str::from_utf8(buf.get(..n)?).ok()?;
    text.split_whitespace()
        .nth(3)?
        .split('/')
        .next()?
        .parse()
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn runnable() -> Option<usize> {
    None
}

/// Runs `f(part)` for every part in `0..parts` exactly once: the calling thread takes them
/// from the front and the helper from the back, when the product may be split (see
/// `allowed` and `now_free`) and the helper is
/// free; else all on the calling thread. Returns when every part has run.
///
/// # Panics
/// When a part panics (after every part has run or been abandoned).
pub(crate) fn both(parts: usize, work: usize, f: &(dyn Fn(usize) + Sync)) {
    let serial = || (0..parts).for_each(f);
    if parts < 2 || parts > u32::MAX as usize || !allowed(work) {
        return serial();
    }
    // Started by the first product that may be split, busy machine or not, so that what
    // lives for the whole run is made by the first steps.
    let Some(me) = helper() else {
        return serial();
    };
    if !now_free(!me.sleeping.load(Ordering::Relaxed)) {
        return serial();
    }
    let _user = match USER.try_lock() {
        Ok(guard) => guard,
        // A part panicked while it was held: the helper recovered (see `serve`).
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => return serial(),
    };
    // SAFETY: this thread holds `USER` and no job is posted (the last caller waited for
    // `DONE` or took its job back, then emptied the state), so the helper does not read it.
    // The lifetime is erased: `Posted`'s drop waits until the helper is done with it.
    unsafe {
        let job: &(dyn Fn(usize) + Sync) = f;
        *me.job.get() = Some(std::mem::transmute::<&(dyn Fn(usize) + Sync), Job>(job));
    }
    me.panicked.store(false, Ordering::Relaxed);
    me.parts.store(parts as u64, Ordering::Release);
    me.state.store(POSTED, Ordering::SeqCst);
    if me.sleeping.load(Ordering::SeqCst) {
        me.thread.unpark();
    }
    let posted = Posted(me);
    while let Some(part) = claim(&me.parts, false) {
        f(part);
    }
    drop(posted);
    if me.panicked.load(Ordering::Relaxed) {
        resume_unwind(Box::new("a part of a batch-1 product panicked"));
    }
}

/// A posted job; dropping it (also when the caller's part panics) takes the job back if the
/// helper has not started it, else waits for the helper to finish.
struct Posted(&'static Helper);

impl Drop for Posted {
    fn drop(&mut self) {
        let me = self.0;
        if me
            .state
            .compare_exchange(POSTED, EMPTY, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            let mut spins = 0u32;
            while me.state.load(Ordering::Acquire) != DONE {
                std::hint::spin_loop();
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(1024) {
                    // The helper may have been descheduled mid-part.
                    std::thread::yield_now();
                }
            }
            me.state.store(EMPTY, Ordering::Release);
        }
        // SAFETY: no job is posted or taken any more: the helper does not read it.
        unsafe { *me.job.get() = None };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn run_counting(parts: usize, work: usize) -> (Vec<usize>, usize) {
        let counts: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
        let helper_parts = AtomicUsize::new(0);
        let me = std::thread::current().id();
        both(parts, work, &|p| {
            counts[p].fetch_add(1, Ordering::Relaxed);
            if std::thread::current().id() != me {
                helper_parts.fetch_add(1, Ordering::Relaxed);
            }
            // Some work, so that the helper has a chance to take a part.
            let mut x = 0u64;
            for i in 0..20_000u64 {
                x = std::hint::black_box(x.wrapping_add(i));
            }
        });
        (
            counts.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
            helper_parts.load(Ordering::Relaxed),
        )
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_machine_load_is_read() {
        // This thread is running: at least one thread is ready to run.
        assert!(runnable().is_some_and(|r| r >= 1), "{:?}", runnable());
        assert!(cores() >= 1);
    }

    #[test]
    fn every_part_runs_exactly_once() {
        IGNORE_LOAD.store(true, Ordering::Relaxed);
        for parts in [0, 1, 2, 7, 33] {
            for _ in 0..20 {
                let (counts, _) = run_counting(parts, MIN_WORK);
                assert!(counts.iter().all(|&c| c == 1), "{parts}: {counts:?}");
            }
        }
    }

    #[test]
    fn small_products_and_rayon_threads_stay_on_the_caller() {
        let (counts, helped) = run_counting(8, MIN_WORK - 1);
        assert!(counts.iter().all(|&c| c == 1));
        assert_eq!(helped, 0);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let (counts, helped) = pool.install(|| run_counting(8, MIN_WORK));
        assert!(counts.iter().all(|&c| c == 1));
        assert_eq!(helped, 0);
    }

    #[test]
    fn a_panicking_part_reaches_the_caller_and_the_helper_recovers() {
        let hit = catch_unwind(|| {
            both(16, MIN_WORK, &|p| {
                if p == 15 || p == 0 {
                    panic!("part {p}");
                }
            })
        });
        assert!(hit.is_err());
        let (counts, _) = run_counting(16, MIN_WORK);
        assert!(counts.iter().all(|&c| c == 1), "{counts:?}");
    }
}
