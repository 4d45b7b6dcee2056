#!/usr/bin/env python3
"""Keras' expected training-mode output of recurrent layers with `dropout` and
`recurrent_dropout`.

Masks drawn from Keras' generator cannot be reproduced bit for bit, so the fixture is the
mean (and the sample standard deviation) of the training-mode output over many masks: one
sequence repeated on every row of a large batch (Keras draws an independent mask per row),
over several calls. A test compares it with the mean of the runtime's own training-mode
outputs. Where masks go (the input, the state before each gate's product, one mask per
gate or one shared) changes this expectation, so matching it checks their placement.

Writes tests/fixtures/extra/recurrent_dropout.json (relative to the repository root). Run with a
Keras venv:

    KERAS_BACKEND=jax python tools/gen_recurrent_dropout.py
"""

import json
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
warnings.simplefilter("ignore")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "extra", "recurrent_dropout.json")

TIME, FEATURES, UNITS = 4, 2, 3
ROWS, CALLS = 4096, 8

MODELS = [
    ("simple_rnn_linear",
     lambda: layers.SimpleRNN(UNITS, activation="linear", dropout=0.3, recurrent_dropout=0.4,
                              return_sequences=True)),
    ("lstm",
     lambda: layers.LSTM(UNITS, dropout=0.3, recurrent_dropout=0.4, return_sequences=True)),
    ("lstm_input_only",
     lambda: layers.LSTM(UNITS, dropout=0.4, return_sequences=True)),
    ("gru",
     lambda: layers.GRU(UNITS, dropout=0.3, recurrent_dropout=0.4, return_sequences=True)),
    ("gru_reset_before",
     lambda: layers.GRU(UNITS, dropout=0.3, recurrent_dropout=0.4, reset_after=False,
                        return_sequences=True)),
]


def weights_for(layer):
    """Fixed weights, large enough that the nonlinearities and the masks matter."""
    out = []
    for k, w in enumerate(layer.get_weights()):
        n = w.size
        vals = 0.9 * np.sin(np.arange(n) * 1.3 + 0.7 * k + 0.4)
        out.append(vals.reshape(w.shape).astype("float32"))
    return out


def main():
    keras.utils.set_random_seed(0)
    x = (np.cos(np.arange(TIME * FEATURES) * 0.9) * 1.2).reshape(TIME, FEATURES)
    x = x.astype("float32")
    batch = np.broadcast_to(x, (ROWS, TIME, FEATURES)).copy()
    models = []
    for name, make in MODELS:
        layer = make()
        layer.build((None, TIME, FEATURES))
        weights = weights_for(layer)
        layer.set_weights(weights)
        inference = np.asarray(layer(x[None], training=False))[0]
        samples = np.concatenate(
            [np.asarray(layer(batch, training=True)) for _ in range(CALLS)]
        ).astype("float64")
        models.append({
            "name": name,
            "weights": [w.ravel().tolist() for w in weights],
            "shapes": [list(w.shape) for w in weights],
            "samples": int(samples.shape[0]),
            "mean": samples.mean(axis=0).ravel().tolist(),
            "std": samples.std(axis=0, ddof=1).ravel().tolist(),
            "inference": inference.astype("float64").ravel().tolist(),
        })
    doc = {
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "time": TIME,
        "features": FEATURES,
        "units": UNITS,
        "input": x.ravel().tolist(),
        "models": models,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
