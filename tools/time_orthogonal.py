#!/usr/bin/env python3
"""Seconds Keras 3 takes to build an LSTM layer (its weights drawn by Keras' initializers,
the recurrent kernel by `Orthogonal`), to compare with `cargo run --release --example
init_speed`.

Run with a Keras venv, on an otherwise idle machine:

    KERAS_BACKEND=jax python tools/time_orthogonal.py 512 1024 2048
"""

import os
import sys
import time
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
warnings.simplefilter("ignore")

import keras  # noqa: E402


def build_seconds(units, features, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        layer = keras.layers.LSTM(units)
        start = time.perf_counter()
        layer.build((None, None, features))
        # JAX computes lazily: wait for the weights themselves.
        for w in layer.weights:
            w.value.block_until_ready()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [512, 1024, 2048]
    keras.layers.LSTM(4).build((None, None, 4))  # compile the initializers' kernels once
    for units in sizes:
        print(f"LSTM({units}) on {units} features: build {build_seconds(units, units):.3f} s")


if __name__ == "__main__":
    main()
