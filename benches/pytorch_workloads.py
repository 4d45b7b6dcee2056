#!/usr/bin/env python3
"""The workloads of DESIGN.md (repository root; T1-T4, I1, I2, G1): this crate, PyTorch (CPU) and
Keras side by side, at 1 and 2 threads, with the machine's SGEMM peak and peak memory.

One command produces the whole table (run it on an idle machine; it takes about half an hour):

    python3 benches/pytorch_workloads.py

Other forms:

    python3 benches/pytorch_workloads.py --threads 2       # one thread count only
    python3 benches/pytorch_workloads.py --no-cargo        # reuse the last criterion results
    python3 benches/pytorch_workloads.py --no-keras --seconds 1

What runs, for each thread count N (every part pinned to the first N cores):
- this crate: `cargo bench --bench workloads` with `RNN_NUM_THREADS=N`, its results kept per thread
  count under `target/criterion-threads-N` (criterion's mean time per iteration); a workload's
  reduced-precision twins (any bench id `<id>-<precision>`, such as `I2-bf16`) run with it and
  are printed under its row, with their ratios to PyTorch's f32 and to this crate's f32;
- PyTorch: eager mode as a competent user writes it (`torch.set_num_threads(N)`, denormals flushed,
  `inference_mode` for inference), timed with `torch.utils.benchmark` and cross-checked by a
  second, independent plain loop on a freshly built model; the two must agree within 25 %, else
  the row is flagged;
- Keras (`KERAS_BACKEND`, default jax): jit-compiled `train_on_batch` / `predict_on_batch`;
- the SGEMM peak: `torch.mm` of two 2048 x 2048 matrices, in GFLOP/s.

Every framework runs in a subprocess of its own, so thread settings and imports do not leak
between them. Training steps cycle through 8 distinct seeded batches: training on one repeated
batch drives PyTorch's activations into denormal numbers on some CPUs and slows it tenfold,
which would flatter this crate.

Peak memory (max RSS: Linux's VmHWM, read by each process itself) is measured for T3 training
and I2 in processes of their own that run only that workload: ours is `cargo run --release
--example peak_memory`; PyTorch's is a subprocess of this script, shown beside the RSS of a
process that only imports torch.

Each training step is forward, loss, backward through time and the optimizer update on one
batch. The models are the PyTorch equivalents of the Keras ones (same sizes; PyTorch's LSTM has
two bias vectors, which changes nothing in the cost). G1 primes T3's model on 60 one-hot
characters and then generates 200, one step at a time with the state carried, sampling from the
softmax; characters per second count the 200 generated ones over the whole time.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (id, criterion group, criterion function id, samples per iteration)
WORKLOADS = [
    ("T1", "train", "T1/imdb SimpleRNN(32) b128 len500 rmsprop", 128),
    ("T2", "train", "T2/reuters LSTM(100) b100 len100 adam", 100),
    ("T3", "train", "T3/chars LSTM(256)x2 b32 len60 adam", 32),
    ("T4", "train", "T4/imdb BiLSTM(64)+BiLSTM(32) b128 len100 adam", 128),
    ("I1", "infer", "I1/quiz SimpleRNN(128) b1 len30", 1),
    ("I2", "infer", "I2/reuters LSTM(100) b256 len100", 256),
    ("G1", "generate", "G1/chars LSTM(256)x2 prime60 gen200", 200),
]
BATCHES = 8
GEMM_N = 2048


def criterion_dir(name):
    """Criterion's directory name for a benchmark id (it replaces these characters by '_')."""
    return "".join("_" if c in '?"/\\*<>:|^' else c for c in name)


def criterion_home(threads):
    return ROOT / "target" / f"criterion-threads-{threads}"


def rust_seconds(threads, group, bench_id):
    """Mean seconds per iteration from criterion's last run at `threads`, or None."""
    function, parameter = bench_id.split("/", 1)
    path = (
        criterion_home(threads)
        / group
        / criterion_dir(function)
        / criterion_dir(parameter)
        / "new"
        / "estimates.json"
    )
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)["mean"]["point_estimate"] * 1e-9


