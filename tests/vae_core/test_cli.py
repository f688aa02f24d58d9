"""The command line end to end: train -> run folder -> evaluate gives the same numbers; errors are one line."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_session import run_cli

from vae_core.cli import build_parser
from vae_core.config import TrainConfig


def test_train_writes_the_run_folder_and_evaluate_repeats_its_numbers(tmp_path, capsys):
    out_dir = tmp_path / "a"
    code, out, err = run_cli(capsys, "train", "--data", "mnist", "--epochs", "2", "--beta", "1", "--latent-dim", "8",
                             "--loss", "bce", "--eval-k", "8", "--out", str(out_dir), "--json")
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    for key in ("test_neg_elbo", "recon", "kl", "kl_per_dim", "active_units", "collapsed", "collapse_reason",
                "iwae_nll", "epochs", "seconds", "samples_per_second", "anomaly_auc", "anomaly_ap"):
        assert key in summary, key
    assert summary["epochs"] == 2 and len(summary["kl_per_dim"]) == 8
    assert summary["test_neg_elbo"] == pytest.approx(summary["recon"] + summary["kl"])
    assert sorted(p.name for p in out_dir.iterdir()) == ["config.json", "metrics.csv", "model.safetensors",
                                                         "state.safetensors", "summary.json"]
    rows = list(csv.DictReader((out_dir / "metrics.csv").open()))
    assert {r["kind"] for r in rows} == {"step", "epoch", "end"}
    assert sum(r["kind"] == "epoch" and r["phase"] == "train" for r in rows) == 2
    assert json.loads((out_dir / "config.json").read_text())["model"]["latent_dim"] == 8

    code, out, err = run_cli(capsys, "evaluate", str(out_dir), "--eval-k", "8", "--json")
    assert code == 0, err
    again = json.loads(out.strip().splitlines()[-1])
    for key in ("test_neg_elbo", "recon", "kl", "active_units", "iwae_nll", "collapsed"):
        assert again[key] == pytest.approx(summary[key], rel=1e-6), key


def test_sensor_training_reports_anomaly_scores(tmp_path, capsys):
    code, out, err = run_cli(capsys, "train", "--data", "bleeding", "--epochs", "3", "--out", str(tmp_path / "s"),
                             "--quiet")
    assert code == 0, err
    assert "anomaly detection, test windows: ROC-AUC" in out and "test neg. ELBO" in out
    assert "anomaly detection, whole recording (every step" in out and "labelled events detected" in out
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert 0 <= summary["anomaly_auc"] <= 1 and summary["iwae_nll"] is None
    for key in ("anomaly_point_auc", "anomaly_point_ap", "anomaly_vus_roc", "anomaly_vus_pr", "anomaly_event_f1",
                "anomaly_events_detected", "anomaly_threshold"):
        assert summary[key] is not None, key
    assert summary["anomaly_events_total"] == 1  # InternalBleeding16's one labelled anomaly, in the whole recording
    assert set(summary["anomaly_baselines"]) == {"random", "zscore", "pca", "iforest"}
    assert set(summary["anomaly_baselines"]["pca"]) >= {"point_auc", "vus_pr", "event_f1", "test"}
    assert summary["data_notes"] and "windows of 64 steps" in " ".join(summary["data_notes"])


def test_resume_continues_a_saved_run(tmp_path, capsys):
    first = tmp_path / "first"
    assert run_cli(capsys, "train", "--data", "mnist", "--epochs", "1", "--latent-dim", "4", "--eval-k", "0",
                   "--out", str(first), "--quiet")[0] == 0
    code, out, err = run_cli(capsys, "train", "--data", "mnist", "--resume", str(first), "--epochs", "1",
                             "--eval-k", "0", "--out", str(tmp_path / "second"), "--json")
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "second" / "metrics.csv").open()))
    assert sum(r["kind"] == "end" for r in rows) == 2  # the first call's history is kept
    assert json.loads(out.strip().splitlines()[-1])["latent_dim"] == 4


@pytest.mark.parametrize("argv,message", [
    (["train", "--data", "mnist", "--beta", "abc"], "argument --beta: invalid float value: 'abc'"),
    (["train", "--data", "mnist", "--loss", "hinge"], "argument --loss: invalid choice: 'hinge'"),
    (["train", "--data", "mnist", "--epochs", "0"], "epochs must be a whole number from 1 to 10000"),
    (["train", "--data", "mnist", "--arch", "gru"], "the gru architecture is for sensor windows"),
    (["train", "--data", "nosuchset"], "nosuchset"),
    (["train", "--data", "bleeding", "--loss", "bce", "--epochs", "1"], "the bce loss models values in [0, 1]"),
    (["train", "--data", "mnist", "--device", "cuda:0"] if not __import__("torch").cuda.is_available() else
     ["train", "--data", "mnist", "--device", "tpu"], "device"),
    (["train", "--data", "mnist", "--hidden", "4x"], "expected whole numbers separated by commas"),
    (["evaluate", "/nonexistent/run"], "no run folder at /nonexistent/run"),
    (["train"], "the following arguments are required: --data"),
])
def test_bad_flags_and_files_give_one_error_line_and_exit_2(capsys, tmp_path, argv, message):
    code, out, err = run_cli(capsys, *argv,
                             *(["--out", str(tmp_path / "x")] if argv[0] == "train" and len(argv) > 1 else []))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert message in lines[0]
    assert "Traceback" not in err


def test_a_broken_file_is_reported_not_raised(tmp_path, capsys):
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b\n1,2,3\nx\n")
    code, _, err = run_cli(capsys, "train", "--data", str(bad), "--out", str(tmp_path / "r"))
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_help_documents_every_flag_with_its_default():
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    text = " ".join(train.format_help().split())  # a default may be wrapped onto the next line
    for action in train._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, action.dest
            assert action.option_strings[0] in text
    assert f"(default: {TrainConfig().lr})" in text
    assert "(default: 16 for images, 8 for sensors)" in text


def test_installed_console_script_trains_and_fails_cleanly(tmp_path):
    exe = shutil.which("vae-explorer", path=str(Path(sys.executable).parent))
    assert exe, "the vae-explorer console script is installed with the package"
    ok = subprocess.run([exe, "train", "--data", "basicmotions", "--epochs", "2", "--out", str(tmp_path / "bm"),
                         "--json"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["data"] == "basicmotions"
    assert "samples_s" in ok.stderr  # the progress bar shows throughput
    bad = subprocess.run([exe, "train", "--data", "mnist", "--lr", "-1"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: lr must be a positive number")
    assert "Traceback" not in bad.stderr


def test_ui_command_serves_the_app_with_the_upload_bound_and_no_gc_after_each_run():
    """`vae-explorer ui` must not depend on the working directory's .streamlit/config.toml."""
    from vae_core.cli import ui_command
    from vae_core.data import MAX_UPLOAD_BYTES

    argv = ui_command("127.0.0.1", 8123)
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert argv[1:4] == ["-m", "dashboard.serve", "run"] and argv[4].endswith("dashboard/streamlit_app.py")
    assert flags["--server.port"] == "8123" and flags["--server.address"] == "127.0.0.1"
    assert flags["--server.maxUploadSize"] == str(MAX_UPLOAD_BYTES // 2**20)
    assert flags["--runner.postScriptGC"] == "false"


def _weights_digest(run_dir: Path) -> str:
    import hashlib

    return hashlib.sha256((run_dir / "model.safetensors").read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("flags", [
    ["--data", "mnist", "--epochs", "2", "--dropout", "0.2", "--latent-dim", "8"],  # MLP with dropout
    ["--data", "bleeding", "--epochs", "3"],  # conv1d on a sensor recording
    ["--data", "basicmotions", "--epochs", "3", "--arch", "gru"],
], ids=["mlp-dropout", "conv1d", "gru"])
def test_the_same_seed_gives_the_same_weights_from_two_processes(tmp_path, flags):
    """Two separate `vae-explorer train --seed 7` processes write bit-identical model.safetensors."""
    digests = []
    for name in ("a", "b"):
        out = tmp_path / name
        done = subprocess.run([sys.executable, "-m", "vae_core.cli", "train", *flags, "--seed", "7", "--eval-k", "0",
                               "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        digests.append(_weights_digest(out))
    assert digests[0] == digests[1]
    other = tmp_path / "seed8"
    subprocess.run([sys.executable, "-m", "vae_core.cli", "train", *flags, "--seed", "8", "--eval-k", "0", "--quiet",
                    "--out", str(other)], check=True, capture_output=True, timeout=600)
    assert _weights_digest(other) != digests[0]  # the seed really decides


@pytest.mark.slow
def test_a_resumed_run_ends_with_the_weights_of_a_run_that_never_stopped(tmp_path, capsys):
    flags = ["--data", "mnist", "--latent-dim", "4", "--dropout", "0.1", "--eval-k", "0", "--seed", "5", "--quiet"]
    assert run_cli(capsys, "train", *flags, "--epochs", "3", "--out", str(tmp_path / "straight"))[0] == 0
    assert run_cli(capsys, "train", *flags, "--epochs", "1", "--out", str(tmp_path / "first"))[0] == 0
    code, _, err = run_cli(capsys, "train", "--data", "mnist", "--resume", str(tmp_path / "first"), "--epochs", "2",
                           "--eval-k", "0", "--quiet", "--out", str(tmp_path / "resumed"))
    assert code == 0, err
    assert _weights_digest(tmp_path / "resumed") == _weights_digest(tmp_path / "straight")
    code, _, err = run_cli(capsys, "train", "--data", "mnist", "--resume", str(tmp_path / "first"), "--beta", "2")
    assert code == 2 and "--resume continues the saved run with its own settings; drop --beta" in err


def test_label_names_name_the_classes_of_a_run_and_a_wrong_count_exits_2(tmp_path, capsys):
    names = "zero,one,two,three,four,five,six,seven,eight,nine"
    code, _, err = run_cli(capsys, "train", "--data", "mnist", "--epochs", "1", "--hidden", "32", "--latent-dim", "2",
                           "--label-names", names, "--out", str(tmp_path / "named"), "--quiet")
    assert code == 0, err
    config = json.loads((tmp_path / "named" / "config.json").read_text())
    assert config["data"]["label_names"] == names.split(",")
    code, out, err = run_cli(capsys, "train", "--data", "mnist", "--label-names", "a,b", "--out", str(tmp_path / "x"))
    assert code == 2 and err.startswith("error: 'mnist' has 10 labels (values 0 to 9): give 10 names") and out == ""
    assert not (tmp_path / "x").exists()
