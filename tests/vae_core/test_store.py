"""The run store: runs saved while they train survive a crash, continue exactly, and are listed per workspace.

Real files and real processes: a SIGKILLed `vae-explorer train`, a corrupt index, tampered folders, a full
quota and a folder that even root cannot write to (chattr +i).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vae_core.checkpoint import FILES, CheckpointError, events_to_csv, save_run
from vae_core.config import configs_for
from vae_core.run import Run
from vae_core.runs import finish_run, new_run, train_run
from vae_core.store import (
    QuotaError,
    RunStore,
    StoreError,
    new_workspace_code,
    normalize_code,
    workspace_id,
)
from vae_core.store_files import JOURNAL, TEMP_PREFIX, _write_temp, write_atomic

SMALL = {"latent_dim": 4, "hidden": (32,), "epochs": 2}


def make_run(data, **settings) -> Run:
    return new_run(data, *configs_for(data.kind, data.input_shape, {**SMALL, **settings}), source="mnist")


def trained(data, **settings) -> Run:
    """A small run trained and evaluated, not saved anywhere."""
    run = make_run(data, **settings)
    for _ in train_run(run):
        pass
    return finish_run(run, iwae_k=0)


def train_into(store: RunStore, data, owner: str | None = None, **settings) -> Run:
    """Train a small run into the store, as the CLI and the dashboard do: writer hooks around train_run."""
    run = make_run(data, **settings)
    with store.writer(run, owner) as writer:
        for ev in train_run(run):
            writer.event(ev)
        finish_run(run, iwae_k=0)
        writer.finished()
    return run


def digest(folder: Path) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def files_of(root: Path) -> dict[str, str]:
    """Every file under root with the sha256 of its bytes (to prove nothing changed)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_run_is_saved_while_it_trains_and_listed_finished_at_the_end(tmp_path, mnist_small):
    store = RunStore(tmp_path / "runs")
    run = make_run(mnist_small, epochs=3)
    seen = []
    with store.writer(run) as writer:
        for ev in train_run(run):
            writer.event(ev)
            if ev.kind == "epoch" and ev.phase == "val":
                writer.flush()  # the checkpoint is written while training goes on: wait for it here
                seen.append(RunStore(tmp_path / "runs").find(run.id))  # another reader, while it trains
        finish_run(run, iwae_k=0)
        writer.finished()
    assert [(e.status, e.epochs, e.epochs_planned) for e in seen] == [("running", k, 3) for k in (1, 2, 3)]
    assert len(writer.checkpoint_seconds) == 4  # three epoch ends and the end
    (entry,) = store.list()
    assert (entry.id, entry.status, entry.epochs, entry.data) == (run.id, "finished", 3, "mnist")
    assert entry.test_neg_elbo == pytest.approx(run.summary["test_neg_elbo"])
    assert entry.active_units == run.summary["active_units"] and entry.settings["latent_dim"] == 4
    assert sorted(p.name for p in entry.path.iterdir()) == sorted(FILES)  # no temporary or journal left
    assert (entry.path / "metrics.csv").read_text() == events_to_csv(run.events)  # made piece by piece
    back = store.load(run.id[:8])
    assert back.id == run.id and back.status == "finished" and back.state.epoch == 3
    assert all((back.model.state_dict()[k] == v).all() for k, v in run.model.state_dict().items())


def test_an_unfinished_run_is_interrupted_and_continues_to_the_weights_of_a_straight_run(tmp_path, mnist_small):
    straight = train_into(RunStore(tmp_path / "straight"), mnist_small, epochs=3, dropout=0.1, seed=4)
    store = RunStore(tmp_path / "runs")
    run = make_run(mnist_small, epochs=3, dropout=0.1, seed=4)
    writer = store.writer(run)
    for ev in train_run(run):
        writer.event(ev)
        if ev.kind == "epoch" and ev.phase == "val":
            break  # what a crash leaves: the checkpoint of epoch 1 and no summary
    writer.close()
    (writer.folder / f"{TEMP_PREFIX}model.safetensors.x1y2").write_bytes(b"half of a checkpoint")  # a killed write
    (entry,) = RunStore(tmp_path / "runs").list()
    assert entry.status == "interrupted" and entry.epochs == 1 and entry.can_continue
    assert sorted(p.name for p in writer.folder.iterdir()) == sorted(set(FILES) - {"summary.json"})  # tidied
    assert "interrupted at epoch 1 of 3" in entry.message

    resumed = store.load(entry.id)
    assert resumed.status == "interrupted" and resumed.state.epoch == 1
    with store.writer(resumed) as writer:  # continues in its own folder
        for ev in train_run(resumed, mnist_small):
            writer.event(ev)
        finish_run(resumed, iwae_k=0)
        writer.finished()
    (entry,) = store.list()
    assert (entry.status, entry.epochs) == ("finished", 3)
    assert digest(entry.path) == digest(tmp_path / "straight" / straight.id)


