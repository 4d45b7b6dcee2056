#!/usr/bin/env python3
"""Generate extra Keras optimizer references (float64) for the `rnn` crate.

Writes, under tests/fixtures/extra/ (relative to the repository root):

* optimizer_<case>.json: 3 update steps of one optimizer on two variables, in the
  format of the shared optimizer fixtures (tests/fixtures/keras/README.md,
  `kind: "optimizer"`), for what the shared set does not cover: clipnorm,
  global_clipnorm, clipvalue, SGD nesterov at another learning rate, RMSprop with
  momentum and centered, Adam with amsgrad, Adagrad with other settings, and
  variables whose gradient is zero after the first step. Extra keys:
  `zero_gradients` lists the (step, variable) pairs whose gradient is all zeros;
* optimizer_state_sizes.json: `len(optimizer.variables)`,
  `count_params(optimizer.variables)` and the "Optimizer params" line of
  `model.summary()` for each optimizer configuration, built on two small models.

Run with a Python that has keras and jax installed (output paths are relative to
this script's repository, whatever the working directory):

    KERAS_BACKEND=jax python tools/gen_optimizer_refs.py

Every case is recomputed by an independent NumPy float64 implementation of its
`formula` (clipping included); the script refuses to write anything if the two
disagree beyond rtol 1e-12.
"""

import io
import json
import os
import re
import sys
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ["JAX_ENABLE_X64"] = "1"

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

# Keras' jax backend maps float64 -> float32 in its type-promotion table, so some
# ops would quietly compute in float32. Turn that downcast off; nothing else changes.
from keras.src.backend.common import dtypes as _keras_dtypes  # noqa: E402

_keras_dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402
from keras.src.utils.summary_utils import count_params  # noqa: E402

BASE_SEED = 20250613
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "extra")
STEPS = 3

PRECISION = (
    f"Computed by Keras {keras.__version__} (backend jax {jax.__version__}, CPU) with "
    "keras.config.floatx()='float64' and jax_enable_x64=True: every weight, gradient and "
    "slot is IEEE float64, printed with Python repr (shortest round-trip). Keras' jax "
    "backend would otherwise downcast some float64 ops to float32 (its "
    "BIT64_TO_BIT32_DTYPE promotion table); the generator disables that mapping so every "
    "op runs in float64. Treat the numbers as ground truth."
)

CLIP_FORMULA = (
    " Clipping first (Keras accepts only one of the three): clipnorm c: g <- g*c/max(||g||, c) "
    "per variable (||g|| = 0 leaves g = 0); global_clipnorm c: every g <- g*c*min(1/N, 1/c) "
    "with N the joint L2 norm of all gradients; clipvalue v: g <- clip(g, -v, v)."
)
FORMULAS = {
    "SGD": "momentum == 0: w <- w - lr*g.  momentum > 0: m <- momentum*m - lr*g (m0 = 0); "
    "w <- w + m (nesterov=False) or w <- w + momentum*m - lr*g (nesterov=True, m already updated).",
    "Adam": "t = step (1-based); alpha = lr*sqrt(1-beta_2^t)/(1-beta_1^t); m <- m + (g-m)*(1-beta_1); "
    "v <- v + (g^2-v)*(1-beta_2); amsgrad: v_hat <- max(v_hat, v) and v_hat replaces v below; "
    "w <- w - alpha*m/(sqrt(v) + epsilon). m0 = v0 = v_hat0 = 0.",
    "RMSprop": "v <- rho*v + (1-rho)*g^2 (v0 = 0); centered: a <- rho*a + (1-rho)*g (a0 = 0) and "
    "den = v - a^2 + epsilon, else den = v + epsilon; inc = lr*g/sqrt(den); momentum > 0: "
    "mom <- momentum*mom + inc, w <- w - mom; else w <- w - inc.",
    "Adagrad": "acc <- acc + g^2 with acc0 = initial_accumulator_value; "
    "w <- w - lr*g/sqrt(acc + epsilon).",
}

