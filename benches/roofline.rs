//! The ceiling of batch-1 steps: G1's and I1's per-step matrix-vector products as plain
//! loops of 512-bit multiply-adds over weights laid out as the library's panels
//! (`kernels/panels.rs`: every row of a panel is 128 contiguous lanes), on one core and
//! split between two, with the cheapest hand-over there is: each thread spins on a counter
//! in its own cache line. Nothing else runs (no validation, no allocation, no sampling
//! beyond a table look-up), so these are the figures the library's G1 and I1 can approach,
//! not exceed.
//!
//! - `G1-step`: one character of T3's model. LSTM(256) on a one-hot character (one row of
//!   `W`, all of `U`: 256 x 1024), then LSTM(256) on it (`[W; U]`: 512 x 1024), then the
//!   Dense (256 x 56, padded to 64 lanes): about 3.1 MB of `f32` per character. With two
//!   threads each LSTM's panels are halved, and the threads meet after each LSTM (the next
//!   product needs the whole `h`); the Dense stays on the calling thread.
//! - `I1-seq`: 30 steps of the Quiz model's SimpleRNN(128) after the Embedding folded into
//!   the input projection (a look-up of 128 values per step), `U` 128 x 128 (64 KB); with
//!   two threads each takes 64 of the 128 lanes (32 KB, one core's first-level cache) and
//!   they meet after every step.
//!
//! The gates are a clamp (bounded, cheap, same data flow); real gates cost a few hundred
//! nanoseconds per step more. `cargo bench --bench roofline` (x86-64 with AVX-512 only;
//! elsewhere it prints a note).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A counter alone in its cache line pair, so the two threads' counters never share one.
#[repr(align(128))]
#[derive(Default)]
struct Line(AtomicUsize);

/// The two counters of a two-thread run: the caller posts phase `n` in `go`, the helper
/// reports it done in `done`.
#[derive(Default)]
struct Meet {
    go: Line,
    done: Line,
    stop: AtomicBool,
}

impl Meet {
    /// The helper's wait for the next phase after `seen`; `None` once the caller stops.
    fn next(&self, seen: usize) -> Option<usize> {
        loop {
            let go = self.go.0.load(Ordering::Acquire);
            if go != seen {
                return Some(go);
            }
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            std::hint::spin_loop();
        }
    }
}

fn spin_until(c: &AtomicUsize, v: usize) {
    while c.load(Ordering::Acquire) != v {
        std::hint::spin_loop();
    }
}

