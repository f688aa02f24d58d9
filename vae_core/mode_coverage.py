"""Mode coverage: which classes the samples from the prior show, and how many look like no class at all.

Generative models can drop whole modes of the data ("mode collapse"); a VAE more often spreads its samples
thinly between modes, as blurry averages. A classifier fitted on the training part (scikit-learn: PCA then
logistic regression) labels decoded prior samples: the classes it never confidently sees were never
generated, and the samples it cannot place confidently are the in-between ones. The same classifier on real
test inputs gives the baselines: how accurate it is, and how often it is unsure of a real input.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import analysis
from .dataset import Dataset
from .models import VAE

SAMPLES = 1000
CONFIDENT = 0.8  # the classifier's probability for its pick at or above which a sample counts as that class
PCA_COMPONENTS = 50


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def check_labelled(data: Dataset) -> None:
    """Raise ValueError unless the data has class labels and a training part holding two classes or more."""
    if data.y is None or data.label_kind != "class":
        raise ValueError(f"{data.name} has no class labels, so there is nothing to count the samples by")
    if len(np.unique(data.part("train")[1])) < 2:
        raise ValueError("the training part holds one class only: a classifier needs two or more")


def fit_classifier(data: Dataset, seed: int = 0):
    """PCA + logistic regression fitted on the training part's inputs and labels (a scikit-learn pipeline)."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    check_labelled(data)
    x, y = data.part("train")
    k = max(1, min(PCA_COMPONENTS, len(x) - 1, _flat(x).shape[1]))
    pipeline = make_pipeline(PCA(k, random_state=seed), StandardScaler(), LogisticRegression(max_iter=2000))
    return pipeline.fit(_flat(x), y)


@dataclass(frozen=True)
class ModeCoverage:
    """Prior samples counted by the class a classifier gives them, beside the data's class shares."""

    label_names: tuple[str, ...]
    confident: np.ndarray  # (K,) samples placed in each class with probability >= CONFIDENT
    unsure: np.ndarray  # (K,) samples whose most likely class this is, below CONFIDENT
    data_share: np.ndarray  # (K,) each class's share of the training part
    test_accuracy: float  # the classifier on real held-out inputs
    test_unsure: float  # share of real held-out inputs it is unsure of (the baseline for `unsure_share`)
    test_part: str
    n_test: int

    @property
    def n(self) -> int:
        return int(self.confident.sum() + self.unsure.sum())

    @property
    def sample_share(self) -> np.ndarray:
        """(K,) share of the samples whose most likely class each is."""
        return (self.confident + self.unsure) / max(self.n, 1)

    @property
    def unsure_share(self) -> float:
        return float(self.unsure.sum() / max(self.n, 1))

    @property
    def missing(self) -> tuple[str, ...]:
        """Classes no sample was confidently placed in: never generated."""
        return tuple(name for name, c in zip(self.label_names, self.confident, strict=True) if c == 0)


def mode_coverage(model: VAE, data: Dataset, n: int = SAMPLES, seed: int = 0, classifier=None,
                  codes: np.ndarray | None = None) -> ModeCoverage:
    """Label n decoded prior samples (or the decoded `codes` (n, D)) with a classifier fitted on `data`'s training
    part (or the one given).

    `data` must hold class labels; the model may have been trained on other data of the same shape (e.g. one
    class of it), which is how a missing mode shows.
    """
    check_labelled(data)
    classifier = classifier if classifier is not None else fit_classifier(data, seed)
    names = tuple(data.label_names or (str(c) for c in range(int(data.y.max()) + 1)))
    k = len(names)
    samples = analysis.sample_prior(model, n, seed) if codes is None else analysis.decode(model, codes)
    probs = _probabilities(classifier, _flat(samples), k)
    pick, top = probs.argmax(1), probs.max(1)
    sure = top >= CONFIDENT
    confident, unsure = np.bincount(pick[sure], minlength=k), np.bincount(pick[~sure], minlength=k)
    part = next((p for p in ("test", "val") if len(data.indices(p))), "train")
    x_test, y_test = data.part(part)
    test_probs = _probabilities(classifier, _flat(x_test), k)
    train_y = data.part("train")[1]
    return ModeCoverage(names, confident, unsure, np.bincount(train_y, minlength=k) / len(train_y),
                        float((test_probs.argmax(1) == y_test).mean()), float((test_probs.max(1) < CONFIDENT).mean()),
                        part, len(x_test))


def _probabilities(classifier, x: np.ndarray, k: int) -> np.ndarray:
    """(N, K) class probabilities, zero for classes the classifier never saw in training."""
    out = np.zeros((len(x), k))
    out[:, classifier.classes_] = classifier.predict_proba(x)
    return out
