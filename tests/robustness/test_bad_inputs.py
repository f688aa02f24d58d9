"""Every file of the bad-input corpus, through the CLI and through the browser (AppTest).

CLI: exit code 2, exactly one line on stderr, `error: ` + the entry's own message, no traceback.
Browser: st.error shows the same message; the data in use and the runs already trained stay as they were.
"""
from __future__ import annotations

import pytest
from app_session import open_app, train_tiny
from make_corpus import entries

from vae_core import cli

ENTRIES = {e.name: e for e in entries()}
DATA = [n for n, e in ENTRIES.items() if e.kind == "data"]
RUNS = [n for n, e in ENTRIES.items() if e.kind == "run"]
BROWSER_RUNS = [n for n in RUNS if ENTRIES[n].browser]


def by_name(corpus, name):
    folder, made = corpus
    entry = next(e for e in made if e.name == name)
    return entry, [folder / entry.name / rel for rel in entry.given]


def test_the_corpus_covers_every_kind_the_issue_names():
    names = " ".join(ENTRIES)
    for kind in ("empty", "only_header", "wrong_delimiter", "non_numeric", "ragged", "nan", "inf", "million_columns",
                 "negative_pixels", "big_pixels", "counts_differ", "idx_lying", "truncated", "zip_bomb", "zip_slip",
                 "not_a_png", "run_config", "run_tensor_shape", "pickle"):
        assert kind in names, kind
    assert len(ENTRIES) >= 50


@pytest.mark.parametrize("name", list(ENTRIES))
def test_cli_says_what_is_wrong_in_one_line(name, corpus, capsys, tmp_path):
    entry, paths = by_name(corpus, name)
    if entry.kind == "data":
        argv = ["train", "--data", str(paths[0]), "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]
    else:
        argv = ["evaluate", str(paths[0]), "--eval-k", "0"]
    code = cli.main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert entry.expect in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "run").exists()  # nothing half-written
    if entry.kind == "data":
        assert paths[0].name in lines[0] or "pair-images" in lines[0]  # the message names the file
    else:
        assert str(paths[0]) in lines[0]


@pytest.fixture(scope="module")
def trained():
    """One browser session with a real one-epoch run and the bundled MNIST in use."""
    at = open_app()
    ws = train_tiny(at, epochs=1)
    return at, ws


def _state(ws):
    return ws.data, ws.data_source, [r.id for r in ws.runs], ws.selected_run


def upload(at, ws, page: str, uploader, files) -> tuple[list[str], tuple]:
    """Upload `files` on `page` (choosing them loads them); (error messages, state before)."""
    at.switch_page(page).run()
    before = _state(ws)
    uploader(at).set_value(files).run()
    assert not at.exception, at.exception
    return [e.value for e in at.error], before


def cleared(at, ws, uploader, before) -> None:
    """The visitor's data and runs are as they were; removing the file removes the message."""
    assert _state(ws) == before and ws.runs[-1].model is not None
    uploader(at).clear().run()
    assert not at.error


@pytest.mark.parametrize("name", DATA)
def test_data_page_shows_the_message_and_keeps_data_and_runs(name, corpus, trained):
    at, ws = trained
    entry, paths = by_name(corpus, name)
    uploader = lambda at: at.file_uploader[0]  # noqa: E731
    files = [(p.name, p.read_bytes(), "application/octet-stream") for p in paths]
    errors, before = upload(at, ws, "app_pages/data.py", uploader, files)
    assert errors and all(entry.expect in e for e in errors), (entry.expect, errors)
    cleared(at, ws, uploader, before)


@pytest.mark.parametrize("name", BROWSER_RUNS)
def test_runs_page_shows_the_message_and_adds_nothing(name, corpus, trained):
    at, ws = trained
    entry, paths = by_name(corpus, name)
    uploader = lambda at: at.file_uploader(key="runs_upload")  # noqa: E731
    errors, before = upload(at, ws, "app_pages/runs.py", uploader,
                            (paths[0].name, paths[0].read_bytes(), "application/zip"))
    assert len(errors) == 1 and entry.expect in errors[0] and paths[0].name in errors[0], errors
    assert not any((b.key or "").startswith("runs_add_") for b in at.button)
    cleared(at, ws, uploader, before)
