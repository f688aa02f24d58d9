"""Bayesian search: Optuna's TPE proposes trials through ask-and-tell; the study lives in a database.

The default database is OUT/study.db (SQLite), private to the sweep folder, so a re-run recovers the
trials an interrupted run left open. A shared `--storage URL` can serve several sweep processes: there
each process keeps heartbeats for its trials, and trials whose process went silent are retried.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings import format_value
from . import results
from .space import Range, SweepError, Values
from .trial import TrialOutcome, TrialTask

if TYPE_CHECKING:
    from .search import Plan

HEARTBEAT_SECONDS = 20  # a trial's sweep process says it is alive this often...
GRACE_SECONDS = 90  # ...and is taken for dead (its trial retried) after this long without a word
MAX_DUPLICATES = 50  # this many proposals in a row that were already run = the space is exhausted


# Python module of a database driver -> the package that installs it
DRIVER_PACKAGES = {"psycopg2": "psycopg2-binary", "psycopg": "'psycopg[binary]'", "pymysql": "PyMySQL",
                   "MySQLdb": "mysqlclient"}


def storage_problem(url: str, exc: BaseException) -> str:
    """One line saying why an Optuna storage URL could not be opened (a missing driver: which package to install)."""
    shown = _hide_password(url)
    cause: BaseException | None = exc
    while cause is not None:  # Optuna and SQLAlchemy wrap the driver's ModuleNotFoundError
        if isinstance(cause, ModuleNotFoundError) and cause.name:
            module = cause.name.split(".")[0]
            return (f"--storage {shown} needs the database driver {module}, which is not installed: "
                    f"pip install {DRIVER_PACKAGES.get(module, module)}")
        cause = cause.__cause__ or cause.__context__
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()  # SQLAlchemy's own error, without its links
    return f"cannot open the Optuna storage {shown}: {reason[0] if reason else type(exc).__name__}"


def _hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: show it as given
        return url


class OptunaProposer:
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
                raise SweepError(storage_problem(url, exc)) from None
        self.storage = storage
        name = "vae-sweep-" + hashlib.sha256(json.dumps(
            {"data": plan.base.source, "sensor": plan.base.sensor, "fixed": plan.base.fixed, "seed": plan.base.seed,
             "space": {n: repr(v) for n, v in plan.space.items()}},
            sort_keys=True, default=list).encode()).hexdigest()[:10]
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
