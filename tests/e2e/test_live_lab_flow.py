"""The live lab in a real browser: turn β while a run trains and see the change marked on the curve, pause, step
once with the ELBO written out, resume; then draw a digit with the mouse and see its posterior, and click the map
to decode a point."""
from __future__ import annotations

import re
import time

import pytest
from e2e_support import CURVE_POINTS, TIMINGS, shot, wait_idle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHANGE_MARK = """(text) => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .annotation-text')]
  .some(a => a.textContent.includes(text))"""


def test_turn_beta_pause_step_resume_then_draw_and_decode(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_idle(page)
    epochs = page.locator('input[type=range][aria-label="Epochs"]')
    epochs.focus()
    epochs.press("End")
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(f"() => ({CURVE_POINTS})() > 5", timeout=30_000)
    wait_idle(page)

    # the live β knob is the second β control on the page (the first sets up new runs)
    knob = page.get_by_role("slider", name=re.compile("β")).last
    knob.focus()
    t0 = time.perf_counter()
    knob.press("ArrowRight")  # β 1 -> 2
    page.wait_for_function(CHANGE_MARK, arg="β → 2", timeout=15_000)
    TIMINGS["knob_change_to_mark_on_curve_s"] = time.perf_counter() - t0
    expect(page.get_by_text(re.compile(r"β set to 2 from step \d+"))).to_be_visible()

    t0 = time.perf_counter()
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_text(re.compile(r"Paused after step \d+"))).to_be_visible()
    TIMINGS["pause_to_paused_shown_s"] = time.perf_counter() - t0
    expect(page.locator(".katex").first).to_be_visible()  # the chosen input's loss written out: it holds now
    wait_idle(page)
    held = int(re.search(r"Paused after step (\d+)\.", page.get_by_text(re.compile("Paused after step")).first
                         .inner_text()).group(1))
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_text("moved this input's loss by")).to_be_visible()
    expect(page.get_by_text(f"Paused after step {held + 1}")).to_be_visible()
    shot(page, "train-paused-step")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text(re.compile(r"Paused after step"))).to_have_count(0)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped: stopped by you"))).to_be_visible(timeout=60_000)

    page.goto(app_url + "/posterior")
    canvas = page.locator(".canvas-root canvas").last
    expect(canvas).to_be_visible()
    wait_idle(page)
    page.wait_for_timeout(1500)  # the map's first draw can still move the column under the mouse
    box = canvas.bounding_box()
    t0 = time.perf_counter()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2)
    page.mouse.down()  # a "7": the bar, then the stem
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.2, steps=8)
    page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.85, steps=12)
    page.mouse.up()
    expect(page.get_by_text(re.compile(r"KL\(q\(z\|x\) ‖ p\(z\)\) = [\d.]+ nats"))).to_be_visible()
    TIMINGS["drawn_input_to_posterior_s"] = time.perf_counter() - t0
    expect(page.locator(".legendtext", has_text="q(z|x): μ ± 2σ")).to_be_visible()
    wait_idle(page)
    plot = page.locator('[data-testid="stPlotlyChart"] .nsewdrag').first
    area = plot.bounding_box()
    page.mouse.click(area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.5)
    expect(page.get_by_text(re.compile(r"Decoded (z|the point of the plane at) \(-?[\d.]+, -?[\d.]+\)"))) \
        .to_be_visible()
    shot(page, "posterior-drawn")