def variants(threads, group, bench_id):
    """The reduced-precision twins of a workload in criterion's last run at `threads`: every
    function id `<id>-<precision>` (`I2-bf16`, `I1-int8`, ...) beside `<id>` in the same group,
    as (bench id, mean seconds per iteration), sorted by id."""
    function, parameter = bench_id.split("/", 1)
    home = criterion_home(threads) / group
    prefix = criterion_dir(function) + "-"
    found = []
    if not home.is_dir():
        return found
    for entry in sorted(home.iterdir()):
        if not (entry.is_dir() and entry.name.startswith(prefix)):
            continue
        # Criterion keeps the function id's own spelling in its benchmark.json.
        name = entry.name
        meta = entry / criterion_dir(parameter) / "new" / "benchmark.json"
        if meta.exists():
            with open(meta) as f:
                name = json.load(f).get("function_id", name)
        seconds = rust_seconds(threads, group, f"{name}/{parameter}")
        if seconds is not None:
            found.append((f"{name}/{parameter}", seconds))
    return found


def pin(threads):
    """Restricts this process (and its children) to the first `threads` cores."""
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, cores[:threads])


# ---------------------------------------------------------------------------------------------
# PyTorch


def torch_models(torch):
    """Factories: each call builds a fresh model, optimizer and seeded data, and returns the
    step function (one training step or one inference call)."""
    nn = torch.nn

    class Last(nn.Module):
        """A recurrent layer returning its last output (Keras' return_sequences=False)."""

        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            out, _ = self.rnn(x)
            return out[:, -1]

    class Seq(nn.Module):
        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            out, _ = self.rnn(x)
            return out

    class Chars(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(56, 256, num_layers=2, batch_first=True)
            self.out = nn.Linear(256, 56)

        def forward(self, x, state=None):
            h, state = self.lstm(x, state)
            return self.out(h), state

    class CharsTrain(nn.Module):
        def __init__(self):
            super().__init__()
            self.chars = Chars()

        def forward(self, x):
            return self.chars(x)[0].reshape(-1, 56)

    def g():
        return torch.Generator().manual_seed(0)

    def ids(gen, batch, t, vocab):
        return torch.randint(1, vocab, (batch, t), generator=gen)

    def trainer(model, opt, loss_fn, batches):
        i = [0]

        def step():
            x, y = batches[i[0] % len(batches)]
            i[0] += 1
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        return step

    def inferer(model, inputs):
        model.eval()
        i = [0]

        def step():
            x = inputs[i[0] % len(inputs)]
            i[0] += 1
            with torch.inference_mode():
                model(x)

        return step

    def t1():
        gen = g()
        m = nn.Sequential(
            nn.Embedding(10000, 32),
            Last(nn.RNN(32, 32, batch_first=True)),
            nn.Linear(32, 1),
            nn.Sigmoid(),
            nn.Flatten(0),
        )
        data = [
            (ids(gen, 128, 500, 10000), torch.randint(0, 2, (128,), generator=gen).float())
            for _ in range(BATCHES)
        ]
        return trainer(m, torch.optim.RMSprop(m.parameters(), lr=1e-3), nn.BCELoss(), data)

    def topics():
        return nn.Sequential(
            nn.Embedding(1000, 100), Last(nn.LSTM(100, 100, batch_first=True)), nn.Linear(100, 46)
        )

    def t2():
        gen = g()
        m = topics()
        data = [
            (ids(gen, 100, 100, 1000), torch.randint(0, 46, (100,), generator=gen))
            for _ in range(BATCHES)
        ]
        # Softmax is folded into CrossEntropyLoss for training, as PyTorch users write it.
        return trainer(m, torch.optim.Adam(m.parameters(), lr=1e-3), nn.CrossEntropyLoss(), data)

    def one_hot(gen, batch, t):
        return nn.functional.one_hot(torch.randint(0, 56, (batch, t), generator=gen), 56).float()

    def t3():
        gen = g()
        m = CharsTrain()
        data = [
            (one_hot(gen, 32, 60), torch.randint(0, 56, (32 * 60,), generator=gen))
            for _ in range(BATCHES)
        ]
        return trainer(m, torch.optim.Adam(m.parameters(), lr=1e-3), nn.CrossEntropyLoss(), data)

    def t4():
        gen = g()
        m = nn.Sequential(
            nn.Embedding(10000, 16),
            Seq(nn.LSTM(16, 64, batch_first=True, bidirectional=True)),
            Last(nn.LSTM(128, 32, batch_first=True, bidirectional=True)),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 1),
            nn.Sigmoid(),
            nn.Flatten(0),
        )
        data = [
            (ids(gen, 128, 100, 10000), torch.randint(0, 2, (128,), generator=gen).float())
            for _ in range(BATCHES)
        ]
        return trainer(m, torch.optim.Adam(m.parameters(), lr=1e-3), nn.BCELoss(), data)

    def i1():
        gen = g()
        m = nn.Sequential(
            nn.Embedding(5000, 100),
            Last(nn.RNN(100, 128, batch_first=True)),
            nn.Linear(128, 1),
            nn.Sigmoid(),
        )
        return inferer(m, [ids(gen, 1, 30, 5000) for _ in range(BATCHES)])

    def i2():
        gen = g()
        # Inference applies the softmax, as the Keras model does.
        m = nn.Sequential(topics(), nn.Softmax(dim=-1))
        return inferer(m, [ids(gen, 256, 100, 1000) for _ in range(BATCHES)])

    def g1():
        gen = g()
        m = Chars().eval()
        primes = [one_hot(gen, 1, 60) for _ in range(BATCHES)]
        eye = torch.eye(56)
        i = [0]

        def step():
            prime = primes[i[0] % len(primes)]
            i[0] += 1
            with torch.inference_mode():
                # The prime goes through in one call; then one step per character, the state
                # carried, the next character drawn from the softmax.
                logits, state = m(prime)
                for _ in range(200):
                    probs = torch.softmax(logits[0, -1], dim=-1)
                    c = torch.multinomial(probs, 1, generator=gen)
                    logits, state = m(eye[c].view(1, 1, 56), state)

        return step

    return {"T1": t1, "T2": t2, "T3": t3, "T4": t4, "I1": i1, "I2": i2, "G1": g1}


