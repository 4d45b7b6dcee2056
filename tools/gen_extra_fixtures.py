#!/usr/bin/env python3
"""Generate extra Keras reference fixtures (float64) for the `rnn` crate.

Writes, under tests/fixtures/extra/ (relative to the repository root):

* one JSON file per case, in the same format as the shared fixtures
  (../shared/fixtures/keras/ beside the repository, see its README.md), plus a `dsl` key holding
  the model in the crate's macro syntax;
* an error case (`kind: "error"`) for a model Keras refuses to build;
* summaries_extra.json: `model.summary()` texts (80 columns float32, wide,
  80 columns float64) in the same structure as the shared summaries.json;
* index.json listing everything, with the verification results.

Run with a Python that has keras and jax installed, from any directory (paths
are relative to this script's repository):

    KERAS_BACKEND=jax python tools/gen_extra_fixtures.py [--shared DIR]

`--shared` names the shared Keras fixtures to verify against (default:
../shared/fixtures/keras beside the repository root).

Before generating, the script checks its own pipeline:

1. it recomputes every layer/model case of the shared set (if the shared
   directory exists) from the stored config, weights, input and loss weights
   and compares outputs, loss and gradients with the stored values;
2. it regenerates the shared summaries (a)-(h) from their `code` and compares
   them byte for byte;
3. every generated case is recomputed by an independent NumPy float64
   implementation of the forward pass (outputs compared), and its gradients
   are spot-checked with central finite differences of that NumPy forward.

Determinism: each case draws its numbers from numpy PCG64 seeded with
`case_seed(name)`; weights in Keras order (`model.weights`) from
uniform(-a, a), then the input (normal, or token ids), then one normal
`R_k` per output.
"""

import argparse
import json
import os
import sys
import zlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ["JAX_ENABLE_X64"] = "1"

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

# Keras' jax backend maps float64 -> float32 in its type-promotion table
# (keras.backend.result_type), even with x64 enabled, so some ops (tanh, ...)
# would quietly compute in float32. Turn that downcast off; nothing else changes.
from keras.src.backend.common import dtypes as _keras_dtypes  # noqa: E402

_keras_dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"

import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

BASE_SEED = 20250612
KERAS_VERSION = keras.__version__
BACKEND = f"jax {jax.__version__} (CPU)"
PRECISION = (
    f"Computed by Keras {KERAS_VERSION} (backend jax {jax.__version__}, CPU) with "
    "keras.config.floatx()='float64' and jax_enable_x64=True: every weight, input, "
    "output and gradient is IEEE float64, printed with Python repr (shortest "
    "round-trip). Keras' jax backend would otherwise downcast some float64 ops to "
    "float32 (its BIT64_TO_BIT32_DTYPE promotion table); the generator disables that "
    "mapping so every op runs in float64. Treat the numbers as ground truth."
)
LOSS_DEFINITION = (
    "L = sum_k sum(outputs[k] * loss_weights[k]) over every output k; grads are dL/dw "
    "for each weight (same order and layout as 'weights') and dL/dinput (null for "
    "integer inputs)."
)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The shared fixtures live beside the repository root; `--shared` overrides it.
SHARED_DIR = os.path.join(os.path.dirname(REPO), "shared", "fixtures", "keras")
OUT_DIR = os.path.join(REPO, "tests", "fixtures", "extra")


def case_seed(name):
    return (BASE_SEED * 1_000_003 + zlib.crc32(name.encode())) % (2**31 - 1)


# ---------------------------------------------------------------------------
# JSON output in the shared fixtures' layout
# ---------------------------------------------------------------------------


def compact(v):
    return json.dumps(v, separators=(",", ":"))


def tensor(name, a):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(np.float64)
        dtype = "float64"
    elif a.dtype.kind in "iu":
        a = a.astype(np.int32)
        dtype = "int32"
    elif a.dtype.kind == "b":
        dtype = "bool"
    else:
        raise TypeError(a.dtype)
    return {"name": name, "shape": list(a.shape), "dtype": dtype, "values": a.tolist()}


def dump_case(d):
    lines = []
    for k, v in d.items():
        if k in ("layers", "weights", "outputs", "loss_weights") and isinstance(v, list):
            body = ",\n".join("  " + compact(e) for e in v)
            lines.append(f' "{k}": [\n{body}\n ]')
        elif k == "grads":
            body = ",\n".join("    " + compact(e) for e in v["weights"])
            lines.append(
                f' "grads": {{\n  "weights": [\n{body}\n  ],\n  "input": {compact(v["input"])}\n }}'
            )
        else:
            lines.append(f' "{k}": {compact(v)}')
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------------------
# Running a Keras layer/model statelessly and differentiating it
# ---------------------------------------------------------------------------