# name, class, kwargs, gradient scale per (step, var) (1-based step), zero (step, var) pairs.
CASES = [
    ("sgd_nesterov_lr0.05", "SGD", dict(learning_rate=0.05, momentum=0.9, nesterov=True), {}, []),
    (
        "sgd_momentum_clipnorm",
        "SGD",
        dict(learning_rate=0.1, momentum=0.5, clipnorm=1.0),
        # w1 stays under the norm at step 1, is all zeros at step 2, is clipped at step 3.
        {(1, 1): 0.3, (3, 1): 2.0},
        [(2, 1)],
    ),
    ("sgd_clipvalue", "SGD", dict(learning_rate=0.1, clipvalue=0.5), {}, []),
    (
        "adam_global_clipnorm",
        "Adam",
        dict(learning_rate=0.01, global_clipnorm=1.5),
        # The joint norm is under 1.5 at step 2 only.
        {(2, 0): 0.2, (2, 1): 0.2},
        [],
    ),
    (
        "adam_amsgrad",
        "Adam",
        dict(learning_rate=0.01, beta_1=0.8, beta_2=0.9, amsgrad=True),
        # Shrinking gradients make v fall below its running maximum.
        {(2, 0): 0.05, (2, 1): 0.05, (3, 0): 0.5, (3, 1): 0.02},
        [],
    ),
    ("adam_zero_grad", "Adam", dict(), {}, [(2, 1), (3, 1)]),
    ("rmsprop_momentum", "RMSprop", dict(momentum=0.9), {}, [(3, 1)]),
    ("rmsprop_centered", "RMSprop", dict(centered=True), {}, []),
    (
        "rmsprop_centered_momentum_clipvalue",
        "RMSprop",
        dict(learning_rate=0.01, rho=0.8, momentum=0.5, centered=True, clipvalue=0.5),
        {},
        [],
    ),
    (
        "adagrad_global_clipnorm",
        "Adagrad",
        dict(learning_rate=0.01, initial_accumulator_value=0.0, epsilon=1e-6, global_clipnorm=1.0),
        {},
        [],
    ),
    ("adagrad_clipnorm_zero_grad", "Adagrad", dict(learning_rate=0.1, clipnorm=0.5), {}, [(2, 1)]),
]

SLOTS = {
    "SGD": lambda o: ["momentum"] if o.momentum != 0 else [],
    "Adam": lambda o: ["momentum", "velocity"] + (["velocity_hat"] if o.amsgrad else []),
    "RMSprop": lambda o: ["velocity"]
    + (["momentum"] if o.momentum > 0 else [])
    + (["average_gradient"] if o.centered else []),
    "Adagrad": lambda o: ["accumulator"],
}


def case_seed(name):
    return (BASE_SEED ^ zlib.crc32(name.encode())) & 0xFFFFFFFF


def tensor(name, a):
    a = np.asarray(a, dtype=np.float64)
    return {"name": name, "shape": list(a.shape), "dtype": "float64", "values": a.tolist()}


# ---------------------------------------------------------------- NumPy reference


def np_clip(grads, cfg):
    c = cfg.get("clipnorm")
    if c:
        out = []
        for g in grads:
            n = np.sqrt(np.sum(g * g))
            out.append(g * c / max(n, c))
        return out
    c = cfg.get("global_clipnorm")
    if c:
        n = np.sqrt(sum(np.sum(g * g) for g in grads))
        return [g * (c * min(1.0 / n, 1.0 / c)) for g in grads]
    v = cfg.get("clipvalue")
    if v:
        return [np.clip(g, -v, v) for g in grads]
    return grads


