"""A visitor in a real browser trains a short run, then explores it: the t-SNE map with one colour per digit,
reconstructions beside the originals, and every page of the app (a screenshot of each)."""
from __future__ import annotations

import re
import time

import pytest
from e2e_support import TIMINGS, shot, wait_idle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The latent map's traces (one per label) once its title says t-SNE, else null.
TSNE_TRACES = """() => {
  for (const plot of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    const title = plot.layout && plot.layout.title && plot.layout.title.text;
    if (title && title.includes('t-SNE map')) return plot._fullData.map(t => [t.name, t._length]);
  }
  return null;
}"""
PAGES = {"learn": "Learn", "data": "Data", "": "Train", "latent": "Latent space",
         "generate": "Reconstructions & samples", "diagnostics": "Diagnostics", "anomalies": "Anomalies",
         "runs": "Runs", "sweep": "Sweep"}


def train_short_run(page: Page, app_url: str) -> None:
    """The default MNIST run, 3 epochs (set by a shared link), trained from the Train page."""
    page.goto(f"{app_url}/?data=mnist&epochs=3")
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    wait_idle(page)
    expect(page.locator('input[type=range][aria-label="Epochs"]')).to_have_value("3")
    train.click()
    expect(page.get_by_text(re.compile(r"Finished: trained 3 epochs"))).to_be_visible(timeout=120_000)
    wait_idle(page)


def test_train_then_see_the_tsne_map_and_reconstructions(page: Page, app_url: str) -> None:
    train_short_run(page, app_url)

    page.get_by_role("link", name="Latent space").first.click()
    expect(page.get_by_role("heading", name="Latent space")).to_be_visible()
    wait_idle(page)
    page.get_by_role("combobox", name=re.compile("Inputs")).click()  # all parts: 2,000 of the 5,000 digits
    page.get_by_role("option", name=re.compile("all parts")).click()
    wait_idle(page)
    t0 = time.perf_counter()
    page.get_by_test_id("stRadioGroup").get_by_text("t-SNE", exact=True).click()
    page.wait_for_function(f"({TSNE_TRACES})() !== null", timeout=120_000)
    TIMINGS["tsne_2000_points_s"] = time.perf_counter() - t0
    traces = dict(page.evaluate(TSNE_TRACES))
    assert sorted(traces) == [str(d) for d in range(10)], traces  # one colour (trace) per digit
    assert sum(traces.values()) == 2000, traces  # the Points slider's default
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shot(page, "latent-tsne")

    page.get_by_role("link", name="Reconstructions & samples").first.click()
    expect(page.get_by_role("heading", name="Reconstructions & samples")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Each pair: the original on the left, its reconstruction on the right.")).to_be_visible()
    images = page.locator('[data-testid="stImage"] img')
    expect(images.first).to_be_visible()
    assert images.count() >= 2
    box = images.first.bounding_box()
    assert box is not None and box["width"] > 100, box  # a real grid of digits, not an icon
    shot(page, "generate")


def test_every_page_opens_without_an_error(page: Page, app_url: str) -> None:
    train_short_run(page, app_url)
    shot(page, "train")
    for path, title in PAGES.items():
        page.goto(f"{app_url}/{path}")
        expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible()
        wait_idle(page)
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        expect(page.get_by_text("Something went wrong")).to_have_count(0)
        shot(page, f"page-{path or 'train'}")
