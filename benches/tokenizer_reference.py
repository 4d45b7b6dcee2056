#!/usr/bin/env python3
"""Tokenizing the 50,000 IMDB reviews: keras_preprocessing 1.1.2 beside `rnn::text::Tokenizer`.

    python benches/tokenizer_reference.py              # runs `cargo bench --bench text`, then Python
    python benches/tokenizer_reference.py --no-cargo   # reuses target/criterion results
    python benches/tokenizer_reference.py --repeat 5

Needs keras-preprocessing==1.1.2 (and numpy) in the running Python. Reads the same texts as the
Rust benchmark, `../shared/data/imdb/aclImdb_v1_labelled.tar.gz` beside the repository: every
`aclImdb/{train,test}/{pos,neg}/*.txt`, in archive order. Times `fit_on_texts` on a fresh
tokenizer and `texts_to_sequences` with the fitted one, best of `--repeat` runs (wall clock and
the process's CPU time), and checks that both tokenizers give the same vocabulary and sequences
for a sample. The Rust figures are criterion's mean times per iteration, read from
`target/criterion/text/<id>/new/estimates.json`.
"""

import argparse
import json
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHIVE = ROOT / ".." / "shared" / "data" / "imdb" / "aclImdb_v1_labelled.tar.gz"

# (operation, criterion ids: all cores, one thread)
OPERATIONS = [
    ("fit_on_texts", "fit_on_texts/imdb 50k", "fit_on_texts/imdb 50k 1 thread"),
    ("texts_to_sequences", "texts_to_sequences/imdb 50k", "texts_to_sequences/imdb 50k 1 thread"),
]


def criterion_dir(name):
    """Criterion's directory name for a benchmark id (it replaces these characters by '_')."""
    return "".join("_" if c in '?"/\\*<>:|^' else c for c in name)


def rust_seconds(bench_id):
    """Mean seconds per iteration from criterion's last run, or None."""
    path = ROOT / "target" / "criterion" / "text" / criterion_dir(bench_id) / "new" / "estimates.json"
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)["mean"]["point_estimate"] / 1e9


def reviews():
    texts = []
    with tarfile.open(ARCHIVE, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if (
                len(parts) == 4
                and parts[0] == "aclImdb"
                and parts[1] in ("train", "test")
                and parts[2] in ("pos", "neg")
                and parts[3].endswith(".txt")
                and member.isfile()
            ):
                texts.append(tar.extractfile(member).read().decode("utf-8"))
    return texts


def best_of(repeat, fn):
    """(best wall seconds, best CPU seconds, last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-cargo", action="store_true", help="reuse the last criterion run")
    parser.add_argument("--repeat", type=int, default=3, help="Python runs per operation")
    args = parser.parse_args()

    if not ARCHIVE.exists():
        sys.exit(f"{ARCHIVE} is missing; the benchmark needs the shared IMDB archive")
    if not args.no_cargo:
        subprocess.run(["cargo", "bench", "--bench", "text"], cwd=ROOT, check=True)

    from keras_preprocessing.text import Tokenizer

    texts = reviews()
    print(f"{len(texts)} reviews, {sum(len(t.encode()) for t in texts)} bytes")

    def fit():
        tok = Tokenizer()
        tok.fit_on_texts(texts)
        return tok

    fit_wall, fit_cpu, tok = best_of(args.repeat, fit)
    seq_wall, seq_cpu, seqs = best_of(args.repeat, lambda: tok.texts_to_sequences(texts))
    print(f"vocabulary {len(tok.word_index)} words, {sum(map(len, seqs))} ids")
    python = {"fit_on_texts": (fit_wall, fit_cpu), "texts_to_sequences": (seq_wall, seq_cpu)}

    print()
    print(
        f"{'operation':<20} {'Python wall':>12} {'Python CPU':>11} {'rnn':>9} {'speedup':>8}"
        f" {'rnn 1 thread':>13} {'speedup':>8}"
    )
    for op, all_cores, one in OPERATIONS:
        wall, cpu = python[op]
        row = f"{op:<20} {wall:>11.3f}s {cpu:>10.3f}s"
        for bench_id in (all_cores, one):
            rust = rust_seconds(bench_id)
            if rust is None:
                row += f" {'-':>9} {'-':>8}" if bench_id == all_cores else f" {'-':>13} {'-':>8}"
            else:
                width = 8 if bench_id == all_cores else 12
                row += f" {rust:>{width}.3f}s {wall / rust:>7.1f}x"
        print(row)
    print()
    print("speedup: Python's best wall time over rnn's mean wall time (criterion); the machine")
    print("may be shared, so compare figures taken in the same run.")


if __name__ == "__main__":
    main()
