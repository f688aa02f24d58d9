"""The Learn page's lessons: each sets up real data and settings, trains a few short runs in the
background, and explains what happened with the numbers of those runs (see common.py for the parts)."""
from __future__ import annotations

from .. import state
from . import (
    anomaly,
    ar_collapse,
    augmentation,
    beta,
    collapse,
    elbo,
    family,
    latent_size,
    prior_holes,
    rate_distortion,
    sensor_loss,
    touch,
)
from .common import Lesson
from .touch import LiveLesson

LESSONS: dict[int, Lesson | LiveLesson] = {m.LESSON.number: m.LESSON for m in (elbo, beta, collapse, latent_size,
                                                                               sensor_loss, anomaly, touch, family,
                                                                               prior_holes, rate_distortion,
                                                                               ar_collapse, augmentation)}
for _lesson in LESSONS.values():  # runs record "lesson:5" as their data: the server can make it again
    if _lesson.prepare is not None:
        state.VARIANTS[_lesson.source] = lambda lesson=_lesson: lesson.prepare(state.bundled(lesson.data))


def lesson_data(lesson: Lesson):
    """A lesson's data set: the bundled one, or its own variant (made once per server and shared)."""
    return state.variant(lesson.source) if lesson.prepare is not None else state.bundled(lesson.data)
