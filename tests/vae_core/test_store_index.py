"""The store's index: entries read from headers (never the weights), cached in SQLite, re-read when a folder changes."""
from __future__ import annotations

import os
import sqlite3

from vae_core.checkpoint import save_run
from vae_core.config import configs_for
from vae_core.runs import finish_run, new_run, train_run
from vae_core.store import RunStore
from vae_core.store_index import SCHEMA_VERSION, Index, read_entry


def saved_run(data, folder, epochs=2, finish=True):
    run = new_run(data, *configs_for(data.kind, data.input_shape, {"latent_dim": 3, "hidden": (16,), "epochs": epochs}))
    for _ in train_run(run):
        pass
    if finish:
        finish_run(run, iwae_k=0)
    save_run(run, folder)
    return run


def test_an_entry_says_what_the_folder_holds(tmp_path, mnist_small):
    run = saved_run(mnist_small, tmp_path / "a")
    entry = read_entry(tmp_path / "a")
    assert (entry.id, entry.status, entry.data, entry.epochs, entry.epochs_planned) == ("a", "finished", "mnist", 2, 2)
    assert entry.test_neg_elbo == run.summary["test_neg_elbo"] and entry.active_units == run.summary["active_units"]
    assert entry.settings["hidden"] == [16] and entry.settings["epochs"] == 2 and entry.can_continue
    assert entry.created == run.created and entry.name == "mnist · mlp · β=1 · z=3 · bce"
    assert entry.to_dict()["path"] == str(tmp_path / "a")


def test_a_folder_without_summary_is_running_at_its_checkpoint_epoch(tmp_path, mnist_small):
    saved_run(mnist_small, tmp_path / "a", epochs=3, finish=False)
    (tmp_path / "a" / "summary.json").unlink()
    entry = read_entry(tmp_path / "a")
    assert (entry.status, entry.epochs, entry.epochs_planned) == ("running", 3, 3)  # the store tells live from not


def test_listing_uses_the_cache_until_a_folder_changes(tmp_path, mnist_small):
    saved_run(mnist_small, tmp_path / "runs" / "a")
    RunStore(tmp_path / "runs")  # builds the index
    with sqlite3.connect(tmp_path / "runs" / "index.sqlite") as db:
        db.execute("UPDATE runs SET name = 'from the cache'")
    assert RunStore(tmp_path / "runs").find("a").name == "from the cache"  # unchanged folder: not read again
    summary = tmp_path / "runs" / "a" / "summary.json"
    st = summary.stat()
    os.utime(summary, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert RunStore(tmp_path / "runs").find("a").name == "mnist · mlp · β=1 · z=3 · bce"


def test_an_index_from_another_version_is_rebuilt(tmp_path, mnist_small):
    saved_run(mnist_small, tmp_path / "runs" / "a")
    RunStore(tmp_path / "runs")
    with sqlite3.connect(tmp_path / "runs" / "index.sqlite") as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = RunStore(tmp_path / "runs")
    assert any("was from another version; rebuilt it" in n for n in store.notes)
    assert [e.id for e in store.list()] == ["a"]


def test_an_in_memory_index_caches_too(tmp_path, mnist_small):
    saved_run(mnist_small, tmp_path / "a")
    index = Index(None)
    entry = read_entry(tmp_path / "a")
    index.update([("a", "sig", entry)], [])
    assert index.entries() == {"a": ("sig", entry)}
    index.update([], ["a"])
    assert index.entries() == {}
