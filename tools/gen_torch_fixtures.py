#!/usr/bin/env python3
"""Generate the PyTorch state-dict fixtures of the `rnn` crate's PyTorch import.

Writes, under tests/fixtures/torch_io/ (relative to the repository root), for each case:

* `<case>.safetensors`: the module's `state_dict()` in float32, written with
  `safetensors.torch.save_file`, exactly what a PyTorch user saves;
* `<case>.json`: the model in the crate's macro syntax (`dsl`), the
  (PyTorch prefix, layer name) pairs that map the module's attributes onto the
  model's layers (`names`), an input batch and the module's prediction for it.

Each module is built and trained in float32 for a few Adam steps on random
targets, so that no weight is at its initial value (LSTM biases in particular).
The reference prediction is then computed by a float64 copy of the trained
module, whose weights are the saved float32 values widened exactly: the
reference is the float64 output of the very weights in the file, and the crate
(float32) is compared with it at the fixtures' output tolerance.

Run with a Python that has torch and safetensors installed, from any directory:

    python tools/gen_torch_fixtures.py

`--check-export DIR` instead checks the crate's export: it loads each
`DIR/<case>.safetensors` (written by `save_torch` when the `torch_io` tests run
with `RNN_TORCH_EXPORT_DIR=DIR`) into the case's module with
`load_state_dict(strict=True)` and compares the module's float64 prediction with
the recorded one at the fixtures' output tolerance.
"""

import argparse

import copy
import json
import os

import torch
from safetensors.torch import load_file, save_file
from torch import nn

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "torch_io"
)


class Tokens(nn.Module):
    """Embedding, one recurrent module, a linear head on the last output."""

    def __init__(self, rnn, vocab, dim, head, activation, last="output"):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.rnn = rnn
        self.fc = head
        self.activation = activation
        self.last = last

    def forward(self, x):
        return self.activation(self.fc(final(self.rnn, self.embedding(x), self.last)))


class Masked(nn.Module):
    """Post-padded token ids (0 = padding) packed by length: Keras' `mask_zero = true`."""

    def __init__(self, rnn, vocab, dim, head, activation):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim, padding_idx=0)
        self.rnn = rnn
        self.fc = head
        self.activation = activation

    def forward(self, x):
        lengths = (x != 0).sum(dim=1)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(x), lengths, batch_first=True, enforce_sorted=False
        )
        # The final states of a packed sequence are those of each row's last real step, as
        # Keras' masked layers carry the state over padding.
        return self.activation(self.fc(final(self.rnn, packed, "last")))


class Real(nn.Module):
    """One recurrent module on real sequences, a linear head."""

    def __init__(self, rnn, head, activation, last):
        super().__init__()
        self.rnn = rnn
        self.fc = head
        self.activation = activation
        self.last = last

    def forward(self, x):
        return self.activation(self.fc(final(self.rnn, x, self.last)))


def final(rnn, x, last):
    """What the Keras model passes on: the whole sequence, or the last output of each direction."""
    out, h = rnn(x)
    if last == "sequence":
        return out
    if isinstance(h, tuple):
        h = h[0]
    if rnn.bidirectional:
        # Keras' Bidirectional without return_sequences concatenates the forward direction's
        # last step and the backward direction's last step (the sequence's first), which are
        # the top layer's final states, not `out[:, -1]`.
        return torch.cat([h[-2], h[-1]], dim=1)
    return h[-1]


def softmax(x):
    return torch.softmax(x, dim=-1)


def identity(x):
    return x


