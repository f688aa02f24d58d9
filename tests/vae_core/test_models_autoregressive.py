"""The autoregressive GRU decoder: causal teacher forcing, generation that teacher forcing reproduces, input
dropout from the run's generator, save/load/continue like any run, and the classic collapse with its cures."""
from __future__ import annotations

import pytest
import torch

from vae_core import analysis
from vae_core.checkpoint import run_files, run_from_files
from vae_core.config import ModelConfig, configs_for
from vae_core.family import build_model
from vae_core.losses import recon_nll
from vae_core.runs import finish_run, new_run, train_run

CFG = ModelConfig(input_shape=(24, 2), arch="argru", hidden=(16, 12), latent_dim=3)


def test_teacher_forcing_is_causal_step_t_reads_only_earlier_steps():
    model = build_model(CFG).eval()
    x, z = torch.randn(2, 24, 2), torch.randn(2, 3)
    later = x.clone()
    later[:, 10:] += 5.0  # change steps 10 and on
    a, b = model.decode(z, x=x), model.decode(z, x=later)
    assert torch.equal(a[:, :11], b[:, :11])  # step 10 reads step 9, unchanged
    assert not torch.allclose(a[:, 11:], b[:, 11:])


def test_generating_then_teacher_forcing_on_the_generated_window_gives_it_back():
    model = build_model(CFG).eval()
    z = torch.randn(4, 3)
    generated = model.decode(z)  # free-running: each step reads the mean of the one before
    assert generated.shape == (4, 24, 2)
    assert torch.allclose(model.decode(z, x=generated), generated, atol=1e-5)


def test_forward_scores_the_input_teacher_forced_and_the_encoder_sees_the_whole_window():
    model = build_model(CFG).eval()
    x = torch.randn(3, 24, 2)
    out = model(x, torch.Generator().manual_seed(0))
    assert torch.equal(out.recon, model.decode(out.z, x=x))
    assert out.mu.shape == (3, 3)


def test_input_dropout_masks_come_from_the_run_generator_and_only_while_training():
    model = build_model(ModelConfig(**{**CFG.__dict__, "decoder_input_dropout": 0.5}))
    x, z = torch.randn(4, 24, 2), torch.randn(4, 3)
    outs = []
    for global_seed in (1, 2):
        model.use_rng(torch.Generator().manual_seed(9))
        torch.manual_seed(global_seed)
        outs.append(model.decode(z, x=x))
    assert torch.equal(outs[0], outs[1])
    model.use_rng(torch.Generator().manual_seed(10))
    assert not torch.equal(model.decode(z, x=x), outs[0])
    model.eval()
    without = build_model(CFG)  # the same weights, no input dropout
    without.load_state_dict(model.state_dict())
    assert torch.equal(model.decode(z, x=x), without.eval().decode(z, x=x))


def _digest(run) -> bytes:
    return b"".join(v.numpy().tobytes() for v in run.model.state_dict().values())


def test_a_run_saves_loads_and_continues_to_the_weights_of_a_straight_run(bleeding):
    values = {"arch": "argru", "hidden": (12, 8), "epochs": 2, "decoder_input_dropout": 0.3, "latent_dim": 4}
    straight = new_run(bleeding, *configs_for("sensor", bleeding.input_shape, values))
    list(train_run(straight))
    stopped = new_run(bleeding, *configs_for("sensor", bleeding.input_shape, values))
    for ev in train_run(stopped):
        if ev.kind == "step" and ev.step == 5:
            break
    reloaded = run_from_files(run_files(stopped))
    assert reloaded.model_cfg.arch == "argru" and reloaded.model_cfg.decoder_input_dropout == 0.3
    list(train_run(reloaded, bleeding))
    assert _digest(reloaded) == _digest(straight)
    x = bleeding.part("test")[0][:50]
    errors = analysis.reconstruction_errors(reloaded.model, x)  # -log p(x|z) of the autoregressive likelihood
    with analysis.inference(reloaded.model):
        xt = torch.from_numpy(x)
        mu = reloaded.model.encode(xt)[0]
        forced = recon_nll(reloaded.model.decode(mu, x=xt), xt, "mse").numpy()
        free = recon_nll(reloaded.model.decode(mu), xt, "mse").numpy()
    assert errors == pytest.approx(forced, rel=1e-5) and not errors == pytest.approx(free, rel=1e-2)


@pytest.mark.slow
def test_the_decoder_collapses_at_beta_one_and_free_bits_recover_active_units(bleeding):
    """The classic collapse (Bowman et al. 2016) in a real short run on the bleeding recording: 25 epochs of 8 steps."""
    base = {"arch": "argru", "epochs": 25}
    plain = new_run(bleeding, *configs_for("sensor", bleeding.input_shape, base))
    cured = new_run(bleeding, *configs_for("sensor", bleeding.input_shape, {**base, "free_bits": 0.5}))
    for run in (plain, cured):
        list(train_run(run))
        finish_run(run, iwae_k=0)
    p, c = plain.summary, cured.summary
    assert p["verdict"] == "collapsed" and p["kl"] < 0.5, p["collapse_reason"]
    assert not c["collapsed"] and c["active_units"] >= 4 and c["active_units"] > p["active_units"]
    assert c["kl"] > 1.0
