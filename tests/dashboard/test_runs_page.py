"""The Runs page headless: the table, picking, comparing, downloading, uploading and deleting real runs."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from app_session import open_app, spec, train_tiny, workspace
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import app_test

from dashboard.components import images
from vae_core import analysis
from vae_core.checkpoint import run_from_zip, run_to_zip
from vae_core.data import load_bundled

PAGE = "app_pages/runs.py"




def chart(at, key: str) -> dict:
    """The plotly chart drawn with `key` (keyed elements carry the key in their id)."""
    return spec(next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")))


def by_prefix(widgets, prefix: str):
    return next(w for w in widgets if (w.key or "").startswith(prefix))


def zip_of(run) -> bytes:
    return run_to_zip(run)


def same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class RecordingStorage(MemoryMediaFileStorage):
    """AppTest's in-memory media store, remembering every file a page hands to the browser."""

    files: dict[str, bytes] = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        RecordingStorage.files[file_id] = self._files_by_id[file_id].content
        return file_id


@pytest.fixture()
def downloads(monkeypatch):
    """fetch(download_button) -> the bytes the browser would save."""
    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", RecordingStorage)

    def fetch(button) -> bytes:
        file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
        return RecordingStorage.files[file_id]
    return fetch


@pytest.fixture(scope="module")
def two_runs():
    """One session with two real one-epoch MNIST runs (β = 1 and β = 4), on the Runs page."""
    at = open_app()
    ws = train_tiny(at, epochs=1, beta=1.0)
    train_tiny(at, epochs=1, beta=4.0)
    first, second = ws.runs[-2:]
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at, ws, first, second


def upload(at, name: str, blob: bytes):
    at.file_uploader(key="runs_upload").set_value((name, blob, "application/zip")).run()
    assert not at.exception, at.exception
    return at


def test_without_runs_the_page_offers_training_and_upload():
    at = open_app(PAGE)
    assert "No runs yet" in at.info[0].value
    assert at.file_uploader(key="runs_upload").help
    assert not at.dataframe


@pytest.mark.slow
def test_every_run_is_listed_with_its_settings_and_scores(two_runs):
    at, ws, first, second = two_runs
    at.run()
    assert list(at.dataframe[0].value.columns) == ["run", "data", "model", "status", "test neg. ELBO", "active units"]
    at.toggle(key="runs_every_figure").set_value(True).run()  # every figure: the wide table
    table = at.dataframe[0].value
    names = [name.removeprefix("● ") for name in table["run"]]
    assert names == [r.name for r in ws.runs]
    for record in (first, second):
        row = table.iloc[names.index(record.name)]
        s = record.summary
        model = (f"{record.model.cfg.arch}, β={record.train_cfg.beta:g}, z={record.model.cfg.latent_dim}, "
                 f"{record.model.cfg.loss}")
        assert (row["data"], row["model"], row["status"]) == (record.data.name, model, record.status)
        assert row["test neg. ELBO"] == pytest.approx(s["test_neg_elbo"])
        assert row["IWAE NLL"] == pytest.approx(s["iwae_nll"])
        assert row["active units"] == f"{s['active_units']} of {s['latent_dim']}"
        assert row["epochs"] == s["epochs"] and row["seconds"] == pytest.approx(s["seconds"])
    assert [name for name in table["run"] if name.startswith("● ")] == [f"● {ws.current_run().name}"]


@pytest.mark.slow
def test_explore_makes_a_run_the_one_the_other_pages_show(two_runs):
    at, ws, first, second = two_runs
    ws.selected_run = second.id
    at.run()
    by_prefix(at.selectbox, "runs_pick").set_value(first.id).run()
    at.button(key="runs_explore").click().run()
    assert ws.selected_run == first.id and ws.current_run() is first
    assert any(first.label in s.value for s in at.success)
    assert at.button(key="runs_explore").disabled  # already the explored one


@pytest.mark.slow
def test_two_runs_compared_curves_maps_and_reconstructions(two_runs, downloads):
    at, ws, first, second = two_runs
    at.run()
    by_prefix(at.multiselect, "runs_compare").set_value([first.id, second.id]).run()
    assert not at.exception
    curves = chart(at, "runs_curves")
    names = {t["name"] for t in curves["data"]}
    assert {f"run {first.number}", f"run {second.number}"} <= names
    recon_trace = next(t for t in curves["data"] if t["name"] == f"run {second.number}" and t["xaxis"] == "x")
    assert recon_trace["y"] == pytest.approx(
        [e.recon for e in second.events if e.kind == "epoch" and e.phase == "train"])
    x_test, y_test = first.data.part("test")
    for record in (first, second):
        latent = chart(at, f"runs_map_{record.id[:8]}")
        assert sum(len(t["x"]) for t in latent["data"]) == len(x_test)
        assert {t["name"] for t in latent["data"]} == {first.data.label_text(int(i)) for i in
                                                     first.data.indices("test")}
    test_idx = first.data.indices("test")
    one_per_digit = [test_idx[first.data.y[test_idx] == c][0] for c in range(10)]  # MNIST is sorted by class
    inputs = first.data.x[one_per_digit]
    rows = np.stack([inputs, analysis.reconstruct(first.model, inputs), analysis.reconstruct(second.model, inputs)])
    assert len(at.image) == 3 + 2  # originals and one reconstruction row per run, then one row of samples per run
    png = downloads(at.get("download_button")[-1])
    assert np.array_equal(np.array(Image.open(io.BytesIO(png))), images.grid(rows))