CASES = [
    {
        "name": "embedding_lstm",
        "dsl": "Embedding(30, 6) => LSTM(8) => Dense(3, softmax)",
        "names": [["embedding", "embedding"], ["rnn", "lstm"], ["fc", "dense"]],
        "build": lambda: Tokens(
            nn.LSTM(6, 8, batch_first=True), 30, 6, nn.Linear(8, 3), softmax
        ),
        "tokens": (30, 6),
    },
    {
        "name": "gru",
        "dsl": "Input(5, 4) => GRU(7) => Dense(1, sigmoid)",
        "names": [["rnn", "gru"], ["fc", "dense"]],
        "build": lambda: Real(
            nn.GRU(4, 7, batch_first=True), nn.Linear(7, 1), torch.sigmoid, "last"
        ),
        "real": (5, 4),
    },
    {
        "name": "rnn_relu_sequences",
        "dsl": "Input(5, 4) => SimpleRNN(6, activation = relu, return_sequences = true)"
        " => TimeDistributed(Dense(2))",
        "names": [["rnn", "simple_rnn"], ["fc", "time_distributed"]],
        "nonlinearity": {"rnn": "relu"},
        "build": lambda: Real(
            nn.RNN(4, 6, nonlinearity="relu", batch_first=True),
            nn.Linear(6, 2),
            identity,
            "sequence",
        ),
        "real": (5, 4),
    },
    {
        "name": "rnn_tanh_stacked",
        "dsl": "Input(5, 3) => SimpleRNN(4, return_sequences = true) => SimpleRNN(4)"
        " => Dense(2, softmax)",
        "names": [["rnn", "simple_rnn"], ["rnn", "simple_rnn_1"], ["fc", "dense"]],
        "build": lambda: Real(
            nn.RNN(3, 4, num_layers=2, batch_first=True),
            nn.Linear(4, 2),
            softmax,
            "last",
        ),
        "real": (5, 3),
    },
    {
        "name": "embedding_bidir_lstm_stacked",
        "dsl": "Embedding(40, 8) => Bidirectional(LSTM(5, return_sequences = true))"
        " => Bidirectional(LSTM(5)) => Dense(1, sigmoid)",
        "names": [
            ["embedding", "embedding"],
            ["rnn", "bidirectional"],
            ["rnn", "bidirectional_1"],
            ["fc", "dense"],
        ],
        "build": lambda: Tokens(
            nn.LSTM(8, 5, num_layers=2, bidirectional=True, batch_first=True),
            40,
            8,
            nn.Linear(10, 1),
            torch.sigmoid,
            "last",
        ),
        "tokens": (40, 7),
    },
    {
        "name": "bidir_gru_sequences",
        "dsl": "Input(6, 3) => Bidirectional(GRU(4, return_sequences = true))"
        " => Dense(3, softmax)",
        "names": [["rnn", "bidirectional"], ["fc", "dense"]],
        "build": lambda: Real(
            nn.GRU(3, 4, bidirectional=True, batch_first=True),
            nn.Linear(8, 3),
            softmax,
            "sequence",
        ),
        "real": (6, 3),
    },
    {
        "name": "embedding_mask_lstm",
        "dsl": "Embedding(30, 6, mask_zero = true) => LSTM(8) => Dense(3, softmax)",
        "names": [["embedding", "embedding"], ["rnn", "lstm"], ["fc", "dense"]],
        "build": lambda: Masked(
            nn.LSTM(6, 8, batch_first=True), 30, 6, nn.Linear(8, 3), softmax
        ),
        "masked": (30, 7),
    },
    {
        "name": "embedding_mask_bidir_gru",
        "dsl": "Embedding(25, 5, mask_zero = true) => Bidirectional(GRU(4)) => Dense(1, sigmoid)",
        "names": [["embedding", "embedding"], ["rnn", "bidirectional"], ["fc", "dense"]],
        "build": lambda: Masked(
            nn.GRU(5, 4, bidirectional=True, batch_first=True),
            25,
            5,
            nn.Linear(8, 1),
            torch.sigmoid,
        ),
        "masked": (25, 6),
    },
    {
        "name": "gru_stacked",
        "dsl": "Input(5, 3) => GRU(5, return_sequences = true) => GRU(4) => Dense(2)",
        "names": [["rnn", "gru"], ["rnn2", "gru_1"], ["fc", "dense"]],
        "build": lambda: Stacked2(),
        "real": (5, 3),
    },
    {
        "name": "bidir_rnn_no_bias",
        "dsl": "Input(4, 3) => Bidirectional(SimpleRNN(3, use_bias = false))"
        " => Dense(2, use_bias = false)",
        "names": [["rnn", "bidirectional"], ["fc", "dense"]],
        "build": lambda: Real(
            nn.RNN(3, 3, bias=False, bidirectional=True, batch_first=True),
            nn.Linear(6, 2, bias=False),
            identity,
            "last",
        ),
        "real": (4, 3),
    },
    {
        "name": "lstm_no_bias_stacked",
        "dsl": "Input(5, 3) => LSTM(4, use_bias = false, return_sequences = true)"
        " => LSTM(3, use_bias = false) => Dense(1)",
        "names": [["lstm1", "lstm"], ["lstm2", "lstm_1"], ["fc", "dense"]],
        "build": lambda: TwoLstms(),
        "real": (5, 3),
    },
]


