"""The one background-task type: progress, result, stop, failure, one task per key, and the slots' queue."""
from __future__ import annotations

import threading
import time

from vae_core.tasks import Slots, Task, get_or_start


def test_task_reports_progress_and_result():
    gate = threading.Event()

    def work(task):
        task.report(0.5)
        gate.wait(5)
        return 42

    done = []
    task = Task(work, "t", on_done=lambda t: done.append(t.status)).start()
    deadline = time.time() + 5
    while task.snapshot().progress < 0.5:
        assert time.time() < deadline
        time.sleep(0.01)
    assert task.active and task.snapshot().status == "running"
    gate.set()
    assert task.done.wait(5)
    snap = task.snapshot()
    assert (snap.status, snap.progress, task.result, done) == ("finished", 1.0, 42, ["finished"])


def test_task_stops_and_fails_cleanly():
    def slow(task):
        while not task.report(0.1):
            time.sleep(0.01)
        return "partial"

    task = Task(slow).start()
    task.stop()
    assert task.done.wait(5)
    assert task.status == "stopped" and task.result is None

    def broken(task):
        raise ValueError("perplexity too large")

    task = Task(broken).start()
    assert task.done.wait(5)
    assert task.snapshot().status == "failed" and task.snapshot().error == "ValueError: perplexity too large"


def test_get_or_start_never_runs_two_tasks_for_one_key():
    gate = threading.Event()
    registry, lock, made = {}, threading.RLock(), []

    def make():
        made.append(1)
        return Task(lambda task: gate.wait(5))

    first = get_or_start(registry, "k", make, lock)
    assert get_or_start(registry, "k", make, lock) is first and len(made) == 1
    first.stop()  # a task asked to stop is replaced by a fresh one
    second = get_or_start(registry, "k", make, lock)
    assert second is not first and len(made) == 2
    gate.set()
    assert second.done.wait(5) and get_or_start(registry, "k", make, lock) is second  # finished: kept


def test_tasks_beyond_the_slots_wait_their_turn_and_see_their_place():
    gate = threading.Event()
    slots = Slots(1)
    first = Task(lambda task: gate.wait(5), slots=slots).start()
    second = Task(lambda task: "second", slots=slots).start()
    deadline = time.time() + 5
    while second.snapshot().queue_position != 1:
        assert time.time() < deadline
        time.sleep(0.01)
    assert first.snapshot().status == "running" and second.snapshot().status == "queued"
    waiting = Task(lambda task: "never", slots=slots).start()
    while waiting.snapshot().queue_position != 2:
        assert time.time() < deadline
        time.sleep(0.01)
    waiting.stop()  # stopped while queued: it never runs and leaves the line
    assert waiting.done.wait(5) and waiting.status == "stopped" and waiting.result is None
    gate.set()
    assert second.done.wait(5) and second.result == "second" and slots.running == 0