def np_run(cls, cfg, w, grad_steps):
    """Weights and slots after each step, by the formulas alone."""
    lr = cfg.get("learning_rate", 0.01 if cls == "SGD" else 0.001)
    w = [x.copy() for x in w]
    z = [np.zeros_like(x) for x in w]
    st = {}
    out = []
    for t, grads in enumerate(grad_steps, start=1):
        grads = np_clip(grads, cfg)
        for i, g in enumerate(grads):
            if cls == "SGD":
                mom = cfg.get("momentum", 0.0)
                if mom:
                    m = st.setdefault(("momentum", i), z[i].copy())
                    m[:] = mom * m - lr * g
                    w[i] += mom * m - lr * g if cfg.get("nesterov") else m
                else:
                    w[i] -= lr * g
            elif cls == "Adam":
                b1, b2 = cfg.get("beta_1", 0.9), cfg.get("beta_2", 0.999)
                eps = cfg.get("epsilon", 1e-7)
                m = st.setdefault(("momentum", i), z[i].copy())
                v = st.setdefault(("velocity", i), z[i].copy())
                alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
                m += (g - m) * (1 - b1)
                v += (g * g - v) * (1 - b2)
                vv = v
                if cfg.get("amsgrad"):
                    vh = st.setdefault(("velocity_hat", i), z[i].copy())
                    vh[:] = np.maximum(vh, v)
                    vv = vh
                w[i] -= alpha * m / (np.sqrt(vv) + eps)
            elif cls == "RMSprop":
                rho, eps = cfg.get("rho", 0.9), cfg.get("epsilon", 1e-7)
                mom = cfg.get("momentum", 0.0)
                v = st.setdefault(("velocity", i), z[i].copy())
                v[:] = rho * v + (1 - rho) * g * g
                if cfg.get("centered"):
                    a = st.setdefault(("average_gradient", i), z[i].copy())
                    a[:] = rho * a + (1 - rho) * g
                    den = v - a * a + eps
                else:
                    den = v + eps
                inc = lr * g / np.sqrt(den)
                if mom > 0:
                    m = st.setdefault(("momentum", i), z[i].copy())
                    m[:] = mom * m + inc
                    w[i] -= m
                else:
                    w[i] -= inc
            elif cls == "Adagrad":
                eps = cfg.get("epsilon", 1e-7)
                acc = st.setdefault(
                    ("accumulator", i), z[i] + cfg.get("initial_accumulator_value", 0.1)
                )
                acc += g * g
                w[i] -= lr * g / np.sqrt(acc + eps)
        out.append(([x.copy() for x in w], {k: v.copy() for k, v in st.items()}))
    return out


