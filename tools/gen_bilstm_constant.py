#!/usr/bin/env python3
"""The course notes' constant-weight bidirectional LSTM, run by Keras 3.

An `LSTM(3, return_sequences=True, return_state=True)` with every kernel weight 0.1, every
recurrent weight 0.1 and zero biases, inside `Bidirectional`, reads one sequence of four steps
of five features. The notes print the forward and backward final states, 0.6303138 and
0.7038734 in every unit.

Writes tests/fixtures/extra/bilstm_constant.json (relative to the repository root): the input and
the five outputs (sequence, forward h and c, backward h and c), computed in float64.

Run with a Keras venv:

    KERAS_BACKEND=jax python tools/gen_bilstm_constant.py
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
OUT = os.path.join(ROOT, "tests", "fixtures", "extra", "bilstm_constant.json")

X = np.array(
    [[[0.1, 4.2, 1.5, 1.1, 2.8],
      [1.0, 3.1, 2.5, 0.7, 1.1],
      [0.3, 2.1, 1.5, 2.1, 0.1],
      [2.2, 1.4, 0.5, 0.9, 1.1]]],
    dtype=np.float64,
)


def main():
    keras.backend.set_floatx("float64")
    inputs = keras.Input(shape=(4, 5))
    bilstm = layers.Bidirectional(
        layers.LSTM(
            3,
            return_sequences=True,
            return_state=True,
            kernel_initializer=keras.initializers.Constant(0.1),
            recurrent_initializer=keras.initializers.Constant(0.1),
            bias_initializer=keras.initializers.Constant(0),
        )
    )
    outputs = bilstm(inputs)
    model = keras.Model(inputs, outputs)
    got = [np.asarray(o, dtype=np.float64) for o in model(X)]
    names = ["sequence", "forward_h", "forward_c", "backward_h", "backward_c"]
    for name, value in zip(names, got):
        print(name, np.array2string(value.astype(np.float32), precision=7))
    fixture = {
        "input": X.tolist(),
        "outputs": {n: v.tolist() for n, v in zip(names, got)},
        "keras_version": keras.__version__,
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
