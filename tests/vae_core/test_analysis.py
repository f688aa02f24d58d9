"""Analysis arrays from a model trained on real digits: shapes, references and verdicts."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import average_precision_score, roc_auc_score

from vae_core import analysis
from vae_core.config import ModelConfig, TrainConfig
from vae_core.runs import new_model
from vae_core.training import TrainingSoFar, evaluate_loss, train


@pytest.fixture(scope="module")
def trained(mnist):
    model = new_model(ModelConfig(hidden=(128,), latent_dim=6))
    list(train(model, mnist, TrainConfig(epochs=5)))
    return model


@pytest.fixture(scope="module")
def x_test(mnist):
    return mnist.part("test")[0]


def test_encode_reconstruct_sample_shapes(trained, x_test):
    mu, logvar = analysis.encode(trained, x_test)
    assert mu.shape == logvar.shape == (len(x_test), 6)
    np.testing.assert_array_equal(analysis.encode_means(trained, x_test), mu)
    recon = analysis.reconstruct(trained, x_test)
    assert recon.shape == x_test.shape and recon.min() >= 0 and recon.max() <= 1
    samples = analysis.sample_prior(trained, 9, seed=1)
    assert samples.shape == (9, 1, 28, 28)
    np.testing.assert_array_equal(samples, analysis.sample_prior(trained, 9, seed=1))


def test_reconstructions_are_closer_to_their_own_input_than_to_others(trained, x_test):
    recon = analysis.reconstruct(trained, x_test[:50])
    own = ((recon - x_test[:50]) ** 2).sum((1, 2, 3))
    shifted = ((recon - np.roll(x_test[:50], 1, axis=0)) ** 2).sum((1, 2, 3))
    assert (own < shifted).mean() >= 0.85  # an untrained model scores about 0.5
    assert own.mean() < 0.7 * shifted.mean()


def test_analysis_leaves_a_training_model_in_training_mode(trained, x_test):
    trained.train()
    analysis.encode_means(trained, x_test[:4])
    assert trained.training
    trained.eval()


def test_traversal_changes_only_the_swept_dimension(trained):
    z0 = np.zeros(6, np.float32)
    values = np.linspace(-2, 2, 5)
    grid = analysis.traverse(trained, z0, [0, 3], values)
    assert grid.shape == (2, 5, 1, 28, 28)
    z = np.zeros((5, 6), np.float32)
    z[:, 3] = values
    np.testing.assert_allclose(grid[1], analysis.decode(trained, z), atol=1e-6)


def test_interpolation_ends_at_both_reconstructions(trained, x_test):
    path = analysis.interpolate(trained, x_test[0], x_test[1], steps=6)
    assert path.shape == (6, 1, 28, 28)
    ends = analysis.reconstruct(trained, x_test[:2])
    np.testing.assert_allclose(path[0], ends[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], ends[1], atol=1e-5)


def test_pca_matches_scikit_learn_up_to_sign(trained, x_test):
    z = analysis.encode_means(trained, x_test)
    coords, ratio = analysis.pca_2d(z)
    ref = PCA(2).fit(z)
    expected = ref.transform(z)
    for k in range(2):
        assert np.allclose(np.abs(coords[:, k]), np.abs(expected[:, k]), atol=1e-3)
    np.testing.assert_allclose(ratio, ref.explained_variance_ratio_, rtol=1e-4)
    line, _ = analysis.pca_2d(z[:, :1])  # a 1-D latent still gives 2-D coordinates
    assert line.shape == (len(z), 2)


def test_tsne_is_seeded_reports_progress_and_can_be_cancelled(trained, x_test):
    z = analysis.encode_means(trained, x_test[:120])
    seen = []
    a = analysis.tsne_2d(z, perplexity=20, seed=3, progress=lambda f: seen.append(f))
    b = analysis.tsne_2d(z, perplexity=20, seed=3)
    assert a.shape == (120, 2)
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert seen and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    calls = []
    analysis.tsne_2d(z, seed=3, progress=lambda f: calls.append(f) or True)  # cancel at the first report
    assert len(calls) <= 2
    assert analysis.subsample(10, 4, seed=0).tolist() == sorted(analysis.subsample(10, 4, seed=0).tolist())
    assert len(analysis.subsample(10, 40)) == 10


def test_diagnostics_of_a_trained_and_of_an_untrained_model(trained, x_test):
    diag = analysis.diagnose(trained, x_test, [200.0, 150.0])
    assert diag.kl_per_dim.shape == diag.active.shape == (6,)
    assert diag.kl == pytest.approx(diag.kl_per_dim.sum(), rel=1e-4)
    assert diag.verdict == "healthy" and diag.active_units >= 3
    # active units by hand: variance of the latent means across inputs above 0.01 (Burda et al. 2016)
    mu = analysis.encode_means(trained, x_test)
    assert diag.active_units == int((mu.var(0) > 0.01).sum())
    fresh = new_model(ModelConfig(hidden=(128,), latent_dim=6))
    with torch.no_grad():  # a posterior that ignores x: q(z|x) = N(0, I)
        for layer in (fresh.to_mu, fresh.to_logvar):
            layer.weight.zero_()
            layer.bias.zero_()
    dead = analysis.diagnose(fresh, x_test, [200.0, 150.0])
    assert dead.collapsed and dead.active_units == 0
    assert "KL is ~0 in 6 of 6 dimensions" in dead.reason and "while reconstruction keeps falling" in dead.reason


def _ignoring_x(latent_dim: int, logvar: float):
    """A model whose posterior ignores x: q(z|x) = N(0, exp(logvar) I) for every input."""
    model = new_model(ModelConfig(hidden=(128,), latent_dim=latent_dim))
    with torch.no_grad():
        for layer in (model.to_mu, model.to_logvar):
            layer.weight.zero_()
            layer.bias.zero_()
        model.to_logvar.bias.fill_(logvar)
    return model


def test_the_verdict_says_when_it_is_too_early_to_judge(x_test):
    dead = _ignoring_x(8, 0.0)
    short = analysis.diagnose(dead, x_test, TrainingSoFar(steps=10, recon=(300.0,), kl=(0.4,)))
    assert short.verdict == "too_early" and not short.collapsed
    assert "only 10 optimiser steps" in short.reason and "Train longer" in short.reason
    rising = analysis.diagnose(dead, x_test, TrainingSoFar(steps=5000, recon=(300.0, 250.0), kl=(0.2, 0.6)))
    assert rising.verdict == "too_early" and "KL is still rising (0.20 -> 0.60" in rising.reason
    settled = analysis.diagnose(dead, x_test, TrainingSoFar(steps=5000, recon=(300.0, 250.0), kl=(0.6, 0.6)))
    assert settled.collapsed
    few = analysis.diagnose(dead, x_test[:12], TrainingSoFar(steps=5000))
    assert "counted on only 12 inputs" in few.reason


def test_a_collapse_sentence_agrees_with_its_own_numbers(x_test):
    # every dimension carries ~0.1 nats (above the ~0 line), 0.58 nats in all: collapsed, but not "~0 in 0 of 6"
    weak = analysis.diagnose(_ignoring_x(6, math.log(0.5)), x_test, TrainingSoFar(steps=5000))
    assert weak.collapsed and (weak.kl_per_dim > analysis.NEAR_ZERO_KL).all()
    assert "~0 in" not in weak.reason and f"only {weak.kl:.2f} nats per sample in total (less than one nat)" in \
        weak.reason


def test_iwae_with_one_sample_matches_the_elbo_and_more_samples_tighten_it(trained, x_test):
    x = x_test[:100]
    with torch.random.fork_rng():
        torch.manual_seed(0)
        elbo = evaluate_loss(trained, torch.as_tensor(x), loss="bce")
    neg_elbo = elbo["recon"] + elbo["kl"]
    k1 = np.mean([analysis.iwae_nll(trained, x, k=1, seed=s) for s in range(20)])
    k64 = analysis.iwae_nll(trained, x, k=64)
    assert k1 == pytest.approx(neg_elbo, rel=0.01)  # same bound, Monte Carlo noise only
    assert k64 < neg_elbo  # Burda et al. 2016: the bound tightens with k


def test_anomaly_metrics_match_scikit_learn_and_threshold_is_a_percentile():
    rng = np.random.default_rng(0)
    labels = (rng.random(300) < 0.1).astype(int)
    scores = rng.normal(size=300) + 2 * labels
    m = analysis.anomaly_metrics(scores, labels)
    assert m["auc"] == pytest.approx(roc_auc_score(labels, scores))
    assert m["ap"] == pytest.approx(average_precision_score(labels, scores))
    assert m["fpr"][0] == 0 and m["tpr"][-1] == 1
    assert analysis.anomaly_metrics(scores, np.zeros(300))["auc"] is None
    assert analysis.anomaly_threshold(np.arange(101.0), 90) == pytest.approx(90.0)


def test_evaluate_repeats_exactly(trained, mnist_small):
    a = analysis.evaluate(trained, mnist_small, iwae_k=8)
    b = analysis.evaluate(trained, mnist_small, iwae_k=8)
    assert a == b
    assert a["test_neg_elbo"] == pytest.approx(a["recon"] + a["kl"])
    assert a["iwae_nll"] < a["test_neg_elbo"] + 1.0
    assert len(a["kl_per_dim"]) == 6 and a["anomaly_auc"] is None


def test_anomaly_scores_find_the_labelled_anomaly(bleeding):
    from vae_core.config import default_model_config

    model = new_model(default_model_config("sensor", bleeding.input_shape))
    list(train(model, bleeding, TrainConfig()))  # the default 20 epochs (at 10 the false alarms vary 0.16-0.37 by seed)
    x_test, y_test = bleeding.part("test")
    scores = analysis.reconstruction_errors(model, x_test)
    assert scores.shape == (len(x_test),)
    assert scores[y_test == 1].mean() > scores[y_test == 0].mean()
    threshold = analysis.anomaly_threshold(analysis.reconstruction_errors(model, bleeding.part("val")[0]), 99)
    assert (scores[y_test == 0] > threshold).mean() < 0.3


def test_collapse_verdict_explains_units_that_pass_the_active_test_but_carry_nothing():
    """β=16 on MNIST ended like this: 0.6 nats in all, yet 13 means varied just over 0.01."""
    kl_dim = np.full(16, 0.03)
    active = np.arange(16) < 13
    verdict, reason = analysis._verdict(kl_dim, active, float(kl_dim.sum()), TrainingSoFar(recon=(200.0, 190.0)), 500)
    assert verdict == "collapsed"
    assert "13 units still pass the active-unit test" in reason and "reconstruction keeps falling" in reason
    verdict, reason = analysis._verdict(kl_dim, np.zeros(16, bool), float(kl_dim.sum()), TrainingSoFar(recon=(200.0,)),
                                        500)
    assert verdict == "collapsed" and "active-unit test" not in reason


def test_the_elbo_of_one_input_written_out_matches_the_loss_and_torch_distributions(trained, x_test):
    from torch.distributions import Normal, kl_divergence

    x = x_test[3]
    terms = analysis.elbo_terms(trained, x, beta=2.0, draws=5, seed=1)
    assert terms.z.shape == terms.eps.shape == (5, 6) and terms.reconstructions.shape == (5, *x.shape)
    np.testing.assert_allclose(terms.z, terms.mu + terms.sigma * terms.eps, rtol=1e-5, atol=1e-6)
    reference = kl_divergence(Normal(torch.as_tensor(terms.mu), torch.as_tensor(terms.sigma)), Normal(0.0, 1.0))
    np.testing.assert_allclose(terms.kl_per_dim, reference.numpy(), rtol=1e-4, atol=1e-6)
    assert terms.total == pytest.approx(terms.recon + 2.0 * terms.kl)
    # each draw's reconstruction term is the loss's, for that z
    with torch.no_grad():
        params = trained.decode(torch.as_tensor(terms.z))
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            params, torch.as_tensor(x).expand(5, *x.shape), reduction="none").flatten(1).sum(1)
    np.testing.assert_allclose(terms.recon_per_draw, bce.numpy(), rtol=1e-4)
    again = analysis.elbo_terms(trained, x, beta=2.0, draws=5, seed=1)
    np.testing.assert_array_equal(again.eps, terms.eps)  # seeded: before and after a step draw the same noise
