"""Lesson 1: what a VAE is. Encoder -> (mu, sigma) -> z = mu + sigma * eps -> decoder, and the ELBO's two terms
as the two curves of a live training run."""
from __future__ import annotations

import numpy as np

from vae_core import analysis
from vae_core.run import Run

from ..components import charts, compare, images
from ..components.charts import TERM_COLOURS
from ..lesson_titles import TITLES
from .common import Graph, Latex, Lesson, Picture, Plot, Step, Text, dims_on, epochs

RECON, KL = TERM_COLOURS["recon"], TERM_COLOURS["kl"]

ELBO = (r"\log p(x) \;\ge\; \mathrm{ELBO}(x) = "
        rf"\textcolor{{{RECON}}}{{\underbrace{{\mathbb{{E}}_{{q(z\mid x)}}\big[\log p(x\mid z)\big]}}"
        rf"_{{-\,\text{{reconstruction}}}}}}"
        rf"\;-\;\textcolor{{{KL}}}{{\underbrace{{\mathrm{{KL}}\big(q(z\mid x)\,\|\,p(z)\big)}}_{{\text{{KL}}}}}}")
LOSS = (rf"\text{{loss}} = \textcolor{{{RECON}}}{{\text{{reconstruction}}}} + "
        rf"\beta\cdot\textcolor{{{KL}}}{{\text{{KL}}}}"
        r"\quad(\beta = 1:\ \text{loss} = -\mathrm{ELBO})")
SAMPLE = (r"q(z\mid x) = \mathcal{N}\big(\mu(x),\,\sigma^2(x)\big),\qquad z = \mu(x) + \sigma(x)\odot\varepsilon,"
          r"\quad \varepsilon\sim\mathcal{N}(0, I)")
KL_FORMULA = (rf"\textcolor{{{KL}}}{{\mathrm{{KL}}}} = \tfrac12\sum_{{d=1}}^{{D}}"
              r"\big(\mu_d^2 + \sigma_d^2 - \log\sigma_d^2 - 1\big)")  # cited in the text: in the formula it was cut
DIAGRAM = """digraph {
  rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#f4f6fa", fontname="sans-serif"];
  x [label="input x"]; enc [label="encoder"]; params [label="μ(x), σ(x)"];
  z [label="z = μ + σ·ε\\n(ε ~ N(0, I))", fillcolor="#fde8e8"]; dec [label="decoder"]; xh [label="reconstruction"];
  x -> enc -> params -> z -> dec -> xh;
  prior [label="prior p(z) = N(0, I)", shape=ellipse, fillcolor="#ffffff"];
  prior -> z [style=dashed, label="KL pulls q(z|x) here", fontsize=10];
  xh -> x [style=dashed, label="reconstruction error", fontsize=10, constraint=false];
}"""


def intro() -> tuple:
    return (
        Graph(DIAGRAM),
        Text("A variational autoencoder squeezes each input through a small random code and rebuilds it. "
             "The **encoder** turns an image x into the mean μ and spread σ of a Gaussian over codes; a code "
             "z is **sampled** from it (written as μ + σ·ε so gradients can flow: the reparameterisation trick); "
             "the **decoder** turns z back into an image."),
        Latex(SAMPLE),
        Text("Training maximises the **evidence lower bound** (ELBO) on log p(x). It has two terms, and each is "
             "one curve on the training chart:"),
        Latex(ELBO),
        Latex(LOSS),
        Latex(KL_FORMULA),
        Text("- :green[**green: reconstruction**] = −E[log p(x|z)], how many nats it costs to describe the image "
             "given its code (lower is better);\n"
             "- :red[**red: KL**] = how far each image's code cloud is from the prior N(0, I), in nats: the price of "
             "the information z carries (in closed form for "
             "Gaussians, above: Kingma & Welling 2014, App. B);\n"
             "- :blue[**blue: total**] = reconstruction + β·KL, the loss the optimiser minimises (the negative ELBO "
             "when β = 1); diamonds are the same terms on the validation part after each epoch."),
    )


