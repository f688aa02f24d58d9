"""The sweep driver: which trials to run (grid, random, Bayesian with Optuna), on an engine, with resume.

`run(plan, engine, out)` keeps up to `engine.slots` trials in flight, writes each finished one to
OUT/results.csv (and its run to OUT/trials/<id>/), and skips trials whose key is already there.
A Bayesian search keeps its Optuna study in OUT/study.db (or a shared database), so it resumes too.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from ..config import UNIT_INTERVAL_LOSSES, ConfigError, to_dict
from ..dataset import Dataset
from ..models import build_model
from . import results
from .space import (SEARCHES, Base, Choice, Range, SweepError, Values, configs, describe, format_value, grid,
                    grid_size, sample, trial_key)
from .trial import TrialOutcome, TrialTask, sensor_dict

HEARTBEAT_SECONDS = 20  # a Bayesian trial's worker says it is alive this often...
GRACE_SECONDS = 90  # ...and is taken for dead (its trial retried) after this long without a word
MAX_DUPLICATES = 50  # Bayesian search: this many proposals in a row that were already run = space exhausted
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
        key = trial_key(self.base, model, train)
        return TrialTask(trial=key[:8], key=key, params=dict(params), model=to_dict(model), train=to_dict(train),
                         source=self.base.source, sensor=self.base.sensor, iwae_k=self.iwae_k, threads=threads,
                         files=files)

    def check(self, params: dict[str, Any]):
        try:
            model, train = configs(self.base, params)
            with torch.device("meta"):  # do the layers fit the data's size? allocates nothing
                build_model(model)
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
            combos = [dict(zip(corners, c)) for c in itertools.product(*corners.values())]
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
                seed=seed, device=device, fixed=fixed)
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


class _OptunaProposer:
    """Bayesian search (TPE) through Optuna's ask-and-tell interface, stored so it can resume."""

    def __init__(self, plan: Plan, threads: int | None, files: bool, done: dict[str, dict], out: Path | None) -> None:
        try:
            import optuna
        except ImportError:
            raise SweepError("--search bayes needs Optuna: pip install optuna") from None
        from optuna.trial import TrialState

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        # we keep heartbeats ourselves (see heartbeat), which Optuna only expects from Study.optimize
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        self._optuna, self._state = optuna, TrialState
        self.plan, self.threads, self.files, self.done = plan, threads, files, done
        self.total, self.note = int(plan.trials), ""
        own = plan.storage is None  # the default database belongs to this sweep folder alone
        if plan.storage:
            url = plan.storage
        elif out is not None:
            url = f"sqlite:///{(out / 'study.db').resolve()}"
        else:
            url = None
        if url is None:
            storage = optuna.storages.InMemoryStorage()
        else:
            try:
                storage = optuna.storages.RDBStorage(
                    url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2))
            except Exception as exc:  # noqa: BLE001 - a bad URL, an unreachable server, a missing driver
                raise SweepError(f"cannot open the Optuna storage {url!r}: {type(exc).__name__}: {exc}") from None
        self.storage = storage
        name = "vae-sweep-" + hashlib.sha256(json.dumps(
            {"data": plan.base.source, "sensor": plan.base.sensor, "fixed": plan.base.fixed, "seed": plan.base.seed,
             "space": {n: repr(v) for n, v in plan.space.items()}}, sort_keys=True, default=list).encode()).hexdigest()[:10]
        self.study_name = name
        self.study = f"{name} in {url or 'memory'}"
        sampler = optuna.samplers.TPESampler(seed=plan.base.seed, n_startup_trials=max(2, min(10, self.total // 3)))
        self._study = optuna.create_study(storage=storage, sampler=sampler, study_name=name, direction="minimize",
                                          load_if_exists=True)
        self._dists = {n: self._distribution(v) for n, v in plan.space.items()}
        self._running: dict[int, Any] = {}  # Optuna trial number -> its Trial, while a worker runs it
        self._last_beat = time.monotonic()
        self._recover(own)
        self.skipped = self._used()

    def keys(self) -> set[str]:
        """Keys of the trials this study has proposed so far."""
        return {t.user_attrs["key"] for t in self._study.get_trials(deepcopy=False) if "key" in t.user_attrs}

    def _distribution(self, v: Values):
        d = self._optuna.distributions
        if isinstance(v, Range):
            if v.integer:
                return d.IntDistribution(int(v.low), int(v.high), log=v.log)
            return d.FloatDistribution(v.low, v.high, log=v.log)
        return d.CategoricalDistribution([_encode(x) for x in v.values])

    def _recover(self, own: bool) -> None:
        """Trials left RUNNING by an interrupted run: told from results.csv if they finished, else retried."""
        if not own:
            self._optuna.storages.fail_stale_trials(self._study)  # shared storage: only the long-silent ones
            return
        for t in self._study.get_trials(deepcopy=False, states=(self._state.RUNNING,)):
            row = self.done.get(t.user_attrs.get("key", ""))
            if row is not None:
                self._tell_row(t.number, row)
            else:
                self._study.tell(t.number, state=self._state.FAIL)
                self._study.enqueue_trial(t.params)

    def _used(self) -> int:
        """Trials that count towards --trials: run or running (duplicates and crashed workers do not)."""
        n = 0
        for t in self._study.get_trials(deepcopy=False):
            if t.user_attrs.get("duplicate"):
                continue
            if t.state in (self._state.RUNNING, self._state.COMPLETE) or \
                    (t.state == self._state.FAIL and "status" in t.user_attrs):
                n += 1
        return n

    def _known(self, key: str) -> dict | None:
        if key in self.done:
            return self.done[key]
        for t in self._study.get_trials(deepcopy=False, states=(self._state.COMPLETE,)):
            if t.user_attrs.get("key") == key and not t.user_attrs.get("duplicate"):
                return {"status": t.user_attrs.get("status", "finished"), "test_neg_elbo": t.value}
        return None

    def _tell_row(self, number: int, row: dict) -> None:
        value = results.score(row)
        if math.isfinite(value):
            self._study.tell(number, value, skip_if_finished=True)
        else:
            self._study.tell(number, state=self._state.FAIL, skip_if_finished=True)

    def next(self) -> TrialTask | None:
        if self._used() >= self.total:
            return None
        for _ in range(MAX_DUPLICATES):
            trial = self._study.ask(self._dists)
            params = {n: _decode(n, trial.params[n]) for n in self.plan.space}
            task = self.plan.task(params, self.threads, self.files)
            trial.set_user_attr("key", task.key)
            trial.set_user_attr("trial", task.trial)
            known = self._known(task.key)
            if known is None:
                self._running[trial.number] = trial
                return replace(task, optuna_number=trial.number)
            trial.set_user_attr("duplicate", True)  # already run: tell its score, propose again
            self._tell_row(trial.number, known)
        self.note = (f"stopped after {MAX_DUPLICATES} proposals in a row that were already run: the space looks "
                     "exhausted (add values or ranges to search further)")
        return None

    def tell(self, outcome: TrialOutcome) -> None:
        number = outcome.task.optuna_number
        trial = self._running.pop(number, None)
        if trial is None:
            return
        trial.set_user_attr("status", outcome.row["status"])
        self._tell_row(number, outcome.row)

    def heartbeat(self) -> None:
        if not self._running or time.monotonic() - self._last_beat < HEARTBEAT_SECONDS / 2:
            return
        self._last_beat = time.monotonic()
        record = getattr(self.storage, "record_heartbeat", None)
        if record is None:
            return
        for trial in self._running.values():
            record(trial._trial_id)  # noqa: SLF001 - Optuna's own heartbeat thread uses the same id

    def abandon(self) -> None:
        """Interrupted: the trials in flight are failed and queued again for the next run."""
        for number, trial in list(self._running.items()):
            try:
                self._study.tell(number, state=self._state.FAIL, skip_if_finished=True)
                self._study.enqueue_trial(trial.params)
            except Exception:  # noqa: BLE001 - best effort while shutting down; the next run recovers
                pass
        self._running.clear()


def _encode(v: Any) -> Any:
    return format_value(v) if isinstance(v, tuple) else v


def _decode(name: str, v: Any) -> Any:
    if name == "hidden":
        return tuple(int(h) for h in str(v).split(","))
    return v


def run(plan: Plan, engine, out: str | Path | None = None, *, previous: list[dict] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        should_stop: Callable[[], bool] | None = None) -> Outcome:
    """Run the sweep's remaining trials on `engine`; results go to OUT (or stay in memory when OUT is None).

    `previous` gives the done rows when there is no folder (the dashboard). Ctrl-C (KeyboardInterrupt)
    stops the engine and keeps every trial already written; it is re-raised after cleaning up.
    """
    out = Path(out) if out is not None else None
    if out is not None:
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
        proposer: Any = _OptunaProposer(plan, threads, files, done, out)
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
            for trial in engine.wait(timeout=HEARTBEAT_SECONDS / 2):
                if out is not None:
                    if trial.files:
                        folder = out / "trials" / trial.task.trial
                        folder.mkdir(parents=True, exist_ok=True)
                        for name, blob in trial.files.items():
                            (folder / name).write_bytes(blob)
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
