"""The CLI fails fast and cleanly where it used to lose work or hang (issue 18, items 11-13).

--out is checked before any data is read or any step trained; an unreachable Ray address fails in seconds with
an `error:` line naming it; a bad Optuna storage says in one line what is wrong (which package to install when a
driver is missing) and leaves no empty sweep folder behind.
"""
from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vae_core import cli
from vae_core.checkpoint import FILES
from vae_core.sweep.engines import probe_ray
from vae_core.sweep.space import SweepError

MISSING_DATA = "/nonexistent/data.csv"  # a data error would come from loading: it must not be reached


def run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    return code, err.strip().splitlines()


# ---- item 11: train --out ----------------------------------------------------------------------------------

def _file(tmp: Path) -> Path:
    (tmp / "notes.txt").write_text("keep me")
    return tmp / "notes.txt"


def _under_a_file(tmp: Path) -> Path:
    return _file(tmp) / "run"


def _folder_of_other_files(tmp: Path) -> Path:
    (tmp / "project").mkdir()
    (tmp / "project" / "thesis.tex").write_text("keep me")
    (tmp / "project" / "config.json").write_text("{}")  # a run's file name among others: still not a run folder
    return tmp / "project"


@pytest.mark.parametrize("make, why", [
    (_file, "it is a file, not a folder"),
    (_under_a_file, "notes.txt is a file, not a folder"),
    (_folder_of_other_files, "the folder holds other files (thesis.tex)"),
    (lambda tmp: Path("/sys/vae-explorer-run"), ""),  # no one may create files in /sys, not even root
])
def test_train_refuses_an_out_it_cannot_write_before_any_work(make, why, tmp_path, capsys):
    out = make(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code, lines = run_cli(capsys, "train", "--data", MISSING_DATA, "--epochs", "1", "--out", str(out))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: cannot write {out}: ") and why in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before and not Path("/sys/vae-explorer-run").exists()
    if out.name == "notes.txt":
        assert out.read_text() == "keep me"


def _run_folder(tmp: Path) -> Path:
    for name in FILES:  # a run folder (a run saved there before): the new run replaces it
        (tmp / name).write_bytes(b"old")
    return tmp


@pytest.mark.parametrize("make", [
    lambda tmp: tmp / "new" / "deeper" / "run",  # created only when the run is saved
    lambda tmp: tmp,  # an empty folder
    _run_folder,
])
def test_train_accepts_a_new_or_empty_folder_or_a_run_folder_and_goes_on_to_the_data(make, tmp_path, capsys):
    out = make(tmp_path)
    code, lines = run_cli(capsys, "train", "--data", MISSING_DATA, "--epochs", "1", "--out", str(out))
    assert code == 2 and len(lines) == 1 and "/nonexistent/data.csv" in lines[0], lines  # the data's own error
    assert not (tmp_path / "new").exists()  # nothing made before the run exists


# ---- item 12: sweep --ray-address -----------------------------------------------------------------------------

def test_an_unreachable_ray_address_fails_at_once_with_one_line_naming_it(tmp_path):
    # a subprocess: Ray's own native logging would write to the process's stderr, which must hold one line
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vae_core.cli", "sweep", "--data", "mnist", "--beta", "1",
                           "--ray-address", "127.0.0.1:1", "--out", str(tmp_path / "sweep")],
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: cannot reach a Ray cluster at 127.0.0.1:1 ") and "refused" in lines[0]
    assert not (tmp_path / "sweep").exists()
    print(f"failed in {seconds:.1f} s (before: over 5 minutes of retries)")


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word (not a Ray head): its port."""
    server = socket.create_server(("0.0.0.0", 0))
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_port_that_is_not_a_ray_head_is_refused_after_the_probe(silent_server):
    with pytest.raises(SweepError, match=f"at 127.0.0.1:{silent_server} .*accepts connections but did not answer "
                                         "as a Ray head does within 2 s"):
        probe_ray(f"127.0.0.1:{silent_server}", seconds=2)


def test_a_malformed_ray_address_is_refused_naming_it():
    with pytest.raises(SweepError, match="cannot reach a Ray cluster at no-port-here"):
        probe_ray("no-port-here", seconds=2)


@pytest.mark.slow
def test_a_real_ray_head_passes_the_probe():
    import ray  # a dev dependency: installed by `make test`

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        address = ray.get_runtime_context().gcs_address
        probe_ray(address)  # no error: the head answers gRPC's handshake
    finally:
        ray.shutdown()


# ---- item 13: sweep --storage -------------------------------------------------------------------------------

BAYES = ["sweep", "--data", "mnist", "--search", "bayes", "--trials", "2", "--beta", "1:2", "--quiet"]


def test_a_postgresql_storage_without_its_driver_names_the_package_in_one_line(tmp_path, capsys):
    out = tmp_path / "sweeps" / "b"
    code, lines = run_cli(capsys, *BAYES, "--storage", "postgresql://student:secret@127.0.0.1:1/vae", "--out", str(out))
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "secret" not in lines[0] and "student:***@127.0.0.1:1/vae" in lines[0]  # the password is not echoed
    if importlib.util.find_spec("psycopg") is None:  # SQLAlchemy 2.1's driver for postgresql://
        assert "needs the database driver psycopg, which is not installed: pip install 'psycopg[binary]'" in lines[0]
    else:  # with the driver installed, the next thing that fails is the connection, also in one line
        assert "cannot open the Optuna storage" in lines[0]
    assert not (tmp_path / "sweeps").exists()  # no empty sweep folder left behind


def test_a_sqlite_storage_that_cannot_be_opened_says_so_in_one_line_and_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "sweeps" / "b"
    code, lines = run_cli(capsys, *BAYES, "--storage", "sqlite:////nonexistent/folder/study.db", "--out", str(out))
    assert code == 2 and lines == ["error: cannot open the Optuna storage sqlite:////nonexistent/folder/study.db: "
                                   "unable to open database file"], lines
    assert not (tmp_path / "sweeps").exists()


def test_a_failed_storage_keeps_a_sweep_folder_that_was_already_there(tmp_path, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "results.csv").write_text("trial,key,status\n")
    code, _ = run_cli(capsys, *BAYES, "--storage", "sqlite:////nonexistent/folder/study.db", "--out", str(out))
    assert code == 2 and (out / "results.csv").exists()
