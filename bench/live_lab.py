"""The live lab's latencies in a real browser, each beside an ordinary control's round trip measured in the same
visit (moving the Epochs slider of the next run until the page is idle again): the part of a latency that is
Streamlit's round trip, not the lab's own work.

- knob: the live β knob moved (one key press) while the default MNIST run trains, until the dotted change mark
  with the new value is drawn on the loss chart (goal <= 1 s);
- pause: Pause clicked until the page says "Paused after step N" (goal <= 0.5 s);
- posterior: a digit drawn with the mouse on the Posterior page, from the mouse's release until the posterior's
  KL sentence is on screen (goal <= 1 s).
"""
from __future__ import annotations

import re
import sys
import time

from .common import ARTIFACTS, ROOT, Row, median, spread

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from e2e_support import CHROMIUM, CHROMIUM_ARGS, CURVE_POINTS, free_port, start_server, stop_server, wait_idle  # noqa: E402

MARK = """(text) => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .annotation-text')]
  .some(a => a.textContent.includes(text))"""


def round_trip(page) -> float:
    """An ordinary control (the next run's Epochs slider) moved until the page is idle again."""
    epochs = page.locator('input[type=range][aria-label="Epochs"]')
    epochs.focus()
    t = time.perf_counter()
    epochs.press("ArrowLeft")
    page.wait_for_timeout(50)
    wait_idle(page, 60_000)
    return time.perf_counter() - t


def one_visit(browser, url: str) -> dict[str, float]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        wait_idle(page, 120_000)
        epochs = page.locator('input[type=range][aria-label="Epochs"]')
        epochs.focus()
        epochs.press("End")
        wait_idle(page)
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_function(f"() => ({CURVE_POINTS})() > 5", timeout=60_000)
        wait_idle(page)
        out = {"round_trip": round_trip(page)}
        knob = page.get_by_role("slider", name=re.compile("β")).last
        knob.focus()
        t = time.perf_counter()
        knob.press("ArrowRight")
        page.wait_for_function(MARK, arg="β → 2", polling=20)
        out["knob"] = time.perf_counter() - t
        wait_idle(page)
        t = time.perf_counter()
        page.get_by_role("button", name="Pause").click()
        page.get_by_text(re.compile(r"Paused after step \d+\.")).first.wait_for()
        out["pause"] = time.perf_counter() - t
        wait_idle(page)  # mid-rerun the page can briefly hold the old Stop button beside the new one
        page.get_by_role("button", name="Stop", exact=True).click()
        page.get_by_text(re.compile(r"Stopped: stopped by you")).wait_for()
        page.goto(url + "/posterior")
        canvas = page.locator(".canvas-root canvas").last
        try:
            canvas.wait_for()
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "bench-lab-posterior-failed.png"), full_page=True)
            raise
        wait_idle(page)
        page.wait_for_timeout(1500)  # the map's first draw can still move the column under the mouse
        box = canvas.bounding_box()
        # from a third down: the canvas toolbar hovers over its top and swallows strokes that start there
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.3)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.85, steps=10)
        t = time.perf_counter()
        page.mouse.up()
        page.get_by_text(re.compile(r"KL\(q\(z\|x\) ‖ p\(z\)\) = [\d.]+ nats")).wait_for()
        out["posterior"] = time.perf_counter() - t
        return out
    finally:
        ctx.close()


def run(repeats: int = 3) -> list[Row]:
    from playwright.sync_api import sync_playwright

    (ROOT / "artifacts").mkdir(exist_ok=True)
    port = free_port()
    server = start_server(port, log_name="server-bench-lab.log")
    visits = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for _ in range(repeats):
                    visits.append(one_visit(browser, f"http://127.0.0.1:{port}"))
                    print("  live lab: " + ", ".join(f"{k} {v:.2f} s" for k, v in visits[-1].items()), flush=True)
            finally:
                browser.close()
    finally:
        stop_server(server)
    base = [v["round_trip"] for v in visits]

    def row(key: str, what: str, goal: float) -> Row:
        values = [v[key] for v in visits]
        return Row("latency", what, f"{median(values):.2f} s", f"a control's round trip {median(base):.2f} s",
                   median(values) / median(base), "x round trip", f"<= {goal:g} s", median(values) <= goal)

    return [row("knob", "live knob moved -> change marked on the curve", 1.0),
            row("pause", "Pause -> page says paused", 0.5),
            row("posterior", "digit drawn -> its posterior on screen", 1.0),
            Row("latency", "(spread of the live lab's figures)",
                "; ".join(f"{k} {spread([v[k] for v in visits])}" for k in ("knob", "pause", "posterior")))]
