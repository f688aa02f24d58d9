"""A short fuzzing run over every loader entry point: only the engine's error type may escape.

Data: load_path (a file on disk under any name), load_upload (one file or an IDX pair), sniff_csv -> DataError.
Saved runs: run_from_zip (bytes), run_from_files (the four files), load_run (a folder or a zip) -> CheckpointError.
Inputs are random bytes and valid files with bytes flipped, cut or replaced. VAE_FUZZ_EXAMPLES sets the examples
per test (default 60: the whole file takes about 15 s); CI may raise it for a longer hunt.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from filemakers import zip_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from make_corpus import _valid_run_files, entries

from vae_core import data as D
from vae_core.checkpoint import CheckpointError, load_run, run_from_files, run_from_zip
from vae_core.dataset import DataError

FUZZ = settings(max_examples=int(os.environ.get("VAE_FUZZ_EXAMPLES", 60)), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
GOOD_RUN = _valid_run_files()
# Seeds: every corpus file, mutated, reaches deeper than random bytes (past magic numbers and headers).
SEEDS = [(rel.rsplit("/", 1)[-1], blob) for e in entries() if e.kind == "data"
         for rel, blob in e.files.items() if len(blob) < 100_000]
NAMES = ("data.csv", "data.csv.gz", "data.npz", "data.npy", "images.zip", "train-images-idx3-ubyte",
         "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte", "x.txt", "noext", "weird name ..csv")


@st.composite
def mutated(draw, blob: bytes) -> bytes:
    """`blob` with a few bytes overwritten, a slice cut out, or cut short."""
    data = bytearray(blob)
    for _ in range(draw(st.integers(0, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    if data and draw(st.booleans()):
        start = draw(st.integers(0, len(data)))
        data = data[:start] + data[start + draw(st.integers(0, 64)):]
    return bytes(data)


def seeded_files():
    return st.sampled_from(SEEDS).flatmap(lambda seed: st.tuples(
        st.sampled_from((seed[0], *NAMES)), mutated(seed[1])))


def only_data_error(call, *args) -> None:
    try:
        call(*args)
    except DataError:
        pass


def only_checkpoint_error(call, *args) -> None:
    try:
        call(*args)
    except CheckpointError:
        pass


# ---- data -------------------------------------------------------------------------------------------

@FUZZ
@given(file=st.one_of(seeded_files(), st.tuples(st.sampled_from(NAMES), st.binary(max_size=400))))
def test_load_path_raises_only_data_error(file):
    name, blob = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(blob)
        only_data_error(D.load_path, path)


@FUZZ
@given(file=seeded_files())
def test_load_upload_of_mutated_files_raises_only_data_error(file):
    only_data_error(D.load_upload, [file])


@FUZZ
@given(images=mutated(next(b for n, b in SEEDS if n == "pair-images-idx3-ubyte")),
       labels=st.one_of(mutated(next(b for n, b in SEEDS if n == "pair-labels-idx1-ubyte")), st.binary(max_size=40)),
       names=st.sampled_from([("a-images-idx3-ubyte", "a-labels-idx1-ubyte"), ("x.gz", "y"), ("a.csv", "b.npz")]))
def test_two_file_uploads_raise_only_data_error(images, labels, names):
    only_data_error(D.load_upload, [(names[0], images), (names[1], labels)])


@FUZZ
@given(file=seeded_files())
def test_sniff_csv_raises_only_data_error(file):
    only_data_error(D.sniff_csv, file[1])


# ---- saved runs -------------------------------------------------------------------------------------

_zip = zip_bytes
GOOD_ZIP = _zip(GOOD_RUN)
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True)
                           | st.text(max_size=10),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


@FUZZ
@given(blob=st.one_of(mutated(GOOD_ZIP), st.binary(max_size=400)))
def test_run_from_zip_raises_only_checkpoint_error(blob):
    only_checkpoint_error(run_from_zip, blob)


@FUZZ
@given(member=st.sampled_from(sorted(GOOD_RUN)), data=st.data())
def test_run_files_with_one_mutated_file_raise_only_checkpoint_error(member, data):
    files = {**GOOD_RUN, member: data.draw(mutated(GOOD_RUN[member]))}
    only_checkpoint_error(run_from_files, files)


@FUZZ
@given(section=st.sampled_from(["model", "train", "data", None]), key=st.text(max_size=12), value=json_values)
def test_tampered_config_values_raise_only_checkpoint_error(section, key, value):
    config = json.loads(GOOD_RUN["config.json"])
    keys = list(config[section]) if section else list(config)
    target = config[section] if section else config
    target[key if not keys or len(key) % 2 else keys[len(key) % len(keys)]] = value  # a new key or an existing one
    files = {**GOOD_RUN, "config.json": json.dumps(config).encode()}
    only_checkpoint_error(run_from_files, files)


@FUZZ
@given(member=st.sampled_from(sorted(GOOD_RUN)), data=st.data(), as_zip=st.booleans())
def test_load_run_of_a_folder_or_zip_raises_only_checkpoint_error(member, data, as_zip):
    files = {**GOOD_RUN, member: data.draw(mutated(GOOD_RUN[member]))}
    with tempfile.TemporaryDirectory() as folder:
        if as_zip:
            path = Path(folder) / "run.zip"
            path.write_bytes(_zip(files))
        else:
            path = Path(folder)
            for name, blob in files.items():
                (path / name).write_bytes(blob)
        only_checkpoint_error(load_run, path)
