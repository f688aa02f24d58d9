"""Lessons in short for the Learn page's tests: a few epochs each, MNIST lessons on every 4th digit."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from dashboard import state
from dashboard.lessons.common import EPOCH_LIMIT_ENV
from vae_core.data import load_bundled


@cache
def small(name: str):
    """A bundled data set; MNIST cut to every 4th digit (all three parts), so lesson runs stay short."""
    data = load_bundled(name)
    if name != "mnist":
        return data
    keep = np.arange(0, len(data.x), 4)
    return replace(data, x=data.x[keep], split=data.split[keep], y=data.y[keep])


@contextmanager
def lessons_in_short(epochs: int) -> Iterator[None]:
    """Within the block every lesson trains at most `epochs` epochs on the small data sets."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(EPOCH_LIMIT_ENV, str(epochs))
        mp.setattr(state, "bundled", small)
        yield
