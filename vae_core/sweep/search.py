"""The sweep driver: which trials to run (grid, random, Bayesian with Optuna), on an engine, with resume.

`run(plan, engine, out)` keeps up to `engine.slots` trials in flight, writes each finished one to
OUT/results.csv (and its run to OUT/trials/<id>/), and skips trials whose key is already there.
A Bayesian search (bayes.py) keeps its Optuna study in OUT/study.db or a shared database, so it resumes too.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import UNIT_INTERVAL_LOSSES, ConfigError, to_dict
from ..dataset import Dataset
from ..family import skeleton
from ..store_files import commit_files
from . import results
from .space import SEARCHES, Base, Choice, Range, SweepError, Values, configs, describe, grid, sample, trial_key
from .trial import TrialOutcome, TrialTask, sensor_dict

POLL_SECONDS = 10  # the driver wakes this often while trials run (Optuna heartbeats)
VALIDATE_LIMIT = 500  # combinations checked up front before a sweep starts


@dataclass
class Plan:
    """A sweep as asked: shared settings, the space, the search and its budget."""

    base: Base
    space: dict[str, Values]
    search: str = "grid"  # grid | random | bayes
    trials: int | None = None  # random and bayes: how many
    iwae_k: int = 64  # importance samples for the IWAE NLL (images; 0 = skip)
    storage: str | None = None  # bayes: Optuna storage URL (default: sqlite in the sweep folder)
    unit_interval: bool = True  # the data lies in [0, 1] (the Bernoulli losses need it)

    def __post_init__(self) -> None:
        if self.search not in SEARCHES:
            raise SweepError(f"--search must be one of {', '.join(SEARCHES)}, not {self.search!r}")
        if self.search == "grid" and self.trials is not None:
            raise SweepError("--trials is for --search random or bayes; a grid runs every combination")
        if self.search != "grid" and not self.trials:
            raise SweepError(f"--search {self.search} needs --trials N")
        if self.trials is not None and self.trials < 1:
            raise SweepError(f"--trials must be 1 or more, not {self.trials}")
        if not self.space:
            raise SweepError("nothing to sweep: give at least one of --beta, --latent-dim, --loss, --lr, ...")

    @property
    def varied(self) -> list[str]:
        """Parameters with more than one value (the columns worth showing)."""
        return [n for n, v in self.space.items() if isinstance(v, Range) or len(v.values) > 1]

    def task(self, params: dict[str, Any], threads: int | None = None, files: bool = True) -> TrialTask:
        """The task for one setting (checked: it must fit the data)."""
        model, train = self.check(params)
        if threads:
            train = replace(train, threads=threads)
        key = trial_key(self.base, model, train)
        return TrialTask(trial=key[:8], key=key, params=dict(params), model=to_dict(model), train=to_dict(train),
                         source=self.base.source, sensor=self.base.sensor, iwae_k=self.iwae_k, threads=threads,
                         files=files)

    def check(self, params: dict[str, Any]):
        try:
            model, train = configs(self.base, params)
            skeleton(model)  # do the layers fit the data's size? allocates nothing
        except (ConfigError, ValueError, RuntimeError) as exc:
            raise SweepError(f"{describe(params)}: {exc}") from None
        if model.loss in UNIT_INTERVAL_LOSSES and not self.unit_interval:
            raise SweepError(f"the {model.loss} loss models values in [0, 1] but {self.base.source} is not in [0, 1]; "
                             "sweep mse, mae or huber instead")
        return model, train

    def settings(self) -> list[dict[str, Any]]:
        """Grid and random search: the settings to run, in order."""
        if self.search == "grid":
            return grid(self.space)
        if self.search == "random":
            return sample(self.space, int(self.trials), self.base.seed)
        raise SweepError("a Bayesian search proposes its trials one by one")

    def validate(self) -> None:
        """Check the space against the data before anything runs (every combination, or each value)."""
        corners = {n: v.values if isinstance(v, Choice) else (_cast(v, v.low), _cast(v, v.high))
                   for n, v in self.space.items()}
        if math.prod(len(v) for v in corners.values()) <= VALIDATE_LIMIT:
            combos = [dict(zip(corners, c, strict=True)) for c in itertools.product(*corners.values())]
        else:
            first = {n: v[0] for n, v in corners.items()}
            combos = [{**first, n: x} for n, values in corners.items() for x in values]
        for params in combos:
            self.check(params)


def _cast(r: Range, v: float) -> float | int:
    return int(round(v)) if r.integer else float(v)


def make_plan(data: Dataset, source: str, space: dict[str, Values], *, search: str = "grid",
              trials: int | None = None, seed: int = 0, fixed: dict[str, Any] | None = None, sensor=None,
              iwae_k: int = 64, storage: str | None = None, device: str = "auto") -> Plan:
    """A checked plan for `data` (loaded from `source`, a bundled name or a path, with sensor options)."""
    fixed = {k: v for k, v in (fixed or {}).items() if v is not None and k not in space}
    base = Base(source=source, kind=data.kind, input_shape=tuple(data.input_shape), sensor=sensor_dict(sensor),
                seed=seed, device=device, fixed=fixed, classes=data.classes)
    plan = Plan(base, dict(space), search, trials, iwae_k, storage, unit_interval=data.in_unit_interval)
    plan.validate()
    return plan


@dataclass
class Progress:
    """What a progress display needs after each trial."""

    done: int  # trials finished (this run and earlier ones)
    total: int  # trials planned
    best: dict[str, Any] | None  # best row so far
    row: dict[str, Any] | None  # the row just written (None for the first call)
    run: Any = None  # in-process engine: the trial's trained checkpoint.Run


@dataclass
class Outcome:
    """How a sweep ended."""

    rows: list[dict[str, Any]]  # every done trial in the folder, earlier runs included
    new: list[dict[str, Any]]  # trials finished in this run
    skipped: int  # trials found already done
    total: int
    stopped: bool = False  # interrupted or asked to stop
    note: str = ""  # e.g. why a Bayesian search ended early
    study: str | None = None  # bayes: the Optuna study name and storage
    outcomes: list[TrialOutcome] = field(default_factory=list)  # in-process engine: with their runs

    @property
    def best(self) -> dict[str, Any] | None:
        return results.best(self.rows)


class _ListProposer:
    """Grid and random search: a fixed list, minus the keys already done."""

    def __init__(self, plan: Plan, threads: int | None, files: bool, done: dict[str, dict]) -> None:
        tasks = [plan.task(p, threads, files) for p in plan.settings()]
        unique = list({t.key: t for t in tasks}.values())
        self.total = len(unique)
        self.skipped = sum(t.key in done for t in unique)
        self._todo = [t for t in unique if t.key not in done]
        self._keys = {t.key for t in unique}
        self.note = ""
        self.study = None

    def keys(self) -> set[str]:
        """Keys of the trials this sweep plans (a folder may hold other sweeps' trials too)."""
        return set(self._keys)

    def next(self) -> TrialTask | None:
        return self._todo.pop(0) if self._todo else None

    def tell(self, outcome: TrialOutcome) -> None:
        pass

    def heartbeat(self) -> None:
        pass

    def abandon(self) -> None:
        pass


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; one that is not empty stays, and so do its parents
        try:
            folder.rmdir()
        except OSError:
            return


def run(plan: Plan, engine, out: str | Path | None = None, *, previous: list[dict] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> Outcome:
    """Run the sweep's remaining trials on `engine`; results go to OUT (or stay in memory when OUT is None).

    `previous` gives the done rows when there is no folder (the dashboard). Ctrl-C (KeyboardInterrupt)
    stops the engine and keeps every trial already written; it is re-raised after cleaning up.
    """
    out = Path(out) if out is not None else None
    made: list[Path] = []  # folders this call creates, deepest first: removed again if the storage fails
    if out is not None:
        made = [p for p in (out, *out.parents) if not p.exists()]
        out.mkdir(parents=True, exist_ok=True)
        rows = results.read(out)
        kept = [r for r in rows if results.is_done(r)]
        if (out / results.RESULTS).exists():
            results.rewrite(out, kept)  # failed trials get another try; repeated keys are folded
    else:
        kept = [r for r in (previous or []) if results.is_done(r)]
    done = {r["key"]: r for r in kept}
    threads, files = getattr(engine, "threads", None), out is not None
    if plan.search == "bayes":
        from .bayes import OptunaProposer

        try:
            proposer: Any = OptunaProposer(plan, threads, files, done, out)
        except BaseException:
            _remove_empty(made)
            raise
    else:
        proposer = _ListProposer(plan, threads, files, done)
    ours = proposer.keys()
    mine = [r for r in kept if r["key"] in ours]  # the folder may hold other sweeps' trials too
    outcome = Outcome(rows=mine, new=[], skipped=proposer.skipped, total=proposer.total, study=proposer.study)
    count = proposer.skipped
    if on_progress:
        on_progress(Progress(count, proposer.total, results.best(outcome.rows), None))
    try:
        while not (should_stop and should_stop()):
            while engine.pending < engine.slots and (task := proposer.next()) is not None:
                engine.submit(task)
            if engine.pending == 0:
                break
            for trial in engine.wait(timeout=POLL_SECONDS):
                if out is not None:
                    if trial.files:
                        folder = out / "trials" / trial.task.trial
                        folder.mkdir(parents=True, exist_ok=True)
                        commit_files(folder, trial.files)  # all of the trial's files or none, even if killed
                    results.append(out, trial.row)
                proposer.tell(trial)
                trial.files = None  # written: free the memory
                outcome.outcomes.append(trial)
                outcome.new.append(trial.row)
                if results.is_done(trial.row):
                    outcome.rows = [r for r in outcome.rows if r["key"] != trial.row["key"]] + [trial.row]
                count += 1
                if on_progress:
                    on_progress(Progress(count, proposer.total, results.best(outcome.rows), trial.row, trial.run))
            proposer.heartbeat()
        outcome.stopped = bool(should_stop and should_stop())
    except BaseException:
        engine.close(cancel=True)
        proposer.abandon()
        raise
    engine.close(cancel=outcome.stopped)
    if outcome.stopped:
        proposer.abandon()
    outcome.note = proposer.note
    return outcome
