"""Lesson 4: latent size. A 2-D code you can walk directly against a 16-D one seen through PCA and t-SNE, and
what each dimension does (traversals)."""
from __future__ import annotations

import numpy as np

from vae_core import analysis
from vae_core.run import Run

from ..components import charts, compare, images
from ..lesson_titles import TITLES
from .common import Lesson, Picture, Plot, Row, Step, Text, dims_on, pct

SIZES = (2, 16)
WALK = np.linspace(-2.0, 2.0, 11, dtype=np.float32)  # the 2-D walk: an 11 x 11 grid of codes
TRAVERSE = np.linspace(-2.5, 2.5, 9, dtype=np.float32)
TRAVERSED_DIMS = 4  # of the 16-D code, the dimensions with the most KL
KNN_NEIGHBOURS = 5
KNN_FIT_MAX = 2000  # training codes the neighbour vote looks at
TSNE_POINTS = 1000


def roles(runs: list[Run]) -> tuple[Run, Run]:
    small = min(runs, key=lambda r: r.model.cfg.latent_dim)
    large = max(runs, key=lambda r: r.model.cfg.latent_dim)
    return small, large


def knn_accuracy(run: Run) -> float | None:
    """Share of test inputs whose label a 5-nearest-neighbour vote over training codes gets right (None if
    unlabelled): how much of what tells classes apart survives in the code."""
    data = run.data
    if data.y is None:
        return None

    def compute():
        from sklearn.neighbors import KNeighborsClassifier

        train = data.indices("train")
        train = train[analysis.subsample(len(train), KNN_FIT_MAX, seed=0)]
        test = data.indices(compare.eval_part(data))
        vote = KNeighborsClassifier(KNN_NEIGHBOURS).fit(analysis.encode_means(run.model, data.x[train]), data.y[train])
        return float(vote.score(analysis.encode_means(run.model, data.x[test]), data.y[test]))
    return run.memo.get(("lesson", "knn"), compute)


def tsne_map(run: Run) -> tuple[np.ndarray, list[str]]:
    """t-SNE of (up to TSNE_POINTS) test codes, computed once per model (the lesson runner does it in the
    background, before the page asks)."""
    def compute():
        idx = run.data.indices(compare.eval_part(run.data))
        idx = idx[analysis.subsample(len(idx), TSNE_POINTS, seed=0)]
        coords = analysis.tsne_2d(analysis.encode_means(run.model, run.data.x[idx]), seed=0)
        return coords, [run.data.label_text(int(i)) for i in idx] if run.data.y is not None else []
    return run.memo.get(("lesson", "tsne"), compute)


def traversal(run: Run, dims: list[int]) -> np.ndarray:
    """Decoded images along each chosen dimension from the centre of the prior: (len(dims), len(TRAVERSE), ...)."""
    key = ("lesson", "traverse", tuple(dims))
    z0 = np.zeros(run.model.cfg.latent_dim, np.float32)
    return run.memo.get(key, lambda: analysis.traverse(run.model, z0, dims, TRAVERSE))


def top_dims(run: Run, n: int) -> list[int]:
    kl = np.asarray(run.summary["kl_per_dim"])
    return [int(d) for d in np.argsort(-kl, kind="stable")[:n]]


def walk(run: Run) -> np.ndarray:
    """A 2-D latent decoded on a grid: rows from z2 = +2 (top) to -2, columns z1 = -2 to +2."""
    def compute():
        z1, z2 = np.meshgrid(WALK, WALK[::-1])
        return analysis.decode(run.model, np.column_stack([z1.ravel(), z2.ravel()]))
    return run.memo.get(("lesson", "walk"), compute)


def after(runs: list[Run]) -> None:
    """Slow parts, in the lesson's background thread: t-SNE of the larger code, neighbour votes."""
    small, large = roles(runs)
    tsne_map(large)
    for r in (small, large):
        knn_accuracy(r)