def close(a, b, rtol=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    return np.all(np.abs(a - b) <= 1e-300 + rtol * np.abs(b))


# ---------------------------------------------------------------- Keras cases


def make_case(name, cls, kwargs, scales, zeros):
    keras.config.set_floatx("float64")
    keras.backend.clear_session()
    seed = case_seed(name)
    rng = np.random.default_rng(seed)
    shapes = [(2, 3), (3,)]
    w_init = [rng.standard_normal(s) for s in shapes]
    grad_steps = []
    for step in range(1, STEPS + 1):
        grads = [rng.standard_normal(s) * scales.get((step, i), 1.0) for i, s in enumerate(shapes)]
        if step == 1:
            # As in the shared set: an exact zero and a tiny entry expose where epsilon goes.
            grads[0][0, 0] = 0.0
            grads[0][0, 1] = 1e-6
        for zs, zi in zeros:
            if zs == step:
                grads[zi] = np.zeros(shapes[zi])
        grad_steps.append(grads)

    opt = getattr(keras.optimizers, cls)(**kwargs)
    variables = [keras.Variable(w, name=f"w{i}", dtype="float64") for i, w in enumerate(w_init)]
    weights_after, slots_after = [], []
    slot_names = None
    for grads in grad_steps:
        opt.apply([keras.ops.convert_to_tensor(g, dtype="float64") for g in grads], variables)
        if slot_names is None:
            slot_names = SLOTS[cls](opt)
        weights_after.append([np.array(v.numpy(), dtype=np.float64) for v in variables])
        by_path = {v.path: np.array(v.numpy(), dtype=np.float64) for v in opt.variables}
        slots = []
        for i in range(len(variables)):
            for s in slot_names:
                path = f"{opt.name}/w{i}_{s}"
                slots.append((path, s, i, by_path[path]))
        slots_after.append(slots)
    expected_vars = 2 + len(slot_names) * len(variables)
    assert len(opt.variables) == expected_vars, (name, len(opt.variables))

    # Independent check.
    cfg = opt.get_config()
    ref = np_run(cls, cfg, w_init, grad_steps)
    for step, ((w_ref, st_ref), w_k, slots_k) in enumerate(zip(ref, weights_after, slots_after), 1):
        for i, (a, b) in enumerate(zip(w_k, w_ref)):
            if not close(a, b):
                sys.exit(f"{name}: step {step} w{i}: keras {a} numpy {b}")
        for path, s, i, a in slots_k:
            if not close(a, st_ref[(s, i)]):
                sys.exit(f"{name}: step {step} {path}: keras {a} numpy {st_ref[(s, i)]}")

    config = json.loads(json.dumps(keras.optimizers.serialize(opt)))
    config = {"class_name": config["class_name"], "config": config["config"]}
    described = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    zero_text = "".join(
        f" The gradient of w{i} at step {s} is all zeros." for s, i in zeros
    )
    return {
        "case": f"optimizer_{name}",
        "kind": "optimizer",
        "keras_version": keras.__version__,
        "backend": f"jax {jax.__version__} (CPU)",
        "dtype": "float64",
        "precision": PRECISION,
        "seed": seed,
        "description": f"{cls}({described}): {STEPS} update steps on 2 variables with the "
        f"given gradient sequence.{zero_text}",
        "config": config,
        "formula": FORMULAS[cls] + CLIP_FORMULA,
        "initial_weights": [tensor(f"w{i}", w) for i, w in enumerate(w_init)],
        "gradients": [
            {"step": s, "grads": [tensor(f"w{i}", g) for i, g in enumerate(gs)]}
            for s, gs in enumerate(grad_steps, 1)
        ],
        "zero_gradients": [{"step": s, "variable": f"w{i}"} for s, i in zeros],
        "weights_after_step": [
            {"step": s, "weights": [tensor(f"w{i}", w) for i, w in enumerate(ws)]}
            for s, ws in enumerate(weights_after, 1)
        ],
        "slots_after_step": [
            {"step": s, "slots": [tensor(path, a) for path, _, _, a in sl]}
            for s, sl in enumerate(slots_after, 1)
        ],
        "checked_against": "independent numpy float64 implementation of 'formula' (rtol 1e-12)",
    }


# ---------------------------------------------------------------- state sizes

STATE_OPTIMIZERS = [
    ("SGD", {}),
    ("SGD", dict(momentum=0.9)),
    ("SGD", dict(momentum=0.9, nesterov=True, clipnorm=1.0)),
    ("Adam", {}),
    ("Adam", dict(amsgrad=True)),
    ("Adam", dict(global_clipnorm=1.0)),
    ("RMSprop", {}),
    ("RMSprop", dict(momentum=0.9)),
    ("RMSprop", dict(centered=True)),
    ("RMSprop", dict(momentum=0.5, centered=True, clipvalue=0.5)),
    ("Adagrad", {}),
]

STATE_MODELS = [
    ("lstm_dense", "keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(2)])"),
    ("embedding_gru", "keras.Sequential([keras.Input((None,)), layers.Embedding(20, 6), layers.GRU(5)])"),
]


def state_sizes():
    keras.config.set_floatx("float32")
    rows = []
    for model_id, code in STATE_MODELS:
        for cls, kwargs in STATE_OPTIMIZERS:
            keras.backend.clear_session()
            model = eval(code)
            opt = getattr(keras.optimizers, cls)(**kwargs)
            model.compile(optimizer=opt, loss="mse")
            opt.build(model.trainable_variables)
            buf = io.StringIO()
            model.summary(print_fn=lambda s, **_: buf.write(s))
            line = next(
                ln.strip() for ln in buf.getvalue().splitlines() if "Optimizer params" in ln
            )
            rows.append(
                {
                    "model": model_id,
                    "code": code,
                    "optimizer": cls,
                    "kwargs": kwargs,
                    "name": opt.name,
                    "trainable_params": int(count_params(model.trainable_variables)),
                    "weight_tensors": len(model.trainable_variables),
                    "optimizer_variables": len(opt.variables),
                    "optimizer_params": int(count_params(opt.variables)),
                    "optimizer_variable_names": [v.path for v in opt.variables],
                    "summary_line": re.sub(r"\s+", " ", line),
                }
            )
    return {
        "case": "optimizer_state_sizes",
        "kind": "optimizer_state",
        "keras_version": keras.__version__,
        "backend": f"jax {jax.__version__} (CPU)",
        "dtype": "float32",
        "description": "len(optimizer.variables) and count_params(optimizer.variables) after "
        "optimizer.build(model.trainable_variables), and the 'Optimizer params' line of "
        "model.summary() (floatx float32). optimizer.variables holds the iteration counter "
        "and the learning rate (one scalar each) before the slot variables.",
        "cases": rows,
    }


def write(path, doc):
    with open(path, "w") as f:
        f.write(json.dumps(doc, indent=1) + "\n")
    print("wrote", os.path.relpath(path, ROOT))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    docs = [make_case(*c) for c in CASES]
    sizes = state_sizes()
    for doc in docs:
        write(os.path.join(OUT_DIR, f"{doc['case']}.json"), doc)
    write(os.path.join(OUT_DIR, "optimizer_state_sizes.json"), sizes)


if __name__ == "__main__":
    main()
