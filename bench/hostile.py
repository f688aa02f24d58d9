"""Hostile saved runs: peak memory and seconds of refusing each (issue 18), next to loading a real run.

Every hostile run of the corpus (tests/bad_inputs/make_corpus.py) is loaded with `load_run` in one child
process (tests/robustness/child_load.py), after a real run from the same corpus script, whose load is the
baseline; then the runs the bounds still let through at their worst: files at their bounds, and a model of
just under MAX_PARAMETERS weights (zeros: its zip is 200 KB). Peak memory is the kernel's VmHWM over each
load, above the resident memory just before it (the interpreter with torch and vae_core imported, about
250 MB). The tests hold the memory of all but the largest model; the seconds are here.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from .common import ROOT, Row, median

for _folder in ("tests", "tests/bad_inputs", "tests/robustness"):
    sys.path.insert(0, str(ROOT / _folder))
from child_load import load_in_child  # noqa: E402
from make_corpus import _hostile_run_entries, _valid_run_files, _zip_big, runs_at_the_bounds  # noqa: E402

GOAL_MB, GOAL_S = 300, 2.0


def _largest_model() -> dict[str, bytes]:
    """A run whose MLP has just under MAX_PARAMETERS weights, all zero."""
    import torch
    from safetensors.torch import save

    from vae_core.config import ModelConfig
    from vae_core.family import skeleton

    files = _valid_run_files()
    config = json.loads(files["config.json"])
    config["model"].update(hidden=[4096, 4096, 1024], latent_dim=16)  # 48.4 million weights
    layers = skeleton(ModelConfig(**{**config["model"], "input_shape": tuple(config["model"]["input_shape"])}))
    weights = save({k: torch.zeros(v.shape) for k, v in layers.state_dict().items()})
    return {**files, "config.json": json.dumps(config).encode(), "model.safetensors": weights}


def run(repeats: int = 3) -> list[Row]:
    entries = _hostile_run_entries()
    accepted = {"good": _valid_run_files(), **runs_at_the_bounds()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = []
        for e in entries:
            for rel, blob in e.files.items():
                (folder / e.name / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / e.name / rel).write_bytes(blob)
            paths.append(folder / e.name / e.given[0])
        for name, files in accepted.items():
            (folder / name).mkdir()
            for member, blob in files.items():
                (folder / name / member).write_bytes(blob)
        (folder / "largest.zip").write_bytes(_zip_big(_largest_model()))
        order = [folder / "good", *paths, *(folder / n for n in accepted if n != "good"), folder / "largest.zip"]
        children = [load_in_child(order) for _ in range(repeats)]
    for child in children:
        if child.killed or len(child.loads) != len(order):
            raise RuntimeError(f"the child loading the hostile runs failed: {child.killed or child.stderr[-500:]}")
    peak = [median([c.loads[i].peak_mb for c in children]) for i in range(len(order))]
    secs = [median([c.loads[i].seconds for c in children]) for i in range(len(order))]
    base = f"real run: {peak[0]:.0f} MB, {secs[0]:.3f} s"
    names = [e.name for e in entries] + [n for n in accepted if n != "good"] + ["model_of_48.4M_weights"]
    rows = []
    for i, name in enumerate(names, start=1):
        expect = entries[i - 1].expect if i <= len(entries) else None
        ok = all((c.loads[i].error is None) if expect is None else (expect in (c.loads[i].error or ""))
                 for c in children)
        rows.append(Row("hostile", name if expect else f"{name} (loads)", f"{peak[i]:.0f} MB, {secs[i]:.3f} s", base,
                        goal=f"{'refused' if expect else 'loads'}, <= {GOAL_MB} MB, <= {GOAL_S:g} s",
                        met=ok and peak[i] <= GOAL_MB and secs[i] <= GOAL_S))
    return rows
