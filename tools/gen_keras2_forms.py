#!/usr/bin/env python3
"""Keras' summaries of models whose first layer declares the input in Keras 2's way.

Writes tests/fixtures/keras2_forms.json (relative to the repository root): for each model
the rnn macro syntax (`dsl`), the Keras code that builds it (`code`), and Keras'
`model.summary()` in 80 and 120 columns, the output shapes and the parameter count.

Keras 3 takes `input_shape` and `input_dim` on a layer as Keras 2 did. It refuses Keras 2's
`batch_input_shape` and a recurrent layer's `input_length`; for those the `code` is the
Keras 3 spelling of the same model (`keras.Input(shape, batch_size)`, `input_shape`), whose
summary is what Keras 2 printed for the Keras 2 form (the batch size in place of `None`).

Run with a Keras venv:

    KERAS_BACKEND=jax python tools/gen_keras2_forms.py
"""

import json
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
warnings.simplefilter("ignore")

import keras  # noqa: E402
from keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras2_forms.json")

MODELS = [
    ("simple_rnn_input_shape",
     "SimpleRNN(3, input_shape = (2, 10))",
     "keras.Sequential([layers.SimpleRNN(3, input_shape=(2, 10))])"),
    ("lstm_any_length",
     "LSTM(32, input_shape = (None, 5))",
     "keras.Sequential([layers.LSTM(32, input_shape=(None, 5))])"),
    ("batch_input_shape",
     "SimpleRNN(3, batch_input_shape = (8, 2, 10))",
     "keras.Sequential([keras.Input(shape=(2, 10), batch_size=8), layers.SimpleRNN(3)])"),
    ("input_length_input_dim",
     "SimpleRNN(3, input_length = 2, input_dim = 10)",
     "keras.Sequential([layers.SimpleRNN(3, input_shape=(2, 10))])"),
    ("bidirectional_input_shape",
     "Bidirectional(SimpleRNN(8, return_sequences = true), input_shape = (10, 5))",
     "keras.Sequential([layers.Bidirectional(layers.SimpleRNN(8, return_sequences=True), "
     "input_shape=(10, 5))])"),
    ("dense_input_shape",
     "Dense(4, input_shape = (8,)) => Dense(1, sigmoid)",
     "keras.Sequential([layers.Dense(4, input_shape=(8,)), layers.Dense(1, activation='sigmoid')])"),
    ("stacked_with_batch",
     "LSTM(4, return_sequences = true, batch_input_shape = (2, 6, 3)) => LSTM(5) => Dense(2)",
     "keras.Sequential([keras.Input(shape=(6, 3), batch_size=2), "
     "layers.LSTM(4, return_sequences=True), layers.LSTM(5), layers.Dense(2)])"),
]


def capture(model, columns):
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    try:
        out = []
        model.summary(print_fn=lambda s, **kw: out.append(s))
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    assert len(out) == 1
    return out[0]


def main():
    models = []
    for mid, dsl, code in MODELS:
        keras.backend.clear_session()
        m = eval(code, {"keras": keras, "layers": layers})
        models.append({
            "id": mid,
            "dsl": dsl,
            "code": code,
            "summary": capture(m, 80),
            "summary_wide": capture(m, 120),
            "output_shape": list(m.outputs[0].shape),
            "total_params": int(m.count_params()),
        })
    with open(OUT, "w") as f:
        json.dump({"keras_version": keras.__version__, "models": models}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