@pytest.mark.slow
def test_a_cli_run_killed_with_sigkill_is_interrupted_and_resumes_to_the_same_weights(tmp_path):
    """`vae-explorer train` into a store, kill -9 after its first checkpoint, reopen, resume, compare."""
    flags = ["--data", "mnist", "--epochs", "30", "--latent-dim", "4", "--hidden", "64", "--dropout", "0.1",
             "--seed", "3", "--eval-k", "0", "--quiet"]
    store_dir = tmp_path / "runs"
    cli = [sys.executable, "-m", "vae_core.cli", "train"]
    proc = subprocess.Popen([*cli, *flags, "--runs-dir", str(store_dir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not (store_dir.exists() and any(e.epochs >= 1 for e in RunStore(store_dir).list())):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint after 300 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    (entry,) = RunStore(store_dir).list()
    assert entry.status == "interrupted" and 1 <= entry.epochs < 30, entry
    assert f"interrupted at epoch {entry.epochs} of 30" in entry.message
    resumed = subprocess.run([*cli, "--data", "mnist", "--resume", entry.id[:8], "--eval-k", "0", "--quiet",
                              "--runs-dir", str(store_dir)], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    straight = subprocess.run([*cli, *flags, "--out", str(tmp_path / "straight")], capture_output=True, text=True,
                              timeout=600)
    assert straight.returncode == 0, straight.stderr
    (entry,) = RunStore(store_dir).list()
    assert (entry.status, entry.epochs) == ("finished", 30)
    assert digest(entry.path) == digest(tmp_path / "straight")


def test_a_checkpoint_cut_short_after_its_journal_is_completed_when_the_store_opens(tmp_path, mnist_small):
    """A process killed between a checkpoint's journal and its renames: the next opener finishes the renames."""
    store = RunStore(tmp_path / "runs")
    run = train_into(store, mnist_small)
    folder = tmp_path / "runs" / run.id
    old = files_of(folder)
    new_summary = json.dumps({**run.summary, "epochs": 7, "stop_reason": "stopped"}).encode()
    temps = {"summary.json": _write_temp(folder, "summary.json", new_summary)}  # what commit_files does first...
    write_atomic(folder / JOURNAL, json.dumps(temps).encode())  # ... then the journal; killed before renaming
    (entry,) = RunStore(tmp_path / "runs").list()
    assert (entry.status, entry.epochs) == ("stopped", 7)
    assert not (folder / JOURNAL).exists() and not list(folder.glob(f"{TEMP_PREFIX}*"))
    assert {k: v for k, v in files_of(folder).items() if k != "summary.json"} == \
        {k: v for k, v in old.items() if k != "summary.json"}


def test_a_corrupt_index_is_rebuilt_from_the_folders_with_a_note(tmp_path, mnist_small):
    store = RunStore(tmp_path / "runs")
    runs = [train_into(store, mnist_small, seed=s) for s in (1, 2)]
    before = [(e.id, e.status, e.test_neg_elbo) for e in store.list()]
    (tmp_path / "runs" / "index.sqlite").write_bytes(b"this is not a database" * 100)
    again = RunStore(tmp_path / "runs")
    assert any("could not be read" in n and "rebuilt it from the run folders, no run was lost" in n
               for n in again.notes), again.notes
    assert [(e.id, e.status, e.test_neg_elbo) for e in again.list()] == before
    assert {e.id for e in again.list()} == {r.id for r in runs}
    assert RunStore(tmp_path / "runs").notes == []  # rebuilt once, fine afterwards


def test_a_deleted_index_is_rebuilt_with_a_note(tmp_path, mnist_small):
    store = RunStore(tmp_path / "runs")
    run = train_into(store, mnist_small)
    (tmp_path / "runs" / "index.sqlite").unlink()
    again = RunStore(tmp_path / "runs")
    assert again.notes == [f"built the run index {tmp_path / 'runs' / 'index.sqlite'} from 1 run folder"]
    assert [e.id for e in again.list()] == [run.id]


def _truncate_weights(folder: Path) -> None:
    blob = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(blob[: len(blob) // 2])


def _garble_config(folder: Path) -> None:
    (folder / "config.json").write_text("{not json")


def _swap_weights(folder: Path) -> None:  # the weights of a model of another size
    other = folder.parent / "other"
    (folder / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())


def _delete_config(folder: Path) -> None:
    (folder / "config.json").unlink()


@pytest.mark.parametrize("tamper,message", [
    (_truncate_weights, "model.safetensors is not a valid safetensors file"),
    (_garble_config, "config.json is not valid JSON"),
    (_swap_weights, "model.safetensors does not match config.json"),
    (_delete_config, "the folder has no config.json"),
], ids=["truncated-weights", "garbled-config", "weights-of-another-model", "no-config"])
def test_a_tampered_folder_is_listed_broken_with_its_reason_and_the_others_still_load(tmp_path, mnist_small, tamper,
                                                                                      message):
    store = RunStore(tmp_path / "runs")
    good = train_into(store, mnist_small)
    bad = train_into(store, mnist_small, seed=9)
    save_run(make_run(mnist_small, latent_dim=6), tmp_path / "runs" / "other")
    tamper(tmp_path / "runs" / bad.id)
    entries = {e.id: e for e in RunStore(tmp_path / "runs").list()}
    assert entries[bad.id].status == "broken" and message in entries[bad.id].message
    assert entries[good.id].status == "finished" and entries["other"].status == "finished"
    assert store.load(good.id).id == good.id
    with pytest.raises(StoreError, match=f"the run {bad.id} cannot be opened: .*{message}"):
        store.load(bad.id)


def test_a_folder_that_passes_the_listing_but_fails_to_load_is_then_listed_broken(tmp_path, mnist_small):
    """Listing reads headers only (never the weights); the full load checks every value and marks the run."""
    from safetensors.torch import load as load_tensors
    from safetensors.torch import save as save_tensors

    store = RunStore(tmp_path / "runs")
    run = train_into(store, mnist_small)
    weights = tmp_path / "runs" / run.id / "model.safetensors"
    tensors = load_tensors(weights.read_bytes())
    tensors["to_mu.weight"][0, 0] = float("nan")  # same names and shapes: the header does not change
    weights.write_bytes(save_tensors(tensors))
    assert store.find(run.id).status == "finished"
    with pytest.raises(CheckpointError, match="NaN or infinite values in to_mu.weight"):
        store.load(run.id)
    entry = RunStore(tmp_path / "runs").find(run.id)
    assert entry.status == "broken" and "NaN" in entry.message


def test_folders_added_or_removed_by_hand_appear_and_disappear(tmp_path, mnist_small):
    store = RunStore(tmp_path / "runs")
    assert store.list() == []
    assert not (tmp_path / "runs").exists()  # listing leaves no trace; the first saved run makes the folder
    run = trained(mnist_small)
    save_run(run, tmp_path / "runs" / "copied-by-hand")
    (tmp_path / "runs" / "not-a-run").mkdir()  # a folder without run files is not listed
    (entry,) = store.list()
    assert (entry.id, entry.status, entry.epochs, entry.name) == ("copied-by-hand", "finished", 2,
                                                                   "mnist · mlp · β=1 · z=4 · bce")
    shutil.rmtree(tmp_path / "runs" / "copied-by-hand")
    assert store.list() == []


def test_workspaces_see_only_their_own_runs_and_the_code_never_reaches_the_disk(tmp_path, mnist_small):
    store = RunStore(tmp_path / "runs")
    alice, bob = new_workspace_code(), new_workspace_code()
    mine = train_into(store, mnist_small, owner=alice)
    shared = train_into(store, mnist_small, seed=5)  # a personal (CLI) run
    assert [e.id for e in store.list(alice)] == [mine.id]
    assert store.list(bob) == []
    assert {e.id for e in store.list()} == {mine.id, shared.id}  # a personal machine sees every run
    with pytest.raises(StoreError, match="no run .* in this workspace"):
        store.load(mine.id, owner=bob)
    with pytest.raises(StoreError, match="no run"):
        store.delete(mine.id, owner=bob)
    assert store.load(mine.id, owner=alice.lower().replace("-", "")).id == mine.id  # typed loosely, same code
    on_disk = "\n".join(str(p) for p in (tmp_path / "runs").rglob("*"))
    on_disk += "".join(p.read_text(errors="replace") for p in (tmp_path / "runs").rglob("*.json"))
    assert normalize_code(alice) not in on_disk and alice.replace("-", "") not in on_disk
    assert workspace_id(alice) in on_disk


def test_workspace_codes_have_80_random_bits_and_are_checked():
    codes = {new_workspace_code() for _ in range(2000)}
    assert len(codes) == 2000
    code = codes.pop()
    assert len(code.replace("-", "")) * 5 >= 80  # base32: 5 bits a character
    assert normalize_code(f"  {code.lower()} ") == code == normalize_code(code.replace("-", " "))
    for bad in ("", "1234", code + "A", code.replace(code[0], "0")):
        with pytest.raises(StoreError, match="a workspace code is 16 letters and digits"):
            normalize_code(bad)


def test_a_full_quota_refuses_a_run_before_anything_is_written(tmp_path, mnist_small):
    code = new_workspace_code()
    store = RunStore(tmp_path / "runs", quota_bytes=3 * 1024**2)
    first = train_into(store, mnist_small, owner=code, hidden=(16,))  # ~0.2 MB
    used = store.usage(code)
    before = files_of(tmp_path / "runs" / "workspaces")
    with pytest.raises(QuotaError, match=r"this workspace's disk space is full: 0\.\d MB of 3 MB used, and this needs "
                                         r"\d+\.\d MB more\. Delete runs you no longer need; nothing was written"):
        store.writer(make_run(mnist_small, hidden=(400,)), owner=code)  # ~8 MB of weights and state
    assert files_of(tmp_path / "runs" / "workspaces") == before and store.usage(code) == used
    assert [e.id for e in store.list(code)] == [first.id]
    train_into(store, mnist_small, hidden=(400,))  # runs outside workspaces are not bounded


def test_a_quota_reached_mid_run_keeps_the_last_checkpoint_whole(tmp_path, mnist_small):
    code = new_workspace_code()
    store = RunStore(tmp_path / "runs", quota_bytes=50 * 1024**2)
    run = make_run(mnist_small, epochs=3)
    writer = store.writer(run, owner=code)
    with pytest.raises(QuotaError, match="disk space is full"):
        for ev in train_run(run):
            writer.event(ev)
            if ev.kind == "epoch" and ev.phase == "val":
                writer.flush()
                store.quota_bytes = store.usage(code)  # the workspace filled up meanwhile (another run)
    writer.close()
    folder = writer.folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(set(FILES) - {"summary.json"})
    (entry,) = store.list(code)
    assert entry.status == "interrupted" and entry.epochs == 1
    assert store.load(entry.id, owner=code).state.epoch == 1


def _make_read_only(folder: Path) -> None:
    if os.geteuid() == 0:  # root ignores permission bits; the immutable flag stops root too
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not supported on this file system")
    else:
        folder.chmod(0o555)


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    folder.chmod(0o755)


def test_a_read_only_store_lists_and_opens_runs_but_saves_nothing_with_a_clear_message(tmp_path, mnist_small):
    root = tmp_path / "runs"
    run = train_into(RunStore(root), mnist_small)
    before = files_of(root)
    _make_read_only(root)
    try:
        store = RunStore(root)
        assert any(f"{root} is read-only" in n and "choose another folder with --runs-dir" in n for n in store.notes)
        assert [(e.id, e.status) for e in store.list()] == [(run.id, "finished")]
        assert store.load(run.id).id == run.id
        with pytest.raises(StoreError, match=f"cannot save runs in {root}: .*nothing was changed there"):
            store.writer(make_run(mnist_small))
        with pytest.raises(StoreError, match="cannot save runs"):
            store.delete(run.id)
        assert files_of(root) == before
    finally:
        _make_writable(root)


def test_delete_removes_the_folder_and_is_refused_while_the_run_trains(tmp_path, mnist_small):
    store = RunStore(tmp_path / "runs")
    kept = train_into(store, mnist_small)
    run = make_run(mnist_small)
    with store.writer(run) as writer:
        with pytest.raises(StoreError, match="is training; stop it before deleting it"):
            store.delete(run.id)
        for ev in train_run(run):
            writer.event(ev)
        finish_run(run, iwae_k=0)
        writer.finished()
    store.delete(run.id[:10])
    assert not (tmp_path / "runs" / run.id).exists()
    assert [e.id for e in store.list()] == [kept.id]
    assert [e.id for e in RunStore(tmp_path / "runs").list()] == [kept.id]


def test_runs_of_an_older_format_load_or_say_why(tmp_path, mnist_small):
    root = tmp_path / "runs"
    run = trained(mnist_small)
    run.state = None  # saved before state.safetensors existed
    save_run(run, root / "no-state")
    save_run(run, root / "future")
    config = json.loads((root / "future" / "config.json").read_text())
    (root / "future" / "config.json").write_text(json.dumps({**config, "version": 2}))
    entries = {e.id: e for e in RunStore(root).list()}
    assert entries["no-state"].status == "finished" and not entries["no-state"].can_continue
    assert RunStore(root).load("no-state").state is None
    assert entries["future"].status == "broken"
    assert "config.json has version 2; this VAE Explorer reads version 1" in entries["future"].message


def test_ids_are_found_by_unique_prefix(tmp_path, mnist_small):
    root = tmp_path / "runs"
    run = trained(mnist_small)
    for name in ("abc1", "abc2"):
        save_run(run, root / name)
    store = RunStore(root)
    assert store.find("abc1").id == "abc1"
    with pytest.raises(StoreError, match="'abc' matches 2 runs .* give more of the id"):
        store.find("abc")
    with pytest.raises(StoreError, match="no run 'zzz' in .*'vae-explorer runs' lists the runs"):
        store.find("zzz")


def test_a_checkpoint_that_cannot_be_written_is_reported_and_the_last_one_stays(tmp_path, mnist_small):
    """Checkpoints are written in the background; a failed one (the disk turned read-only) is raised, not lost."""
    store = RunStore(tmp_path / "runs")
    run = make_run(mnist_small, epochs=3)
    writer = store.writer(run)
    try:
        with pytest.raises(StoreError, match=f"could not save a checkpoint in {writer.folder} .*; the folder keeps "
                                             "the checkpoint before it"):
            for ev in train_run(run):
                writer.event(ev)
                if ev.kind == "epoch" and ev.phase == "val" and ev.epoch == 1:
                    writer.flush()
                    _make_read_only(writer.folder)
            writer.flush()
    finally:
        _make_writable(writer.folder)
        writer.close()
    (entry,) = store.list()
    assert (entry.status, entry.epochs) == ("interrupted", 1)
    assert sorted(p.name for p in writer.folder.iterdir()) == sorted(set(FILES) - {"summary.json"})


def test_a_run_that_is_not_training_is_saved_as_it_is(tmp_path, mnist_small):
    """An uploaded zip or a sweep trial goes into the store in one call, with a name, into its workspace."""
    code = new_workspace_code()
    store = RunStore(tmp_path / "runs")
    run = trained(mnist_small)
    entry = store.save(run, owner=code, name="uploaded by the teacher")
    assert (entry.id, entry.status, entry.name, entry.epochs) == (run.id, "finished", "uploaded by the teacher", 2)
    assert entry.owner == workspace_id(code) and store.list() == [entry]
    assert digest(entry.path) == hashlib.sha256(save_run(run, tmp_path / "plain").joinpath(
        "model.safetensors").read_bytes()).hexdigest()