def story(runs: list[Run]) -> list:
    run = runs[0]
    s = run.summary
    ep = epochs(run)
    first, last = ep[0], ep[-1]
    out = []
    if len(ep) == 1:
        text = (f"In its only epoch the reconstruction term averaged **{first.recon:.1f} nats** per image and the KL "
                f"**{first.kl:.1f} nats**. Train longer to watch them pull against each other.")
    else:
        kl_word = "risen" if last.kl > first.kl else "fallen"
        text = (f"In epoch 1 the reconstruction term averaged **{first.recon:.1f} nats** per image and the KL "
                f"**{first.kl:.1f} nats**. After epoch {last.epoch} the reconstruction was **{last.recon:.1f}** and "
                f"the KL had {kl_word} to **{last.kl:.1f}**.")
    gained, paid = first.recon - last.recon, last.kl - first.kl
    if gained > 0 and paid > 0:
        text += (f" Two things bought that {gained:.1f}-nat fall in reconstruction: the encoder put {paid:.1f} more "
                 "nats of information about each digit into z (the KL), and the decoder got better at drawing "
                 "digits from it, which it would have done even with nothing more in z. The curves alone cannot "
                 "split the gain between the two.")
    elif gained > 0:
        text += (f" The reconstruction fell by {gained:.1f} nats while the KL did not grow: that gain is the decoder "
                 "learning to draw digits, not more information in z.")
    out.append(Text(text))
    elbo = (f"On the {s['n']} test images the negative ELBO is **{s['test_neg_elbo']:.1f} nats** = reconstruction "
            f"{s['recon']:.1f} + KL {s['kl']:.1f}.")
    if s.get("iwae_nll") is not None:
        gap = s["test_neg_elbo"] - s["iwae_nll"]
        elbo += (f" A tighter estimate of −log p(x), with 64 importance samples (Burda et al. 2016), is "
                 f"{s['iwae_nll']:.1f} nats: the ELBO is a bound, {gap:.1f} nats above it.")
    out.append(Text(elbo))
    val = epochs(run, "val")
    if val:
        v = val[-1]
        gap = v.loss - last.loss
        if gap < 0:
            verdict = ("lower on unseen images, because the training figure averages the whole epoch while the "
                       "model was still improving: no sign of overfitting")
        elif gap <= 0.02 * abs(last.loss):
            verdict = ("hardly any gap, so no sign of overfitting: dropout, weight decay and early stopping (under "
                       "More settings) have nothing to fix here")
        else:
            verdict = ("the model does better on images it trained on; dropout, weight decay or early stopping "
                       "(under More settings) fight this overfitting")
        out.append(Text(f"The validation loss after the last epoch was {v.loss:.1f} nats against {last.loss:.1f} on "
                        f"the training part: {verdict}."))
    out.append(Text(f"{s['active_units']} of {s['latent_dim']} latent dimensions are active units (their mean code "
                    f"changes from image to image), and {dims_on(s)} carry more than {analysis.NEAR_ZERO_KL:g} nats: "
                    f"the diagnosis is **{analysis.VERDICT_WORDS[s['verdict']]}**."))
    return out


def figures(runs: list[Run]) -> list:
    run = runs[0]
    idx = compare.showcase(run.data)
    originals = run.data.x[idx]
    recon = compare.recon_rows([run], originals)[1]
    samples = run.memo.get(("lesson", "prior_samples", len(idx)),
                             lambda: analysis.sample_prior(run.model, len(idx), seed=0))
    grid = images.grid(np.stack([originals, recon, samples]))
    return [
        Plot(charts.loss_curves(run.events, "The ELBO's terms while training (nats per image)"),
             "Green is the reconstruction term, red the KL term, blue their sum: the loss (−ELBO at β = 1). All three "
             "share one nats axis, so the KL looks small beside the reconstruction because it is; only β (dashed) "
             "has an axis of its own, on the right."),
        Picture(grid, "Top: test images. Middle: their reconstructions (encoder → μ → decoder). Bottom: new images "
                      "decoded from codes drawn from the prior N(0, I)."),
    ]


LESSON = Lesson(
    number=1, title=TITLES[1],
    summary="Encoder, sampled code, decoder: train a VAE on real handwritten digits and watch the ELBO's two "
            "terms pull against each other.",
    data="mnist", base={"beta": 1.0, "latent_dim": 16, "epochs": 10},
    steps=(Step("β = 1, 16-D latent"),),
    look_for=(
        "The **green** reconstruction curve drops fast in the first epoch: the decoder learns the average digit, "
        "then the details.",
        "The **red** KL curve *rises* at first: the encoder starts to spend nats on information about each image.",
        "The **blue** total is the sum of the two; the diamonds (validation) sit on it if the model generalises.",
        "The other controls act on these curves: a larger learning rate makes them jagged, a schedule smooths "
        "their end, more epochs lengthen them, the seed makes them repeat exactly.",
    ),
    story=story, figures=figures, intro=intro(), minutes="about 10 seconds",
)
