"""Shared fixtures: the bundled real data sets, loaded once per test session."""
from __future__ import annotations

from dataclasses import replace

import pytest

from vae_core.data import load_bundled
from vae_core.dataset import Dataset


def first(data: Dataset, n: int) -> Dataset:
    """The first n samples of a data set (the split codes travel with them)."""
    return replace(data, x=data.x[:n], split=data.split[:n], y=None if data.y is None else data.y[:n])


@pytest.fixture(scope="session", autouse=True)
def run_store(tmp_path_factory):
    """Every test's runs go to a temporary run store, as on a shared server (each session its own workspace);
    tests of a personal server or of another store say so themselves."""
    folder = tmp_path_factory.mktemp("runs")
    patch = pytest.MonkeyPatch()
    patch.setenv("VAE_EXPLORER_RUNS_DIR", str(folder))
    patch.setenv("VAE_EXPLORER_SHARED", "1")
    yield folder
    patch.undo()


@pytest.fixture(scope="session")
def mnist() -> Dataset:
    return load_bundled("mnist")


@pytest.fixture(scope="session")
def mnist_small(mnist) -> Dataset:
    return first(mnist, 1200)


@pytest.fixture(scope="session")
def bleeding() -> Dataset:
    return load_bundled("bleeding")