def torch_worker(threads, seconds, names):
    import torch
    from torch.utils import benchmark

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    models = torch_models(torch)
    results = {}
    for name in names:
        step = models[name]()
        timer = benchmark.Timer(stmt="step()", globals={"step": step}, num_threads=threads)
        main = timer.blocked_autorange(min_run_time=seconds).median
        # Cross-check: a fresh model, a plain loop of a fixed count.
        step = models[name]()
        for _ in range(2):
            step()
        count = max(3, int(seconds / max(main, 1e-9) / 2))
        start = time.perf_counter()
        for _ in range(count):
            step()
        plain = (time.perf_counter() - start) / count
        results[name] = {"seconds": main, "plain": plain}
        print(f"  PyTorch {name} at {threads} thread(s): {main:.6f} s", file=sys.stderr)
    a = torch.randn(GEMM_N, GEMM_N)
    b = torch.randn(GEMM_N, GEMM_N)
    timer = benchmark.Timer(stmt="torch.mm(a, b)", globals={"torch": torch, "a": a, "b": b},
                            num_threads=threads)
    mm = timer.blocked_autorange(min_run_time=seconds).median
    results["sgemm_gflops"] = 2 * GEMM_N**3 / mm / 1e9
    return results


def torch_rss_worker(name):
    """Runs only `name` (or nothing, for "none") a few times, for the parent's max RSS."""
    import torch

    torch.set_flush_denormal(True)
    if name != "none":
        step = torch_models(torch)[name]()
        for _ in range(5):
            step()
    print(f"{name}: peak {vm_hwm_kb()} kB")


