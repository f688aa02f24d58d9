"""Lesson 7: touch the model. One run that the class steers while it learns: start at β = 1, raise β until the code
collapses, lower it again with free bits and watch it recover; then pause and step through one batch with one
digit's ELBO written out. The story is told from the run's own curve, segment by segment between the changes."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vae_core.analysis import NEAR_ZERO_KL
from vae_core.run import Run
from vae_core.training import TrainEvent

from ..lesson_titles import TITLES
from ..links import defaults
from .common import Text, change

TAIL = 20  # steps averaged at the end of a segment: the level the curve settled at, not one noisy step


@dataclass(frozen=True)
class Move:
    """A button of the lesson: live settings to change, at once, from the run's next step."""

    label: str
    changes: dict[str, float]
    why: str


@dataclass(frozen=True)
class LiveLesson:
    """A lesson on one run that the class changes while it trains (not a set of runs trained one after another)."""

    number: int
    title: str
    summary: str
    data: str
    base: dict[str, Any]
    moves: tuple[Move, ...]
    look_for: tuple[str, ...]
    story: Callable[[Run], list]
    intro: tuple = ()
    prepare: None = None
    minutes: str = "as long as you steer it"
    steps: tuple = field(default=())

    @property
    def source(self) -> str:
        return f"bundled:{self.data}"

    def settings(self, kind: str) -> dict[str, Any]:
        return {**defaults(kind, self.base.get("arch")), **self.base, "kind": kind}


@dataclass(frozen=True)
class Segment:
    """The steps between two moments of change: what was set, and where KL and reconstruction settled."""

    first: int  # first step
    last: int
    beta: float
    free_bits: float
    kl: float  # mean over the segment's last TAIL steps
    recon: float
    changes: tuple[TrainEvent, ...]  # the change events that opened it (none for the first)


def segments(run: Run) -> list[Segment]:
    """The run cut at its live setting changes; each piece's settled KL and reconstruction."""
    steps = [e for e in run.events if e.kind == "step"]
    changes = [e for e in run.events if e.kind == "change"]
    cuts = sorted({e.step for e in changes})
    bounds = [steps[0].step if steps else 1, *cuts]
    free_bits = run.train_cfg.free_bits
    out = []
    for i, start in enumerate(bounds):
        end = bounds[i + 1] - 1 if i + 1 < len(bounds) else (steps[-1].step if steps else start)
        part = [e for e in steps if start <= e.step <= end]
        opened = tuple(e for e in changes if e.step == start)
        free_bits = next((e.value for e in opened if e.reason == "free_bits"), free_bits)
        if not part:
            continue
        tail = part[-TAIL:]
        out.append(Segment(start, end, tail[-1].beta, free_bits, sum(e.kl for e in tail) / len(tail),
                           sum(e.recon for e in tail) / len(tail), opened))
    return out


def _setting_words(seg: Segment) -> str:
    return f"β = {seg.beta:g}" + (f" with {seg.free_bits:g} free bits" if seg.free_bits > 0 else "")


def story(run: Run) -> list:
    segs = segments(run)
    if not segs:
        return [Text("The run has not taken a step yet.", "info")]
    first = segs[0]
    out = [Text(f"**Steps {first.first}–{first.last}, {_setting_words(first)}:** the KL settled at "
                f"{first.kl:.2f} nats and the reconstruction at {first.recon:.1f} nats per digit.")]
    for before, seg in zip(segs, segs[1:], strict=False):
        made = ", ".join(e.message for e in seg.changes)
        kl_move = change(before.kl, seg.kl, "rose", "fell")
        recon_move = change(before.recon, seg.recon, "worse", "better")
        line = (f"**From step {seg.first} ({made}):** the KL {kl_move} from {before.kl:.2f} to {seg.kl:.2f} nats and "
                f"the reconstruction got {recon_move} ({before.recon:.1f} → {seg.recon:.1f} nats), by step {seg.last}.")
        if seg.kl < NEAR_ZERO_KL <= before.kl:
            line += (" **That is posterior collapse:** the code now carries almost nothing about the digit, and the "
                     "decoder draws much the same average digit for every input.")
        elif before.kl < NEAR_ZERO_KL <= seg.kl:
            line += " **The code came back:** z carries information about the digit again."
        out.append(Text(line, "error" if seg.kl < NEAR_ZERO_KL else "markdown"))
    if len(segs) == 1:
        out.append(Text("Press the first button above to raise β while it trains, and come back here.", "info"))
    return out


LESSON = LiveLesson(
    number=7,
    title=TITLES[7],
    summary="One run that **you** steer while it learns: raise β until the code collapses, lower it again and watch "
            "it recover, then pause and take single steps with one digit's ELBO written out.",
    data="mnist",
    # long enough to steer at leisure (a few minutes on a laptop); Stop ends it whenever the class is done
    base={"beta": 1.0, "epochs": 200, "batch_size": 64, "warmup": "none", "free_bits": 0.0},
    moves=(Move("Raise β to 32", {"beta": 32.0},
                "A KL weight of 32 makes every nat of information in z cost 32 nats of loss: the cheapest code "
                "says nothing, and the KL falls to near zero within about a hundred steps."),
           Move("Lower β to 1 and add 0.5 free bits", {"beta": 1.0, "free_bits": 0.5},
                "Back at β = 1 a code pays for itself again; free bits (Kingma et al. 2016) let each dimension keep "
                "0.5 nats for free, which helps dimensions that had closed open again.")),
    look_for=("The KL line (and the dashed β line) at each dotted change mark.",
              "How fast the KL falls after β goes up, and how much slower it comes back.",
              "The reconstruction: it gets worse when the code collapses, better when it recovers.",
              "Paused: one step on one batch can move one digit's loss either way.",
              "Stop whenever you are done: the run keeps what it learned, and its story stays below."),
    story=story,
)
