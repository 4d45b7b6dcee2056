#!/usr/bin/env python3
"""Checks that the `.keras` archives this library writes load in Keras 3 and predict what
the original Keras models predicted.

Writes the archives with the `keras_export` example (from the fixtures of
tests/fixtures/keras_io), loads each with `keras.saving.load_model`, predicts the recorded
input and compares with the recorded predictions within the output tolerance
(|got - want| <= 1e-6 + 1e-5 |want|). Prints one line per model and exits non-zero on any
difference.

Run with a Keras venv, from anywhere:

    KERAS_BACKEND=jax python tools/check_keras_export.py
"""

import json
import os
import subprocess
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
warnings.simplefilter("ignore")

import keras  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "keras_io")
OUT = os.path.join(ROOT, "target", "keras_export")


def main():
    subprocess.run(["cargo", "run", "--quiet", "--example", "keras_export", "--", OUT],
                   cwd=ROOT, check=True)
    with open(os.path.join(FIXTURES, "predictions.json")) as f:
        records = json.load(f)["models"]
    failed = 0
    for name, rec in records.items():
        model = keras.saving.load_model(os.path.join(OUT, name + ".keras"))
        dtype = "int32" if rec["input_kind"] == "tokens" else "float32"
        got = model.predict(np.array(rec["x"], dtype=dtype), verbose=0).astype("float64")
        want = np.array(rec["y"]).reshape(rec["shape"])
        excess = np.abs(got - want) - (1e-6 + 1e-5 * np.abs(want))
        ok = got.shape == want.shape and excess.max() <= 0
        failed += not ok
        print(f"{name}: {'ok' if ok else 'DIFFERENT'} (max |got - want| "
              f"{np.abs(got - want).max():.3g})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