# ---------------------------------------------------------------------------------------------
# Keras


def keras_worker(threads, seconds, names):
    """The same workloads as Keras models; each step is a jit-compiled `train_on_batch` or
    `predict_on_batch` (the first calls, which compile, are warm-up)."""
    import numpy as np
    import keras
    from keras import layers

    rng = np.random.default_rng(0)

    def ids(batch, t, vocab):
        return rng.integers(1, vocab, (batch, t)).astype("int32")

    def build(input_shape, stack, loss, optimizer):
        model = keras.Sequential([keras.Input(input_shape)] + stack)
        model.compile(loss=loss, optimizer=optimizer)
        return model

    def cycle(f, data):
        i = [0]

        def step():
            f(*data[i[0] % len(data)])
            i[0] += 1

        return step

    def t1():
        m = build(
            (500,),
            [layers.Embedding(10000, 32), layers.SimpleRNN(32), layers.Dense(1, activation="sigmoid")],
            "binary_crossentropy",
            keras.optimizers.RMSprop(),
        )
        data = [(ids(128, 500, 10000), rng.integers(0, 2, (128,)).astype("float32"))
                for _ in range(BATCHES)]
        return cycle(m.train_on_batch, data)

    def topics():
        return build(
            (100,),
            [layers.Embedding(1000, 100), layers.LSTM(100), layers.Dense(46, activation="softmax")],
            "sparse_categorical_crossentropy",
            keras.optimizers.Adam(),
        )

    def t2():
        data = [(ids(100, 100, 1000), rng.integers(0, 46, (100,))) for _ in range(BATCHES)]
        return cycle(topics().train_on_batch, data)

    def t3():
        m = build(
            (60, 56),
            [
                layers.LSTM(256, return_sequences=True),
                layers.LSTM(256, return_sequences=True),
                layers.TimeDistributed(layers.Dense(56, activation="softmax")),
            ],
            "sparse_categorical_crossentropy",
            keras.optimizers.Adam(),
        )
        eye = np.eye(56, dtype="float32")
        data = [(eye[rng.integers(0, 56, (32, 60))], rng.integers(0, 56, (32, 60)))
                for _ in range(BATCHES)]
        return cycle(m.train_on_batch, data)

    def t4():
        m = build(
            (100,),
            [
                layers.Embedding(10000, 16),
                layers.Bidirectional(layers.LSTM(64, return_sequences=True)),
                layers.Bidirectional(layers.LSTM(32)),
                layers.Dense(64, activation="relu"),
                layers.Dense(1, activation="sigmoid"),
            ],
            "binary_crossentropy",
            keras.optimizers.Adam(),
        )
        data = [(ids(128, 100, 10000), rng.integers(0, 2, (128,)).astype("float32"))
                for _ in range(BATCHES)]
        return cycle(m.train_on_batch, data)

    def i1():
        m = build(
            (30,),
            [layers.Embedding(5000, 100), layers.SimpleRNN(128), layers.Dense(1, activation="sigmoid")],
            "binary_crossentropy",
            "adam",
        )
        return cycle(m.predict_on_batch, [(ids(1, 30, 5000),) for _ in range(BATCHES)])

    def i2():
        return cycle(topics().predict_on_batch, [(ids(256, 100, 1000),) for _ in range(BATCHES)])

    models = {"T1": t1, "T2": t2, "T3": t3, "T4": t4, "I1": i1, "I2": i2}
    results = {}
    for name in names:
        if name not in models:
            continue
        step = models[name]()
        results[name] = {"seconds": time_it(step, seconds)}
        print(f"  Keras {name} at {threads} thread(s)", file=sys.stderr)
    return results


