"""Hostile saved runs (issue 18, item 1): each is refused with its message, in bounded memory.

Every hostile run of the corpus (tests/bad_inputs/make_corpus.py, `_hostile_run_entries`) is loaded with
`load_run` in one child process (child_load.py). The baseline subtracted is measured there, just before
each load: the resident memory of the interpreter with torch and vae_core imported (about 250 MB on the
2-core CI machine). Before the run limits, these cost from 1.4 GB to more than 5 GB each; their times,
before and after, are in `python -m bench hostile` (no timed assertions here). The CLI's answer to each
(exit 2, one `error:` line naming the file) is asserted with the rest of the corpus in test_bad_inputs.py.
"""
from __future__ import annotations

import os
import struct

import pytest
from child_load import load_in_child
from filemakers import zip_bytes as _zip
from make_corpus import _hostile_run_entries, _valid_run_files, runs_at_the_bounds

from vae_core.checkpoint import CheckpointError, load_run, run_from_zip, save_run
from vae_core.run_limits import MAX_METRICS_BYTES

PEAK_MB = 300  # the most one load may add to the baseline
HOSTILE = {e.name: e for e in _hostile_run_entries()}
AT_BOUNDS = runs_at_the_bounds()


@pytest.fixture(scope="module")
def loads(corpus, tmp_path_factory):
    """{name: Load}: a real run ('good'), every hostile run, and the runs at the bounds, loaded in one child."""
    folder, _ = corpus
    paths = {name: folder / name / e.given[0] for name, e in HOSTILE.items()}
    for name, files in {"good": _valid_run_files(), **AT_BOUNDS}.items():
        paths[name] = tmp_path_factory.mktemp(name) / "run"
        paths[name].mkdir()
        for member, blob in files.items():
            (paths[name] / member).write_bytes(blob)
    order = ["good", *HOSTILE, *AT_BOUNDS]
    child = load_in_child([paths[name] for name in order], kill_mb=3000)
    assert not child.killed, f"the child loading the hostile runs was stopped: {child.killed}"
    assert len(child.loads) == len(order), child.stderr[-2000:]
    return dict(zip(order, child.loads, strict=True))


def test_a_real_run_loads_in_the_child(loads):
    assert loads["good"].error is None
    assert 100 < loads["good"].baseline_mb < 1000  # the interpreter with torch imported: the baseline is real


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_run_is_refused_with_its_message_in_bounded_memory(name, loads):
    entry, load = HOSTILE[name], loads[name]
    assert load.error is not None, f"{name} was loaded"
    assert entry.expect in load.error and entry.given[0] in load.error, load.error
    assert load.peak_mb < PEAK_MB, (f"{name}: peak {load.peak_mb:.0f} MB above a baseline of "
                                    f"{load.baseline_mb:.0f} MB (the interpreter with torch and vae_core)")


@pytest.mark.parametrize("name", list(AT_BOUNDS))
def test_a_run_with_files_at_their_bounds_loads_in_bounded_memory(name, loads):
    # the bounds are sized so that the most they let through stays under the same budget
    assert loads[name].error is None, loads[name].error
    load = loads[name]
    assert load.peak_mb < PEAK_MB, f"{name}: peak {load.peak_mb:.0f} MB above {load.baseline_mb:.0f} MB"


def test_the_hostile_runs_cover_every_case_the_issue_names():
    names = " ".join(HOSTILE)
    for case in ("hidden_million_layers", "hidden_100k_wide_layers", "safetensors_1m_entries", "metrics_100mb",
                 "config_50mb", "input_shape_1e18"):
        assert case in names, case
    zips = [e for e in HOSTILE.values() if e.given[0].endswith(".zip")]
    assert min(len(next(iter(e.files.values()))) for e in zips) < 4000  # the issue's 3.5 KB zip


def test_a_run_folder_is_measured_on_disk_before_a_file_is_read(tmp_path):
    # sparse files: a 1 GB metrics.csv that takes no disk space and would take 1 GB to read
    save_run_folder = tmp_path / "run"
    save_run_folder.mkdir()
    for name, blob in _valid_run_files().items():
        (save_run_folder / name).write_bytes(blob)
    with open(save_run_folder / "metrics.csv", "r+b") as f:
        f.truncate(1024**3)
    with pytest.raises(CheckpointError, match=f"metrics.csv is more than {MAX_METRICS_BYTES // 1024**2} MB"):
        load_run(save_run_folder)
    os.truncate(save_run_folder / "metrics.csv", 0)
    with open(save_run_folder / "model.safetensors", "r+b") as f:
        f.truncate(300 * 1024**2)  # more than the 26,000 weights of its config.json can need
    with pytest.raises(CheckpointError, match="model.safetensors is more than 1 MB"):
        load_run(save_run_folder)


def test_a_member_that_unpacks_to_more_than_it_declares_is_refused():
    files = _valid_run_files()
    blob = bytearray(_zip(files))
    at = blob.index(b"PK\x01\x02")  # the first central-directory entry (config.json): declare 100 bytes
    blob[at + 24:at + 28] = struct.pack("<I", 100)
    with pytest.raises(CheckpointError, match="not a readable zip of a saved run .*Bad CRC-32"):
        run_from_zip(bytes(blob))


def test_a_real_run_still_loads_after_a_round_trip(tmp_path):
    run = load_run(save_run(run_from_zip(_zip(_valid_run_files())), tmp_path / "again"))
    assert run.model_cfg.hidden == (16,)

