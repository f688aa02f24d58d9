"""Replay: the recording streamed through the model, a chosen number of steps per second, with the rolling score,
the threshold, the alarms as they would have fired and each labelled event's detection delay."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from vae_core.anomaly import labelled_spans
from vae_core.anomaly.workbench import Outcome

from .anomaly_charts import EVENT_COLOUR, LABEL_COLOUR, THRESHOLD_COLOUR, legend_under, shade_mask
from .charts import PNG_CONFIG, _layout
from .time_axis import TimeAxis, drawn

TICK_SECONDS = 0.5
SPEEDS = (20, 100, 500, 2000, 10_000, 50_000)  # time steps per second
SHOWN = 2000  # the chart follows the stream: the last SHOWN steps
_CURSOR, _PLAYING = "anomaly_replay_cursor", "anomaly_replay_playing"


def figure(axis: TimeAxis, total: np.ndarray, labels: np.ndarray | None, outcome: Outcome, cursor: int) -> go.Figure:
    first = max(0, cursor - SHOWN)
    sub = TimeAxis(axis.x[first:cursor + 1], axis.title)
    x, y = drawn(total[first:cursor + 1], sub)
    fig = go.Figure()
    if labels is not None:
        shade_mask(fig, labels[first:cursor + 1], sub, "labelled anomaly", LABEL_COLOUR, 0.3)
    fig.add_trace(go.Scattergl(x=x, y=y, mode="lines", name="step score", line=dict(color="#1f77b4", width=1.2)))
    threshold = outcome.thresholds["vae"]
    fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[threshold, threshold], mode="lines", name="threshold",
                             line=dict(color=THRESHOLD_COLOUR, dash="dash", width=1.5)))
    fired = [a for a in outcome.replay.alarms if first <= a.fired_at <= cursor]
    if fired:
        fig.add_trace(go.Scatter(x=[axis.x[a.fired_at] for a in fired], y=[threshold] * len(fired), mode="markers",
                                 name="alarm fired", marker=dict(color=EVENT_COLOUR, size=13, symbol="triangle-down"),
                                 text=[f"alarm at {axis.text(a.fired_at)} for the episode from {axis.text(a.start)}"
                                       for a in fired], hovertemplate="%{text}<extra></extra>"))
    fig.update_xaxes(title_text=axis.title)
    fig.update_yaxes(title_text="step score (nats)")
    return legend_under(_layout(fig, f"Replayed up to {axis.text(cursor)}", 380), 380)


def delays_frame(outcome: Outcome, labels: np.ndarray, cursor: int, seconds: float | None) -> pd.DataFrame:
    """Each labelled event: when it starts and, once an alarm has fired for it, the delay."""
    rows = []
    for k, (start, end) in enumerate(labelled_spans(labels)):
        alarm = next((a for a in outcome.replay.alarms if a.event == k and a.fired_at <= cursor), None)
        if alarm is not None:
            delay = f"{alarm.delay:,} steps" + (f" ({alarm.delay * seconds:g} s)" if seconds else "")
        else:
            delay = "not yet" if cursor < end + outcome.replay.latency else "missed"
        rows.append({"labelled event": k + 1, "steps": f"{start:,}-{end:,}", "detection delay": delay})
    return pd.DataFrame(rows)


def replay_section(axis: TimeAxis, total: np.ndarray, labels: np.ndarray | None, outcome: Outcome) -> None:
    """Speed, play/pause and restart; the stream redraws itself while it plays."""
    if outcome.replay is None:
        st.info("There is no threshold under this rule, so there is nothing to replay.")
        return
    length = len(total)
    state = st.session_state
    state.setdefault(_CURSOR, min(length - 1, SHOWN))
    c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
    speed = c1.select_slider("Replay speed (time steps per second)", SPEEDS, value=500, key="anomaly_replay_speed",
                             help="How fast the recording streams through the model. An alarm fires once its "
                                  "episode is long enough and the last window covering it has arrived "
                                  f"({outcome.replay.latency} steps later), as it would live.")
    playing = state.get(_PLAYING, False)
    if c2.button("Pause" if playing else "Play", key="anomaly_replay_play", width="stretch"):
        state[_PLAYING] = not playing
        if state[_CURSOR] >= length - 1:
            state[_CURSOR] = 0
        st.rerun()
    if c3.button("Restart", key="anomaly_replay_restart", width="stretch"):
        state[_CURSOR] = 0
        st.rerun()
    seconds = axis.seconds_per_step()

    @st.fragment(run_every=TICK_SECONDS if playing else None)
    def stream() -> None:
        if state.get(_PLAYING):
            state[_CURSOR] = min(length - 1, state[_CURSOR] + int(speed * TICK_SECONDS))
        cursor = int(min(state[_CURSOR], length - 1))
        st.plotly_chart(figure(axis, total, labels, outcome, cursor), key="anomaly_replay_chart", config=PNG_CONFIG)
        fired = sum(a.fired_at <= cursor for a in outcome.replay.alarms)
        st.caption(f"Streamed up to step {cursor + 1:,} of {length:,} ({axis.text(cursor)}): {fired} "
                   f"alarm{'s' * (fired != 1)} fired so far.")
        if labels is not None and labels.any():
            st.dataframe(delays_frame(outcome, labels, cursor, seconds), hide_index=True, key="anomaly_replay_delays")
        if state.get(_PLAYING) and cursor >= length - 1:
            state[_PLAYING] = False
            st.rerun()

    stream()