def time_it(step, min_seconds, warmup=3):
    """Mean seconds per call of `step` over at least `min_seconds` (after warm-up calls)."""
    for _ in range(warmup):
        step()
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and calls >= 3:
            return elapsed / calls


# ---------------------------------------------------------------------------------------------
# The parent


def run_worker(kind, threads, seconds, names):
    """Runs a worker subprocess pinned to `threads` cores and returns its JSON results."""
    env = dict(os.environ)
    if kind == "keras":
        env.setdefault("KERAS_BACKEND", "jax")
        if threads == 1:
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                                " intra_op_parallelism_threads=1").strip()
    cmd = [sys.executable, __file__, "--worker", kind, "--threads", str(threads),
           "--seconds", str(seconds), "--only", ",".join(names)]
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=False)
    if out.returncode != 0:
        print(f"  the {kind} worker failed (exit {out.returncode})", file=sys.stderr)
        return {}
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def peak_mib(cmd, env=None):
    """Runs `cmd`, which prints its own peak resident memory as `peak N kB` (Linux's VmHWM of
    the process itself: the rusage of a child would also count what it inherited from this
    script at fork), and returns it in MiB."""
    out = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, check=False)
    for word in out.stdout.decode().split("peak")[1:]:
        return int(word.split()[0]) / 1024
    return None


