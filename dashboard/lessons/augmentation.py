"""Lesson 12: augmenting a short recording. BasicMotions gives 64 training recordings; a 1-D conv VAE trained long on
them learns them by heart and its validation loss turns back up. New windows made from old ones (jitter, scale, time
warp, window shift; Um et al. 2017), drawn from the run's seed, keep it learning what the recordings share."""
from __future__ import annotations

from vae_core.run import Run

from ..components import compare
from ..lesson_titles import TITLES
from .common import Lesson, Plot, Step, Text, epochs

EPOCHS = 150
AUGMENT = ("jitter", "scale", "warp", "shift")


def roles(runs: list[Run]) -> tuple[Run, Run]:
    """(without augmentation, with it)."""
    return next(r for r in runs if not r.train_cfg.augment), next(r for r in runs if r.train_cfg.augment)


def _course(run: Run) -> tuple[float, int, float, float]:
    """(lowest validation loss, its epoch, the last one, the last training loss)."""
    val = epochs(run, "val")
    best = min(val, key=lambda e: e.loss)
    return best.loss, best.epoch, val[-1].loss, epochs(run)[-1].loss


def story(runs: list[Run]) -> list:
    plain, aug = roles(runs)
    out = []
    n = len(plain.data.indices("train"))
    for run in (plain, aug):
        best, at, last, train = _course(run)
        rose = last > best
        what = "with augmentation" if run.train_cfg.augment else "without augmentation"
        out.append(Text(
            f"**{what.capitalize()}** (run {run.number}): the validation loss was lowest at epoch {at} ({best:.1f} "
            f"nats per recording) and {'rose to' if rose else 'ended at'} {last:.1f} by epoch {epochs(run)[-1].epoch}; "
            f"the training loss ended at {train:.1f}{' (on altered windows)' if run.train_cfg.augment else ''}. "
            f"Test part: reconstruction {run.summary['recon']:.1f}, KL "
            f"{run.summary['kl']:.1f} nats."))
    p_best, _, p_last, _ = _course(plain)
    a_best, _, a_last, _ = _course(aug)
    better = a_last < p_last
    out.append(Text(
        f"With only {n} training recordings, the model without augmentation "
        + ("learns them by heart: its validation loss turned back up " if p_last > p_best + 1 else "did not overfit "
           "much this time ")
        + f"(from {p_best:.1f} to {p_last:.1f}). With augmentation the last validation loss is {a_last:.1f}, "
        + (f"{p_last - a_last:.1f} nats better: the altered copies ({', '.join(aug.train_cfg.augment)}) kept it "
           "learning what the recordings share instead of each one's details." if better else
           f"{a_last - p_last:.1f} nats worse: the altered copies made the task harder than they helped here."),
        "success" if better else "info"))
    out.append(Text("The augmentations are drawn from the run's own generator: the same seed gives the same windows "
                    "and the same weights. Only training windows are altered; validation and test windows never are.",
                    "caption"))
    return out


def figures(runs: list[Run]) -> list:
    plain, aug = roles(runs)
    best, at, last, _ = _course(plain)
    turned = (f" The dotted reconstruction curve of run {plain.number} is lowest at epoch {at} and turns back up."
              if last > best + 1 else "")
    return [Plot(compare.overlay_curves([plain, aug], title="Reconstruction and KL per epoch, with and without "
                                                            "augmentation"),
                 f"run {plain.number}: without augmentation; run {aug.number}: with it. Solid lines: training part "
                 f"(run {aug.number}: its altered windows); dotted: validation part.{turned}")]


LESSON = Lesson(
    number=12, title=TITLES[12],
    summary="A short recording is learned by heart. Augmenting its training windows (new windows made from old ones, "
            "from the run's seed) keeps the validation loss down.",
    data="basicmotions", base={"epochs": EPOCHS},
    steps=(Step("without augmentation"), Step("with augmentation", {"augment": AUGMENT})),
    look_for=(
        "The **validation curve** (dotted) of the run without augmentation: does it turn back up while the training "
        "curve keeps falling?",
        "The **run with augmentation**: where does its validation loss end?",
    ),
    story=story, figures=figures, minutes="about 20 seconds",
)
