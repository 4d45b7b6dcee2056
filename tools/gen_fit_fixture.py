"""Reference numbers for `fit`: a few epochs of Keras training from known weights.

    KERAS_BACKEND=jax python tools/gen_fit_fixture.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/extra of this script's repository.

Runs in float64 with shuffling off, so the batches are the first rows first; the Rust test
(tests/fit_parity.rs) starts from the same weights and data and compares the per-epoch logs
and the final weights.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
import jax

jax.config.update("jax_enable_x64", True)
import keras
import numpy as np

keras.config.set_floatx("float64")


def case(name, build, x, y, loss, optimizer, metrics, fit_args):
    keras.utils.set_random_seed(3)
    model = build()
    model.compile(loss=loss, optimizer=optimizer, metrics=metrics)
    initial = [w.tolist() for w in model.get_weights()]
    history = model.fit(x, y, shuffle=False, verbose=0, **fit_args)
    return {
        "case": name,
        "keras_version": keras.__version__,
        "backend": f"jax {jax.__version__} (CPU), float64",
        "loss": loss,
        "optimizer": keras.optimizers.serialize(model.optimizer)["config"],
        "metrics": metrics,
        "fit": fit_args,
        "x": x.tolist(),
        "y": y.tolist(),
        "initial_weights": initial,
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "final_weights": [w.tolist() for w in model.get_weights()],
    }


def main(out):
    rng = np.random.default_rng(5)
    lengths = rng.integers(2, 9, 40)
    x = np.zeros((40, 8), dtype="int64")
    for i, n in enumerate(lengths):
        x[i, 8 - n :] = rng.integers(1, 30, n)
    y = (x % 3).max(axis=1)
    cases = [
        case(
            "fit_masked_lstm_adam",
            lambda: keras.Sequential(
                [
                    keras.Input((8,), dtype="int64"),
                    keras.layers.Embedding(30, 8, mask_zero=True),
                    keras.layers.LSTM(6),
                    keras.layers.Dense(3, activation="softmax"),
                ]
            ),
            x,
            y,
            "sparse_categorical_crossentropy",
            keras.optimizers.Adam(0.01),
            ["sparse_categorical_accuracy"],
            {"batch_size": 16, "epochs": 3, "validation_split": 0.2},
        ),
        case(
            "fit_gru_rmsprop_binary",
            lambda: keras.Sequential(
                [
                    keras.Input((8,), dtype="int64"),
                    keras.layers.Embedding(30, 4),
                    keras.layers.GRU(5),
                    keras.layers.Dense(1, activation="sigmoid"),
                ]
            ),
            x,
            (y > 0).astype("float64"),
            "binary_crossentropy",
            keras.optimizers.RMSprop(0.01),
            ["binary_accuracy"],
            {"batch_size": 12, "epochs": 2},
        ),
    ]
    for c in cases:
        with open(os.path.join(out, c["case"] + ".json"), "w") as f:
            json.dump(c, f)
        print(c["case"], c["history"])


if __name__ == "__main__":
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "tests", "fixtures", "extra"))