def story(runs: list[Run]) -> list:
    small, large = roles(runs)
    a, b = small.summary, large.summary
    diff = a["test_neg_elbo"] - b["test_neg_elbo"]
    out = [Text(
        f"With a **{a['latent_dim']}-D code** the test negative ELBO is {a['test_neg_elbo']:.1f} nats (reconstruction "
        f"{a['recon']:.1f}, KL {a['kl']:.1f}); with **{b['latent_dim']} dimensions** it is {b['test_neg_elbo']:.1f} "
        f"(reconstruction {b['recon']:.1f}, KL {b['kl']:.1f}): {abs(diff):.1f} nats "
        f"{'better' if diff > 0 else 'worse'}. "
        + ("More numbers per image keep more detail." if diff > 0 else "The extra dimensions did not pay off here."))]
    out.append(Text(
        f"The {b['latent_dim']}-D model uses {dims_on(b)} of its {b['latent_dim']} dimensions (KL above "
        f"{analysis.NEAR_ZERO_KL:g} nats; {b['active_units']} active units); the {a['latent_dim']}-D model uses "
        f"{dims_on(a)} of {a['latent_dim']}. A VAE switches off dimensions it cannot afford: a larger latent size is "
        "an upper limit, not a target."))
    acc_a, acc_b = knn_accuracy(small), knn_accuracy(large)
    if acc_a is not None and acc_b is not None:
        out.append(Text(
            f"A {KNN_NEIGHBOURS}-nearest-neighbour vote on the codes recognises **{pct(acc_a)}** of the test digits "
            f"from the {a['latent_dim']}-D codes and **{pct(acc_b)}** from the {b['latent_dim']}-D ones: "
            + ("the larger code keeps digits further apart." if acc_b > acc_a else
               "the small code separates digits as well as the large one here.")))
    out.append(Text(
        f"The {a['latent_dim']}-D map *is* the latent space: every point of it decodes to an image, so you can walk "
        f"it (the grid below). The {b['latent_dim']}-D map is a projection (PCA keeps distances, t-SNE keeps "
        "neighbours), so a point between two clusters there is not a code you could decode."))
    return out


def figures(runs: list[Run]) -> list:
    small, large = roles(runs)
    blocks = []
    coords, labels, method = compare.latent_map(small)
    if method == "z":
        fig = charts.latent_scatter(coords, labels, f"{small.model.cfg.latent_dim}-D code: z itself",
                                    axis_names=("z1", "z2"), height=460)
        blocks.append(Row([Plot(fig, "Each dot is a test image at its code; no projection."),
                           Picture(images.mosaic(walk(small), cols=len(WALK)),
                                   f"Walking the 2-D latent: codes from {WALK[0]:g} to {WALK[-1]:g} in each "
                                   "direction, decoded (z1 left to right, z2 bottom to top).")]))
    coords, labels, _ = compare.latent_map(large)
    pca = charts.latent_scatter(coords, labels, f"{large.model.cfg.latent_dim}-D code: PCA",
                                axis_names=("PC 1", "PC 2"), height=460)
    tsne_coords, tsne_labels = tsne_map(large)
    tsne = charts.latent_scatter(tsne_coords, tsne_labels, f"{large.model.cfg.latent_dim}-D code: t-SNE",
                                 axis_names=("t-SNE 1", "t-SNE 2"), height=460)
    blocks.append(Row([Plot(pca, "The two directions along which the codes vary most."),
                       Plot(tsne, "Neighbours kept close; distances between clusters mean little.")]))
    small_dims = list(range(small.model.cfg.latent_dim))
    large_dims = top_dims(large, min(TRAVERSED_DIMS, large.model.cfg.latent_dim))
    blocks.append(Row([
        Picture(images.grid(traversal(small, small_dims)),
                f"{small.model.cfg.latent_dim}-D: each row moves one dimension from {TRAVERSE[0]:g} to "
                f"{TRAVERSE[-1]:g}, the other held at 0."),
        Picture(images.grid(traversal(large, large_dims)),
                f"{large.model.cfg.latent_dim}-D: the {len(large_dims)} dimensions with the most KL "
                f"(z{', z'.join(str(d) for d in large_dims)}), one row each."),
    ]))
    return blocks


LESSON = Lesson(
    number=4, title=TITLES[4],
    summary="A 2-dimensional code you can see and walk, against a 16-dimensional one that rebuilds better but has "
            "to be projected to be seen.",
    data="mnist", base={"beta": 1.0, "epochs": 10},
    steps=tuple(Step(f"{d}-D latent", {"latent_dim": d}) for d in SIZES),
    look_for=(
        "The 2-D map is the latent space itself: digits form regions, and walking across it morphs one digit into "
        "the next.",
        "The 16-D model rebuilds digits better (lower reconstruction), but you only see its codes through a "
        "projection: PCA (linear) or t-SNE (neighbourhoods).",
        "Traversals: move one dimension, keep the others at 0. In 2-D each dimension mixes several traits; in 16-D "
        "the busiest dimensions change stroke, slant or width.",
    ),
    story=story, figures=figures, after=after, minutes="about 30 seconds",
)