def flat_outputs(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def keras_forward_backward(obj, weights, x, R, mask=None):
    """Return (L, outputs, weight grads, input grad or None) in float64.

    `stateless_call` runs `obj.call` directly, so `training=False` is passed only
    when the layer's call accepts it (models always do)."""
    # Every weight is trainable; the only non-trainable variables are Dropout's
    # seed-generator states (not weights), passed through unchanged.
    assert [v.path for v in obj.trainable_variables] == [v.path for v in obj.weights]
    assert all("seed_generator" in v.path for v in obj.non_trainable_variables)
    ntv = [v.value for v in obj.non_trainable_variables]
    Rj = [jnp.asarray(r) for r in R]

    def f(ws, xx):
        kw = {"training": False} if getattr(obj, "_call_has_training_arg", True) else {}
        if mask is not None:
            kw["mask"] = mask
        out, _ = obj.stateless_call(ws, ntv, xx, **kw)
        outs = flat_outputs(out)
        assert len(outs) == len(Rj), (len(outs), len(Rj))
        return sum(jnp.sum(o * r) for o, r in zip(outs, Rj)), outs

    ws = [jnp.asarray(w) for w in weights]
    is_int = np.asarray(x).dtype.kind in "iu"
    argnums = 0 if is_int else (0, 1)
    (L, outs), g = jax.value_and_grad(f, argnums=argnums, has_aux=True)(ws, jnp.asarray(x))
    gw, gx = (g, None) if is_int else g
    outs = [np.asarray(o) for o in outs]
    gw = [np.asarray(a) for a in gw]
    for a in outs + gw + ([] if gx is None else [np.asarray(gx)]):
        assert a.dtype == np.float64, a.dtype
    return float(L), outs, gw, (None if gx is None else np.asarray(gx))


def mixed_err(got, want):
    """max |got - want| / (1e-12 + |want|) style error robust to exact zeros."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if want.size == 0:
        return 0.0
    return float(np.max(np.abs(got - want) / (1e-12 + np.abs(want))))


# ---------------------------------------------------------------------------
# 1. Verification against the shared fixtures
# ---------------------------------------------------------------------------


def arr(t):
    return np.array(t["values"], dtype=t["dtype"])


def verify_shared(directory=SHARED_DIR):
    """Recompute every layer/model case listed in directory/index.json from its
    stored config, weights, input and loss weights; return a report dict."""
    idx = json.load(open(os.path.join(directory, "index.json")))
    rows = []
    worst = {"outputs": 0.0, "grads": 0.0, "loss": 0.0}
    for name in idx["cases"]:
        d = json.load(open(os.path.join(directory, name + ".json")))
        if d["kind"] not in ("layer", "model"):
            continue
        keras.backend.clear_session()
        obj = keras.saving.deserialize_keras_object(d["config"])
        x = arr(d["input"])
        if not obj.built:
            obj.build((None,) + x.shape[1:])
        mask = None if d["mask"] is None else jnp.asarray(arr(d["mask"]))
        assert len(obj.weights) == len(d["weights"])
        for v, w in zip(obj.weights, d["weights"]):
            # A deserialized Sequential has no "sequential/" prefix in its paths.
            assert w["name"].endswith(v.path), (v.path, w["name"])
        L, outs, gw, gx = keras_forward_backward(
            obj, [arr(w) for w in d["weights"]], x, [arr(t) for t in d["loss_weights"]], mask=mask
        )
        eo = max([mixed_err(o, arr(t)) for o, t in zip(outs, d["outputs"])])
        eg = max([mixed_err(g, arr(t)) for g, t in zip(gw, d["grads"]["weights"])] + [0.0])
        if gx is not None:
            eg = max(eg, mixed_err(gx, arr(d["grads"]["input"])))
        el = abs(L - d["loss_value"]) / abs(d["loss_value"])
        bitexact = all(
            np.array_equal(o, arr(t)) for o, t in zip(outs, d["outputs"])
        ) and all(np.array_equal(g, arr(t)) for g, t in zip(gw, d["grads"]["weights"]))
        rows.append({"case": name, "outputs": eo, "grads": eg, "loss": el, "bit_exact": bitexact})
        worst["outputs"] = max(worst["outputs"], eo)
        worst["grads"] = max(worst["grads"], eg)
        worst["loss"] = max(worst["loss"], el)
    n_exact = sum(r["bit_exact"] for r in rows)
    lstm = next((r for r in rows if r["case"] == "lstm_seq_state"), None)
    return {
        "cases_recomputed": len(rows),
        "bit_exact_cases": n_exact,
        "max_rel_err_outputs": worst["outputs"],
        "max_rel_err_grads": worst["grads"],
        "max_rel_err_loss": worst["loss"],
        "lstm_seq_state": lstm,
        "not_bit_exact": [r for r in rows if not r["bit_exact"]],
        "metric": "max |got - want| / (1e-12 + |want|) over every element",
        "rows": rows,
    }


# ---------------------------------------------------------------------------
# 2. Independent NumPy float64 reference (forward pass only)
# ---------------------------------------------------------------------------

SATURATION = {"hard_sigmoid_low": 0, "hard_sigmoid_high": 0, "hard_sigmoid_mid": 0,
              "relu_zero": 0, "relu_pos": 0}


def np_act(name, x, count=False):
    if name == "linear":
        return x
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "relu":
        if count:
            SATURATION["relu_zero"] += int(np.sum(x <= 0))
            SATURATION["relu_pos"] += int(np.sum(x > 0))
        return np.maximum(x, 0.0)
    if name == "hard_sigmoid":
        if count:
            SATURATION["hard_sigmoid_low"] += int(np.sum(x <= -3))
            SATURATION["hard_sigmoid_high"] += int(np.sum(x >= 3))
            SATURATION["hard_sigmoid_mid"] += int(np.sum(np.abs(x) < 3))
        return np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    if name == "softmax":
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)
    raise ValueError(name)


def np_rnn(layer, ws, x, mask, zero_output_for_mask, count=False):
    """One plain recurrent layer (SimpleRNN/LSTM/GRU). Returns list of outputs."""
    cls = type(layer).__name__
    cell = layer.cell
    H = cell.units
    act, ract = cell.activation.__name__, getattr(cell, "recurrent_activation", None)
    ract = ract.__name__ if ract is not None else None
    W, U = ws[0], ws[1]
    b = ws[2] if cell.use_bias else None
    B, T, _ = x.shape
    h = np.zeros((B, H))
    c = np.zeros((B, H))
    order = range(T - 1, -1, -1) if layer.go_backwards else range(T)
    outs = []
    prev = np.zeros((B, H))
    for t in order:
        xt = x[:, t]
        if cls == "SimpleRNN":
            z = xt @ W + h @ U + (b if b is not None else 0.0)
            hn, cn = np_act(act, z, count), c
        elif cls == "LSTM":
            z = xt @ W + h @ U + (b if b is not None else 0.0)
            i = np_act(ract, z[:, :H], count)
            f = np_act(ract, z[:, H:2 * H], count)
            g = np_act(act, z[:, 2 * H:3 * H], count)
            o = np_act(ract, z[:, 3 * H:], count)
            cn = f * c + i * g
            hn = o * np_act(act, cn, count)
        elif cls == "GRU":
            if cell.reset_after:
                bx = b[0] if b is not None else 0.0
                bh = b[1] if b is not None else 0.0
                xx = xt @ W + bx
                hh_ = h @ U + bh
                zg = np_act(ract, xx[:, :H] + hh_[:, :H], count)
                r = np_act(ract, xx[:, H:2 * H] + hh_[:, H:2 * H], count)
                hh = np_act(act, xx[:, 2 * H:] + r * hh_[:, 2 * H:], count)
            else:
                xx = xt @ W + (b if b is not None else 0.0)
                zg = np_act(ract, xx[:, :H] + h @ U[:, :H], count)
                r = np_act(ract, xx[:, H:2 * H] + h @ U[:, H:2 * H], count)
                hh = np_act(act, xx[:, 2 * H:] + (r * h) @ U[:, 2 * H:], count)
            hn, cn = zg * h + (1.0 - zg) * hh, c
        else:
            raise ValueError(cls)
        if mask is None:
            h, c, out = hn, cn, hn
        else:
            m = mask[:, t][:, None]
            out = np.where(m, hn, 0.0 if zero_output_for_mask else h)
            h, c = np.where(m, hn, h), np.where(m, cn, c)
        outs.append(out)
        prev = out
    seq = np.stack(outs, axis=1)  # processing order (go_backwards is not re-flipped)
    y = seq if layer.return_sequences else prev
    res = [y]
    if layer.return_state:
        res += [h, c] if cls == "LSTM" else [h]
    return res


def np_model(model, weights, x, count=False):
    """Forward pass of a Sequential model with NumPy. Returns list of outputs."""
    ws = list(weights)
    pos = 0
    mask = None
    y = np.asarray(x)
    outs = None
    for layer in model.layers:
        n = len(layer.weights)
        lw, pos = ws[pos:pos + n], pos + n
        cls = type(layer).__name__
        assert outs is None, "only the last layer may return several tensors"
        if cls == "Embedding":
            ids = y
            y = lw[0][ids]
            mask = ids != 0 if layer.mask_zero else None
        elif cls in ("Dense", "TimeDistributed"):
            dense = layer.layer if cls == "TimeDistributed" else layer
            assert type(dense).__name__ == "Dense"
            z = y @ lw[0] + (lw[1] if dense.use_bias else 0.0)
            y = np_act(dense.activation.__name__, z, count)
        elif cls == "Dropout":
            pass
        elif cls == "GlobalAveragePooling1D":
            if mask is None:
                y = y.mean(axis=1)
            else:
                m = mask[:, :, None].astype(np.float64)
                y = (y * m).sum(axis=1) / m.sum(axis=1)
            mask = None
        elif cls in ("SimpleRNN", "LSTM", "GRU"):
            res = np_rnn(layer, lw, y, mask, layer.zero_output_for_mask, count)
            mask = mask if layer.return_sequences else None
            if layer.return_state:
                outs = res
            y = res[0]
        elif cls == "Bidirectional":
            fl, bl = layer.forward_layer, layer.backward_layer
            nf = len(fl.weights)
            rf = np_rnn(fl, lw[:nf], y, mask, fl.zero_output_for_mask, count)
            rb = np_rnn(bl, lw[nf:], y, mask, bl.zero_output_for_mask, count)
            yf, yb = rf[0], rb[0]
            if layer.return_sequences:
                yb = yb[:, ::-1]
            mm = layer.merge_mode
            if mm == "concat":
                merged = [np.concatenate([yf, yb], axis=-1)]
            elif mm == "sum":
                merged = [yf + yb]
            elif mm == "ave":
                merged = [(yf + yb) / 2.0]
            elif mm == "mul":
                merged = [yf * yb]
            elif mm is None:
                merged = [yf, yb]
            else:
                raise ValueError(mm)
            mask = mask if layer.return_sequences else None
            if layer.return_state or mm is None:
                outs = merged + (rf[1:] + rb[1:] if layer.return_state else [])
            y = merged[0]
        else:
            raise ValueError(cls)
    assert pos == len(ws)
    return outs if outs is not None else [y]


def finite_difference_check(model, weights, x, R, gw, gx, rng, per_tensor=4, h=1e-4):
    """Fourth-order central differences of the NumPy forward at a few entries per
    tensor. Returns max |fd - grad| / (1e-10 + 1e-7 |grad|): <= 1 means the
    gradient agrees to 1e-7 relative (or 1e-10 absolute for gradients near 0,
    where the differences are dominated by rounding noise)."""
    def loss(ws, xx):
        return sum(float(np.sum(o * r)) for o, r in zip(np_model(model, ws, xx), R))

    worst = 0.0
    targets = [("w", i) for i in range(len(weights))]
    if gx is not None:
        targets.append(("x", None))
    for kind, i in targets:
        base = weights[i] if kind == "w" else x
        grad = gw[i] if kind == "w" else gx
        flat_idx = rng.choice(base.size, size=min(per_tensor, base.size), replace=False)
        for fi in flat_idx:
            idx = np.unravel_index(fi, base.shape)
            vals = {}
            for s in (2, 1, -1, -2):
                pert = base.copy()
                pert[idx] += s * h
                if kind == "w":
                    ws = list(weights)
                    ws[i] = pert
                    vals[s] = loss(ws, x)
                else:
                    vals[s] = loss(weights, pert)
            fd = (-vals[2] + 8 * vals[1] - 8 * vals[-1] + vals[-2]) / (12 * h)
            worst = max(worst, abs(fd - grad[idx]) / (1e-10 + 1e-7 * abs(grad[idx])))
    return float(worst)


# ---------------------------------------------------------------------------
# 3. Case definitions
# ---------------------------------------------------------------------------


def pad_ids(rng, vocab, rows):
    """rows: list of strings over {'x', '0'}; 'x' = random id in 1..vocab-1."""
    out = np.zeros((len(rows), len(rows[0])), dtype=np.int32)
    for r, pattern in enumerate(rows):
        for t, ch in enumerate(pattern):
            out[r, t] = 0 if ch == "0" else rng.integers(1, vocab)
    return out


def output_roles(last):
    cls = type(last).__name__
    if cls == "Bidirectional":
        roles = ["output"] if last.merge_mode is not None else ["forward_output", "backward_output"]
        if last.return_state:
            st = ["state_h", "state_c"] if type(last.forward_layer).__name__ == "LSTM" else ["state_h"]
            roles += ["forward_" + s for s in st] + ["backward_" + s for s in st]
        return roles
    if cls in ("SimpleRNN", "LSTM", "GRU") and last.return_state:
        return ["output", "state_h"] + (["state_c"] if cls == "LSTM" else [])
    return ["output"]


def layer_output_shape(layer):
    out = layer.output
    if isinstance(out, (list, tuple)):
        return [list(t.shape) for t in out]
    return list(out.shape)


E = "Embedding(11, 3, mask_zero = true, input_length = {T})"

CASES = [
    dict(
        name="embedding_mask_gru_prepad_seq_state",
        int_vocab=11, rows=["0xxxx", "00xxx", "000xx"],
        build=lambda: [layers.Embedding(11, 3, mask_zero=True),
                       layers.GRU(4, return_sequences=True, return_state=True)],
        dsl=E.format(T=5) + " => GRU(4, return_sequences = true, return_state = true)",
        description=(
            "Embedding(11, 3, mask_zero=True) -> GRU(4, return_sequences=True, return_state=True) "
            "(reset_after=True) with PRE-padded rows (row r has r+1 leading 0 ids). Masked steps keep "
            "the previous state and emit the previous output, so the leading masked steps emit zeros "
            "(the initial state); state_h equals the last sequence output. Masked ids get zero "
            "embedding gradient."),
    ),
    dict(
        name="embedding_mask_gru_reset_before_postpad_last",
        int_vocab=11, rows=["xxxx0", "xxx00", "xxxxx"],
        build=lambda: [layers.Embedding(11, 3, mask_zero=True), layers.GRU(4, reset_after=False)],
        dsl=E.format(T=5) + " => GRU(4, reset_after = false)",
        description=(
            "Embedding(11, 3, mask_zero=True) -> GRU(4, reset_after=False) (last output) with "
            "POST-padded rows (row 0: 1 trailing 0, row 1: 2 trailing 0s, row 2: none). Trailing "
            "masked steps keep the state, so the output is the state after the last valid token."),
    ),
    dict(
        name="embedding_mask_simple_rnn_go_backwards_seq",
        int_vocab=11, rows=["00xxxx", "xxxx00", "xx0xxx"],
        build=lambda: [layers.Embedding(11, 3, mask_zero=True),
                       layers.SimpleRNN(4, go_backwards=True, return_sequences=True)],
        dsl="Embedding(11, 3, mask_zero = true, input_length = 6) => "
            "SimpleRNN(4, return_sequences = true, go_backwards = true)",
        description=(
            "Embedding(11, 3, mask_zero=True) -> SimpleRNN(4, go_backwards=True, return_sequences=True) "
            "with mixed padding: row 0 PRE-padded (ids 0 at t=0,1), row 1 POST-padded (t=4,5), row 2 has "
            "a single 0 inside (t=2). The input and its mask are read from t=T-1 down to 0 and the output "
            "is in PROCESSING order (output[:, k] is the state after reading input[:, T-1-k]); it is not "
            "re-flipped. A masked step keeps the state and emits the previous output: row 1 (post-padded) "
            "starts with two zero outputs (processing begins on the padding), row 0 (pre-padded) repeats "
            "its output at k=4,5, row 2 repeats output[:, 2] at k=3."),
    ),
    dict(
        name="embedding_mask_bidir_gru_sum_last",
        int_vocab=11, rows=["00xxxx", "xxxx00", "xxxxxx"],
        build=lambda: [layers.Embedding(11, 3, mask_zero=True),
                       layers.Bidirectional(layers.GRU(3), merge_mode="sum")],
        dsl="Embedding(11, 3, mask_zero = true, input_length = 6) => "
            "Bidirectional(GRU(3), merge_mode = sum)",
        description=(
            "Embedding(11, 3, mask_zero=True) -> Bidirectional(GRU(3), merge_mode='sum'), last output. "
            "Rows: pre-padded (2), post-padded (2), unpadded. The forward half is the state after the "
            "last valid token, the backward half the state after reading the first valid token (padding "
            "is skipped in both directions); output = forward + backward."),
    ),
    dict(
        name="embedding_mask_bidir_simple_rnn_ave_seq_state",
        int_vocab=11, rows=["0xxxx", "xxx00", "xxxxx"],
        build=lambda: [layers.Embedding(11, 3, mask_zero=True),
                       layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True, return_state=True),
                                            merge_mode="ave")],
        dsl=E.format(T=5) + " => Bidirectional(SimpleRNN(3, return_sequences = true, "
            "return_state = true), merge_mode = ave)",
        description=(
            "Embedding(11, 3, mask_zero=True) -> Bidirectional(SimpleRNN(3, return_sequences=True, "
            "return_state=True), merge_mode='ave'). Outputs: [output, forward_state_h, backward_state_h]. "
            "Rows: pre-padded (1), post-padded (2), unpadded. Inside Bidirectional with return_sequences "
            "both directions emit ZEROS at masked steps (zero_output_for_mask forced on), so the merged "
            "output is exactly 0 there; the states are those of the last valid step of each direction."),
    ),
    dict(
        name="embedding_mask_dense_gap",
        int_vocab=11, rows=["00xxx", "xxx0x", "xxxx0"],
        build=lambda: [layers.Embedding(11, 3, mask_zero=True), layers.Dense(4, activation="relu"),
                       layers.GlobalAveragePooling1D(), layers.Dense(2, activation="softmax")],
        dsl=E.format(T=5) + " => Dense(4, relu) => GlobalAveragePooling1D => Dense(2, softmax)",
        description=(
            "Embedding(11, 3, mask_zero=True) -> Dense(4, relu) -> GlobalAveragePooling1D -> "
            "Dense(2, softmax). Dense passes the mask through unchanged and the pooling consumes it: "
            "pooled = sum_t(mask * x) / sum_t(mask), i.e. the mean over valid steps only. No row is fully "
            "masked. Masked steps (and id 0) get zero gradient."),
    ),
    dict(
        name="embedding_mask_lstm_all_masked_row",
        int_vocab=11, rows=["xxxxx", "00000", "00xxx"],
        build=lambda: [layers.Embedding(11, 3, mask_zero=True),
                       layers.LSTM(3, return_sequences=True, return_state=True)],
        dsl=E.format(T=5) + " => LSTM(3, return_sequences = true, return_state = true)",
        description=(
            "Embedding(11, 3, mask_zero=True) -> LSTM(3, return_sequences=True, return_state=True); "
            "row 1 is entirely 0 (fully masked): its outputs, state_h and state_c are exactly zero and "
            "it contributes nothing to any gradient. Row 2 is pre-padded by 2, row 0 unpadded."),
    ),
    dict(
        name="simple_rnn_softmax_seq",
        input_shape=(5, 3), batch=2,
        build=lambda: [layers.SimpleRNN(4, activation="softmax", return_sequences=True)],
        dsl="Input(5, 3) => SimpleRNN(4, activation = softmax, return_sequences = true)",
        description=(
            "SimpleRNN(4, activation='softmax', return_sequences=True): h_t = softmax(x_t W + h_{t-1} U + b) "
            "over the units axis (every output row sums to 1)."),
    ),
    dict(
        name="lstm_relu_hard_sigmoid_seq",
        input_shape=(5, 3), batch=3, amp=1.2,
        build=lambda: [layers.LSTM(3, activation="relu", recurrent_activation="hard_sigmoid",
                                   return_sequences=True)],
        dsl="Input(5, 3) => LSTM(3, activation = relu, recurrent_activation = hard_sigmoid, "
            "return_sequences = true)",
        description=(
            "LSTM(3, activation='relu', recurrent_activation='hard_sigmoid', return_sequences=True), "
            "weights uniform(-1.2, 1.2). hard_sigmoid(x) = clip(x/6 + 0.5, 0, 1) (Keras 3); {SAT}. A "
            "saturated gate has zero derivative; relu is used both on the candidate and on c_t in "
            "h_t = o * relu(c_t)."),
        count=True,
    ),
    dict(
        name="gru_hard_sigmoid_go_backwards_state",
        input_shape=(5, 2), batch=2, amp=1.5,
        build=lambda: [layers.GRU(3, recurrent_activation="hard_sigmoid", go_backwards=True,
                                  return_state=True)],
        dsl="Input(5, 2) => GRU(3, recurrent_activation = hard_sigmoid, return_state = true, "
            "go_backwards = true)",
        description=(
            "GRU(3, recurrent_activation='hard_sigmoid', go_backwards=True, return_state=True) "
            "(reset_after=True), weights uniform(-1.5, 1.5). Outputs [output, state_h]: both are the state "
            "after reading input[:, 0] (the sequence is read from t=T-1 down to 0). {SAT}."),
        count=True,
    ),
    dict(
        name="time_distributed_lstm_softmax",
        input_shape=(None, 5), time=6, batch=2,
        build=lambda: [layers.LSTM(6, return_sequences=True),
                       layers.TimeDistributed(layers.Dense(5, activation="softmax"))],
        dsl="Input(_, 5) => LSTM(6, return_sequences = true) => TimeDistributed(Dense(5, softmax))",
        description=(
            "Input(shape=(None, 5)) run on time 6 -> LSTM(6, return_sequences=True) -> "
            "TimeDistributed(Dense(5, activation='softmax')). The TimeDistributed weights are named "
            "after the wrapped layer: sequential/time_distributed/dense/{kernel,bias}."),
    ),
    dict(
        name="dense_dropout_gru_stack",
        input_shape=(6, 3), batch=2,
        build=lambda: [layers.Dense(4, activation="relu"), layers.Dropout(0.3),
                       layers.GRU(3, reset_after=False), layers.Dense(2, activation="softmax")],
        dsl="Input(6, 3) => Dense(4, relu) => Dropout(0.3) => GRU(3, reset_after = false) => "
            "Dense(2, softmax)",
        description=(
            "Input(6, 3) -> Dense(4, relu) (per time step) -> Dropout(0.3) -> GRU(3, reset_after=False) "
            "-> Dense(2, softmax), inference mode: Dropout is the identity (no rescaling)."),
    ),
    dict(
        name="bidir_gru_reset_before_none_state_seq",
        input_shape=(5, 2), batch=2,
        build=lambda: [layers.Bidirectional(
            layers.GRU(3, reset_after=False, return_sequences=True, return_state=True), merge_mode=None)],
        dsl="Input(5, 2) => Bidirectional(GRU(3, reset_after = false, return_sequences = true, "
            "return_state = true), merge_mode = none)",
        description=(
            "Bidirectional(GRU(3, reset_after=False, return_sequences=True, return_state=True), "
            "merge_mode=None). Outputs [forward_output, backward_output, forward_state_h, "
            "backward_state_h]; backward_output is flipped back to input time order (backward_output[:, t] "
            "refers to input step t), backward_state_h = backward_output[:, 0]."),
    ),
    dict(
        name="bidir_lstm_no_bias_mul_last",
        input_shape=(5, 3), batch=2,
        build=lambda: [layers.Bidirectional(layers.LSTM(3, use_bias=False), merge_mode="mul")],
        dsl="Input(5, 3) => Bidirectional(LSTM(3, use_bias = false), merge_mode = mul)",
        description=(
            "Bidirectional(LSTM(3, use_bias=False), merge_mode='mul'), last output: forward last h "
            "(after input[:, T-1]) times backward last h (after input[:, 0]). No bias weights: "
            "4 weights in total (kernel, recurrent_kernel per direction)."),
    ),
    dict(
        name="dense_no_bias_tanh",
        input_shape=(4,), batch=3,
        build=lambda: [layers.Dense(3, activation="tanh", use_bias=False)],
        dsl="Input(4) => Dense(3, tanh, use_bias = false)",
        description="Input(shape=(4,)) (not a sequence) -> Dense(3, tanh, use_bias=False): y = tanh(x W).",
    ),
    dict(
        name="lstm_long_sequence",
        input_shape=(None, 3), time=40, batch=3, amp=0.5,
        build=lambda: [layers.LSTM(5)],
        dsl="Input(_, 3) => LSTM(5)",
        description=(
            "Input(shape=(None, 3)) -> LSTM(5), last output, on batch 3 x time 40, weights "
            "uniform(-0.5, 0.5): checks accumulation over a long sequence (BPTT through 40 steps)."),
    ),
    dict(
        name="stacked_bidir_gru_lstm_masked",
        int_vocab=12, rows=["00xxxx", "xxxx00", "xxxxxx"],
        build=lambda: [layers.Embedding(12, 4, mask_zero=True),
                       layers.Bidirectional(layers.GRU(3, return_sequences=True)),
                       layers.LSTM(2, return_sequences=True),
                       layers.TimeDistributed(layers.Dense(2, activation="sigmoid"))],
        dsl="Embedding(12, 4, mask_zero = true, input_length = 6) => "
            "Bidirectional(GRU(3, return_sequences = true)) => LSTM(2, return_sequences = true) => "
            "TimeDistributed(Dense(2, sigmoid))",
        description=(
            "Embedding(12, 4, mask_zero=True) -> Bidirectional(GRU(3, return_sequences=True)) -> "
            "LSTM(2, return_sequences=True) -> TimeDistributed(Dense(2, sigmoid)). Rows: pre-padded (2), "
            "post-padded (2), unpadded. The mask flows through the whole stack: the Bidirectional emits "
            "zeros at masked steps, the LSTM (zero_output_for_mask=False) emits its previous output "
            "there (zeros before the first valid token, a repeat of the last valid output after it), and "
            "TimeDistributed(Dense) is applied to that, so masked positions of the final output are NOT "
            "zero: sigmoid(b) on leading padding, a repeat of the last valid step on trailing padding."),
    ),
]

ERROR_CASES = [
    dict(
        name="bidir_lstm_inner_go_backwards_concat_seq",
        code="keras.Sequential([keras.Input(shape=(5, 3)), layers.Bidirectional("
             "layers.LSTM(3, return_sequences=True, go_backwards=True))])",
        dsl="Input(5, 3) => Bidirectional(LSTM(3, return_sequences = true, go_backwards = true))",
    ),
]


def build_model(spec):
    keras.backend.clear_session()
    if "int_vocab" in spec:
        T = len(spec["rows"][0])
        inp = keras.Input(shape=(T,), dtype="int32")
    else:
        inp = keras.Input(shape=spec["input_shape"])
    return keras.Sequential([inp] + spec["build"]())


def semantic_checks(name, x, outs):
    """Assertions for the claims made in the descriptions."""
    o = outs
    if name == "embedding_mask_gru_prepad_seq_state":
        for r in range(3):
            assert np.all(o[0][r, :r + 1] == 0.0)
        assert np.array_equal(o[1], o[0][:, -1])
    if name == "embedding_mask_simple_rnn_go_backwards_seq":
        assert np.all(o[0][1, :2] == 0.0) and np.all(o[0][1, 2] != 0.0)
        assert np.array_equal(o[0][0, 4], o[0][0, 3]) and np.array_equal(o[0][0, 5], o[0][0, 3])
        assert np.array_equal(o[0][2, 3], o[0][2, 2])
    if name == "embedding_mask_bidir_simple_rnn_ave_seq_state":
        assert np.all(o[0][x == 0] == 0.0)
    if name == "embedding_mask_lstm_all_masked_row":
        assert all(np.all(a[1] == 0.0) for a in o)
        assert np.all(o[0][2, :2] == 0.0)
    if name == "simple_rnn_softmax_seq":
        assert np.allclose(o[0].sum(-1), 1.0, rtol=0, atol=1e-14)
    if name == "bidir_gru_reset_before_none_state_seq":
        assert np.array_equal(o[2], o[0][:, -1]) and np.array_equal(o[3], o[1][:, 0])
    if name == "gru_hard_sigmoid_go_backwards_state":
        assert np.array_equal(o[0], o[1])
    if name == "stacked_bidir_gru_lstm_masked":
        # trailing padding (row 1, t=4,5) repeats the last valid step's output
        assert np.array_equal(o[0][1, 4], o[0][1, 3]) and np.array_equal(o[0][1, 5], o[0][1, 3])
        assert np.array_equal(o[0][0, 0], o[0][0, 1])


def run_case(spec):
    name = spec["name"]
    seed = case_seed(name)
    rng = np.random.default_rng(seed)
    model = build_model(spec)
    amp = spec.get("amp", 0.7)
    weights = [rng.uniform(-amp, amp, size=tuple(v.shape)) for v in model.weights]
    for v, w in zip(model.weights, weights):
        v.assign(w)
    if "int_vocab" in spec:
        x = pad_ids(rng, spec["int_vocab"], spec["rows"])
    else:
        shape = spec["input_shape"]
        if len(shape) == 2 and shape[0] is None:
            shape = (spec["time"], shape[1])
        x = rng.standard_normal((spec["batch"],) + tuple(shape))
    out_spec = model.outputs
    roles = output_roles(model.layers[-1])
    assert len(roles) == len(out_spec), (roles, out_spec)
    # Loss weights need concrete shapes: run once to get them.
    probe, _ = model.stateless_call([v.value for v in model.trainable_variables],
                                    [v.value for v in model.non_trainable_variables],
                                    jnp.asarray(x), training=False)
    probe = flat_outputs(probe)
    R = [rng.standard_normal(tuple(p.shape)) for p in probe]
    L, outs, gw, gx = keras_forward_backward(model, weights, x, R)

    # Independent checks.
    for k in SATURATION:
        SATURATION[k] = 0
    ref = np_model(model, weights, x, count=spec.get("count", False))
    sat = dict(SATURATION)
    assert len(ref) == len(outs)
    fwd_err = max(mixed_err(o, r) for o, r in zip(outs, ref))
    fd_err = finite_difference_check(model, weights, x, R, gw, gx, np.random.default_rng(seed + 1))
    semantic_checks(name, x, outs)

    description = spec["description"]
    if "{SAT}" in description:
        parts = [f"{sat['hard_sigmoid_low']} gate pre-activations are <= -3 (gate = 0) and "
                 f"{sat['hard_sigmoid_high']} are >= 3 (gate = 1), out of "
                 f"{sat['hard_sigmoid_low'] + sat['hard_sigmoid_high'] + sat['hard_sigmoid_mid']}"]
        if sat["relu_zero"] + sat["relu_pos"]:
            parts.append(f"relu clips {sat['relu_zero']} of {sat['relu_zero'] + sat['relu_pos']} "
                         "pre-activations to 0")
        description = description.replace("{SAT}", "; ".join(parts))
        assert sat["hard_sigmoid_low"] > 0 and sat["hard_sigmoid_high"] > 0, sat

    config = keras.saving.serialize_keras_object(model)
    case = {
        "case": name,
        "kind": "model",
        "keras_version": KERAS_VERSION,
        "backend": BACKEND,
        "dtype": "float64",
        "precision": PRECISION,
        "seed": seed,
        "description": description,
        "dsl": spec["dsl"],
        "config": json.loads(json.dumps(config)),
        "layers": [
            {"name": l.name, "class_name": type(l).__name__, "output_shape": layer_output_shape(l),
             "params": int(l.count_params())}
            for l in model.layers
        ],
        "total_params": int(model.count_params()),
        "call_kwargs": {"training": False, "mask": None},
        "input": tensor("input", x),
        "mask": None,
        "weight_init": f"uniform(-{amp}, {amp}), fixed seed",
        "weights": [tensor(v.path, w) for v, w in zip(model.weights, weights)],
        "outputs": [tensor(r, o) for r, o in zip(roles, outs)],
        "loss_definition": LOSS_DEFINITION,
        "loss_weights": [tensor(r, a) for r, a in zip(roles, R)],
        "loss_value": L,
        "grads": {
            "weights": [tensor(v.path, g) for v, g in zip(model.weights, gw)],
            "input": None if gx is None else tensor("input", gx),
        },
    }
    write(os.path.join(OUT_DIR, name + ".json"), dump_case(case))
    return {"case": name, "numpy_forward_rel_err": fwd_err, "finite_diff_rel_err": fd_err,
            "saturation": sat if spec.get("count") else None,
            "weights": [v.path for v in model.weights], "roles": roles}


def run_error_case(spec):
    keras.backend.clear_session()
    try:
        eval(spec["code"], {"keras": keras, "layers": layers})
    except Exception as e:  # noqa: BLE001
        err = {"type": type(e).__name__, "message": str(e)}
    else:
        raise AssertionError(spec["name"] + " unexpectedly built")
    case = {
        "case": spec["name"],
        "kind": "error",
        "keras_version": KERAS_VERSION,
        "backend": BACKEND,
        "dtype": "float64",
        "seed": None,
        "description": (
            "Bidirectional around a layer that itself has go_backwards=True. Keras 3 builds the forward "
            "copy from the layer's config unchanged (go_backwards=True) and the backward copy with "
            "go_backwards forced to True (it does NOT toggle it), so both copies read backwards and "
            "Bidirectional._verify_layer_config raises a ValueError in the constructor: the layer cannot "
            "be created at all (standalone or in a Sequential). The rnn macro should reject it too. "
            "(For reference, not stored as numbers: with an explicit "
            "backward_layer=LSTM(3, return_sequences=True) Keras does build it; the forward half is then "
            "the go_backwards copy's output in its processing order, not re-flipped, and the backward "
            "half, which read forwards, is still flipped, so both halves come out in reversed time "
            "order.)"),
        "dsl": spec["dsl"],
        "code": spec["code"],
        "error": err,
    }
    write(os.path.join(OUT_DIR, spec["name"] + ".json"), dump_case(case))
    return err


# ---------------------------------------------------------------------------
# 4. Summaries
# ---------------------------------------------------------------------------

SUMMARY_MODELS = [
    ("s1", "LSTM(3) -> Dense(2, softmax) on (10, 5)",
     "keras.Sequential([keras.Input(shape=(10, 5)), layers.LSTM(3), layers.Dense(2, activation='softmax')])",
     "Input(10, 5) => LSTM(3) => Dense(2, softmax)"),
    ("s2", "Embedding(11, 3, mask_zero) on (5,) -> LSTM(4, rs, return_state) (multi-output)",
     "keras.Sequential([keras.Input(shape=(5,), dtype='int32'), layers.Embedding(11, 3, mask_zero=True), "
     "layers.LSTM(4, return_sequences=True, return_state=True)])",
     "Embedding(11, 3, mask_zero = true, input_length = 5) => "
     "LSTM(4, return_sequences = true, return_state = true)"),
    ("s3", "Bidirectional(LSTM(4, rs, return_state), merge_mode=None) on (None, 3)",
     "keras.Sequential([keras.Input(shape=(None, 3)), layers.Bidirectional(layers.LSTM(4, "
     "return_sequences=True, return_state=True), merge_mode=None)])",
     "Input(_, 3) => Bidirectional(LSTM(4, return_sequences = true, return_state = true), merge_mode = none)"),
    ("s4", "Dense(5) -> TimeDistributed(Dense(2, softmax)) -> Dropout(0.2) -> GlobalAveragePooling1D on (6, 3)",
     "keras.Sequential([keras.Input(shape=(6, 3)), layers.Dense(5), layers.TimeDistributed(layers.Dense(2, "
     "activation='softmax')), layers.Dropout(0.2), layers.GlobalAveragePooling1D()])",
     "Input(6, 3) => Dense(5) => TimeDistributed(Dense(2, softmax)) => Dropout(0.2) => GlobalAveragePooling1D"),
    ("s5", "Bidirectional(SimpleRNN(8, rs)) x11 on (10, 5)",
     "keras.Sequential([keras.Input(shape=(10, 5))] + [layers.Bidirectional(layers.SimpleRNN(8, "
     "return_sequences=True)) for _ in range(11)])",
     "Input(10, 5)" + " => Bidirectional(SimpleRNN(8, return_sequences = true))" * 11),
    ("s6", "Embedding(50, 8) on (7,) -> GRU(4, reset_after=False) -> Dense(1, sigmoid)",
     "keras.Sequential([keras.Input(shape=(7,), dtype='int32'), layers.Embedding(50, 8), "
     "layers.GRU(4, reset_after=False), layers.Dense(1, activation='sigmoid')])",
     "Embedding(50, 8, input_length = 7) => GRU(4, reset_after = false) => Dense(1, sigmoid)"),
    ("s7", "LSTM(256, rs) x2 -> TimeDistributed(Dense(56, softmax)) on (None, 56)",
     "keras.Sequential([keras.Input(shape=(None, 56)), layers.LSTM(256, return_sequences=True), "
     "layers.LSTM(256, return_sequences=True), layers.TimeDistributed(layers.Dense(56, activation='softmax'))])",
     "Input(_, 56) => LSTM(256, return_sequences = true) => LSTM(256, return_sequences = true) => "
     "TimeDistributed(Dense(56, softmax))"),
    ("s8", "GRU(16, rs, go_backwards) -> SimpleRNN(4, no bias) -> Dense(3, no bias) on (None, 8)",
     "keras.Sequential([keras.Input(shape=(None, 8)), layers.GRU(16, return_sequences=True, "
     "go_backwards=True), layers.SimpleRNN(4, use_bias=False), layers.Dense(3, use_bias=False)])",
     "Input(_, 8) => GRU(16, return_sequences = true, go_backwards = true) => "
     "SimpleRNN(4, use_bias = false) => Dense(3, use_bias = false)"),
    ("s9", "Embedding(1000, 64) -> Bidirectional(GRU(32, return_state), merge_mode='sum') (multi-output)",
     "keras.Sequential([keras.Input(shape=(None,), dtype='int32'), layers.Embedding(1000, 64), "
     "layers.Bidirectional(layers.GRU(32, return_state=True), merge_mode='sum')])",
     "Embedding(1000, 64) => Bidirectional(GRU(32, return_state = true), merge_mode = sum)"),
    ("s10", "Dense(8, relu) -> Dropout(0.5) -> Dense(3, softmax) on (4,) (not a sequence)",
     "keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8, activation='relu'), layers.Dropout(0.5), "
     "layers.Dense(3, activation='softmax')])",
     "Input(4) => Dense(8, relu) => Dropout(0.5) => Dense(3, softmax)"),
    ("s11", "user-named layer longer than the column (folded mid-word)",
     "keras.Sequential([keras.Input(shape=(None, 3)), layers.LSTM(8, return_sequences=True, "
     "name='character_level_language_model_encoder_lstm'), layers.TimeDistributed(layers.Dense(3, "
     "activation='softmax'), name='per_character_softmax_output_projection')])",
     "Input(_, 3) => LSTM(8, return_sequences = true, name = \"character_level_language_model_encoder_lstm\") "
     "=> TimeDistributed(Dense(3, softmax), name = \"per_character_softmax_output_projection\")"),
    ("s12", "Embedding(12, 4, mask_zero) -> Bi(GRU(3, rs)) -> LSTM(2, rs) -> TimeDistributed(Dense(2, sigmoid))",
     "keras.Sequential([keras.Input(shape=(None,), dtype='int32'), layers.Embedding(12, 4, mask_zero=True), "
     "layers.Bidirectional(layers.GRU(3, return_sequences=True)), layers.LSTM(2, return_sequences=True), "
     "layers.TimeDistributed(layers.Dense(2, activation='sigmoid'))])",
     "Embedding(12, 4, mask_zero = true) => Bidirectional(GRU(3, return_sequences = true)) => "
     "LSTM(2, return_sequences = true) => TimeDistributed(Dense(2, sigmoid))"),
    ("s13", "Bidirectional(LSTM(64, return_state), merge_mode='concat') on (None, 300): 6 output shapes, "
            "large counts",
     "keras.Sequential([keras.Input(shape=(None, 300)), layers.Bidirectional(layers.LSTM(64, "
     "return_sequences=True, return_state=True))])",
     "Input(_, 300) => Bidirectional(LSTM(64, return_sequences = true, return_state = true))"),
]

SUMMARY_NOTES = (
    "Same method as the shared summaries.json: each model is built in a fresh Keras session "
    "(keras.backend.clear_session()) from the Python expression in 'code', so layer names are Keras' "
    "defaults. 'summary' is model.summary() captured verbatim with print_fn (print_fn receives the "
    "whole captured text once) under the DEFAULT floatx float32 with the COLUMNS environment variable "
    "set to 80 (both shutil.get_terminal_size() and rich's Console read it): table width "
    "min(88, 80-4) = 76. 'summary_wide' uses COLUMNS=120 (88-character table). 'summary_float64' is "
    "the 80-column text built under floatx float64 (only the byte sizes differ). The method reproduces "
    "the shared summaries.json (a)-(h) byte for byte. 'dsl' is the model in the rnn macro syntax "
    "(s11 uses a `name = \"...\"` argument, outside the documented grammar)."
)


def capture_summary(model, columns):
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


def build_from_code(code, floatx):
    keras.config.set_floatx(floatx)
    keras.backend.clear_session()
    return eval(code, {"keras": keras, "layers": layers})


def summaries_for(code):
    prev = keras.config.floatx()
    try:
        m = build_from_code(code, "float32")
        res = {"summary": capture_summary(m, 80), "summary_wide": capture_summary(m, 120), "model": m}
        m64 = build_from_code(code, "float64")
        res["summary_float64"] = capture_summary(m64, 80)
    finally:
        keras.config.set_floatx(prev)
    return res


def verify_shared_summaries(shared_dir=SHARED_DIR):
    d = json.load(open(os.path.join(shared_dir, "summaries.json")))
    rows = []
    for m in d["models"]:
        s = summaries_for(m["code"])
        rows.append({"id": m["id"], **{k: s[k] == m[k] for k in ("summary", "summary_wide", "summary_float64")}})
    return rows


def make_summaries():
    models = []
    for sid, title, code, dsl in SUMMARY_MODELS:
        s = summaries_for(code)
        m = s["model"]
        inp = m.inputs[0]
        trainable = int(sum(np.prod(v.shape) for v in m.trainable_weights))
        non_trainable = int(sum(np.prod(v.shape) for v in m.non_trainable_weights))
        models.append({
            "id": sid,
            "title": title,
            "code": code,
            "dsl": dsl,
            "input_shape": list(inp.shape),
            "input_dtype": inp.dtype,
            "total_params": int(m.count_params()),
            "trainable_params": trainable,
            "non_trainable_params": non_trainable,
            "layers": [
                {"name": l.name, "class_name": type(l).__name__, "output_shape": layer_output_shape(l),
                 "params": int(l.count_params()),
                 "weights": [{"name": v.path, "shape": list(v.shape)} for v in l.weights]}
                for l in m.layers
            ],
            "summary": s["summary"],
            "summary_wide": s["summary_wide"],
            "summary_float64": s["summary_float64"],
        })
    doc = {"keras_version": KERAS_VERSION, "backend": f"jax {jax.__version__}", "notes": SUMMARY_NOTES,
           "models": models}
    write(os.path.join(OUT_DIR, "summaries_extra.json"), json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return models


# ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--skip-verify", action="store_true", help="skip the shared-fixture checks")
    ap.add_argument("--shared", default=SHARED_DIR,
                    help="directory of the shared Keras fixtures (default: %(default)s)")
    args = ap.parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)

    verification = {}
    if not args.skip_verify and os.path.isdir(args.shared):
        keras.config.set_floatx("float64")
        v = verify_shared(args.shared)
        verification["shared_cases"] = {k: v[k] for k in v if k != "rows"}
        print(f"[verify] recomputed {v['cases_recomputed']} shared layer/model cases: "
              f"{v['bit_exact_cases']} bit-exact; max rel err outputs {v['max_rel_err_outputs']:.3g}, "
              f"grads {v['max_rel_err_grads']:.3g}, loss {v['max_rel_err_loss']:.3g}")
        print(f"[verify] lstm_seq_state: {v['lstm_seq_state']}")
        print(f"[verify] not bit-exact: {v['not_bit_exact']}")
        rows = verify_shared_summaries(args.shared)
        ok = all(r["summary"] and r["summary_wide"] and r["summary_float64"] for r in rows)
        verification["shared_summaries_byte_exact"] = rows
        print(f"[verify] shared summaries (a)-(h) byte-exact: {ok} {rows}")
        assert ok
        assert v["max_rel_err_outputs"] < 1e-12 and v["max_rel_err_grads"] < 1e-12

    keras.config.set_floatx("float64")
    results = []
    for spec in CASES:
        r = run_case(spec)
        results.append(r)
        print(f"[case] {r['case']}: numpy forward rel err {r['numpy_forward_rel_err']:.2g}, "
              f"finite-diff scaled err {r['finite_diff_rel_err']:.2g} (<=1 ok)"
              + (f", saturation {r['saturation']}" if r["saturation"] else ""))
        assert r["numpy_forward_rel_err"] < 1e-12, r
        assert r["finite_diff_rel_err"] <= 1.0, r
    errors = []
    for spec in ERROR_CASES:
        err = run_error_case(spec)
        errors.append(spec["name"])
        print(f"[error case] {spec['name']}: {err['type']}: {err['message']}")

    models = make_summaries()
    print(f"[summaries] wrote {len(models)} models")

    verification["generated_cases"] = {
        "numpy_forward_max_rel_err": max(r["numpy_forward_rel_err"] for r in results),
        "finite_difference_max_scaled_err": max(r["finite_diff_rel_err"] for r in results),
        "note": "outputs recomputed by an independent NumPy float64 forward pass; gradients spot-checked "
                "(4 entries per tensor) against fourth-order central differences (h=1e-4) of that forward "
                "pass. Error metrics: outputs |got - want| / (1e-12 + |want|); finite differences "
                "|fd - grad| / (1e-10 + 1e-7 |grad|) (<= 1 passes).",
    }
    index = {
        "keras_version": KERAS_VERSION,
        "dtype": "float64",
        "set": "extra",
        "base_seed": BASE_SEED,
        "generator": "tools/gen_extra_fixtures.py",
        "cases": sorted(r["case"] for r in results),
        "error_cases": errors,
        "summaries": "summaries_extra.json",
        "verification": verification,
    }
    write(os.path.join(OUT_DIR, "index.json"), json.dumps(index, indent=1) + "\n")

    # Round trip: reload every written case from disk and recompute it.
    rt = verify_shared(OUT_DIR)
    print(f"[round-trip] reloaded and recomputed {rt['cases_recomputed']} written cases: "
          f"{rt['bit_exact_cases']} bit-exact")
    assert rt["bit_exact_cases"] == rt["cases_recomputed"] == len(results), rt["not_bit_exact"]
    index["verification"]["round_trip"] = (
        f"all {rt['cases_recomputed']} written cases reloaded from disk (config deserialized, weights, "
        "input and loss weights parsed) and recomputed: outputs, loss and gradients bit-identical")
    write(os.path.join(OUT_DIR, "index.json"), json.dumps(index, indent=1) + "\n")
    print("[done]", OUT_DIR)


if __name__ == "__main__":
    sys.exit(main())
