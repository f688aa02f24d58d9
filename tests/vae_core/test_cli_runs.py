"""The CLI and the run store: train writes into it, `runs` lists it, evaluate and --resume take a run id."""
from __future__ import annotations

import json
import shutil

from cli_session import run_cli

FLAGS = ["--data", "mnist", "--latent-dim", "4", "--hidden", "32", "--eval-k", "0", "--quiet"]


def test_train_writes_into_the_store_and_runs_lists_it(tmp_path, capsys):
    store = tmp_path / "runs"
    code, out, err = run_cli(capsys, "train", *FLAGS, "--epochs", "2", "--runs-dir", str(store), "--json")
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    run_id = summary["run_id"]
    assert summary["run_dir"] == str(store / run_id) and (store / run_id / "summary.json").exists()

    code, out, err = run_cli(capsys, "runs", "--runs-dir", str(store))
    assert code == 0, err
    head, row = out.strip().splitlines()
    assert head.split() == ["id", "name", "status", "data", "epochs", "neg.ELBO", "created", "path"]
    assert row.startswith(run_id[:12]) and " finished " in row and " 2/2 " in row
    assert f"{summary['test_neg_elbo']:.2f}" in row and row.endswith(str(store / run_id))

    code, out, err = run_cli(capsys, "runs", "--runs-dir", str(store), "--json")
    (listed,) = json.loads(out.strip().splitlines()[-1])
    assert (listed["id"], listed["status"], listed["epochs"], listed["data"]) == (run_id, "finished", 2, "mnist")
    assert listed["test_neg_elbo"] == summary["test_neg_elbo"] and listed["path"] == str(store / run_id)


def test_evaluate_and_resume_take_a_run_id_and_the_run_continues_in_its_folder(tmp_path, capsys, monkeypatch):
    store = tmp_path / "runs"
    monkeypatch.setenv("VAE_EXPLORER_RUNS_DIR", str(store))  # the default of --runs-dir
    code, out, err = run_cli(capsys, "train", *FLAGS, "--epochs", "1", "--json")
    assert code == 0, err
    trained = json.loads(out.strip().splitlines()[-1])
    run_id = trained["run_id"]

    code, out, err = run_cli(capsys, "evaluate", run_id[:6], "--eval-k", "0", "--json")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["test_neg_elbo"] == trained["test_neg_elbo"]

    code, out, err = run_cli(capsys, "train", "--data", "mnist", "--resume", run_id[:6], "--epochs", "1",
                             "--eval-k", "0", "--quiet", "--json")
    assert code == 0, err
    resumed = json.loads(out.strip().splitlines()[-1])
    assert resumed["run_id"] == run_id and resumed["epochs"] == 2
    assert [p.name for p in store.iterdir() if p.is_dir()] == [run_id]  # the same folder, no copy
    code, out, _ = run_cli(capsys, "runs", "--json")
    assert [(r["id"], r["epochs"], r["epochs_planned"]) for r in json.loads(out)] == [(run_id, 2, 2)]


def test_unknown_or_ambiguous_ids_and_broken_runs_are_one_clear_line(tmp_path, capsys):
    store = tmp_path / "runs"
    assert run_cli(capsys, "train", *FLAGS, "--epochs", "1", "--out", str(store / "abc1"))[0] == 0
    shutil.copytree(store / "abc1", store / "abc2")
    (store / "abc2" / "config.json").write_text("{oops")
    for argv, message in [
        (["evaluate", "zzz"], "error: no run 'zzz' in "),
        (["evaluate", "abc"], "error: 'abc' matches 2 runs in "),
        (["evaluate", "abc2"], "error: the run abc2 cannot be opened: config.json is not valid JSON"),
        (["train", "--data", "mnist", "--resume", "zzz"], "error: no run 'zzz' in "),
    ]:
        code, _, err = run_cli(capsys, *argv, "--runs-dir", str(store))
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith(message), err
    code, out, _ = run_cli(capsys, "runs", "--runs-dir", str(store))
    assert code == 0 and "abc2: config.json is not valid JSON" in out and " broken " in out


def test_runs_on_a_missing_store_says_so_and_leaves_no_folder(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "runs", "--runs-dir", str(tmp_path / "none"))
    assert code == 0 and "no runs in" in out and not (tmp_path / "none").exists()


def test_train_into_a_store_that_cannot_be_written_stops_before_any_work(tmp_path, capsys):
    (tmp_path / "runs").write_text("a file where the store should be")
    code, _, err = run_cli(capsys, "train", *FLAGS, "--epochs", "1", "--runs-dir", str(tmp_path / "runs"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: cannot save runs in {tmp_path / 'runs'}: it is a file, not a folder; nothing was "
                          "changed there. Choose a writable folder with --runs-dir")
