#!/usr/bin/env python3
"""The workloads of DESIGN.md (repository root; T1-T4, I1, I2) in PyTorch (CPU), beside this crate's figures.

    python3 benches/pytorch_workloads.py            # runs `cargo bench`, then PyTorch
    python3 benches/pytorch_workloads.py --no-cargo # reuses target/criterion results
    python3 benches/pytorch_workloads.py --threads 1
    python3 benches/pytorch_workloads.py --keras    # adds a Keras column (KERAS_BACKEND, default jax)

Each training step is the same as the Rust benchmark's: forward, loss, backward through time and
the optimizer update on one batch. Models are the PyTorch equivalents of the Keras ones (same
sizes; PyTorch's LSTM has two bias vectors, which changes nothing in the cost). Inputs are seeded
random token ids, labels and one-hot characters. The Rust figures are read from criterion's
`target/criterion/<group>/<id>/new/estimates.json` (mean time per iteration).

Prints one row per workload: samples/s (I1: microseconds per call) for rnn and PyTorch and their
ratio (above 1: rnn is faster).
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (id, criterion group, criterion function id, batch)
WORKLOADS = [
    ("T1", "train", "T1/imdb SimpleRNN(32) b128 len500 rmsprop", 128),
    ("T2", "train", "T2/reuters LSTM(100) b100 len100 adam", 100),
    ("T3", "train", "T3/chars LSTM(256)x2 b32 len60 adam", 32),
    ("T4", "train", "T4/imdb BiLSTM(64)+BiLSTM(32) b128 len100 adam", 128),
    ("I1", "infer", "I1/quiz SimpleRNN(128) b1 len30", 1),
    ("I2", "infer", "I2/reuters LSTM(100) b256 len100", 256),
]


def criterion_dir(name):
    """Criterion's directory name for a benchmark id (it replaces these characters by '_')."""
    return "".join("_" if c in '?"/\\*<>:|^' else c for c in name)