def vm_hwm_kb():
    """This process's peak resident memory in kB, from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1])
    return None


def cargo_bench(threads, names):
    env = dict(os.environ, RNN_NUM_THREADS=str(threads), CRITERION_HOME=str(criterion_home(threads)))
    # Criterion's filter is a regular expression over the benchmark ids; a workload's
    # reduced-precision twins (`I2-bf16`) run with it.
    ids = "|".join(bench_id.split("/")[0] for name, _, bench_id, _ in WORKLOADS if name in names)
    subprocess.run(["cargo", "bench", "--bench", "workloads", "--", f"^[a-z]+/({ids})(-[a-z0-9]+)?/"],
                   cwd=ROOT, env=env, check=True)


def memory_table(have_torch):
    print("\npeak memory (max RSS, MiB; 1 thread; each in a process of its own)")
    subprocess.run(["cargo", "build", "--release", "--example", "peak_memory"], cwd=ROOT,
                   check=True)
    exe = ROOT / "target" / "release" / "examples" / "peak_memory"
    env = dict(os.environ, RNN_NUM_THREADS="1")
    base = peak_mib([str(exe), "none"], env)
    base_torch = None
    if have_torch:
        base_torch = peak_mib([sys.executable, __file__, "--rss", "none"])
    fmt = lambda v: f"{v:10.1f}" if v is not None else f"{'-':>10}"
    print(f"{'':<8} {'rnn':>10} {'PyTorch':>10} {'ratio':>7}")
    print(f"{'idle':<8} {fmt(base)} {fmt(base_torch)}")
    for name in ("T3", "I2"):
        ours = peak_mib([str(exe), name], env)
        theirs = peak_mib([sys.executable, __file__, "--rss", name]) if have_torch else None
        ratio = f"{theirs / ours:7.2f}" if ours and theirs else f"{'-':>7}"
        print(f"{name:<8} {fmt(ours)} {fmt(theirs)} {ratio}")
    print("idle: a process that only loads the library (rnn) or imports torch; ratio: PyTorch's "
          "peak over rnn's (above 1: rnn uses less)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-cargo", action="store_true", help="reuse criterion's last results")
    parser.add_argument("--no-keras", action="store_true", help="leave Keras out")
    parser.add_argument("--no-memory", action="store_true", help="leave the memory table out")
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per workload")
    parser.add_argument("--only", default=",".join(w[0] for w in WORKLOADS),
                        help="workloads, e.g. T2,G1")
    parser.add_argument("--worker", choices=["torch", "keras"], help=argparse.SUPPRESS)
    parser.add_argument("--rss", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = args.only.split(",")

    if args.rss:
        torch_rss_worker(args.rss)
        return
    if args.worker:
        threads = int(args.threads)
        pin(threads)
        work = torch_worker if args.worker == "torch" else keras_worker
        print(json.dumps(work(threads, args.seconds, names)))
        return

    # Not imported here: the workers import it, each in a process of its own.
    have_torch = importlib.util.find_spec("torch") is not None
    if not have_torch:
        print("torch is not installed (pip install torch): showing rnn's figures only")

    thread_counts = [int(t) for t in args.threads.split(",")]
    tables = []
    for threads in thread_counts:
        if not args.no_cargo:
            # Pinning the parent pins cargo and the benchmark it runs.
            cores = os.sched_getaffinity(0)
            pin(threads)
            try:
                cargo_bench(threads, names)
            finally:
                os.sched_setaffinity(0, cores)
        py = run_worker("torch", threads, args.seconds, names) if have_torch else {}
        ks = {} if args.no_keras else run_worker("keras", threads, args.seconds, names)
        tables.append((threads, py, ks))

    print(f"\ncores: {os.cpu_count()}; {time.strftime('%Y-%m-%d %H:%M %Z')}")
    for threads, py, ks in tables:
        peak = py.get("sgemm_gflops")
        peak = f"{peak:.0f} GFLOP/s" if peak else "-"
        print(f"\n{threads} thread(s); SGEMM peak (torch.mm {GEMM_N}^2): {peak}")
        print(f"{'workload':<46} {'unit':<9} {'rnn':>9} {'PyTorch':>9} {'plain':>9} {'ratio':>6}"
              f" {'Keras':>9} {'ratio':>6}")
        fmt = lambda v: f"{v:9.1f}" if v is not None else f"{'-':>9}"
        for name, group, bench_id, samples in WORKLOADS:
            if name not in names:
                continue
            rust = rust_seconds(threads, group, bench_id)
            # I1 is reported in microseconds per call (lower is better), the rest per second.
            if name == "I1":
                unit, value = "us/call", lambda sec: sec * 1e6 if sec else None
            else:
                unit = "chars/s" if name == "G1" else "samples/s"
                value = lambda sec, n=samples: n / sec if sec else None
            theirs = py.get(name, {})
            main_s, plain_s = theirs.get("seconds"), theirs.get("plain")
            keras_s = ks.get(name, {}).get("seconds")

            def ratio(other):
                return f"{other / rust:6.2f}" if rust and other else f"{'-':>6}"

            flag = ""
            if main_s and plain_s and not 0.8 < plain_s / main_s < 1.25:
                flag = "  <- PyTorch's two timings disagree"
            print(f"{bench_id:<46} {unit:<9} {fmt(value(rust))} {fmt(value(main_s))}"
                  f" {fmt(value(plain_s))} {ratio(main_s)} {fmt(value(keras_s))}"
                  f" {ratio(keras_s)}{flag}")
            # Reduced precision: ratios to PyTorch's f32 and to rnn's own f32.
            for twin_id, twin in variants(threads, group, bench_id):
                to_f32 = f"{rust / twin:.2f}x rnn's f32" if rust else "no f32 run"
                to_torch = f"{main_s / twin:6.2f}" if main_s else f"{'-':>6}"
                print(f"{twin_id:<46} {unit:<9} {fmt(value(twin))} {'-':>9} {'-':>9}"
                      f" {to_torch} {'-':>9} {'-':>6}  ({to_f32})")
    print("\nratio: the other's time per step over rnn's (above 1: rnn is faster); plain: "
          "PyTorch in a plain loop on a fresh model, the cross-check; <id>-<precision> rows: "
          "rnn at that inference precision, its ratio to PyTorch's f32 and to rnn's f32")
    if not args.no_memory:
        memory_table(have_torch)


if __name__ == "__main__":
    main()
