"""The events table and, for the event chosen, the recording beside the model's reconstruction, channel by channel."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.anomaly import Event, reconstruct_span
from vae_core.anomaly.workbench import Outcome
from vae_core.run import Run

from . import anomaly_charts, anomaly_tables
from .charts import PNG_CONFIG
from .time_axis import TimeAxis

MAX_SPAN = 4000  # steps drawn around an event: a longer one is shown around its peak
SHOWN_CHANNELS = 4


def _span(event: Event, window: int, length: int) -> tuple[int, int]:
    first, stop = event.start - window, event.end + window + 1
    if stop - first > MAX_SPAN:
        first, stop = event.peak - MAX_SPAN // 2, event.peak + MAX_SPAN // 2
    return max(0, first), min(length, stop)


def signals(run: Run, event: Event) -> tuple[int, np.ndarray, np.ndarray]:
    """(first step, recording (n, C), reconstruction (n, C)) around an event, in the file's units when scaled."""
    data, window = run.data, int(run.data.input_shape[0])
    first, stop = _span(event, window, len(data.series))

    def compute():
        recon = reconstruct_span(run.model, data, first, stop)
        original = data.series[first:stop]
        if data.scaling is not None:
            return data.scaling.undo(original), data.scaling.undo(recon)
        return original, recon
    original, recon = run.memo.get(("anomaly_span", id(data.series), first, stop), compute)
    return first, original, recon


def events_section(run: Run, outcome: Outcome, axis: TimeAxis) -> None:
    """The table of detected events and one event up close."""
    data = run.data
    if not outcome.events:
        st.info("No event at this threshold: no stretch of steps scores above it (for long enough). Lower the "
                "threshold or the minimum event length to see the highest-scoring stretches.")
        return
    table = anomaly_tables.events_frame(outcome, axis, data.series_anomaly)
    st.dataframe(table, hide_index=True, key="anomaly_events_table", height=300 if len(table) > 8 else "auto")
    st.caption("An event is a run of steps above the threshold (merged across gaps up to the merge gap, dropped when "
               "shorter than the minimum length). Top channels: each channel's share of the reconstruction error "
               "summed over the event.")
    count = len(outcome.events)
    highest = max(range(count), key=lambda k: outcome.events[k].peak_score)
    pick = st.selectbox("Event to look at", range(count), index=highest, key=f"anomaly_event_pick_{count}_{highest}",
                        format_func=lambda k: f"event {k + 1}: {table['start'][k]} to {table['end'][k]}, "
                                              f"top channel {outcome.events[k].top_channels[0][0]}",
                        help="The recording (solid) and what the model rebuilds (dashed) around the event. The "
                             "highest-scoring event comes first.")
    event = outcome.events[min(pick, count - 1)]
    names = list(data.channels)
    top = [c for c, _ in event.top_channels][:SHOWN_CHANNELS]
    chosen = names if len(names) <= SHOWN_CHANNELS else st.multiselect(
        "Channels drawn", names, default=top, key=f"anomaly_event_channels_{pick}",
        help="The event's top channels first; add any other.") or top
    first, original, recon = signals(run, event)
    columns = [names.index(c) for c in chosen]
    unit = "value (file units)" if data.scaling is not None and data.scaling.method != "none" else "value"
    fig = anomaly_charts.event_signals(axis, first, original[:, columns], recon[:, columns], chosen, event, unit)
    st.plotly_chart(fig, key="anomaly_event_signals", config=PNG_CONFIG)
    st.caption(f"Event {pick + 1} shaded orange, with {int(data.input_shape[0])} steps on either side. Where the "
               "dashed line leaves the solid one, the model could not rebuild what the sensor did: that channel "
               "drives the score.")
