"""Prior against aggregate posterior: why samples from the prior look worse than reconstructions.

The decoder learns from codes of real inputs, drawn from the aggregate posterior q(z) = 1/N sum_i q(z|x_i)
(Makhzani et al. 2016; Hoffman & Johnson 2016). Sampling draws from the prior N(0, I) instead. Where the prior
has mass but q(z) has almost none (a hole), the decoder never learned what to draw, and a prior sample comes
out blurred or in between. A density fitted to the codes after training (a Gaussian mixture: Ghosh et al.
2020's ex-post density estimation) puts its draws where the codes are. Everything here returns arrays and
numbers; the dashboard and the lessons draw them.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from . import analysis
from .dataset import Dataset
from .models import VAE

MAX_CODES = 2000  # training inputs whose posteriors make up q(z) (its cost grows with N x draws x D)
DRAWS = 1000  # prior draws, mixture draws and held-out codes compared
HOLE_PERCENTILE = 5.0  # a point lies in a hole when q(z) there is below what 95 % of held-out codes get
MIXTURE_COMPONENTS = 10
CODES_PER_COMPONENT = 20  # fewer codes than this per component: fewer components
# the 2-D view
EXTENT = 4.0  # the map covers [-4, 4] on both axes (the prior: sd 1)
CELLS = 32  # cells per axis (0.25 wide)
DRAWS_PER_CODE = 25  # sampled z per code for the map's histogram
PRIOR_DISC = 5.991  # chi-square(2) at 95 %: the disc holding 95 % of a 2-D standard normal's mass
HOLE_RATIO = 0.1  # a cell of the disc is a hole when the codes' mass there is below 1/10 of the prior's


def held_out_part(data: Dataset) -> str:
    """The part that judges the codes' density: test, else validation, else all (then not held out)."""
    return next((p for p in ("test", "val") if len(data.indices(p))), "all")


def codes_of(model: VAE, data: Dataset, part: str, n_max: int = MAX_CODES, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray]:
    """mu, logvar (N, D) of a seeded sample of at most n_max inputs of one part."""
    x = data.part(part)[0]
    keep = analysis.subsample(len(x), n_max, seed)
    return analysis.encode(model, x[keep])


def log_prior(z: np.ndarray) -> np.ndarray:
    """log N(z; 0, I) per row: (M, D) -> (M,)."""
    return -0.5 * (np.square(z) + math.log(2 * math.pi)).sum(1)


def log_aggregate(z: np.ndarray, mu: np.ndarray, logvar: np.ndarray, batch: int = 256) -> np.ndarray:
    """log q(z) of each row of z (M, D) under the aggregate posterior of N codes (mu, logvar: (N, D)): (M,).

    q(z) = 1/N sum_i N(z; mu_i, diag exp(logvar_i)); the squares are expanded into matrix products, so no
    (M, N, D) array is ever built.
    """
    mu, logvar = mu.astype(np.float64), logvar.astype(np.float64)
    inv = np.exp(-logvar)  # (N, D) 1 / sigma^2
    const = -0.5 * ((mu ** 2 * inv).sum(1) + logvar.sum(1) + mu.shape[1] * math.log(2 * math.pi))  # (N,)
    out = np.empty(len(z))
    for i in range(0, len(z), batch):
        zb = z[i:i + batch].astype(np.float64)
        log_n = -0.5 * (zb ** 2) @ inv.T + zb @ (mu * inv).T + const  # (b, N)
        top = log_n.max(1, keepdims=True)
        out[i:i + batch] = top[:, 0] + np.log(np.exp(log_n - top).mean(1))
    return out


