"""The one-file HTML report: downloaded from the Runs page for real runs, parsed, and checked for its figures,
settings, verdict and numbers; names a visitor chose (data, labels) must come out escaped, never as markup."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

import numpy as np
import pytest
from app_session import open_app, train_tiny, workspace
from streamlit.runtime.media_file_manager import MediaFileManager
from test_runs_page import by_prefix

from dashboard import report
from vae_core import analysis
from vae_core.data import load_bundled

EVIL = '<script>alert("x")</script>'
VOID = {"meta", "img", "br", "hr", "input", "link"}


@dataclass
class Parsed:
    """What a browser would build from the file: elements, unbalanced tags, scripts, images, visible text."""

    doctype: str = ""
    tags: list[tuple[str, dict]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    scripts: list[tuple[dict, str]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out, self.open = Parsed(), []

    def handle_decl(self, decl):
        self.out.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.out.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append((tag, dict(attrs), []))

    def handle_endtag(self, tag):
        if not self.open or self.open[-1][0] != tag:
            self.out.problems.append(f"</{tag}> closes {self.open[-1][0] if self.open else 'nothing'}")
            return
        name, attrs, body = self.open.pop()
        if name == "script":
            self.out.scripts.append((attrs, "".join(body)))

    def handle_data(self, data):
        if self.open:
            self.open[-1][2].append(data)
        if not any(t == "script" for t, _, _ in self.open):
            self.out.text.append(data)


def parse(blob: bytes) -> Parsed:
    reader = Reader()
    reader.feed(blob.decode("utf-8"))
    reader.close()
    if reader.open:
        reader.out.problems.append(f"never closed: {[t for t, _, _ in reader.open]}")
    return reader.out


def figures(doc: Parsed) -> list[dict]:
    specs = [json.loads(body) for attrs, body in doc.scripts if attrs.get("type") == "application/json"]
    divs = {a["id"] for t, a in doc.tags if t == "div" and a.get("class") == "figure"}
    named = {a["data-figure"] for a, _ in doc.scripts if "data-figure" in a}
    assert divs == named and len(specs) == len(divs), "every chart has its div and its data"
    return specs


def pngs(doc: Parsed) -> list[bytes]:
    out = []
    for tag, attrs in doc.tags:
        if tag == "img":
            head, data = attrs["src"].split(",", 1)
            assert head == "data:image/png;base64"
            out.append(base64.b64decode(data))
    return out


@pytest.fixture(scope="module")
def runs():
    """A session with two real one-epoch runs on data whose names are markup: digits and a sensor recording."""
    at = open_app()
    ws = workspace(at)
    digits = load_bundled("mnist")
    keep = np.arange(0, len(digits.x), 5)
    evil_digits = replace(digits, name=f"digits {EVIL}", x=digits.x[keep], split=digits.split[keep],
                          y=digits.y[keep], label_names=tuple(f"<b>{d}</b>" for d in range(10)))
    ws.set_data(evil_digits, "upload:evil.csv")
    train_tiny(at, epochs=1)
    ws.set_data(replace(load_bundled("bleeding"), name=f"signal {EVIL}"), "upload:evil2.csv")
    train_tiny(at, epochs=1)
    image_run, sensor_run = ws.runs[-2:]
    at.switch_page("app_pages/runs.py").run()
    assert not at.exception, at.exception
    return at, image_run, sensor_run


def downloaded(at, run) -> bytes:
    """Pick the run on the Runs page and click its report button: the bytes the browser would save."""
    made = {}
    add = MediaFileManager.add_deferred

    def remember(self, data_callable, *args, **kw):
        file_id = add(self, data_callable, *args, **kw)
        made[file_id] = data_callable
        return file_id
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(MediaFileManager, "add_deferred", remember)
        by_prefix(at.selectbox, "runs_pick").set_value(run.id).run()
    button = next(b for b in at.get("download_button") if b.proto.id.endswith("-runs_report"))
    assert button.proto.label == f"Report of run {run.number} (.html)"
    assert button.proto.deferred_file_id, "built when clicked, not on every rerun"
    return made[button.proto.deferred_file_id]()


@pytest.mark.slow
def test_the_image_report_is_valid_html_with_its_figures_settings_and_verdict(runs):
    at, run, _ = runs
    blob = downloaded(at, run)
    assert blob.startswith(b"<!DOCTYPE html>")
    doc = parse(blob)
    assert f"VAE Explorer report: {run.label}" in doc.text  # this run's report
    assert doc.doctype.lower() == "doctype html" and doc.problems == []
    specs = figures(doc)
    assert len(specs) >= 4 and all(s["data"] and "layout" in s for s in specs)
    steps = [e for e in run.events if e.kind == "step"]
    curve = next(t for s in specs for t in s["data"] if t.get("name") == "total")
    assert len(curve["y"]) == len(steps)  # the run's own curve, point for point
    for spec in specs:  # room for axis labels outside Streamlit (whose theme adds it there)
        assert spec["layout"]["margin"]["l"] >= report.MARGIN and spec["layout"]["yaxis"]["automargin"] is True
    assert f"{run.message.rstrip('.')}. Every chart" in " ".join(doc.text)
    images = pngs(doc)
    assert len(images) == 3 and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in images)  # recon, samples, traversals
    text = " ".join(doc.text)
    s = run.summary
    diag = report._diagnosis(run)
    verdict = next(a for t, a in doc.tags if t == "div" and "verdict" in a.get("class", ""))
    assert (verdict["class"] == f"verdict {diag.verdict}"
            and f"Diagnosis: {analysis.VERDICT_WORDS[diag.verdict]}." in text)
    assert f"{s['test_neg_elbo']:.4g}" in text and f"{s['active_units']} of {s['latent_dim']}" in text
    for name, value in (("beta", run.train_cfg.beta), ("latent_dim", run.model.cfg.latent_dim),
                        ("lr", run.train_cfg.lr), ("loss", run.model.cfg.loss)):
        assert name in text and report._fmt(value) in text


@pytest.mark.slow
def test_names_from_the_visitor_are_escaped_everywhere(runs):
    at, image_run, sensor_run = runs
    for run in (image_run, sensor_run):
        blob = report.build(run).decode()
        assert EVIL not in blob and "<b>" not in blob  # never markup, in the page or inside a chart's data
        doc = parse(blob.encode())
        assert doc.problems == []
        title = next(t for t in doc.text if "VAE Explorer report" in t and "run" in t)
        assert EVIL in title  # shown as text, as the visitor typed it
        assert [a.get("src") for a, _ in doc.scripts if a.get("src")] == []  # nothing fetched
        kinds = {a.get("type") for a, _ in doc.scripts}
        assert kinds <= {None, "application/json"}
        assert sum(1 for a, body in doc.scripts if a.get("type") is None and "alert" in body) == 0
    digits = figures(parse(report.build(image_run)))
    legend = {t.get("name") for s in digits for t in s["data"]}
    assert "<b>3</b>" in legend  # the label survives as text in the chart's data


@pytest.mark.slow
def test_the_sensor_report_draws_windows_traversals_and_the_roc_curve(runs):
    _, _, run = runs
    doc = parse(report.build(run))
    assert doc.problems == []
    specs = figures(doc)
    titles = " ".join(str(s["layout"].get("title", {}).get("text", "")) for s in specs)
    assert "original (solid) and reconstruction (dashed)" in titles and "Traversals of the" in titles
    roc = next(t for s in specs for t in s["data"] if str(t.get("name", "")).startswith("model (AUC"))
    assert f"{run.summary['anomaly_auc']:.3f}" in roc["name"]
    assert not pngs(doc)  # sensor data has no image grids
    assert "Anomaly scores" in " ".join(doc.text)


def test_the_file_name_is_safe():
    class Fake:
        short_name = "run 3"
        data_name = f"../{EVIL}"
        data = type("D", (), {"name": f"../{EVIL}"})()
    name = report.file_name(Fake())
    assert name.startswith("vae-report-run-3-") and name.endswith(".html")
    assert all(ch.isalnum() or ch in "-_." for ch in name) and ".." not in name
