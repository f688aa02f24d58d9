"""The threshold controls, derived from ThresholdRule's declared settings (their ranges, defaults and help)."""
from __future__ import annotations

import streamlit as st

from vae_core.anomaly import ThresholdRule
from vae_core.settings import Setting, collect

from .time_axis import TimeAxis

RULE = collect(ThresholdRule)
METHOD_WORDS = {"percentile": "Validation percentile", "pot": "Peaks over threshold", "budget": "Alarm budget"}
PARAMETER = {"percentile": "percentile", "pot": "risk", "budget": "alarms_per_1000"}  # the one each method reads
LABELS = {"percentile": "Percentile of the validation step scores", "risk": "False-alarm risk per step (target)",
          "alarms_per_1000": "Alarm episodes allowed per 1,000 steps", "min_length": "Minimum event length (steps)",
          "merge_gap": "Merge events closer than (steps)"}
RISKS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)  # a log grid inside the declared (0, 1)


def _help(s: Setting) -> str:
    return f"{s.help} Allowed: {s.range_text()}; default {s.default_text()}."


def _number(s: Setting, prefix: str):
    """A widget for one declared number: a slider for the percentile, a log grid for the risk, else a number box."""
    key, label = f"{prefix}_{s.name}", LABELS[s.name]
    if s.name == "percentile":
        return st.slider(label, 80.0, float(s.high), float(s.default), step=0.1, format="%.1f", key=key,
                         help=_help(s) + " The slider covers 80-100, where useful thresholds lie.")
    if s.name == "risk":
        return st.select_slider(label, RISKS, value=s.default, format_func=lambda v: f"{v:g}", key=key, help=_help(s))
    if s.type is int:
        return int(st.number_input(label, int(s.low), int(s.high), int(s.default), step=1, key=key, help=_help(s)))
    return float(st.number_input(label, 0.01, float(s.high), float(s.default), step=0.1, format="%.2f", key=key,
                                 help=_help(s)))


def rule_controls(axis: TimeAxis, prefix: str = "anomaly") -> ThresholdRule:
    """Method, its parameter, minimum event length and merge gap -> a ThresholdRule (changes apply at once)."""
    method_setting = RULE["method"]
    method = st.segmented_control("How the threshold is set", method_setting.choices, default=method_setting.default,
                                  format_func=METHOD_WORDS.get, key=f"{prefix}_method", help=_help(method_setting))
    method = method or method_setting.default
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        values = {"method": method, PARAMETER[method]: _number(RULE[PARAMETER[method]], prefix)}
        seconds = axis.seconds_per_step()
        if method == "budget" and seconds:
            per_day = values["alarms_per_1000"] * 86_400 / (1000 * seconds)
            st.caption(f"At one step every {seconds:g} s, that is about {per_day:,.0f} alarms per day.")
    with c2:
        values["min_length"] = _number(RULE["min_length"], prefix)
    with c3:
        values["merge_gap"] = _number(RULE["merge_gap"], prefix)
    return ThresholdRule(**values)