@pytest.mark.slow
def test_download_gives_a_zip_that_loads_and_uploading_it_adds_a_run(two_runs, downloads):
    at, ws, first, second = two_runs
    at.run()
    by_prefix(at.selectbox, "runs_pick").set_value(second.id).run()
    button = at.get("download_button")[0]
    assert button.label == f"Download run {second.number} (.zip)"
    blob = downloads(button)
    loaded = run_from_zip(blob)
    assert same_weights(loaded.model, second.model)
    assert loaded.summary["test_neg_elbo"] == pytest.approx(second.summary["test_neg_elbo"])
    assert loaded.data_info["name"] == second.data.name

    before = len(ws.runs)
    upload(at, "saved.zip", blob)
    assert "a mlp VAE with z of size 16" in " ".join(m.value for m in at.markdown)
    by_prefix(at.button, "runs_add_").click().run()
    assert len(ws.runs) == before + 1
    added = ws.runs[-1]
    assert added.status == second.status == "finished" and added.message == "uploaded from saved.zip"
    assert added.data is ws.data and same_weights(added.model, second.model)
    assert ws.current_run() is added
    assert list(at.dataframe[0].value["status"])[-1] == "finished"
    at.switch_page("app_pages/diagnostics.py").run()  # the uploaded model works on the other pages
    assert not at.exception and at.metric
    at.switch_page(PAGE).run()
    at.file_uploader(key="runs_upload").clear().run()


@pytest.mark.slow
def test_delete_removes_exactly_that_run(two_runs):
    at, ws, first, _ = two_runs
    upload(at, "copy.zip", zip_of(first))
    by_prefix(at.button, "runs_add_").click().run()
    doomed = ws.runs[-1]
    before = len(ws.runs)
    at.file_uploader(key="runs_upload").clear().run()
    by_prefix(at.selectbox, "runs_pick").set_value(doomed.id).run()
    at.button(key="runs_delete").click().run()
    assert len(ws.runs) == before - 1 and ws.run(doomed.id) is None
    assert ws.run(first.id) is first
    assert len(at.dataframe[0].value) == before - 1


def broken_zips() -> dict[str, tuple[bytes, str]]:
    def zipped(**files) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, text in files.items():
                zf.writestr(name.replace("_", "."), text)
        return buf.getvalue()
    return {"not a zip": (b"this is not a zip file", "not a readable zip"),
            "bad json": (zipped(config_json="{oops", model_safetensors=b"x"), "config.json is not valid JSON"),
            "no weights": (zipped(config_json="{}"), "the run has no model.safetensors")}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(broken_zips()))
def test_a_broken_zip_shows_the_error_and_adds_nothing(two_runs, case):
    at, ws, *_ = two_runs
    blob, message = broken_zips()[case]
    before = [r.id for r in ws.runs]
    upload(at, "broken.zip", blob)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message in errors[0] and "broken.zip" in errors[0]
    assert not any((b.key or "").startswith("runs_add_") for b in at.button)
    assert [r.id for r in ws.runs] == before
    at.file_uploader(key="runs_upload").clear().run()
    assert not at.error


@pytest.mark.slow
def test_a_saved_run_opens_with_what_it_carries_and_asks_for_its_data_where_needed(two_runs):
    _, _, first, _ = two_runs
    at = open_app(PAGE)
    ws = workspace(at)
    ws.set_data(load_bundled("bleeding"), "bundled:bleeding")
    upload(at, "mnist-run.zip", zip_of(first))  # trained on the bundled MNIST: its data comes back by itself
    by_prefix(at.button, "runs_add_").click().run()
    added = ws.runs[-1]
    assert added.data is not None and added.data.name == "mnist" and same_weights(added.model, first.model)
    # a run trained on an upload this server does not have: it opens, and says what it needs where it needs it
    saved = run_from_zip(zip_of(first))
    saved.data_info.update(source="upload:my-digits.csv", name="my-digits.csv")
    upload(at, "upload-run.zip", run_to_zip(saved))
    assert any("ask for data shaped like" in c.value for c in at.caption)
    by_prefix(at.button, "runs_add_").click().run()
    orphan = ws.current_run()
    assert (orphan.data is None and orphan.data_info["name"] == "my-digits.csv"
            and same_weights(orphan.model, first.model))
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception and [im for im in at.image if im.captions == ["32 samples, seed 0"]]  # no data needed
    at.switch_page("app_pages/latent.py").run()
    assert not at.exception and "my-digits.csv" in at.info[0].value and "Data page" in at.info[0].value
