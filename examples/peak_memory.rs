//! Runs one performance workload a few times and prints its peak memory: first the process's
//! peak resident memory (`peak N kB`, Linux's VmHWM, which `benches/pytorch_workloads.py`
//! reads), then the high-water mark of live heap bytes during the workload (counted by the
//! global allocator below) beside the floor computed from the model's weights, and their ratio.
//!
//! `cargo run --release --example peak_memory -- T3` trains T3's model for 5 steps on one
//! generated batch; `I2` runs 5 inference calls of I2; `none` only starts, the baseline.
//!
//! The floors count what no implementation of the same algorithm can do without:
//! - T3 (training with Adam): the weights, their gradients and Adam's two slots (4 values
//!   per weight); for every LSTM, per step and row, the four gate activations `i, f, g, o`,
//!   the cell state `c` and the output `h` (6 x units values; `tanh(c)` is not counted, as
//!   it can be recomputed from `c`); the softmax output; the input batch and the targets.
//! - I2 (inference): the weights; the Embedding folded into the LSTM's input projection (a
//!   `(vocab, 4 x units)` table); the token ids; one step's gates and two slots each of `h`
//!   and `c`; the output.

#[path = "../benches/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Chars, Topics, classes, ids, one_hot_chars};
use rnn::prelude::*;

/// The system allocator, counting live bytes and their high-water mark (a few lines, so no
/// profiling crate: the figure is this binary's own, with nothing else linked in).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static HIGH: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let live = LIVE.fetch_add(by, Ordering::Relaxed).saturating_add(by);
        HIGH.fetch_max(live, Ordering::Relaxed);
    }

    fn shrank(by: usize) {
        LIVE.fetch_sub(by, Ordering::Relaxed);
    }

    /// Starts a new high-water mark from what is live now; returns that.
    fn restart() -> usize {
        let live = LIVE.load(Ordering::Relaxed);
        HIGH.store(live, Ordering::Relaxed);
        live
    }

    fn high() -> usize {
        HIGH.load(Ordering::Relaxed)
    }
}

// SAFETY: every call is passed on to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are those `System.alloc` needs.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `System` with `layout`; the caller checked `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // The net change, as heap profilers count it (large blocks are remapped in place).
            match new_size.checked_sub(layout.size()) {
                Some(more) => Self::grew(more),
                None => Self::shrank(layout.size() - new_size),
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes of one f32 (or u32) value.
const VALUE: usize = 4;

/// What a workload measured and the floor it is compared with.
struct Report {
    /// Live heap bytes when the workload started (the model and its data).
    start: usize,
    /// The floor, in bytes, and what it is made of.
    floor: Vec<(&'static str, usize)>,
}

fn main() -> ExitCode {
    let which = std::env::args().nth(1).unwrap_or_default();
    let outcome = match which.as_str() {
        "T3" => t3().map(Some),
        "I2" => i2().map(Some),
        "none" => Ok(None),
        _ => {
            eprintln!("usage: peak_memory T3|I2|none");
            return ExitCode::FAILURE;
        }
    };
    let high = Counting::high();
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // Linux reports the peak in /proc; elsewhere the caller measures it.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!(
            "{which}: peak {} (max RSS)",
            line.trim_start_matches("VmHWM:").trim()
        );
    }
    if let Some(Report { start, floor }) = report {
        let total: usize = floor.iter().map(|(_, b)| b).sum();
        println!(
            "{which}: live heap high-water {} (model and data {} when it started)",
            mib(high),
            mib(start)
        );
        println!(
            "{which}: floor {}, ratio {:.2}",
            mib(total),
            high as f64 / total as f64
        );
        for (what, bytes) in floor {
            println!("  {:>10}  {what}", mib(bytes));
        }
    }
    ExitCode::SUCCESS
}

fn mib(bytes: usize) -> String {
    format!("{:.2} MiB", bytes as f64 / f64::from(1 << 20))
}

/// `(units, output width)` of each LSTM, and the last layer's output width, from the weights'
/// names and shapes: an LSTM's recurrent kernel is `(units, 4 x units)`.
fn lstm_units(weights: &[Weight]) -> (Vec<usize>, usize) {
    let units = weights
        .iter()
        .filter(|w| w.name.ends_with("lstm_cell/recurrent_kernel"))
        .filter_map(|w| w.shape.first().copied())
        .collect();
    let out = weights
        .iter()
        .rev()
        .find(|w| w.name.ends_with("kernel"))
        .and_then(|w| w.shape.last().copied())
        .unwrap_or(0);
    (units, out)
}

fn t3() -> rnn::Result<Report> {
    let (batch, time) = (32, 60);
    let mut chars = Chars::new(0);
    chars.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::default(),
        &[],
    );
    let (units, out) = lstm_units(&chars.get_weights());
    let rows = batch * time;
    let params = chars.count_params() * VALUE;
    let floor = vec![
        ("weights", params),
        ("their gradients", params),
        ("Adam's two slots", 2 * params),
        (
            "LSTM gates i, f, g, o, c and h of every step and row",
            units.iter().map(|h| rows * 6 * h * VALUE).sum(),
        ),
        ("the softmax output", rows * out * VALUE),
        ("the input batch", rows * 56 * VALUE),
        ("the targets", rows * VALUE),
    ];
    let (x, y) = (
        one_hot_chars(batch, time, 5),
        classes(&[batch, time], 56, 6),
    );
    let start = Counting::restart();
    for _ in 0..5 {
        chars.train_on_batch(&x, &y)?;
    }
    Ok(Report { start, floor })
}

fn i2() -> rnn::Result<Report> {
    let (batch, time, vocab) = (256, 100, 1000);
    let mut topics = Topics::new(0);
    let (units, out) = lstm_units(&topics.get_weights());
    let floor = vec![
        ("weights", topics.count_params() * VALUE),
        (
            "the Embedding folded into the input projection",
            units.iter().map(|h| vocab * 4 * h * VALUE).sum(),
        ),
        ("the token ids", batch * time * VALUE),
        (
            "one step's gates, two slots of h and c",
            units.iter().map(|h| batch * 8 * h * VALUE).sum(),
        ),
        ("the output", batch * out * VALUE),
    ];
    let x = ids(batch, time, vocab as u32, 10);
    let start = Counting::restart();
    for _ in 0..5 {
        topics.forward(&x, Mode::Inference)?;
    }
    Ok(Report { start, floor })
}
