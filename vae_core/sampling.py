"""New data from a saved run, in the data's own units: what `vae-explorer sample` writes.

A conditional run draws the class it is asked for; any run draws codes from its prior (z ~ N(0, I), or z2 and
then z1 given z2 for a hierarchical VAE) and decodes them. Images come out as (n, H, W) in [0, 1] (colour images
(n, H, W, C)); sensor windows as (n, T, C) in the recording's units (the run's scaling undone).
"""
from __future__ import annotations

import numpy as np

from . import analysis
from .dataset import DataError, Scaling
from .run import Run


def label_index(run: Run, label: str) -> int:
    """The class number of `label`: one of the run's label names, or a class number; DataError otherwise."""
    if not run.model.classes:
        raise DataError("this run is not conditional, so it cannot draw a chosen class: leave out --label to draw "
                        "from its prior, or train a run with --conditional")
    names = [str(n) for n in run.data_info.get("label_names") or []]
    if label in names:
        return names.index(label)
    if label.strip().isdigit() and int(label) < run.model.classes:
        return int(label)
    shown = ", ".join(names) if names else f"0 to {run.model.classes - 1}"
    raise DataError(f"--label {label!r} is not one of this run's classes ({shown})")


def draw(run: Run, n: int, label: int | None = None, seed: int = 0) -> np.ndarray:
    """n samples decoded from the prior (of class `label` for a conditional run), in the data's units."""
    if n < 1:
        raise DataError(f"--n must be 1 or more, not {n}")
    if run.model.classes and label is None:
        raise DataError("this run is conditional: give the class to draw with --label (one of its classes)")
    x = analysis.sample_prior(run.model, n, seed=seed, y=label)
    if run.model.cfg.kind == "image":
        x = np.clip(x, 0.0, 1.0).transpose(0, 2, 3, 1)  # (n, C, H, W) -> (n, H, W, C)
        return x[..., 0] if x.shape[-1] == 1 else x
    scaling = run.data_info.get("scaling")
    return Scaling.from_dict(scaling).undo(x).astype(np.float32) if scaling else x
