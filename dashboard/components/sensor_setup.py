"""The Data page's sensor section: each column's role (and why), and how the recording is cut, split and cleaned.

Every control comes from a SensorOptions declaration (its help, choices and bounds); a change applies when the
visitor reloads, so the data in use always matches what the page says.
"""
from __future__ import annotations

import json
from dataclasses import asdict, replace

import pandas as pd
import streamlit as st

from vae_core.data import BUNDLE_CHOICES, ColumnRole, SensorOptions, options_for_roles, sensor_column_roles
from vae_core.dataset import Dataset
from vae_core.settings import collect

ROLE_WORDS = {"channel": "channel", "time": "time axis", "label": "anomaly label", "extra_label": "other label",
              "ignored": "ignored"}
ROLE_OF = {words: role for role, words in ROLE_WORDS.items()}
DECLARED = collect(SensorOptions)
EXCLUDED_SAYS = ("Training and validation windows that overlap a labelled anomaly are left out by default, so the "
                 "model learns normal behaviour only; every step is still scored afterwards.")


def options_of(saved: dict | None, base: SensorOptions) -> SensorOptions:
    """The options a recording was loaded with (a JSON dict, lists for tuples), or `base`."""
    if not saved:
        return base
    return SensorOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items() if k in DECLARED})


def roles_of(file: tuple[str, bytes], opts: SensorOptions) -> tuple[ColumnRole, ...]:
    """The roles the loader gives the file's columns under `opts` (read once per file and options)."""
    key = (file[0], len(file[1]), json.dumps(asdict(opts), sort_keys=True, default=str))
    cached = st.session_state.get("sensor_roles")
    if cached is None or cached[0] != key:
        cached = st.session_state["sensor_roles"] = (key, sensor_column_roles(file[1], file[0], opts))
    return cached[1]


def roles_table(roles: tuple[ColumnRole, ...], editable: bool, key: str) -> dict[str, str]:
    """Each column's role with its reason; an editor for uploads. Returns column -> role as the table now says."""
    frame = pd.DataFrame({"column": [r.column for r in roles], "role": [ROLE_WORDS[r.role] for r in roles],
                          "why": [r.reason for r in roles]})
    if not editable:
        st.dataframe(frame, hide_index=True, key=key)
        return {r.column: r.role for r in roles}
    edited = st.data_editor(frame, hide_index=True, key=key, disabled=["column", "why"], num_rows="fixed",
                            # 520 px in all: the table fits a 1024-px screen (a long reason shows in full on hover)
                            column_config={"column": st.column_config.TextColumn(width=130),
                                           "why": st.column_config.TextColumn(width=280),
                                           "role": st.column_config.SelectboxColumn(
                                "role", options=list(ROLE_WORDS.values()), required=True, width=110,
                                help="channel: fed to the model; time axis: orders the rows; anomaly label: 0/1 "
                                     "flags to score against; other label / ignored: never fed to the model.")})
    return dict(zip(edited["column"], (ROLE_OF[w] for w in edited["role"]), strict=True))


def _help(name: str) -> str:
    return DECLARED[name].help


def cutting(base: SensorOptions, data: Dataset, upload: bool, prefix: str) -> SensorOptions:
    """Window, stride, scaling, (uploads:) missing values, decimal mark and repeated times, anomalies kept or not,
    and the training time range -> SensorOptions."""
    c = st.columns(3)
    window = c[0].number_input("Window length (time steps)", int(DECLARED["window"].low), int(DECLARED["window"].high),
                               int(base.window), key=f"{prefix}_window", help=_help("window"))
    stride = c[1].number_input("Stride (steps between windows)", int(DECLARED["stride"].low),
                               int(DECLARED["stride"].high), int(base.stride), key=f"{prefix}_stride",
                               help=_help("stride"))
    scalings = DECLARED["scaling"].choices
    scaling = c[2].selectbox("Scaling", scalings, index=scalings.index(base.scaling), key=f"{prefix}_scaling",
                             help=_help("scaling"))
    values = {"window": int(window), "stride": int(stride), "scaling": scaling}
    if upload:
        c = st.columns(3)
        for col, name, label in zip(c, ("nan", "decimal", "duplicates"),
                                    ("Missing values", "Decimal mark", "Rows with the same time"), strict=True):
            choices = DECLARED[name].choices
            values[name] = col.selectbox(label, choices, index=choices.index(getattr(base, name)),
                                         key=f"{prefix}_{name}", help=_help(name))
    if data.series_anomaly is not None:
        keep = st.toggle("Keep windows that overlap labelled anomalies in training", value=not base.exclude_anomalies,
                         key=f"{prefix}_keep", help=_help("exclude_anomalies"))
        values["exclude_anomalies"] = not keep
        st.caption(EXCLUDED_SAYS + (" Now: **kept**, so the model also learns the anomalies." if keep else ""))
    length = len(data.series)
    ranged = st.toggle("Choose the time steps the model learns from", value=base.train_range is not None,
                       key=f"{prefix}_ranged", help=_help("train_range"))
    if ranged:
        trained = next(((b, e) for code, b, e in data.part_ranges or () if code == 0), (0, length))
        first, stop = base.train_range or trained
        c = st.columns(2)
        first = c[0].number_input("From step", 0, length - 1, int(first), key=f"{prefix}_first")
        stop = c[1].number_input("Up to (not including) step", 1, length, int(stop), key=f"{prefix}_stop")
        values["train_range"] = (int(first), int(stop))
        st.caption(f"The last {base.val_share:.0%} of that range validates; every other step is tested.")
    else:
        values["train_range"] = None
    return replace(base, **values)


def show(data: Dataset, source: str, saved: dict | None, base: SensorOptions, file: tuple[str, bytes] | None,
         prefix: str) -> SensorOptions | None:
    """The whole section; the options to reload with when the visitor asks, else None."""
    current = options_of(saved, base)
    upload = not source.startswith("bundled:")
    st.markdown("**Columns**: what each one is and why. " + ("Change a role in the table, then reload." if upload
                else "A bundled recording's columns are fixed; upload your own CSV to choose them."))
    roles = roles_of(file, current) if file is not None else ()
    wanted = roles_table(roles, upload, f"{prefix}_roles") if roles else {}
    st.markdown("**Windows, split and cleaning**")
    opts = cutting(current, data, upload, prefix)
    if not upload:
        opts = replace(current, **{f: getattr(opts, f) for f in BUNDLE_CHOICES})
    changed_roles = bool(roles) and wanted != {r.column: r.role for r in roles}
    if not st.button("Reload with these settings", type="primary", key=f"{prefix}_reload",
                     help="Load the recording again with the roles and options above."):
        return None
    return options_for_roles(opts, wanted) if changed_roles else opts