class Stacked2(nn.Module):
    """Two GRU modules of different sizes (a stack that `num_layers` cannot express)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 5, batch_first=True)
        self.rnn2 = nn.GRU(5, 4, batch_first=True)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(final(self.rnn2, out, "last"))


class TwoLstms(nn.Module):
    """Two bias-free LSTM modules."""

    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTM(3, 4, bias=False, batch_first=True)
        self.lstm2 = nn.LSTM(4, 3, bias=False, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x):
        out, _ = self.lstm1(x)
        return self.fc(final(self.lstm2, out, "last"))


def takes_ids(case):
    return "tokens" in case or "masked" in case


def make_input(case, gen, batch):
    if "masked" in case:
        vocab, time = case["masked"]
        ids = torch.randint(1, vocab, (batch, time), generator=gen)
        lengths = torch.randint(2, time + 1, (batch,), generator=gen)
        lengths[0] = time
        return ids * (torch.arange(time)[None, :] < lengths[:, None])
    if "tokens" in case:
        vocab, time = case["tokens"]
        return torch.randint(0, vocab, (batch, time), generator=gen)
    time, features = case["real"]
    return torch.randn(batch, time, features, generator=gen)


def train(module, case, gen):
    """A few Adam steps towards random targets, so that every weight moves off its initial value."""
    opt = torch.optim.Adam(module.parameters(), lr=0.05)
    x = make_input(case, gen, 8)
    with torch.no_grad():
        target = torch.randn(module(x).shape, generator=gen)
    for _ in range(20):
        opt.zero_grad()
        loss = ((module(x) - target) ** 2).mean()
        loss.backward()
        opt.step()


def check_export(directory):
    """Loads the crate's exports strictly into the modules and compares their predictions."""
    for case in CASES:
        with open(os.path.join(OUT, case["name"] + ".json")) as f:
            record = json.load(f)
        module = case["build"]()
        state = load_file(os.path.join(directory, case["name"] + ".safetensors"))
        module.load_state_dict(state, strict=True)
        module = module.double().eval()
        x = torch.tensor(record["input"]).reshape(record["input_shape"])
        x = x.long() if takes_ids(case) else x.double()
        with torch.no_grad():
            y = module(x).flatten()
        want = torch.tensor(record["output"], dtype=torch.float64)
        excess = ((y - want).abs() - (1e-6 + 1e-5 * want.abs())).max().item()
        assert excess <= 0, (case["name"], excess)
        print(f"{case['name']}: strict load ok, max |got - want| {(y - want).abs().max().item():.2e}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check-export", metavar="DIR")
    args = parser.parse_args()
    if args.check_export:
        check_export(args.check_export)
        return
    os.makedirs(OUT, exist_ok=True)
    for i, case in enumerate(CASES):
        torch.manual_seed(1000 + i)
        gen = torch.Generator().manual_seed(2000 + i)
        module = case["build"]()
        train(module, case, gen)
        state = {k: v.detach().contiguous() for k, v in module.state_dict().items()}
        save_file(state, os.path.join(OUT, case["name"] + ".safetensors"))

        x = make_input(case, gen, 3)
        reference = copy.deepcopy(module).double()
        reference.eval()
        with torch.no_grad():
            y64 = reference(x if takes_ids(case) else x.double())
            y32 = module(x)
        # The float32 module is a second opinion on the float64 reference.
        gap = (y32.double() - y64).abs().max().item()
        assert gap < 1e-5, (case["name"], gap)

        record = {
            "dsl": case["dsl"],
            "names": case["names"],
            "nonlinearity": case.get("nonlinearity", {}),
            "input_shape": list(x.shape),
            "input": (x if takes_ids(case) else x.double()).flatten().tolist(),
            "output_shape": list(y64.shape),
            "output": y64.flatten().tolist(),
            "state_dict": {k: list(v.shape) for k, v in state.items()},
        }
        with open(os.path.join(OUT, case["name"] + ".json"), "w") as f:
            json.dump(record, f, indent=1)
            f.write("\n")
        print(f"{case['name']}: {len(state)} tensors, float32 vs float64 gap {gap:.2e}")


if __name__ == "__main__":
    main()