def sample_codes(mu: np.ndarray, logvar: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """`draws` samples z ~ q(z|x) per code, from a seeded generator: (N, D) -> (N * draws, D)."""
    eps = np.random.default_rng(seed).standard_normal((draws, *mu.shape))
    return (mu + np.exp(0.5 * logvar) * eps).reshape(-1, mu.shape[1])


def fit_mixture(codes: np.ndarray, components: int = MIXTURE_COMPONENTS, seed: int = 0):
    """A full-covariance Gaussian mixture fitted to codes (N, D) (scikit-learn), fewer components for few codes."""
    from sklearn.mixture import GaussianMixture

    k = max(1, min(components, len(codes) // CODES_PER_COMPONENT))
    return GaussianMixture(k, covariance_type="full", reg_covar=1e-4, random_state=seed).fit(codes)


def mixture_draws(mixture, n: int, seed: int = 0) -> np.ndarray:
    """n draws from a fitted mixture, shuffled (scikit-learn returns them grouped by component): (n, D)."""
    with warnings.catch_warnings():  # numpy's check of a regularised covariance can trip on rounding
        warnings.filterwarnings("ignore", message="covariance is not symmetric positive-semidefinite")
        z = mixture.sample(n)[0]
    return z[np.random.default_rng(seed).permutation(n)].astype(np.float32)


@dataclass(frozen=True)
class PriorGap:
    """Draws from the prior and from a mixture fitted to the codes, each scored by the codes' own density q(z)."""

    z_prior: np.ndarray  # (n, D)
    z_mixture: np.ndarray  # (n, D)
    log_q_prior: np.ndarray  # (n,) log q(z) of each prior draw
    log_q_mixture: np.ndarray  # (n,)
    log_q_held_out: np.ndarray  # (m,) log q(z) of codes of held-out inputs: what typical codes get
    threshold: float  # log q below which a point lies in a hole (HOLE_PERCENTILE of the held-out codes)
    components: int  # of the mixture
    n_codes: int  # training codes in q(z) (and in the mixture's fit)
    held_out_part: str  # the part whose codes set the threshold
    n_held_out: int  # inputs of that part

    @property
    def prior_in_holes(self) -> float:
        """Share of prior draws that land in a hole."""
        return float((self.log_q_prior < self.threshold).mean())

    @property
    def mixture_in_holes(self) -> float:
        return float((self.log_q_mixture < self.threshold).mean())

    @property
    def gap(self) -> float:
        """Median log q of the mixture's draws minus the prior's, nats: how much denser the codes are where they
        land."""
        return float(np.median(self.log_q_mixture) - np.median(self.log_q_prior))

    def medians(self) -> tuple[float, float, float]:
        """Median log q(z) of prior draws, mixture draws and held-out codes."""
        return tuple(float(np.median(v)) for v in (self.log_q_prior, self.log_q_mixture, self.log_q_held_out))


def prior_gap(model: VAE, data: Dataset, n: int = DRAWS, seed: int = 0,
              components: int = MIXTURE_COMPONENTS) -> PriorGap:
    """Prior draws against mixture draws, under q(z) of the training part's codes, judged by held-out codes."""
    mu, logvar = codes_of(model, data, "train", MAX_CODES, seed)
    part = held_out_part(data)
    mu_h, logvar_h = codes_of(model, data, part, MAX_CODES, seed)
    per_code = max(1, -(-n // len(mu_h)))  # a small part: several draws per code, so the percentile means something
    held = sample_codes(mu_h, logvar_h, per_code, seed)[:max(n, len(mu_h))]
    mixture = fit_mixture(mu, components, seed)
    z_prior = np.random.default_rng(seed).standard_normal((n, mu.shape[1])).astype(np.float32)
    z_mix = mixture_draws(mixture, n, seed)
    log_held = log_aggregate(held, mu, logvar)
    return PriorGap(z_prior, z_mix, log_aggregate(z_prior, mu, logvar), log_aggregate(z_mix, mu, logvar), log_held,
                    float(np.percentile(log_held, HOLE_PERCENTILE)), int(mixture.n_components), len(mu), part,
                    len(mu_h))


@dataclass(frozen=True)
class DimensionSpread:
    """Per latent dimension, the codes against the prior N(0, 1): means, sampled z and their spreads."""

    mu: np.ndarray  # (N, D) posterior means of the part's inputs
    z: np.ndarray  # (N, D) one draw z ~ q(z|x) per input: a sample of the aggregate posterior
    kl_order: np.ndarray  # (D,) dimensions by KL, largest first

    @property
    def mu_sd(self) -> np.ndarray:
        return self.mu.std(0)

    @property
    def z_sd(self) -> np.ndarray:
        return self.z.std(0)

    @property
    def z_mean(self) -> np.ndarray:
        return self.z.mean(0)


def dimension_spread(model: VAE, data: Dataset, part: str, kl_per_dim: np.ndarray, seed: int = 0) -> DimensionSpread:
    """The codes of one part, per dimension (sorted by `kl_per_dim`, largest first)."""
    mu, logvar = codes_of(model, data, part, MAX_CODES, seed)
    return DimensionSpread(mu, sample_codes(mu, logvar, 1, seed), np.argsort(-np.asarray(kl_per_dim), kind="stable"))


@dataclass(frozen=True)
class DensityMap:
    """The codes' density against the prior's in a 2-D view of z, with the holes marked."""

    axes: np.ndarray  # (2, D) orthonormal directions of the view (z0, z1 for a 2-D code)
    names: tuple[str, str]
    edges: np.ndarray  # (CELLS + 1,) cell edges on both axes
    prior: np.ndarray  # (CELLS, CELLS) prior mass per cell [row = axis 2, column = axis 1]
    codes: np.ndarray  # (CELLS, CELLS) share of the sampled codes per cell
    in_disc: np.ndarray  # (CELLS, CELLS) bool: cell centre inside the 95 % disc of the prior
    holes: np.ndarray  # (CELLS, CELLS) bool: in the disc, codes' mass below HOLE_RATIO x the prior's
    explained: tuple[float, float]  # share of the codes' variance along each axis (PCA), 1.0 for z itself

    @property
    def centres(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2

    @property
    def hole_mass(self) -> float:
        """Share of the prior's mass (in this view) lying in holes."""
        return float(self.prior[self.holes].sum())

    @property
    def outside_prior(self) -> float:
        """Share of the codes lying outside the prior's 95 % disc (a prior would put 5 % there)."""
        return float(self.codes[~self.in_disc].sum())


def view_axes(mu: np.ndarray) -> tuple[np.ndarray, tuple[str, str], tuple[float, float]] | None:
    """The 2-D view: z itself for a 2-D code, else the codes' first two principal directions; None for 1-D."""
    d = mu.shape[1]
    if d < 2:
        return None
    if d == 2:
        return np.eye(2), ("z0", "z1"), (1.0, 1.0)
    _, s, vt = np.linalg.svd(mu - mu.mean(0), full_matrices=False)
    var = s ** 2 / max((s ** 2).sum(), 1e-12)
    return vt[:2], ("PC 1", "PC 2"), (float(var[0]), float(var[1]))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x])


def density_map(mu: np.ndarray, logvar: np.ndarray, seed: int = 0) -> DensityMap | None:
    """Codes (mu, logvar: (N, D)) and the prior in their 2-D view, cell by cell; None for a 1-D code.

    The directions are unit vectors and the view is not centred, so the prior seen in it is still N(0, I): its
    mass per cell is exact; the codes' is a histogram of DRAWS_PER_CODE draws from each q(z|x).
    """
    view = view_axes(mu)
    if view is None:
        return None
    axes, names, explained = view
    edges = np.linspace(-EXTENT, EXTENT, CELLS + 1)
    per_axis = np.diff(_normal_cdf(edges))
    prior = np.outer(per_axis, per_axis)
    points = sample_codes(mu, logvar, DRAWS_PER_CODE, seed) @ axes.T  # (N * draws, 2)
    codes = np.histogram2d(points[:, 1], points[:, 0], bins=[edges, edges])[0] / len(points)
    centres = (edges[:-1] + edges[1:]) / 2
    in_disc = (centres[:, None] ** 2 + centres[None, :] ** 2) <= PRIOR_DISC
    holes = in_disc & (codes < HOLE_RATIO * prior)
    return DensityMap(axes, names, edges, prior, codes, in_disc, holes, explained)
