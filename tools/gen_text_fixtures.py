#!/usr/bin/env python3
"""Generate the reference fixtures of the text preprocessing (`rnn::text`).

Writes, under tests/fixtures/text/ (relative to the repository root):

* tokenizers.json: keras_preprocessing 1.1.2 `Tokenizer` cases (configuration, the texts
  fitted, possibly in several calls, and the resulting `word_index`, `index_word`,
  `word_counts`, `word_docs`, `index_docs`, `document_count`, `texts_to_sequences`,
  `sequences_to_texts` and `to_json()`);
* pad_sequences.json: Keras 3 `pad_sequences` for every padding/truncating combination,
  maxlen None/shorter/longer, padding values, and the edge cases (empty sequences,
  no sequences, maxlen 0), with the error Keras raises where it raises one;
* to_categorical.json: Keras 3 `to_categorical`;
* ngrams.json: the n-gram expansion of the Keras word-generation tutorials.

Ordered maps are written as lists of pairs so that their order is part of the fixture.
Python's `word_docs` (and so `index_docs`) is filled from a `set`, whose order depends on
string hashing; the script re-runs itself with PYTHONHASHSEED=0 so the files are the same on
every run.

Run in a venv with the reference packages:

    python3 -m venv /tmp/venv-text
    /tmp/venv-text/bin/pip install keras-preprocessing==1.1.2 numpy keras jax
    KERAS_BACKEND=jax /tmp/venv-text/bin/python tools/gen_text_fixtures.py
"""

import json
import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import keras_preprocessing  # noqa: E402
import numpy as np  # noqa: E402
from keras_preprocessing.text import Tokenizer  # noqa: E402

assert keras_preprocessing.__version__ == "1.1.2", keras_preprocessing.__version__

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "text")

ENGLISH = [
    "The cat sat on the mat.",
    "The dog ate my homework!",
    "Did the cat eat the dog's homework? No, the DOG ate the cat's.",
    "",
    "   ...   ",
    "Tabs\tand\nnewlines, (brackets) [and] {braces}; e-mail: a@b.c",
]

KOREAN = [
    "경마장에 있는 말이 뛰고 있다",
    "그의 말이 법이다",
    "가는 말이 고와야 오는 말이 곱다",
]

UNICODE = [
    "Café CRÈME brûlée, café crème!",
    "ΟΔΟΣ ΣΑΣ ὈΔΥΣΣΕΎΣ",
    "İstanbul STRASSE Straße ǅemal",
    "naïve résumé 🙂 emoji 🙂 ﬁne",
]

QUERIES_EN = [
    "the cat ate the homework",
    "A completely unknown sentence",
    "",
    "THE DOG, THE CAT; the mat.",
]


def case(name, config, fits, queries, decode=None):
    tok = Tokenizer(**config)
    for texts in fits:
        tok.fit_on_texts(texts)
    seqs = tok.texts_to_sequences(queries)
    if decode is None:
        decode = []
    decode = seqs + decode
    return {
        "name": name,
        "config": config,
        "fits": fits,
        "queries": queries,
        "document_count": tok.document_count,
        "word_index": [[w, i] for w, i in tok.word_index.items()],
        "index_word": [[i, w] for i, w in tok.index_word.items()],
        "word_counts": [[w, c] for w, c in tok.word_counts.items()],
        "word_docs": dict(tok.word_docs),
        "index_docs": {str(i): c for i, c in tok.index_docs.items()},
        "sequences": seqs,
        "decode": decode,
        "texts": tok.sequences_to_texts(decode),
        "to_json": tok.to_json(),
    }


