"""Scoring a whole recording (the VAE and four baselines, every step) in the background, once per run and data.

The page never waits on it: while it runs, a fragment shows its progress and the page says what is coming;
when it ends, one full rerun draws the workbench. The result lives in the run's memo, so moving a threshold,
switching pages or coming back later never scores again (a retrained model clears the memo).
"""
from __future__ import annotations

import streamlit as st

from vae_core.anomaly.workbench import Scored, score_all
from vae_core.run import Run
from vae_core.tasks import Task, get_or_start

from ..workspace import Workspace

POLL_SECONDS = 0.5


def memo_key(run: Run) -> tuple:
    """The scores belong to the run's model (the memo) and to the recording they were computed on."""
    return ("anomaly_workbench", id(run.data.series), len(run.data.series))


def scoring_task(ws: Workspace, run: Run) -> Task:
    """Start (or find) the scoring of `run`'s recording; its result lands in run.memo under memo_key(run)."""
    key = memo_key(run)
    task_key = ("anomaly", run.id, *key[1:])
    version, model, data = run.memo.version, run.model, run.data

    def work(task: Task) -> Scored | None:
        return score_all(model, data, progress=task.report)

    def on_done(task: Task) -> None:  # in the task's thread: never st.*
        if task.status == "finished" and task.result is not None:
            run.memo.put(key, task.result, version)
        with ws.lock:
            if task.status != "failed" and ws.background.get(task_key) is task:
                ws.background.pop(task_key)

    return get_or_start(ws.background, task_key, lambda: Task(work, "anomaly scores", on_done=on_done), ws.lock)


def scored(ws: Workspace, run: Run) -> Scored | None:
    """The run's scored recording; None (with progress, or the failure and a retry button, drawn) until ready."""
    result = run.memo.peek(memo_key(run))
    if result is not None:
        return result
    task = scoring_task(ws, run)
    result = run.memo.peek(memo_key(run))  # it may have finished in the meantime
    if result is not None:
        return result
    snap = task.snapshot()
    if snap.status == "failed":
        st.error(f"Scoring the recording failed: {snap.error}")
        if st.button("Try again", key="anomaly_retry"):
            with ws.lock:
                ws.background.pop(("anomaly", run.id, *memo_key(run)[1:]), None)
            st.rerun()
        return None
    steps = len(run.data.series)

    @st.fragment(run_every=POLL_SECONDS if task.active else None)
    def progress() -> None:
        snap = task.snapshot()
        stage = ("the VAE rebuilds every window" if snap.progress < 0.5 else
                 "the baselines score the same steps" if snap.progress < 0.75 else "ranking every method")
        st.progress(snap.progress, text=f"Scoring all {steps:,} time steps: {stage} ({snap.progress:.0%}, "
                                        f"{snap.seconds:.0f} s)")
        st.caption("It runs in the background once for this run: other pages stay usable, and the threshold "
                   "controls need no new scoring afterwards.")
        if not task.active:
            st.rerun()

    progress()
    return None
