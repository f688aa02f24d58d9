"""A visitor in a real browser trains a short run, checks the Train page's sanity checklist, then opens the new
views: 'Prior vs codes' (the 2-D map with its holes, prior beside mixture samples, the classes the samples show)
and the Latent space page's export for the Embedding Projector, whose zip holds the projector's four files."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from e2e_support import SHOTS, shot, wait_idle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Titles of the plotly charts drawn in the page.
CHART_TITLES = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
  .map(p => p.layout && p.layout.title ? p.layout.title.text : '')"""


def test_prior_views_on_a_trained_run(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/?data=mnist&epochs=7&latent_dim=2")
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Sanity checks: all \d+ pass"))).to_be_visible()
    train.click()
    expect(page.get_by_text(re.compile(r"Finished: trained 7 epochs"))).to_be_visible(timeout=120_000)
    wait_idle(page)

    page.get_by_role("link", name="Reconstructions & samples").first.click()
    expect(page.get_by_role("heading", name="Reconstructions & samples")).to_be_visible()
    wait_idle(page, timeout=120_000)
    page.get_by_role("tab", name="Prior vs codes").click()
    expect(page.get_by_role("heading", name="Where the codes lie")).to_be_visible(timeout=60_000)
    wait_idle(page, timeout=60_000)
    expect(page.get_by_text(re.compile(r"In this 2-D view \(z itself\), \d+(\.\d)?% of the prior's mass lies in "
                                       r"holes"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"The mixture has \d+ Gaussian components"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"A classifier fitted on the training part \(right on \d+%"))).to_be_visible()
    titles = page.evaluate(CHART_TITLES)
    assert any("Where the codes of the training part lie" in t for t in titles), titles
    assert any("1,000 samples from the prior" in t for t in titles), titles
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    page.get_by_role("heading", name="Where the codes lie").scroll_into_view_if_needed()
    shot(page, "prior-vs-codes")
    page.set_viewport_size({"width": 1024, "height": 1400})  # a laptop's width
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / "prior-vs-codes-1024.png"))

    page.get_by_role("link", name="Latent space").first.click()
    expect(page.get_by_role("heading", name="Latent space")).to_be_visible()
    wait_idle(page, timeout=60_000)
    export = page.get_by_role("button", name=re.compile(r"Export [\d,]+ codes for the Embedding Projector"))
    expect(export).to_be_visible()
    with page.expect_download() as info:
        export.click()
    blob = open(info.value.path(), "rb").read()
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert sorted(zf.namelist()) == ["metadata.tsv", "projector_config.pbtxt", "sprite.png", "tensors.tsv"]
        rows = zf.read("tensors.tsv").decode().strip().split("\n")
        meta = zf.read("metadata.tsv").decode().strip().split("\n")
    assert len(meta) == len(rows) + 1 and len(rows[0].split("\t")) == 2
    shot(page, "latent-projector")
