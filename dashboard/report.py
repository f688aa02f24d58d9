"""A one-file HTML report of a run, for handing in or handing out: settings, curves, latent map, reconstructions,
traversals and the diagnosis.

Self-contained: plotly.js is inlined once, each chart is its plotly JSON in a `<script type="application/json">`
drawn by one small script, image grids are base64 PNGs. Nothing is fetched when it opens (the inlined plotly.js
library mentions map-tile addresses, used only by map charts, which a report never draws). Every text that
comes from the visitor (data and file names, labels) is escaped; charts carry theirs inside JSON, where '<' is
written as \\u003c so it can never close the script element.
"""
from __future__ import annotations

import base64
import html
import json
from datetime import datetime

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from vae_core import analysis
from vae_core.analysis import likelihood_note
from vae_core.config import to_dict
from vae_core.family import dim_names
from vae_core.run import Run

from .components import charts, compare, explore, images

TRAVERSAL_VALUES = np.linspace(-2.5, 2.5, 9, dtype=np.float32)
TRAVERSAL_DIMS = 5  # the dimensions with the most KL
SAMPLES = 16
SENSOR_WINDOWS = 3
MARGIN = 70  # px left and right of each chart for axis labels and titles
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "toImageButtonOptions": {"format": "png", "scale": 2}}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; } td, th { border: 1px solid #ddd; padding: 0.25rem 0.6rem;
text-align: left; } th { background: #f4f6fa; }
.tables { display: flex; gap: 2rem; flex-wrap: wrap; } .figure { width: 100%; min-height: 300px; }
.verdict { padding: 0.7rem 1rem; border-radius: 0.4rem; margin: 0.8rem 0; }
.healthy { background: #e8f5e9; } .partial, .too_early { background: #fff8e1; } .collapsed { background: #fdecea; }
img { max-width: 100%; image-rendering: pixelated; border: 1px solid #eee; }
.caption, .meta { color: #666; font-size: 0.9rem; }
"""
DRAW = """
document.querySelectorAll('script[type="application/json"][data-figure]').forEach(function (el) {
  var spec = JSON.parse(el.textContent);
  Plotly.newPlot(el.getAttribute('data-figure'), spec.data, spec.layout, spec.config);
});
"""


def file_name(run: Run) -> str:
    """A safe download name: vae-report-run-3-mnist.html."""
    return "vae-report-" + compare.zip_name(run).removeprefix("vae-").removesuffix(".zip") + ".html"


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _json_for_script(fig: go.Figure) -> str:
    spec = json.loads(fig.to_json())
    spec["config"] = PLOT_CONFIG
    return (json.dumps(spec, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _png(array: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(images.png_bytes(array)).decode("ascii")


def _table(rows: dict, title: str) -> str:
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows.items())
    return f"<div><h3>{_esc(title)}</h3><table>{body}</table></div>"


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


class _Page:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.figures = 0

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def figure(self, fig: go.Figure, caption: str = "") -> None:
        """A chart; its axes make room for their labels (the dashboard's charts leave that to Streamlit's theme)."""
        fig = go.Figure(fig)
        fig.update_layout(margin=dict(l=MARGIN, r=MARGIN))
        fig.update_xaxes(automargin=True)
        fig.update_yaxes(automargin=True)
        self.figures += 1
        name = f"figure-{self.figures}"
        self.add(f'<div class="figure" id="{name}"></div>'
                 f'<script type="application/json" data-figure="{name}">{_json_for_script(fig)}</script>')
        if caption:
            self.add(f'<p class="caption">{_esc(caption)}</p>')

    def picture(self, array: np.ndarray, alt: str, caption: str = "") -> None:
        self.add(f'<img src="{_png(array)}" alt="{_esc(alt)}">')
        if caption:
            self.add(f'<p class="caption">{_esc(caption)}</p>')


def _diagnosis(run: Run) -> analysis.Diagnostics:
    return run.diagnosis(compare.eval_part(run.data))


def _summary_rows(run: Run) -> dict:
    s = run.summary
    rows = {"data": run.data.name, "status": run.status, "epochs trained": s.get("epochs"),
            "test neg. ELBO (nats)": s.get("test_neg_elbo"), "reconstruction (nats)": s.get("recon"),
            "KL (nats)": s.get("kl"), "active units": f"{s.get('active_units')} of {s.get('latent_dim')}",
            **{f"KL of {name} (nats)": v for name, v in (s.get("kl_layers") or {}).items()},
            f"IWAE NLL (nats; {likelihood_note(s)})": s.get("iwae_nll"), "anomaly ROC-AUC": s.get("anomaly_auc"),
            "anomaly average precision": s.get("anomaly_ap"), "training seconds": s.get("seconds"),
            "parameters": s.get("parameters")}
    return {k: _fmt(v) for k, v in rows.items() if v is not None}


def build(run: Run) -> bytes:
    """The whole report as UTF-8 HTML bytes."""
    data, model = run.data, run.model
    page = _Page()
    page.add(f"<h1>VAE Explorer report: {_esc(run.label)}</h1>")
    told = run.message.strip()
    told += "" if not told or told.endswith((".", "!", "?")) else "."
    page.add(f'<p class="meta">Made {datetime.now():%Y-%m-%d %H:%M}. {_esc(told)} Every chart has a camera '
             "button (top right, on hover) that saves it as a PNG.</p>")

    diag = _diagnosis(run)
    page.add(f'<div class="verdict {_esc(diag.verdict)}">'
             f'<strong>Diagnosis: {_esc(analysis.VERDICT_WORDS[diag.verdict])}.</strong> '
             f"{_esc(diag.reason)}</div>")
    page.add('<div class="tables">' + _table(_summary_rows(run), "Results on the " + compare.eval_part(data) + " part")
             + _table({k: _fmt(v) for k, v in to_dict(model.cfg).items()}, "Model")
             + _table({k: _fmt(v) for k, v in to_dict(run.train_cfg).items()}, "Training") + "</div>")

    page.add("<h2>Training curves</h2>")
    if any(e.kind == "step" for e in run.events):
        page.figure(charts.loss_curves(run.events), "Total loss, reconstruction and KL per step; diamonds: the "
                                                    "validation part after each epoch; dashed: β in force.")
    if any(e.kind == "epoch" for e in run.events):
        page.figure(charts.epoch_curves(run.events, "Reconstruction and KL per epoch (training part)"))

    page.add("<h2>Latent space</h2>")
    coords, labels, method = compare.latent_map(run)
    page.figure(charts.latent_scatter(coords, labels, f"Latent means of the {compare.eval_part(run.data)} part" +
                                      (" (the 2-D code itself)" if method == "z"
                                       else " (first two principal components)"),
                                      axis_names=charts.map_axes(method)))
    page.figure(compare.kl_bars(diag.kl_per_dim, diag.active, dim_names(model)), compare.KL_BARS_CAPTION)

    page.add("<h2>Reconstructions</h2>")
    idx = compare.showcase(data)
    kl = np.asarray(run.summary.get("kl_per_dim") or diag.kl_per_dim)
    dims = [int(d) for d in np.argsort(-kl, kind="stable")[:min(TRAVERSAL_DIMS, model.cfg.code_dim)]]
    z0 = np.zeros(model.cfg.code_dim, np.float32)
    label = 0 if model.classes else None  # a conditional run's traversals are drawn as its first class
    traversed = analysis.traverse(model, z0, dims, TRAVERSAL_VALUES, y=label)
    names_z = dim_names(model)
    as_class = "" if label is None else f", drawn as class {(run.data_info.get('label_names') or ['0'])[0]}"
    if data.kind == "image":
        rows = compare.recon_rows([run], data.x[idx], run.labels_for(idx))
        page.picture(images.grid(rows), "reconstructions", "Top: test images; bottom: their reconstructions.")
        page.add("<h2>Samples from the prior</h2>")
        if model.classes:
            page.picture(images.grid(analysis.class_grid(model, analysis.prior_codes(model, 4, seed=0))), "samples",
                         "Every class (columns) decoded from the same 4 codes drawn from the prior (rows).")
        else:
            page.picture(images.mosaic(analysis.sample_prior(model, SAMPLES, seed=0), cols=8), "samples",
                         f"{SAMPLES} images decoded from codes drawn from the prior.")
        page.add("<h2>Latent traversals</h2>")
        page.picture(images.grid(traversed), "traversals",
                     f"One row per latent dimension ({', '.join(names_z[d] for d in dims)}, most KL first), moved "
                     f"from {TRAVERSAL_VALUES[0]:g} to {TRAVERSAL_VALUES[-1]:g} with the others at 0{as_class}.")
    else:
        names = compare.channel_names(data)
        shown = idx[:SENSOR_WINDOWS]
        recon = analysis.reconstruct(model, data.x[shown], run.labels_for(shown))
        for i, r in zip(shown, recon, strict=True):
            page.figure(charts.window_overlay(data.x[i], r, names, f"{explore.item_name(data, int(i))}: original "
                                                                  "(solid) and reconstruction (dashed)"))
        page.add("<h2>Latent traversals</h2>")
        page.figure(explore.traversal_lines(traversed, TRAVERSAL_VALUES, [names_z[d] for d in dims], 0, names[0],
                                            f"Traversals of the {len(dims)} dimensions with the most KL ({names[0]})"))
        if data.label_kind == "anomaly" and data.y is not None:
            _anomaly_section(page, run)
    page.add('<p class="meta">Made with VAE Explorer.</p>')
    return _document(run, page).encode("utf-8")


def _anomaly_section(page: _Page, run: Run) -> None:
    data = run.data
    errors = compare.window_errors(run)
    ref = "val" if len(data.indices("val")) else "train"
    threshold = analysis.anomaly_threshold(errors[data.indices(ref)], 99.0)
    test = data.indices(compare.eval_part(data))
    metrics = analysis.anomaly_metrics(errors[test], data.y[test])
    page.add("<h2>Anomaly scores</h2>")
    if data.series is not None and data.window_starts is not None:
        centres = data.window_starts + data.input_shape[0] / 2
        page.figure(compare.error_timeline(centres, errors, threshold, data.input_shape[0], data.series, data.channels,
                                           data.series_anomaly, data.split_starts),
                    f"Reconstruction error per window; threshold: the 99th percentile of the {ref} windows.")
    if metrics["auc"] is not None:
        counts = compare.confusion(errors[test] > threshold, data.y[test])
        point = ((counts["fpr"], counts["recall"])
                 if counts["fpr"] is not None and counts["recall"] is not None else None)
        page.figure(compare.roc_figure(metrics["fpr"], metrics["tpr"], metrics["auc"], point))


def _document(run: Run, page: _Page) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_esc(run.label)}: VAE Explorer report</title><style>{STYLE}</style>"
            f"<script>{get_plotlyjs()}</script></head><body>" + "\n".join(page.parts) +
            f"<script>{DRAW}</script></body></html>\n")
