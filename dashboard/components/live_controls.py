"""Touch a run while it learns: the knobs that act at its next step (the settings config.LIVE declares: β,
learning rate, free bits) and Pause / Resume. Each change is a marked event on the loss curves, a row of the
run's metrics.csv and an entry of its config history, so a continued or saved run replays it exactly."""
from __future__ import annotations

import streamlit as st

from vae_core.config import LIVE, ConfigError

from .. import state
from ..jobs import TrainJob
from .settings import help_text, widget


def in_force(job: TrainJob) -> dict[str, float]:
    """Each live setting's latest value: the run's config, then its changes in step order (made or pending)."""
    values = {name: float(getattr(job.run.train_cfg, name)) for name in LIVE}
    values.update({c.name: c.value for c in sorted(job.run.state.changes, key=lambda c: c.step)})
    return values


def short_word(name: str) -> str:
    """'β', 'Learning rate', 'Free bits': the declared label without its explanation in brackets."""
    return LIVE[name].widget.label.split(" (")[0]


def _apply(job: TrainJob, name: str, key: str) -> None:
    value = st.session_state[key]
    if value == in_force(job)[name]:
        return
    try:
        change = job.change(name, value)
    except ConfigError as exc:
        state.flash(f"Not changed: {exc}", "error")
        return
    state.flash(f"{short_word(name)} set to {change.value:g} from step {change.step}; the curves mark it.")


def knobs(job: TrainJob) -> None:
    """One control per live setting, showing the value in force; moving it changes the run from its next step."""
    st.markdown("**Change while it trains**")
    st.caption("These act at the next optimiser step, without restarting: the loss chart marks each change with a "
               "dotted line, and the run records it (a continued or saved run replays it).")
    values = in_force(job)
    for name, s in LIVE.items():
        key = f"live_{name}_{job.id[:8]}"
        st.session_state[key] = values[name]  # a change made elsewhere (a lesson's button) shows here too
        allowed = sorted(set(s.widget.grid) | {values[name]}) if s.widget.grid else None
        widget(s, allowed, label=s.widget.label, key=key, help=help_text(s), on_change=_apply,
               args=(job, name, key), disabled=not job.active)


def pause_buttons(job: TrainJob) -> None:
    """Pause holds the run between two steps (nothing lost, its slot kept); Resume goes on."""
    paused = job.snapshot().paused
    if paused:
        st.button("Resume", key="train_resume", icon=":material/play_arrow:", width="stretch", on_click=job.resume,
                  disabled=not job.active, help="Go on training from the step it holds at.")
    else:
        st.button("Pause", key="train_pause", icon=":material/pause:", width="stretch", on_click=job.pause,
                  kwargs={"wait": 1.0},
                  disabled=not job.active,
                  help="Hold the run between two steps. Then Step takes one optimiser step at a time and shows "
                       "what it did to one input's ELBO; Resume goes on. A paused run keeps its training slot.")