def tokenizer_cases():
    return [
        case("default", {}, [ENGLISH], QUERIES_EN, [[0, 1, 999], []]),
        case("num_words", {"num_words": 5}, [ENGLISH], QUERIES_EN, [[1, 4, 5, 6, 0]]),
        case(
            "num_words_oov",
            {"num_words": 5, "oov_token": "<OOV>"},
            [ENGLISH],
            QUERIES_EN,
            [[1, 2, 4, 5, 6, 0, 999]],
        ),
        case("num_words_zero", {"num_words": 0}, [ENGLISH], QUERIES_EN),
        case("oov", {"oov_token": "<OOV>"}, [ENGLISH], QUERIES_EN, [[0, 1, 2, 999]]),
        case(
            "char_level",
            {"char_level": True},
            [["Hello, World!", "hello there", ""]],
            ["Hold on, world.", "xyz", ""],
            [[0, 1, 2, 999]],
        ),
        case(
            "char_level_oov_num_words",
            {"char_level": True, "oov_token": "~", "num_words": 6},
            [["Hello, World!", "hello there"]],
            ["Hold on, world.", "xyz"],
        ),
        case("lower_false", {"lower": False}, [ENGLISH], QUERIES_EN),
        case(
            "custom_filters_split",
            {"filters": "!?", "split": ","},
            [["a,b!,c", "B,a,,a?", "x y,z"]],
            ["a,b,z", "a b,c!!"],
        ),
        case(
            "long_split",
            {"filters": "#", "split": "ab"},
            [["xab#y", "a#b", "zababz"]],
            ["x#y", "a#b"],
        ),
        case("korean", {}, [KOREAN], ["말이 법이다", "가는 말이 곱다 그의"]),
        case(
            "korean_oov",
            {"oov_token": "<OOV>", "num_words": 4},
            [KOREAN],
            ["말이 법이다", "가는 말이 곱다 그의"],
        ),
        case("unicode", {}, [UNICODE], ["café ΟΔΟΣ straße 🙂", "İSTANBUL"]),
        case(
            "unicode_char_level",
            {"char_level": True, "lower": True},
            [UNICODE],
            ["Σας café 🙂"],
        ),
        case(
            "incremental",
            {"oov_token": "<OOV>"},
            [["b a", "c"], ["a c c"], [], ["d b b b"]],
            ["a b c d e"],
        ),
        case(
            "oov_token_in_text",
            {"oov_token": "oov"},
            [["the oov word", "the word word", "oov"]],
            ["oov the word unknown"],
            [[1, 2, 3, 4, 5]],
        ),
        case(
            "control_characters",
            {"filters": "", "lower": False},
            [["tab\there del\x7fchar bell\x07 quote\" back\\slash", "new\nline"]],
            ["tab\there"],
        ),
    ]


PAD_SEQS = [[1], [2, 3], [4, 5, 6], [], [7, 8, 9, 10, 11]]


def pad_case(seqs, maxlen, padding, truncating, value):
    entry = {
        "sequences": seqs,
        "maxlen": maxlen,
        "padding": padding,
        "truncating": truncating,
        "value": value,
    }
    try:
        out = keras.utils.pad_sequences(
            seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=value
        )
        entry["shape"] = list(out.shape)
        entry["result"] = out.tolist()
    except ValueError as e:
        entry["error"] = str(e)
    return entry


def pad_cases():
    cases = []
    for maxlen in [None, 2, 3, 5, 8]:
        for padding in ["pre", "post"]:
            for truncating in ["pre", "post"]:
                for value in [0, 7]:
                    cases.append(pad_case(PAD_SEQS, maxlen, padding, truncating, value))
    cases.append(pad_case([[], []], None, "pre", "pre", 0))
    cases.append(pad_case([[], []], 3, "post", "pre", 0))
    cases.append(pad_case([], 3, "pre", "pre", 0))
    cases.append(pad_case([], None, "pre", "pre", 0))
    for truncating in ["pre", "post"]:
        cases.append(pad_case(PAD_SEQS, 0, "pre", truncating, 0))
    return cases


def categorical_cases():
    cases = []
    for ids, num_classes in [([0, 2, 1, 3], None), ([0, 2, 1, 3], 6), ([1, 1], 0), ([4], None)]:
        out = keras.utils.to_categorical(ids, num_classes=num_classes)
        cases.append({"ids": ids, "num_classes": num_classes, "result": out.tolist()})
    return cases


def ngram_case():
    corpus = [
        "The river runs under the old stone bridge",
        "Under the bridge the old man sings",
        "He sings of the river and the stone",
        "Home",
    ]
    tok = Tokenizer()
    tok.fit_on_texts(corpus)
    total_words = len(tok.word_index) + 1
    input_sequences = []
    for line in corpus:
        token_list = tok.texts_to_sequences([line])[0]
        for i in range(1, len(token_list)):
            input_sequences.append(token_list[: i + 1])
    max_sequence_len = max(len(x) for x in input_sequences)
    padded = np.array(
        keras.utils.pad_sequences(input_sequences, maxlen=max_sequence_len, padding="pre")
    )
    predictors, label = padded[:, :-1], padded[:, -1]
    onehot = keras.utils.to_categorical(label, num_classes=total_words)
    return {
        "corpus": corpus,
        "total_words": total_words,
        "sequences": tok.texts_to_sequences(corpus),
        "max_sequence_len": max_sequence_len,
        "inputs": predictors.tolist(),
        "targets": label.tolist(),
        "targets_categorical": onehot.tolist(),
    }


def write(name, value):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT))


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {"keras_preprocessing": keras_preprocessing.__version__, "keras": keras.__version__}
    write("tokenizers.json", {"versions": meta, "cases": tokenizer_cases()})
    write("pad_sequences.json", {"versions": meta, "cases": pad_cases()})
    write("to_categorical.json", {"versions": meta, "cases": categorical_cases()})
    write("ngrams.json", {"versions": meta, **ngram_case()})


if __name__ == "__main__":
    main()
