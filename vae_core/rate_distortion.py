"""β as a rate-distortion trade-off (Alemi et al. 2018, "Fixing a broken ELBO").

The negative ELBO is distortion D (reconstruction, -log p(x|z)) plus rate R (KL(q(z|x) || p(z)), the nats the
code carries about each input). A β-VAE minimises D + β R, so each β picks one point on the curve of the best
distortion reachable at each rate: low β buys sharp reconstructions with a costly code, high β a cheap code
(down to none: collapse) with blurry reconstructions. One finished run per β gives one point; runs that differ
in anything else (latent size, loss, ...) lie on curves of their own.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

NOISE_NATS = 0.5  # a step against the trend smaller than this (or 2 % of the value) is training noise
NOISE_SHARE = 0.02


@dataclass(frozen=True)
class Point:
    """One run: its β, rate and distortion (nats per sample on the held-out part), and whether it collapsed."""

    beta: float
    rate: float  # KL
    distortion: float  # reconstruction
    collapsed: bool
    active_units: int | None
    latent_dim: int | None
    key: str  # the sweep trial's key, or the run's id


@dataclass(frozen=True)
class Curve:
    """The points of runs that differ only in β, sorted by β."""

    fixed: tuple[tuple[str, Any], ...]  # the other settings, shared by every point
    points: tuple[Point, ...]

    @property
    def label(self) -> str:
        words = {"latent_dim": "latent size", "loss": "loss", "arch": "architecture"}
        return ", ".join(f"{words.get(k, k.replace('_', ' '))} {v}" for k, v in self.fixed) or "all runs"

    def against_trend(self) -> list[tuple[float, float, str, float]]:
        """Steps between neighbouring β where the rate rose or the distortion fell by more than noise:
        (β from, β to, 'rate' | 'distortion', by how much)."""
        out = []
        for a, b in zip(self.points, self.points[1:], strict=False):
            if _beyond_noise(b.rate - a.rate, a.rate):
                out.append((a.beta, b.beta, "rate", b.rate - a.rate))
            if _beyond_noise(a.distortion - b.distortion, a.distortion):
                out.append((a.beta, b.beta, "distortion", b.distortion - a.distortion))
        return out

    def sentence(self) -> str:
        """What the curve shows, in words that agree with its numbers."""
        lo, hi = self.points[0], self.points[-1]
        rate = "fell" if hi.rate < lo.rate else "rose"
        dist = "rose" if hi.distortion > lo.distortion else "fell"
        text = (f"From β = {lo.beta:g} to β = {hi.beta:g} the rate {rate} from {lo.rate:.2f} to {hi.rate:.2f} nats "
                f"per sample and the distortion {dist} from {lo.distortion:.1f} to {hi.distortion:.1f} nats.")
        odd = self.against_trend()
        if odd:
            text += " Against the trend: " + "; ".join(
                f"from β = {a:g} to {b:g} the {what} {'rose' if d > 0 else 'fell'} by {abs(d):.2f} nats"
                for a, b, what, d in odd) + " (more than training noise: compare the runs' curves)."
        collapsed = [p.beta for p in self.points if p.collapsed]
        if collapsed:
            text += (f" Collapsed (the code carries almost nothing): β = {', '.join(f'{b:g}' for b in collapsed)}.")
        return text


def _beyond_noise(step: float, value: float) -> bool:
    return step > max(NOISE_NATS, NOISE_SHARE * abs(value))


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def curves(rows: Iterable[dict[str, Any]], varied: Sequence[str]) -> list[Curve]:
    """Sweep rows (results.csv) -> one curve per combination of the varied settings other than β, each with two
    or more finished runs; failed and diverged runs have no point."""
    groups: dict[tuple, list[Point]] = {}
    others = [v for v in varied if v != "beta"] + [k for k in ("latent_dim", "loss") if k not in varied]  # for labels
    for r in rows:
        done = r.get("status") in ("finished", "early_stopped")
        if not (done and _finite(r.get("kl")) and _finite(r.get("recon"))):
            continue
        fixed = tuple((k, r.get(k)) for k in others)
        groups.setdefault(fixed, []).append(Point(float(r["beta"]), float(r["kl"]), float(r["recon"]),
                                                  bool(r.get("collapsed")), r.get("active_units"), r.get("latent_dim"),
                                                  str(r.get("key") or r.get("trial") or "")))
    out = []
    for fixed, points in groups.items():
        if len({p.beta for p in points}) >= 2:
            out.append(Curve(fixed, tuple(sorted(points, key=lambda p: p.beta))))
    return out


def table(curve: Curve) -> str:
    """The curve as plain text, one line per β (for the sweep command's output)."""
    lines = [f"rate-distortion, {curve.label} (test part, nats per sample; one point per β):",
             f"  {'β':>8} {'rate (KL)':>10} {'distortion (recon)':>19} {'active':>7}"]
    for p in curve.points:
        active = "-" if p.active_units is None else f"{p.active_units}/{p.latent_dim}"
        lines.append(f"  {p.beta:>8g} {p.rate:>10.2f} {p.distortion:>19.2f} {active:>7}"
                     + ("  collapsed" if p.collapsed else ""))
    return "\n".join(lines + ["  " + curve.sentence()])