def rust_seconds(group, bench_id):
    """Mean seconds per iteration from criterion's last run, or None."""
    function, parameter = bench_id.split("/", 1)
    path = (
        ROOT
        / "target"
        / "criterion"
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


def time_it(step, min_seconds=3.0, warmup=2):
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


def torch_workloads(torch):
    nn = torch.nn
    g = torch.Generator().manual_seed(0)

    def ids(batch, t, vocab):
        return torch.randint(1, vocab, (batch, t), generator=g)

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

    def train_step(model, opt, loss_fn, x, y):
        def step():
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        return step

    def infer_step(model, x):
        def step():
            with torch.inference_mode():
                model(x)

        return step

    bce = nn.BCELoss()
    t1 = nn.Sequential(
        nn.Embedding(10000, 32),
        Last(nn.RNN(32, 32, batch_first=True)),
        nn.Linear(32, 1),
        nn.Sigmoid(),
        nn.Flatten(0),
    )
    x1, y1 = ids(128, 500, 10000), torch.randint(0, 2, (128,), generator=g).float()
    t2 = nn.Sequential(
        nn.Embedding(1000, 100), Last(nn.LSTM(100, 100, batch_first=True)), nn.Linear(100, 46)
    )
    x2, y2 = ids(100, 100, 1000), torch.randint(0, 46, (100,), generator=g)

    class Chars(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(56, 256, num_layers=2, batch_first=True)
            self.out = nn.Linear(256, 56)

        def forward(self, x):
            h, _ = self.lstm(x)
            return self.out(h).reshape(-1, 56)

    t3 = Chars()
    x3 = nn.functional.one_hot(torch.randint(0, 56, (32, 60), generator=g), 56).float()
    y3 = torch.randint(0, 56, (32 * 60,), generator=g)
    t4 = nn.Sequential(
        nn.Embedding(10000, 16),
        Seq(nn.LSTM(16, 64, batch_first=True, bidirectional=True)),
        Last(nn.LSTM(128, 32, batch_first=True, bidirectional=True)),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, 1),
        nn.Sigmoid(),
        nn.Flatten(0),
    )
    x4, y4 = ids(128, 100, 10000), torch.randint(0, 2, (128,), generator=g).float()
    i1 = nn.Sequential(
        nn.Embedding(5000, 100),
        Last(nn.RNN(100, 128, batch_first=True)),
        nn.Linear(128, 1),
        nn.Sigmoid(),
    ).eval()
    xi1 = ids(1, 30, 5000)
    xi2 = ids(256, 100, 1000)
    # Softmax is folded into CrossEntropyLoss for training, as PyTorch users write it; inference
    # applies it, as the Keras model does.
    i2 = nn.Sequential(t2, nn.Softmax(dim=-1)).eval()
    ce = nn.CrossEntropyLoss()
    return {
        "T1": train_step(t1, torch.optim.RMSprop(t1.parameters(), lr=1e-3), bce, x1, y1),
        "T2": train_step(t2, torch.optim.Adam(t2.parameters(), lr=1e-3), ce, x2, y2),
        "T3": train_step(t3, torch.optim.Adam(t3.parameters(), lr=1e-3), ce, x3, y3),
        "T4": train_step(t4, torch.optim.Adam(t4.parameters(), lr=1e-3), bce, x4, y4),
        "I1": infer_step(i1, xi1),
        "I2": infer_step(i2, xi2),
    }


def keras_workloads():
    """The same workloads as Keras models; each step is a jit-compiled `train_on_batch` or
    `predict_on_batch` (the first calls, which compile, are warm-up)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
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

    t1 = build(
        (500,),
        [layers.Embedding(10000, 32), layers.SimpleRNN(32), layers.Dense(1, activation="sigmoid")],
        "binary_crossentropy",
        keras.optimizers.RMSprop(),
    )
    t2 = build(
        (100,),
        [layers.Embedding(1000, 100), layers.LSTM(100), layers.Dense(46, activation="softmax")],
        "sparse_categorical_crossentropy",
        keras.optimizers.Adam(),
    )
    t3 = build(
        (60, 56),
        [
            layers.LSTM(256, return_sequences=True),
            layers.LSTM(256, return_sequences=True),
            layers.TimeDistributed(layers.Dense(56, activation="softmax")),
        ],
        "sparse_categorical_crossentropy",
        keras.optimizers.Adam(),
    )
    t4 = build(
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
    i1 = build(
        (30,),
        [layers.Embedding(5000, 100), layers.SimpleRNN(128), layers.Dense(1, activation="sigmoid")],
        "binary_crossentropy",
        "adam",
    )
    x1, y1 = ids(128, 500, 10000), rng.integers(0, 2, (128,)).astype("float32")
    x2, y2 = ids(100, 100, 1000), rng.integers(0, 46, (100,))
    x3 = np.eye(56, dtype="float32")[rng.integers(0, 56, (32, 60))]
    y3 = rng.integers(0, 56, (32, 60))
    x4, y4 = ids(128, 100, 10000), rng.integers(0, 2, (128,)).astype("float32")
    xi1, xi2 = ids(1, 30, 5000), ids(256, 100, 1000)
    return {
        "T1": lambda: t1.train_on_batch(x1, y1),
        "T2": lambda: t2.train_on_batch(x2, y2),
        "T3": lambda: t3.train_on_batch(x3, y3),
        "T4": lambda: t4.train_on_batch(x4, y4),
        "I1": lambda: i1.predict_on_batch(xi1),
        "I2": lambda: t2.predict_on_batch(xi2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-cargo", action="store_true", help="reuse criterion's last results")
    parser.add_argument("--threads", type=int, default=None, help="PyTorch threads (default: all)")
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per workload")
    parser.add_argument("--keras", action="store_true", help="also time Keras (needs keras)")
    args = parser.parse_args()

    if not args.no_cargo:
        subprocess.run(["cargo", "bench", "--bench", "workloads"], cwd=ROOT, check=True)

    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed (pip install torch): showing rnn's figures only")

    py = {}
    if torch is not None:
        if args.threads:
            torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        steps = torch_workloads(torch)
        for name, _, _, _ in WORKLOADS:
            py[name] = time_it(steps[name], args.seconds)
            print(f"  timed PyTorch {name}", file=sys.stderr)

    ks = {}
    if args.keras:
        steps = keras_workloads()
        for name, _, _, _ in WORKLOADS:
            ks[name] = time_it(steps[name], args.seconds)
            print(f"  timed Keras {name}", file=sys.stderr)

    threads = torch.get_num_threads() if torch is not None else "-"
    print()
    print(f"cores: {os.cpu_count()}, PyTorch threads: {threads}")
    header = f"{'workload':<48} {'unit':<10} {'rnn':>10} {'PyTorch':>10} {'ratio':>7}"
    print(header + (f" {'Keras':>10} {'ratio':>7}" if args.keras else ""))
    fmt = lambda v: f"{v:10.1f}" if v is not None else f"{'-':>10}"
    for name, group, bench_id, batch in WORKLOADS:
        rust = rust_seconds(group, bench_id)
        # I1 is reported in microseconds per call (lower is better), the rest in samples/s.
        if name == "I1":
            unit, value = "us/call", lambda sec: sec * 1e6 if sec else None
        else:
            unit, value = "samples/s", lambda sec: batch / sec if sec else None

        def ratio(other):
            if not rust or not other:
                return f"{'-':>7}"
            return f"{other / rust:7.2f}"

        line = f"{bench_id:<48} {unit:<10} {fmt(value(rust))} {fmt(value(py.get(name)))}"
        line += f" {ratio(py.get(name))}"
        if args.keras:
            line += f" {fmt(value(ks.get(name)))} {ratio(ks.get(name))}"
        print(line)
    print("ratio: the other's time per step over rnn's (above 1: rnn is faster)")


if __name__ == "__main__":
    main()
