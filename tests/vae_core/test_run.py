"""One run type: derived results are computed once, the same way on every page, and forgotten when retrained."""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from vae_core import analysis
from vae_core.config import TrainConfig, configs_for, default_model_config
from vae_core.data import SAMPLE_DATA_DIR, bundled_sensor_options, load_bundled, load_upload
from vae_core.run import Memo
from vae_core.runs import finish_run, new_run, train_run


def test_memo_computes_once_and_drops_what_was_computed_before_a_clear():
    memo, calls = Memo(), []
    assert memo.get("k", lambda: calls.append(1) or 1) == 1 and memo.get("k", lambda: calls.append(2) or 2) == 1
    assert calls == [1]
    version = memo.version
    memo.clear()  # the model was retrained while a background map was computing
    assert memo.put("map", "stale", version) == "stale" and memo.peek("map") is None
    assert memo.put("map", "fresh", memo.version) == "fresh" and memo.peek("map") == "fresh"


def test_memo_under_threads_keeps_the_first_value():
    memo, gate = Memo(), threading.Barrier(4)
    seen = []

    def worker(n):
        gate.wait()
        seen.append(memo.get("k", lambda: n))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1


def test_the_diagnosis_is_the_one_with_the_training_history_on_every_page(mnist_small):
    run = new_run(mnist_small, default_model_config("image", mnist_small.input_shape, hidden=(32,), latent_dim=4),
                  TrainConfig(epochs=2))
    list(train_run(run))
    finish_run(run, iwae_k=0)
    diag = run.diagnosis("test")
    reference = analysis.diagnose(run.model, mnist_small.part("test")[0], run.so_far())
    assert diag.reason == reference.reason and np.allclose(diag.kl_per_dim, reference.kl_per_dim)
    assert run.diagnosis("test") is diag  # memoised
    assert len(run.so_far().recon) == 2 and run.so_far().steps == run.events[-1].step
    list(train_run(run, epochs=3))  # trained further: the memo is stale until finished
    finish_run(run, iwae_k=0)
    assert run.diagnosis("test") is not diag



DAPHNET = SAMPLE_DATA_DIR / "daphnet_s06r02.csv.gz"


def test_labels_count_a_sensor_runs_channels():
    def run_on(name, channels=None):  # a bundled recording, or its CSV uploaded with some of its channels
        base = bundled_sensor_options(name)
        data = load_bundled(name) if channels is None else \
            load_upload([(DAPHNET.name, DAPHNET.read_bytes())], replace(base, channels=channels))
        return new_run(data, *configs_for(data.kind, data.input_shape, {}))

    bleeding = run_on("bleeding")
    assert bleeding.label == "bleeding (1 ch), conv1d, β=1, z=8, mse"  # not yet named
    bleeding.name = "run 3"
    assert bleeding.label == "run 3: bleeding (1 ch), conv1d, β=1, z=8, mse"
    assert run_on("daphnet").label.startswith("daphnet (9 ch),")
    ankle = run_on("daphnet", ("ankle_horiz_fwd", "ankle_vert", "ankle_horiz_lateral"))
    one = run_on("daphnet", ("trunk_vert",))
    assert ankle.label.startswith("daphnet_s06r02.csv.gz (3 ch),")
    assert one.label.startswith("daphnet_s06r02.csv.gz (1 ch),")
    mnist = load_bundled("mnist")
    assert "ch)" not in new_run(mnist, *configs_for("image", mnist.input_shape, {})).label  # images: no channels
