"""Writes the seed corpus of the fuzz targets (fuzz/corpus/NAME/) except `checkpoint`, whose
seeds are checkpoints this library writes (see README, "Fuzzing").

Run from the repository root: `python tools/fuzz_seeds.py` (needs keras-preprocessing).
Each seed is a small valid input, so the fuzzer starts from the shapes the parsers accept.
"""
import gzip
import io
import pathlib
import struct
import tarfile

from keras_preprocessing.text import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def write(target, name, data):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def f32s(values):
    return b"".join(struct.pack("<f", v) for v in values)


def u32s(values):
    return b"".join(struct.pack("<I", v) for v in values)


# input: batch, time, kind, then the values (see fuzz/targets.rs).
write("input", "tokens", bytes([2, 3, 0]) + u32s([1, 2, 3, 4, 5, 19]))
write("input", "floats", bytes([2, 2, 1]) + f32s([0.5] * 12))
write("input", "rows", bytes([3, 2, 2]) + u32s([1, 2, 3, 4, 5, 6]))
write("input", "flat", bytes([1, 2, 3]) + f32s([1.0, -1.0, 0.25, 2.0, 3.0, 4.0]))
write("input", "huge", bytes([0xFE, 1, 1]) + f32s([0.0] * 6))
write("input", "nan", bytes([1, 1, 1]) + f32s([float("nan"), 1.0, 2.0]))
# targets: rows, columns, kind (even: class ids), then the values.
write("targets", "classes", bytes([2, 1, 0]) + u32s([1, 2]))
write("targets", "values", bytes([2, 3, 1]) + f32s([0.2, 0.3, 0.5, 1.0, 0.0, 0.0]))
write("targets", "overflow", bytes([0xFF, 0xFF, 0]) + u32s([1, 2]))
write("targets", "out_of_range", bytes([2, 1, 0]) + u32s([7, 1]))
# tokenizer_json: Keras' own JSON for a few configurations.
texts = ["The cat sat on the mat.", "The dog ate my homework!", "Did the cat eat?"]
for name, tokenizer in [
    ("default", Tokenizer()),
    ("oov", Tokenizer(num_words=5, oov_token="<OOV>")),
    ("chars", Tokenizer(char_level=True, lower=False)),
]:
    tokenizer.fit_on_texts(texts)
    write("tokenizer_json", name, tokenizer.to_json().encode())
# datasets: the first byte picks the reader (0 sarcasm CSV, 1 Reuters SGML, 2 IMDB archive).
write(
    "datasets",
    "sarcasm",
    b"\0article_link,headline,is_sarcastic\n"
    b"https://a.example/1,\"former versace store clerk sues\",0\n"
    b"https://b.example/2,\"mom starting to fear son's web series\",1\n",
)
write(
    "datasets",
    "reuters",
    b"\1<!DOCTYPE lewis SYSTEM \"lewis.dtd\">\n"
    b"<REUTERS TOPICS=\"YES\" LEWISSPLIT=\"TRAIN\" CGISPLIT=\"TRAINING-SET\" OLDID=\"5544\" NEWID=\"1\">\n"
    b"<DATE>26-FEB-1987 15:01:01.79</DATE>\n<TOPICS><D>cocoa</D></TOPICS>\n"
    b"<TEXT>&#2;\n<TITLE>BAHIA COCOA REVIEW</TITLE>\n<BODY>Showers continued &lt;throughout&gt; the week.\n"
    b"&#3;</BODY></TEXT>\n</REUTERS>\n",
)
archive = io.BytesIO()
with tarfile.open(fileobj=archive, mode="w") as tar:
    for path, text in [("aclImdb/train/pos/0_9.txt", b"Great.<br />Really."),
                       ("aclImdb/test/neg/0_1.txt", b"Bad.")]:
        info = tarfile.TarInfo(path)
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
write("datasets", "imdb", b"\2" + gzip.compress(archive.getvalue(), mtime=0))
# keras: the first byte picks how the rest loads (see fuzz/targets.rs): 0 a file's bytes, 1 the
# weights file of an archive, 2 a file by path, 3 a file's bytes into the bidirectional model.
KERAS = ROOT / "tests" / "fixtures" / "keras_io"
for name, how, fixture in [
    ("archive", 0, "simple_rnn.keras"),
    ("weights_h5", 0, "simple_rnn.weights.h5"),
    ("legacy_h5", 0, "simple_rnn.h5"),
    ("keras2_h5", 2, "keras2_simple_rnn.h5"),
    ("archive_weights", 1, "simple_rnn.weights.h5"),
    ("bidirectional_h5", 3, "keras2_masked_bidirectional.h5"),
]:
    write("keras", name, bytes([how]) + (KERAS / fixture).read_bytes())
# torch: the first byte picks the model (0, 1 the LSTM; 2, 3 the bidirectional GRU) and the
# module names (even: the fixture's, odd: found by the loader).
TORCH = ROOT / "tests" / "fixtures" / "torch_io"
for name, how, fixture in [
    ("lstm", 0, "embedding_lstm.safetensors"),
    ("lstm_default_names", 1, "embedding_lstm.safetensors"),
    ("bidirectional", 2, "bidir_gru_sequences.safetensors"),
    ("bidirectional_default_names", 3, "bidir_gru_sequences.safetensors"),
]:
    write("torch", name, bytes([how]) + (TORCH / fixture).read_bytes())
