//! A global allocator that counts allocations, for the tests that prove a step allocates
//! nothing. Not part of `common/mod.rs`: only the test binaries that install it include it,
//! each declaring its own `#[global_allocator]` static of [`Counting`].

// Each binary counts one way: the other function is unused there.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Forwards to the system allocator, counting allocations and reallocations: those of the
/// calling thread while [`allocations`] runs, of every thread while
/// [`allocations_on_every_thread`] runs.
pub struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

static COUNTING_ALL: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS_ALL: AtomicUsize = AtomicUsize::new(0);

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
    if COUNTING_ALL.load(Ordering::Relaxed) {
        ALLOCATIONS_ALL.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator; the thread-locals are const-initialised `Cell`s
// without destructors and the counters atomics, so counting never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made by `f` on this thread (other tests may run beside it on theirs).
pub fn allocations(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// Allocations made by any thread while `f` runs: the test binary must run nothing else
/// meanwhile.
pub fn allocations_on_every_thread(f: impl FnOnce()) -> usize {
    ALLOCATIONS_ALL.store(0, Ordering::SeqCst);
    COUNTING_ALL.store(true, Ordering::SeqCst);
    f();
    COUNTING_ALL.store(false, Ordering::SeqCst);
    ALLOCATIONS_ALL.load(Ordering::SeqCst)
}