/// Seeded values in [-0.05, 0.05).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rnn::seeded_rng(seed);
    (0..n).map(|_| rng.random_range(-0.05..0.05)).collect()
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    /// `acc[..L] += sum_r x[r] * panel[r * L..][..L]` over `k` rows, `L = 16 V`: `V`
    /// accumulators in registers.
    ///
    /// # Safety
    /// AVX-512F; `panel` holds `k * L` values, `x` holds `k`.
    #[inline(always)]
    pub unsafe fn panel<const L: usize>(
        panel: *const f32,
        k: usize,
        x: *const f32,
        acc: &mut [f32; L],
    ) {
        // SAFETY: the caller's contract.
        unsafe {
            match L {
                64 => vectors::<4>(panel, k, x, acc.as_mut_ptr()),
                128 => vectors::<8>(panel, k, x, acc.as_mut_ptr()),
                _ => unreachable!("64 or 128 lanes"),
            }
        }
    }

    /// # Safety
    /// As [`panel`], `acc` holding `16 V` values.
    #[target_feature(enable = "avx512f")]
    unsafe fn vectors<const V: usize>(panel: *const f32, k: usize, x: *const f32, out: *mut f32) {
        const LANES: usize = 16;
        // SAFETY: the caller's contract.
        unsafe {
            let mut a: [__m512; V] = std::array::from_fn(|v| _mm512_loadu_ps(out.add(v * LANES)));
            for r in 0..k {
                let xv = _mm512_set1_ps(*x.add(r));
                let row = panel.add(r * V * LANES);
                for (v, a) in a.iter_mut().enumerate() {
                    *a = _mm512_fmadd_ps(xv, _mm512_loadu_ps(row.add(v * LANES)), *a);
                }
            }
            for (v, a) in a.iter().enumerate() {
                _mm512_storeu_ps(out.add(v * LANES), *a);
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod kernel {
    /// The same sum, never run (the benchmark needs AVX-512): keeps the file compiling.
    ///
    /// # Safety
    /// `panel` holds `k * L` values, `x` holds `k`.
    pub unsafe fn panel<const L: usize>(
        panel: *const f32,
        k: usize,
        x: *const f32,
        acc: &mut [f32; L],
    ) {
        for r in 0..k {
            for (l, a) in acc.iter_mut().enumerate() {
                // SAFETY: the caller's contract.
                unsafe { *a += *x.add(r) * *panel.add(r * L + l) };
            }
        }
    }
}

/// A shareable pointer to buffers the two threads write in disjoint parts.
#[derive(Clone, Copy)]
struct P(*mut f32);
// SAFETY: the threads write disjoint ranges and meet (`Meet`) before reading each other's.
unsafe impl Send for P {}
// SAFETY: as above.
unsafe impl Sync for P {}

const H: usize = 256;
const GH: usize = 4 * H;
const VOCAB: usize = 56;
const PANELS: usize = GH / 128;

/// G1's weights in panels, and its state (double-buffered `h` of both layers).
struct G1 {
    /// LSTM 1's `W` rows in panels: `(PANELS, VOCAB, 128)`.
    w1: Vec<f32>,
    /// LSTM 1's `U`: `(PANELS, H, 128)`.
    u1: Vec<f32>,
    /// LSTM 2's `[W; U]`: `(PANELS, 2H, 128)`.
    wu2: Vec<f32>,
    /// The Dense: `(H, 64)`.
    d: Vec<f32>,
    /// `[h1 (2 slots), c1, x2 = [h1_new, h2] (2 slots)]`, written through `P`.
    state: Vec<f32>,
    logits: [f32; 64],
}

impl G1 {
    fn new() -> Self {
        G1 {
            w1: values(PANELS * VOCAB * 128, 1),
            u1: values(PANELS * H * 128, 2),
            wu2: values(PANELS * 2 * H * 128, 3),
            d: values(H * 64, 4),
            state: vec![0.0; 2 * H + 2 * 2 * H],
            logits: [0.0; 64],
        }
    }

    /// LSTM 1's panels `ps` for character `id` at step parity `t`: reads `h1[t]`, writes
    /// `h1[1 - t]` and the first half of `x2[1 - t]`.
    ///
    /// # Safety
    /// AVX-512F; no other thread touches these panels' units meanwhile.
    unsafe fn lstm1(&self, st: P, ps: std::ops::Range<usize>, id: usize, t: usize) {
        for p in ps {
            let mut acc = [0.0f32; 128];
            acc.copy_from_slice(&self.w1[(p * VOCAB + id) * 128..][..128]);
            // SAFETY: the caller's contract; `h1[t]` is at `t * H`.
            unsafe {
                kernel::panel(
                    self.u1.as_ptr().add(p * H * 128),
                    H,
                    st.0.add(t * H),
                    &mut acc,
                );
                gates(&acc, st.0.add((1 - t) * H + p * 32));
                gates(&acc, st.0.add(2 * H + (1 - t) * 2 * H + p * 32));
            }
        }
    }

    /// LSTM 2's panels `ps` at parity `t`: reads `x2[1 - t] = [h1_new, h2_prev]`, writes
    /// `h2` into the second half of `x2[t]` (the next step's input slot).
    ///
    /// # Safety
    /// As [`G1::lstm1`].
    unsafe fn lstm2(&self, st: P, ps: std::ops::Range<usize>, t: usize) {
        let x2 = 2 * H + (1 - t) * 2 * H;
        for p in ps {
            let mut acc = [0.0f32; 128];
            // SAFETY: the caller's contract.
            unsafe {
                kernel::panel(
                    self.wu2.as_ptr().add(p * 2 * H * 128),
                    2 * H,
                    st.0.add(x2),
                    &mut acc,
                );
                gates(&acc, st.0.add(2 * H + t * 2 * H + H + p * 32));
            }
        }
    }

    /// The Dense on `h2` and a greedy pick: the next character.
    ///
    /// # Safety
    /// AVX-512F.
    unsafe fn dense(&mut self, st: P, t: usize) -> usize {
        self.logits = [0.0; 64];
        // SAFETY: `h2` of this step is in `x2[t]`'s second half.
        unsafe {
            kernel::panel(
                self.d.as_ptr(),
                H,
                st.0.add(2 * H + t * 2 * H + H),
                &mut self.logits,
            )
        };
        let mut best = 0;
        for (i, &v) in self.logits[..VOCAB].iter().enumerate() {
            if v > self.logits[best] {
                best = i;
            }
        }
        best
    }
}

/// 32 units' `h` from a panel's four gates (lanes `g * 32 + u`): bounded, cheap.
///
/// # Safety
/// `out` holds 32 values.
unsafe fn gates(z: &[f32; 128], out: *mut f32) {
    for u in 0..32 {
        let v = (z[u] + z[96 + u]).clamp(-1.0, 1.0);
        // SAFETY: the caller's contract.
        unsafe { *out.add(u) = v };
    }
}

/// I1's weights: the folded Embedding (a 5000 x 128 table of input projections) and `U`
/// split in two 64-lane panels `(2, 128, 64)`.
struct I1 {
    table: Vec<f32>,
    u: Vec<f32>,
    /// `h` in two slots.
    h: Vec<f32>,
    /// The 30 token ids of a call.
    ids: Vec<usize>,
}

impl I1 {
    fn new() -> Self {
        I1 {
            table: values(5000 * 128, 5),
            u: values(2 * 128 * 64, 6),
            h: vec![0.0; 2 * 128],
            ids: (0..30).map(|i| (i * 977 + 13) % 5000).collect(),
        }
    }

    /// Half `half` (64 units) of step `t`.
    ///
    /// # Safety
    /// AVX-512F; no other thread writes this half meanwhile.
    unsafe fn step(&self, h: P, half: usize, t: usize) {
        let (prev, next) = (t % 2, 1 - t % 2);
        let mut acc = [0.0f32; 64];
        acc.copy_from_slice(&self.table[self.ids[t] * 128 + half * 64..][..64]);
        // SAFETY: the caller's contract.
        unsafe {
            kernel::panel(
                self.u.as_ptr().add(half * 128 * 64),
                128,
                h.0.add(prev * 128),
                &mut acc,
            );
            for (u, a) in acc.iter().enumerate() {
                *h.0.add(next * 128 + half * 64 + u) = a.clamp(-1.0, 1.0);
            }
        }
    }
}

fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f");
    #[allow(unreachable_code)]
    false
}

fn roofline(c: &mut Criterion) {
    if !avx512() {
        eprintln!("note: the roofline needs AVX-512; nothing measured");
        return;
    }
    let mut group = c.benchmark_group("roofline");

    // G1, one thread.
    let mut g1 = G1::new();
    let st = P(g1.state.as_mut_ptr());
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("G1-step", "1 thread"), |b| {
        let mut t = 0;
        let mut id = 0;
        b.iter(|| {
            // SAFETY: AVX-512F (checked above); one thread.
            unsafe {
                g1.lstm1(st, 0..PANELS, id, t);
                g1.lstm2(st, 0..PANELS, t);
                id = g1.dense(st, t);
            }
            t = 1 - t;
        })
    });

    // G1, two threads: the helper takes the back half of each LSTM's panels.
    let meet = Meet::default();
    std::thread::scope(|s| {
        let g = &g1;
        let m = &meet;
        let h = s.spawn(move || {
            let mut seen = 0;
            while let Some(go) = m.next(seen) {
                seen = go;
                // The phase carries the layer, the parity and the character.
                let (layer, t, id) = ((go >> 1) & 1, go & 1, go >> 8 & 0xff);
                // SAFETY: AVX-512F; the caller works on the front half meanwhile.
                unsafe {
                    if layer == 0 {
                        g.lstm1(st, PANELS / 2..PANELS, id, t);
                    } else {
                        g.lstm2(st, PANELS / 2..PANELS, t);
                    }
                }
                m.done.0.store(go, Ordering::Release);
            }
        });
        // The Dense needs `&mut`: keep its own copy (same weights).
        let mut dense = G1 {
            w1: Vec::new(),
            u1: Vec::new(),
            wu2: Vec::new(),
            d: g.d.clone(),
            state: Vec::new(),
            logits: [0.0; 64],
        };
        group.bench_function(BenchmarkId::new("G1-step", "2 threads"), |b| {
            let mut t = 0;
            let mut id = 0;
            let mut n = 0usize;
            b.iter(|| {
                for layer in 0..2 {
                    // A fresh phase number carrying the layer, the parity and the character.
                    n += 1;
                    let phase = (n << 16) | (id << 8) | (layer << 1) | t;
                    m.go.0.store(phase, Ordering::Release);
                    // SAFETY: AVX-512F; the helper works on the back half meanwhile.
                    unsafe {
                        if layer == 0 {
                            g.lstm1(st, 0..PANELS / 2, id, t);
                        } else {
                            g.lstm2(st, 0..PANELS / 2, t);
                        }
                    }
                    spin_until(&m.done.0, phase);
                }
                // SAFETY: AVX-512F; the helper is waiting.
                id = unsafe { dense.dense(st, t) };
                t = 1 - t;
            })
        });
        m.stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
    });

    // I1, one thread: 30 steps, both halves.
    let mut i1 = I1::new();
    let hp = P(i1.h.as_mut_ptr());
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("I1-seq", "1 thread"), |b| {
        b.iter(|| {
            for t in 0..30 {
                // SAFETY: AVX-512F; one thread.
                unsafe {
                    i1.step(hp, 0, t);
                    i1.step(hp, 1, t);
                }
            }
        })
    });

    let meet = Meet::default();
    std::thread::scope(|s| {
        let i = &i1;
        let m = &meet;
        let h = s.spawn(move || {
            let mut seen = 0;
            while let Some(go) = m.next(seen) {
                seen = go;
                // SAFETY: AVX-512F; the caller works on the front half meanwhile.
                unsafe { i.step(hp, 1, go & 0xff) };
                m.done.0.store(go, Ordering::Release);
            }
        });
        group.bench_function(BenchmarkId::new("I1-seq", "2 threads"), |b| {
            let mut n = 0usize;
            b.iter(|| {
                for t in 0..30 {
                    n += 1;
                    let phase = (n << 8) | t;
                    m.go.0.store(phase, Ordering::Release);
                    // SAFETY: AVX-512F; the helper works on the back half meanwhile.
                    unsafe { i.step(hp, 0, t) };
                    spin_until(&m.done.0, phase);
                }
            })
        });
        m.stop.store(true, Ordering::Relaxed);
        h.join().unwrap();
    });
    group.finish();
}

criterion_group!(benches, roofline);
criterion_main!(benches);
