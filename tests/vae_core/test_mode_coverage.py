"""Mode coverage: a run trained on one digit generates that digit only, and the other nine are reported missing;
the classifier's own baselines come from real test digits."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vae_core.config import configs_for
from vae_core.mode_coverage import CONFIDENT, check_labelled, fit_classifier, mode_coverage
from vae_core.runs import new_run, train_run


@pytest.fixture(scope="module")
def classifier(mnist):
    return fit_classifier(mnist)


def _train(data, epochs: int):
    run = new_run(data, *configs_for("image", (1, 28, 28), {"latent_dim": 8, "hidden": (128,), "epochs": epochs,
                                                               "batch_size": 32}))
    list(train_run(run))
    return run


def test_a_run_trained_on_one_digit_misses_the_other_nine(mnist, classifier):
    threes = np.flatnonzero(mnist.y == 3)
    one_class = replace(mnist, x=mnist.x[threes], split=mnist.split[threes], y=mnist.y[threes])
    run = _train(one_class, epochs=4)
    coverage = mode_coverage(run.model, mnist, n=300, classifier=classifier)  # counted against all ten digits
    assert "3" not in coverage.missing and coverage.confident[3] > 0
    assert len(coverage.missing) >= 8
    assert coverage.sample_share[3] == coverage.sample_share.max()
    assert coverage.n == 300 and coverage.data_share == pytest.approx(np.full(10, 0.1), abs=0.01)


def test_the_classifier_baselines_come_from_real_test_digits(mnist, classifier):
    run = _train(replace(mnist, x=mnist.x[::4], split=mnist.split[::4], y=mnist.y[::4]), epochs=2)
    coverage = mode_coverage(run.model, mnist, n=200, classifier=classifier)
    x, y = mnist.part("test")
    probs = classifier.predict_proba(x.reshape(len(x), -1))
    assert coverage.test_accuracy == pytest.approx(float((probs.argmax(1) == y).mean()))
    assert coverage.test_unsure == pytest.approx(float((probs.max(1) < CONFIDENT).mean()))
    assert coverage.test_accuracy > 0.8 and coverage.test_part == "test" and coverage.n_test == len(y)
    assert coverage.unsure_share == pytest.approx(coverage.unsure.sum() / 200)


def test_data_without_class_labels_is_refused(bleeding, mnist):
    with pytest.raises(ValueError, match="bleeding has no class labels"):
        check_labelled(bleeding)
    one = replace(mnist, y=np.zeros_like(mnist.y))
    with pytest.raises(ValueError, match="holds one class only"):
        check_labelled(one)
