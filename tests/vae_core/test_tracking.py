"""MLflow logging with the real mlflow client and a local file store: what MLflow holds is what the folder holds."""
from __future__ import annotations

import csv
import json

import pytest

from vae_core.checkpoint import save_run
from vae_core.cli import main
from vae_core.config import configs_for
from vae_core.runs import new_run
from vae_core.tracking import TrackingError, check, log_run

mlflow = pytest.importorskip("mlflow", reason="pip install 'vae-explorer[mlflow]' (the dev extra has it)")
from mlflow.tracking import MlflowClient  # noqa: E402


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch):
    # mlflow 3.7+ keeps its file store for existing users only unless this is set; a server or sqlite needs none
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    return (tmp_path / "mlruns").as_uri()


def epoch_rows(folder):
    with (folder / "metrics.csv").open() as f:
        return [r for r in csv.DictReader(f) if r["kind"] == "epoch"]


def history(client, run_id, key):
    return [(m.step, m.value) for m in sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]


def test_train_with_mlflow_logs_params_epoch_metrics_summary_and_files(tmp_path, capsys, tracking_uri):
    out = tmp_path / "run"
    code = main(["train", "--data", "mnist", "--epochs", "3", "--latent-dim", "4", "--hidden", "32", "--beta", "2",
                 "--eval-k", "0", "--quiet", "--out", str(out), "--mlflow", tracking_uri])
    _, err = capsys.readouterr()
    assert code == 0, err
    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("vae-explorer").experiment_id])
    assert f"logged to MLflow at {tracking_uri}: run {run.info.run_id}" in err
    assert run.info.status == "FINISHED" and run.data.tags["vae_explorer.data"] == "mnist"

    config = json.loads((out / "config.json").read_text())
    assert run.data.params["beta"] == "2" and run.data.params["latent_dim"] == "4"
    assert run.data.params["hidden"] == "32" and run.data.params["data"] == "mnist"
    assert set(config["model"]) | set(config["train"]) <= set(run.data.params)

    rows = epoch_rows(out)
    for phase in ("train", "val"):
        for name in ("loss", "recon", "kl", "beta"):
            expected = [(int(r["epoch"]), float(r[name])) for r in rows if r["phase"] == phase]
            assert len(expected) == 3
            assert history(client, run.info.run_id, f"{phase}_{name}") == expected, name

    summary = json.loads((out / "summary.json").read_text())
    assert run.data.metrics["test_neg_elbo"] == pytest.approx(summary["test_neg_elbo"])
    assert run.data.metrics["test_recon"] == pytest.approx(summary["recon"])
    assert run.data.metrics["active_units"] == summary["active_units"] and run.data.metrics["epochs"] == 3
    files = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert files == {"config.json", "model.safetensors", "metrics.csv", "summary.json", "state.safetensors"}


def test_a_folder_of_the_store_logs_with_a_name_and_tags(tmp_path, capsys, tracking_uri):
    assert main(["train", "--data", "mnist", "--epochs", "1", "--latent-dim", "2", "--hidden", "16", "--eval-k", "0",
                 "--quiet", "--runs-dir", str(tmp_path / "runs")]) == 0
    (folder,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    run_id = log_run(tracking_uri, folder, experiment="class 3", run_name="lesson 2", tags={"who": "teacher"})
    run = MlflowClient(tracking_uri).get_run(run_id)
    assert run.info.run_name == "lesson 2" and run.data.tags["who"] == "teacher"
    assert run.data.tags["vae_explorer.run_folder"] == str(folder.resolve())


def test_an_unusable_tracking_uri_fails_before_training_in_one_line(tmp_path, capsys, mnist_small, tracking_uri):
    (tmp_path / "file").write_text("x")
    uri = (tmp_path / "file" / "mlruns").as_uri()  # a store inside a file cannot be made
    code = main(["train", "--data", "mnist", "--epochs", "1", "--out", str(tmp_path / "r"), "--mlflow", uri])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith(f"error: cannot log to MLflow at {uri}: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing trained, nothing written
    save_run(new_run(mnist_small, *configs_for("image", mnist_small.input_shape, {"hidden": (8,)})), tmp_path / "run")
    with pytest.raises(TrackingError, match=f"could not log {tmp_path / 'run'} to MLflow at {uri}: "):
        log_run(uri, tmp_path / "run")
    with pytest.raises(TrackingError, match="is not a saved run folder"):
        log_run(tracking_uri, tmp_path / "file")


@pytest.mark.slow
def test_a_sweep_logs_each_finished_trial_from_the_driver(tmp_path, capsys, tracking_uri):
    out = tmp_path / "sweep"
    code = main(["sweep", "--data", "mnist", "--beta", "1,4", "--latent-dim", "2", "--hidden", "16", "--epochs", "1",
                 "--eval-k", "0", "--workers", "1", "--quiet", "--out", str(out), "--mlflow", tracking_uri])
    _, err = capsys.readouterr()
    assert code == 0, err
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("vae-explorer").experiment_id])
    by_trial = {r.info.run_name.split("/")[-1]: r for r in runs}
    trials = {p.name for p in (out / "trials").iterdir()}
    assert set(by_trial) == trials and len(trials) == 2
    for trial, run in by_trial.items():
        assert run.data.tags["vae_explorer.sweep"] == str(out.resolve())
        rows = epoch_rows(out / "trials" / trial)
        expected = [(int(r["epoch"]), float(r["loss"])) for r in rows if r["phase"] == "train"]
        assert history(client, run.info.run_id, "train_loss") == expected
        assert run.data.params["beta"] == json.loads((out / "trials" / trial / "config.json").read_text())["train"][
            "beta"].__format__("g")


def test_a_folder_store_that_mlflow_refuses_says_how_to_allow_it(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    try:
        check((tmp_path / "mlruns").as_uri())
    except TrackingError as exc:  # mlflow 3.7 and later
        assert "set MLFLOW_ALLOW_FILE_STORE=true, or give an MLflow server" in str(exc)
    else:  # older mlflow still makes folder stores
        assert (tmp_path / "mlruns").is_dir()
