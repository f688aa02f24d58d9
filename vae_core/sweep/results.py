"""results.csv: one row per finished trial, appended as trials finish, so an interrupted sweep keeps them.

Rows are read back with their types; the last row of a key wins. A failed trial's row is dropped
when the sweep runs again, so it gets another try; every other row means "done, skip it".
"""
from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..config import SETTINGS
from .trial import CONFIG_FIELDS, FIELDS

RESULTS = "results.csv"
_INTS = {n for n in CONFIG_FIELDS if SETTINGS[n].type is int} | {"active_units"}
_FLOATS = {n for n in CONFIG_FIELDS if SETTINGS[n].type is float} | {"test_neg_elbo", "recon", "kl", "iwae_nll",
                                                                    "seconds"}
_BOOLS = {n for n in CONFIG_FIELDS if SETTINGS[n].type is bool}
DONE = ("finished", "early_stopped", "diverged")  # a diverged trial is an answer too: these settings blow up


def _parse(name: str, text: str) -> Any:
    if text == "":
        return None
    if name in _INTS:
        return int(float(text))
    if name in _FLOATS:
        return float(text)
    if name == "collapsed" or name in _BOOLS:
        return text.lower() == "true"
    return text


def parse_rows(text: str) -> list[dict[str, Any]]:
    """results.csv text -> typed rows (unknown columns are kept as text)."""
    rows = []
    for raw in csv.DictReader(io.StringIO(text)):
        rows.append({k: _parse(k, v or "") for k, v in raw.items() if k is not None})
    return rows


def read(out: str | Path) -> list[dict[str, Any]]:
    """The rows of OUT/results.csv (the last row of each key), or [] when there is none."""
    path = Path(out) / RESULTS
    if not path.exists():
        return []
    latest: dict[str, dict] = {}
    for row in parse_rows(path.read_text(encoding="utf-8")):
        if row.get("key"):
            latest[row["key"]] = row
    return list(latest.values())


def _cell(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    return "" if v is None else v


def to_csv(rows: Iterable[dict[str, Any]], header: bool = True) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in FIELDS})
    return buf.getvalue()


def rewrite(out: str | Path, rows: Sequence[dict[str, Any]]) -> None:
    """Replace OUT/results.csv with these rows, atomically (a crash leaves the old file or the new one)."""
    path = Path(out) / RESULTS
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(to_csv(rows), encoding="utf-8")
    os.replace(tmp, path)


def append(out: str | Path, row: dict[str, Any]) -> None:
    """Add one finished trial to OUT/results.csv (header first if the file is new), flushed to disk."""
    path = Path(out) / RESULTS
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", encoding="utf-8", newline="") as f:
        f.write(to_csv([row], header=new))
        f.flush()
        os.fsync(f.fileno())


def is_done(row: dict[str, Any]) -> bool:
    """A row that a re-run skips (failed trials are tried again)."""
    return row.get("status") in DONE


def score(row: dict[str, Any]) -> float:
    """What the searches minimise: test neg. ELBO (inf for a failed or diverged trial)."""
    v = row.get("test_neg_elbo")
    return float(v) if row.get("status") in ("finished", "early_stopped") and v is not None and math.isfinite(v) \
        else math.inf


def best(rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The row with the lowest test neg. ELBO, or None (compare within one loss: see best_per_loss)."""
    scored = [r for r in rows if math.isfinite(score(r))]
    return min(scored, key=score) if scored else None


def best_per_loss(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """loss -> its best row: neg. ELBOs under different likelihoods are not on one scale."""
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(str(r.get("loss")), []).append(r)
    return {loss: b for loss in sorted(groups) if (b := best(groups[loss])) is not None}


def table(rows: Sequence[dict[str, Any]], varied: Sequence[str], limit: int = 20) -> str:
    """A short plain-text table, best first (per loss when the loss varies): settings, neg. ELBO, KL, ..."""
    by_loss = "loss" in varied  # neg. ELBOs of different likelihoods do not compare: group them
    ordered = sorted(rows, key=lambda r: (str(r.get("loss")) if by_loss else "", score(r), r.get("trial") or ""))
    shown = ordered[:limit]
    head = ["trial", *varied, "neg.ELBO", "recon", "KL", "active", "collapsed", "status"]

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, bool):
            return "yes" if v else ""
        if isinstance(v, float):
            return f"{v:.2f}" if abs(v) >= 0.01 or v == 0 else f"{v:.2g}"
        return str(v)

    def active(r: dict) -> str:
        return "-" if r.get("active_units") is None else f"{r['active_units']}/{r.get('latent_dim')}"

    body = [[fmt(r.get("trial")), *(fmt(r.get(v)) for v in varied), fmt(r.get("test_neg_elbo")), fmt(r.get("recon")),
             fmt(r.get("kl")), active(r), fmt(bool(r.get("collapsed"))), fmt(r.get("status"))] for r in shown]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = ["  ".join(x.rjust(w) for x, w in zip(line, widths, strict=True)).rstrip() for line in [head, *body]]
    if len(ordered) > limit:
        lines.append(f"... {len(ordered) - limit} more rows in results.csv")
    return "\n".join(lines)
