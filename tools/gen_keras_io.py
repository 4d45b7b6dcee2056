#!/usr/bin/env python3
"""Small Keras 3 models, briefly trained and saved in every Keras file format, with their
predictions: the fixtures of tests/keras_io.rs.

Writes, under tests/fixtures/keras_io/ (relative to the repository root), for each model:
`<name>.keras` (model.save), `<name>.weights.h5` (model.save_weights), `<name>.h5` (Keras 3's
legacy full-model HDF5, model.save("x.h5")), and one `predictions.json` with, per model, the
rnn macro syntax (`dsl`), the input and Keras' float32 predictions; and the weights of the
first model in float64 (`float64_simple_rnn.weights.h5`), for the loader's dtype check; and
two archives whose configs this library cannot express (`unsupported_*.keras`), for the
compile errors of `model_from_keras!`.

tf.keras 2's `model.save("x.h5")` differs from Keras 3's legacy writer in the weight names
(`lstm/lstm_cell/kernel:0`, without the model's name) and the config (Keras 2's
`batch_input_shape`). Keras 2 cannot be installed beside Keras 3, so `keras2_<name>.h5` is
written with h5py in tf.keras 2's layout exactly: `model_weights/<layer>/<weight name>:0`,
the `layer_names` and `weight_names` attributes as fixed-length byte strings, and
`keras_version`, `backend` and `model_config` on the root.

Run with a Keras venv:

    KERAS_BACKEND=jax python tools/gen_keras_io.py
"""

import json
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
warnings.simplefilter("ignore")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "keras_io")

VOCAB = 12


def tokens(rng, n, t, masked):
    x = rng.integers(1, VOCAB, size=(n, t))
    if masked:
        # Trailing padding of different lengths, so that masking matters.
        for i in range(n):
            x[i, t - (i % 3):] = 0
    return x.astype("int32")


MODELS = [
    # name, dsl, build(), input kind, masked
    ("simple_rnn",
     "Embedding(12, 4) => SimpleRNN(5) => Dense(1, sigmoid)",
     lambda: [keras.Input((None,), dtype="int32"), layers.Embedding(VOCAB, 4),
              layers.SimpleRNN(5), layers.Dense(1, activation="sigmoid")],
     "tokens", False),
    ("stacked_lstm",
     "Input(_, 3) => LSTM(4, return_sequences = true) => LSTM(3) => Dense(2, softmax)",
     lambda: [keras.Input((None, 3)), layers.LSTM(4, return_sequences=True), layers.LSTM(3),
              layers.Dense(2, activation="softmax")],
     "reals", False),
    ("gru_classic",
     "Input(_, 3) => GRU(4, reset_after = false) => Dense(1)",
     lambda: [keras.Input((None, 3)), layers.GRU(4, reset_after=False), layers.Dense(1)],
     "reals", False),
    ("masked_bidirectional",
     "Embedding(12, 4, mask_zero = true) => Bidirectional(GRU(3, return_sequences = true), "
     "merge_mode = sum) => Bidirectional(LSTM(2)) => Dense(1, sigmoid)",
     lambda: [keras.Input((None,), dtype="int32"), layers.Embedding(VOCAB, 4, mask_zero=True),
              layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode="sum"),
              layers.Bidirectional(layers.LSTM(2)), layers.Dense(1, activation="sigmoid")],
     "tokens", True),
    ("time_distributed",
     "Input(_, 2) => SimpleRNN(3, return_sequences = true, use_bias = false) "
     "=> TimeDistributed(Dense(2, tanh))",
     lambda: [keras.Input((None, 2)), layers.SimpleRNN(3, return_sequences=True, use_bias=False),
              layers.TimeDistributed(layers.Dense(2, activation="tanh"))],
     "reals", False),
]


def keras2_name(model_name, path):
    """`sequential/lstm/lstm_cell/kernel` -> tf.keras 2's `lstm/lstm_cell/kernel:0`."""
    prefix = model_name + "/"
    return (path[len(prefix):] if path.startswith(prefix) else path) + ":0"


def keras2_config(model):
    """The model's config as tf.keras 2 wrote it: `batch_input_shape` on the first layer
    and no InputLayer entry."""
    config = model.get_config()
    body = [dict(layer) for layer in config["layers"] if layer["class_name"] != "InputLayer"]
    first = dict(body[0]["config"])
    first["batch_input_shape"] = list(model.input_shape)
    body[0] = {"class_name": body[0]["class_name"], "config": first}
    return {"class_name": "Sequential",
            "config": {"name": config["name"], "layers": body}}


def save_keras2_h5(model, path):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_("2.15.0")
        f.attrs["backend"] = np.bytes_("tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(keras2_config(model)))
        weights = f.create_group("model_weights")
        names = [layer.name for layer in model.layers]
        weights.attrs["layer_names"] = np.array([n.encode() for n in names])
        weights.attrs["backend"] = np.bytes_("tensorflow")
        weights.attrs["keras_version"] = np.bytes_("2.15.0")
        for layer in model.layers:
            group = weights.create_group(layer.name)
            wnames = [keras2_name(model.name, v.path) for v in layer.weights]
            group.attrs["weight_names"] = np.array([n.encode() for n in wnames])
            for name, value in zip(wnames, layer.get_weights()):
                group.create_dataset(name, data=np.asarray(value, dtype="float32"))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    records = {}
    for seed, (name, dsl, build, kind, masked) in enumerate(MODELS):
        # Fresh layer numbering per model, as `model!` numbers them.
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = keras.Sequential(build(), name="sequential")
        if kind == "tokens":
            x = tokens(rng, 6, 5, masked)
        else:
            x = rng.normal(size=(6, 4, model.input_shape[-1])).astype("float32")
        out = model.output_shape
        time = x.shape[1]
        y = rng.uniform(size=(6,) + tuple(time if d is None else d for d in out[1:]))
        y = y.astype("float32")
        model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, epochs=3, batch_size=3, verbose=0)
        model.save(os.path.join(OUT, name + ".keras"))
        model.save_weights(os.path.join(OUT, name + ".weights.h5"))
        model.save(os.path.join(OUT, name + ".h5"))
        save_keras2_h5(model, os.path.join(OUT, "keras2_" + name + ".h5"))
        pred = model.predict(x, verbose=0)
        records[name] = {
            "dsl": dsl,
            "input_kind": kind,
            "x": x.tolist(),
            "shape": list(pred.shape),
            "y": pred.astype("float64").ravel().tolist(),
        }
    # The first model's weights in float64, which the loader refuses rather than rounds.
    name = MODELS[0][0]
    with h5py.File(os.path.join(OUT, name + ".weights.h5")) as src, \
            h5py.File(os.path.join(OUT, "float64_" + name + ".weights.h5"), "w") as dst:
        def copy(path, obj):
            if isinstance(obj, h5py.Dataset):
                dst.create_dataset(path, data=obj[()].astype("float64"))
        src.visititems(copy)
    # Configs that `model_from_keras!` cannot express (tests/ui/model_from_keras_*.rs).
    keras.backend.clear_session()
    keras.Sequential([keras.Input((None, 3)), layers.LSTM(3, recurrent_dropout=0.25)],
                     name="sequential").save(os.path.join(OUT, "unsupported_recurrent_dropout.keras"))
    keras.backend.clear_session()
    keras.Sequential([keras.Input((None, 3)), layers.Conv1D(2, 3)],
                     name="sequential").save(os.path.join(OUT, "unsupported_conv1d.keras"))
    with open(os.path.join(OUT, "predictions.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "models": records}, f, indent=1)


if __name__ == "__main__":
    main()
