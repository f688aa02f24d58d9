"""One run type: derived results are computed once, the same way on every page, and forgotten when retrained."""
from __future__ import annotations

import threading

import numpy as np

from vae_core import analysis
from vae_core.config import TrainConfig, default_model_config
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

