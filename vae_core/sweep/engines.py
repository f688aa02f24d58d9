"""Where trials run: in this thread (the dashboard), in a local process pool (the CLI's default), or on Ray.

Every engine takes `TrialTask`s and gives back `TrialOutcome`s as they finish, so the sweep's driver
(search.run) is the same for all three. Same task, same thread count -> the same numbers on any engine.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import socket
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from ..dataset import Dataset
from .space import SweepError
from .trial import TrialOutcome, TrialTask, init_worker, make_row, run_trial, work


def cpu_cores() -> int:
    """Cores this process may use (its CPU affinity, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def plan_workers(workers: int | None, pending: int, threads: int = 1, cores: int | None = None) -> tuple[int, int]:
    """(workers, torch threads per worker) for a local pool: workers x threads <= cores."""
    cores = cores or cpu_cores()
    n = workers or max(1, min(cores // max(threads, 1), pending))
    if n < 1:
        raise SweepError(f"--workers must be 1 or more, not {n}")
    return n, threads


def _failed(task: TrialTask, exc: BaseException) -> TrialOutcome:
    return TrialOutcome(task, make_row(task, "failed", {}, 0.0, f"worker lost: {type(exc).__name__}: {exc}"))


class InlineEngine:
    """Runs one trial at a time in the calling thread on a data set already in memory (the dashboard).

    `acquire(task)` is called before each trial and may wait (a server-wide queue); False skips the
    trial and ends the sweep. `release()` follows every acquired trial.
    """

    name = "in-process"

    def __init__(self, data: Dataset, should_stop: Callable[[], bool] | None = None,
                 acquire: Callable[[TrialTask], bool] | None = None, release: Callable[[], None] | None = None,
                 keep_runs: bool = True) -> None:
        self.data, self.should_stop = data, should_stop
        self.acquire, self.release, self.keep_runs = acquire, release, keep_runs
        self.threads = None  # each trial trains on its config's threads (train() sets them for its thread)
        self.slots = 1
        self._queue: deque[TrialTask] = deque()

    @property
    def pending(self) -> int:
        return len(self._queue)

    def submit(self, task: TrialTask) -> None:
        self._queue.append(task)

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        task = self._queue.popleft()
        if self.acquire is not None and not self.acquire(task):
            self._queue.clear()
            return []
        try:
            outcome = run_trial(task, self.data, self.should_stop, keep_run=self.keep_runs)
        finally:
            if self.release is not None:
                self.release()
        return [] if outcome is None else [outcome]

    def close(self, cancel: bool = False) -> None:
        self._queue.clear()


class ProcessEngine:
    """A pool of spawned worker processes on this machine; each loads the data itself."""

    name = "local"

    def __init__(self, workers: int, threads: int) -> None:
        self.slots, self.threads = workers, threads
        self._pool = self._new_pool()
        self._futures: dict[cf.Future, TrialTask] = {}

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.slots, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=init_worker, initargs=(self.threads,))

    @property
    def pending(self) -> int:
        return len(self._futures)

    def submit(self, task: TrialTask) -> None:
        with _script_main_hidden():  # submit is where the pool spawns its workers
            self._futures[self._pool.submit(work, task)] = task

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        done, _ = cf.wait(list(self._futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        out, broken = [], False
        for fut in done:
            task = self._futures.pop(fut)
            try:
                out.append(fut.result())
            except Exception as exc:  # noqa: BLE001 - e.g. a worker killed for memory: that trial failed
                out.append(_failed(task, exc))
                broken = broken or isinstance(exc, BrokenProcessPool)
        if broken:  # a dead worker breaks the whole pool: the trials it held failed, the rest go on in a new one
            for fut, task in list(self._futures.items()):
                self._futures.pop(fut)
                out.append(_failed(task, BrokenProcessPool("the pool was restarted after a worker died")))
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
        return out

    def close(self, cancel: bool = False) -> None:
        if cancel:  # Ctrl-C: drop queued trials and end running ones now (their rows were never written)
            procs = list((getattr(self._pool, "_processes", None) or {}).values())  # no public way before 3.14
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.join(5)
        else:
            self._pool.shutdown(wait=True)
        self._futures.clear()


@contextmanager
def _script_main_hidden() -> Iterator[None]:
    """Keep spawned workers from re-running a script that stands in as `__main__`.

    A spawned worker runs the parent's `__main__` file again unless it was started as a module. Under
    Streamlit (or its AppTest) `__main__` is a page script, which must not run in a worker (it failed
    there, and every trial with it); the workers need only importable vae_core functions, so the
    file is hidden from the spawn while the pool starts its workers.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    hide = path is not None and getattr(main, "__spec__", None) is None  # a module (-m) is imported by name
    if hide:
        del main.__file__
    try:
        yield
    finally:
        if hide:
            main.__file__ = path


RAY_PROBE_SECONDS = 10  # a Ray head answers at once; ray.init retries an address that does not for many minutes


def probe_ray(address: str, seconds: float = RAY_PROBE_SECONDS) -> None:
    """SweepError naming `address` unless a gRPC server (a Ray head) answers there within `seconds`.

    ray.init has no overall timeout: against an unreachable address it retries for many minutes, printing
    each retry (ray-project/ray#46863, where Ray's maintainers suggest a check of one's own). This one dials
    the address ray.init would dial: TCP first (refused or unreachable fails at once), then gRPC's own
    handshake, which a port held by anything but a gRPC server never completes.
    """
    target = _ray_target(address)
    host, _, port = target.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except (OSError, ValueError) as exc:
        reason = exc.strerror or str(exc) if isinstance(exc, OSError) else f"{port!r} is not a port"
        raise SweepError(f"cannot reach a Ray cluster at {address} ({target}): {reason or 'timed out'}") from None
    try:
        import grpc
    except ImportError:  # Ray without grpcio: the TCP check above is all there is
        return
    channel = grpc.insecure_channel(target)
    try:
        grpc.channel_ready_future(channel).result(timeout=seconds)
    except grpc.FutureTimeoutError:
        raise SweepError(f"cannot reach a Ray cluster at {address} ({target}): it accepts connections but did not "
                         f"answer as a Ray head does within {seconds:g} s") from None
    finally:
        channel.close()


def _ray_target(address: str) -> str:
    """HOST:PORT that ray.init would dial for `address` (auto, HOST:PORT or ray://HOST:PORT)."""
    if address.startswith("ray://"):
        return address[len("ray://"):]
    try:
        from ray._private.services import canonicalize_bootstrap_address_or_die  # private: absent in some versions
    except ImportError:
        return address
    try:
        return canonicalize_bootstrap_address_or_die(address)  # e.g. 127.0.0.1 -> this node's IP, as Ray dials it
    except (ConnectionError, ValueError) as exc:  # auto with no cluster running, a malformed address
        raise SweepError(f"cannot reach a Ray cluster at {address}: {exc}") from None


class RayEngine:
    """Trials as Ray tasks on a running cluster (`address` auto or HOST:PORT), or on a Ray already started.

    vae-explorer must be installed on every node; data is loaded there by bundled name or path.
    """

    name = "ray"

    def __init__(self, address: str | None, workers: int | None, threads: int) -> None:
        try:
            import ray
        except ImportError:
            raise SweepError("--ray-address needs Ray: pip install 'vae-explorer[ray]'") from None
        self._ray = ray
        if not ray.is_initialized():
            probe_ray(address or "auto")
            try:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise SweepError(f"cannot reach a Ray cluster at {address!r}: {exc}") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.threads = threads
        self.slots = workers or max(1, cpus // threads)
        self._remote = ray.remote(work).options(num_cpus=threads, max_retries=1)
        self._refs: dict = {}

    @property
    def pending(self) -> int:
        return len(self._refs)

    def submit(self, task: TrialTask) -> None:
        self._refs[self._remote.remote(task)] = task

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            task = self._refs.pop(ref)
            try:
                out.append(self._ray.get(ref))
            except Exception as exc:  # noqa: BLE001 - a node lost, a task crashed: that trial failed
                out.append(_failed(task, exc))
        return out

    def close(self, cancel: bool = False) -> None:
        if cancel:
            for ref in self._refs:
                self._ray.cancel(ref, force=True)
        self._refs.clear()
