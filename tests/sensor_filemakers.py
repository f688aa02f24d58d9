"""Real-world sensor files as users bring them (issue 18 items 4-9, issue 12 item 1), built in memory.

Each maker returns the file's bytes; the recording underneath is `signal(n)` (two channels) with one labelled
anomaly, so a test can check the values that were read against the values that were written.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

N = 300
ANOMALY = slice(250, 260)  # labelled steps, inside the test part (steps 240-299 with the default split)


def signal(n: int = N) -> dict[str, np.ndarray]:
    """Two smooth channels and 0/1 labels (n,) with one anomaly at ANOMALY."""
    t = np.arange(n)
    labels = np.zeros(n, dtype=int)
    labels[ANOMALY] = 1
    return {"temp": np.round(20 + 2 * np.sin(t / 9), 3), "pressure": np.round(1 + 0.1 * np.cos(t / 13), 3),
            "anomaly": labels}


INJECTED_LENGTH = 4000
INJECTED = {"spike": (slice(3300, 3303), "c"), "level shift": (slice(3500, 3600), "a"),
            "stuck sensor": (slice(3750, 3900), "b")}


def injected_recording(length: int = INJECTED_LENGTH) -> bytes:
    """Three noisy sines a, b, c over `t` with an 'anomaly' column; in the test part (the last 20 %) a spike in c,
    a level shift in a and b stuck, each labelled (see INJECTED)."""
    t = np.arange(length)
    x = np.column_stack([np.sin(t / 7), np.sin(t / 11 + 1), np.sin(t / 17 + 2)])
    x += np.random.default_rng(0).normal(0, 0.05, x.shape)
    labels = np.zeros(length, dtype=int)
    x[INJECTED["spike"][0], 2] += 4.0
    x[INJECTED["level shift"][0], 0] += 1.5
    x[INJECTED["stuck sensor"][0], 1] = x[INJECTED["stuck sensor"][0].start, 1]
    for steps, _ in INJECTED.values():
        labels[steps] = 1
    rows = (f"{i},{a:.4f},{b:.4f},{c:.4f},{y}" for i, (a, b, c), y in zip(t, x, labels, strict=True))
    return ("t,a,b,c,anomaly\n" + "\n".join(rows) + "\n").encode()


def _text(header: list[str], rows, sep: str = ",") -> bytes:
    return ("\n".join([sep.join(header)] + [sep.join(map(str, row)) for row in rows]) + "\n").encode()


def decimal_comma_csv(n: int = N) -> bytes:
    """';'-separated, numbers written 0,110 (a German or French spreadsheet's CSV export)."""
    s = signal(n)
    comma = lambda v: f"{v:.3f}".replace(".", ",")  # noqa: E731
    return _text(["time", "temp", "pressure", "anomaly"],
                 ((i, comma(a), comma(b), y)
                  for i, (a, b, y) in enumerate(zip(s["temp"], s["pressure"], s["anomaly"], strict=True))),
                 sep=";")


def pandas_index_csv(n: int = N) -> bytes:
    """DataFrame.to_csv() with its index: an unnamed first column 0..N-1, beside anomaly and changepoint labels."""
    s = signal(n)
    changepoint = np.zeros(n, dtype=int)
    changepoint[[100, 200]] = 1
    frame = pd.DataFrame({"temp": s["temp"], "pressure": s["pressure"], "anomaly": s["anomaly"],
                          "changepoint": changepoint})
    return frame.to_csv().encode()


def duplicated_times_csv(n: int = N) -> bytes:
    """Every timestamp written twice: a second sensor's rows interleaved with the first's."""
    s = signal(n)
    rows = []
    for i in range(n):
        rows.append((i, s["temp"][i], s["pressure"][i], s["anomaly"][i]))
        rows.append((i, s["temp"][i] + 1.0, s["pressure"][i] + 0.5, 0))
    return _text(["timestamp", "temp", "pressure", "anomaly"], rows)


def dst_csv(n: int = N) -> bytes:
    """ISO timestamps in Europe/Berlin across the spring change: +01:00 then +02:00 in one column."""
    s = signal(n)
    times = pd.date_range("2024-03-31 00:00", periods=n, freq="1min", tz="UTC").tz_convert("Europe/Berlin")
    return _text(["time", "temp", "pressure", "anomaly"],
                 ((t.isoformat(), a, b, y)
                  for t, a, b, y in zip(times, s["temp"], s["pressure"], s["anomaly"], strict=True)))


def text_labels_csv(normal: str = "ok", anomalous: str = "fault", n: int = N) -> bytes:
    """The label column holds words: 'ok' / 'fault' (or any two given)."""
    s = signal(n)
    words = np.where(s["anomaly"] == 1, anomalous, normal)
    return _text(["step", "temp", "pressure", "state"], zip(range(n), s["temp"], s["pressure"], words, strict=True))


def index_and_empty_csv(n: int = N) -> bytes:
    """A strictly increasing 'step' column, an empty channel and a constant one beside the real channels."""
    s = signal(n)
    return _text(["step", "temp", "broken", "pressure", "site_id"],
                 ((i, a, "", b, 7) for i, (a, b) in enumerate(zip(s["temp"], s["pressure"], strict=True))))


def xlsx_bytes(n: int = N, extra_sheet: bool = True) -> bytes:
    """A real .xlsx workbook: dates, two channels and the labels in the first sheet; notes in a second one."""
    s = signal(n)
    frame = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=n, freq="s"), "temp": s["temp"],
                          "pressure": s["pressure"], "anomaly": s["anomaly"]})
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="readings", index=False)
        if extra_sheet:
            pd.DataFrame({"note": ["calibrated 2024-01-01"]}).to_excel(writer, sheet_name="notes", index=False)
    return buffer.getvalue()
