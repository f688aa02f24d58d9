"""The Learn page's six lessons: each sets up real data and settings, trains a few short runs in the
background, and explains what happened with the numbers of those runs (see common.py for the parts)."""
from __future__ import annotations

from . import anomaly, beta, collapse, elbo, latent_size, sensor_loss
from .common import Lesson

LESSONS: dict[int, Lesson] = {m.LESSON.number: m.LESSON for m in (elbo, beta, collapse, latent_size, sensor_loss,
                                                                  anomaly)}
