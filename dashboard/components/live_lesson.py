"""How the Learn page draws a lesson on one run the class steers while it trains (lessons/touch.py): start it, the
buttons that change it, Pause / Step / Resume, the live curves and map, and the story of the run so far."""
from __future__ import annotations

import streamlit as st

from vae_core.config import ConfigError

from .. import state
from ..lessons.touch import LiveLesson
from ..workspace import Workspace
from . import lesson_view, live_controls, settings, training

POLL_SECONDS = 0.5
_JOB = "live_lesson_job"  # the id of the job this browser started for the lesson


def lesson_job(ws: Workspace):
    """The workspace's job if this lesson started it, else None."""
    job = ws.job
    return job if job is not None and job.id == st.session_state.get(_JOB) else None


def start(ws: Workspace, lesson: LiveLesson) -> None:
    data = state.bundled(lesson.data)
    ws.set_data(data, lesson.source)
    values = lesson.settings(data.kind)
    state.apply_settings(values)
    training.start_new(ws, settings.configs(values, data))
    if ws.job is not None:
        st.session_state[_JOB] = ws.job.id


def move(job, changes: dict[str, float]) -> None:
    """Make the move's changes that are not in force already (a second click changes nothing)."""
    now = live_controls.in_force(job)
    try:
        made = [job.change(name, value) for name, value in changes.items() if now[name] != value]
    except ConfigError as exc:
        state.flash(f"Not changed: {exc}", "error")
        return
    if not made:
        return
    state.flash(", ".join(f"{live_controls.short_word(c.name)} set to {c.value:g}" for c in made) +
                f" from step {made[0].step}.")


def show(ws: Workspace, lesson: LiveLesson) -> None:
    job = lesson_job(ws)
    running = job is not None and job.active
    busy = ws.job is not None and ws.job.active and job is None
    st.markdown("**What to look for**\n" + "\n".join(f"- {line}" for line in lesson.look_for))
    if st.button("Start the run", type="primary", key="touch_start", disabled=running or busy,
                 icon=":material/play_arrow:", help=("Your own training job is running; stop it first." if busy else
                                                     "Loads MNIST and trains a default model at β = 1 for "
                                                     f"{lesson.base['epochs']} epochs, in the background.")):
        start(ws, lesson)
        st.rerun()
    cols = st.columns(len(lesson.moves) + 1)
    for i, (col, m) in enumerate(zip(cols, lesson.moves, strict=False)):
        col.button(m.label, key=f"touch_move_{i}", disabled=not running, width="stretch", help=m.why,
                   on_click=move, args=(job, m.changes))
    with cols[-1]:
        if running:
            live_controls.pause_buttons(job)
    if job is None:
        return

    @st.fragment(run_every=POLL_SECONDS if running else None)
    def live() -> None:
        training.job_panel(job, running)
        st.subheader("What your run did")
        for i, block in enumerate(lesson.story(job.run)):
            lesson_view.draw(block, f"touch_story_{i}")

    live()
