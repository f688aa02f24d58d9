"""A teacher's path in a real browser: open a shared link and find its settings on the Train page, then run
lesson 3 on the Learn page and see the posterior-collapse red flag, then its fix with the recovered active units.
The server caps lesson runs at 2 epochs ($VAE_EXPLORER_LESSON_EPOCHS) to keep this short."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from e2e_support import SHOTS, TIMINGS, free_port, shot, start_server, stop_server, wait_idle
from playwright.sync_api import Page, expect

from dashboard.lessons.common import EPOCH_LIMIT_ENV

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHARED = {"data": "mnist", "beta": "4", "latent_dim": "2", "epochs": "7", "warmup": "linear", "warmup_epochs": "3",
          "free_bits": "0.5"}
SLIDERS = {"beta": "β (weight of the KL term)", "latent_dim": "Latent size (dimensions of z)", "epochs": "Epochs",
           "free_bits": "Free bits (nats per dimension)", "warmup_epochs": "Warm-up epochs"}


@pytest.fixture(scope="module")
def app_url():
    """This file's own server (it replaces the shared one): lesson runs capped at 2 epochs."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_server(port, env={EPOCH_LIMIT_ENV: "2"}, log_name="server-e2e-lesson.log")
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


def slider_value(page: Page, label: str) -> str:
    slider = page.locator(f'input[type=range][aria-label="{label}"]')
    return slider.get_attribute("aria-valuetext") or slider.get_attribute("aria-valuenow")

ROOT_FONT = "() => getComputedStyle(document.documentElement).fontSize"


def query_of(url: str) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def test_a_shared_link_then_lesson_three_collapse_and_fix(page: Page, app_url: str) -> None:
    query = "&".join(f"{k}={v}" for k, v in SHARED.items())
    page.goto(f"{app_url}/?{query}")  # the app's root opens the Train page at /train, the link carried along
    wait_idle(page)
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    expect(page.get_by_text("Opened a shared link").first).to_be_visible()
    shown = {name: slider_value(page, label) for name, label in SLIDERS.items()}
    assert shown == {"beta": "4", "latent_dim": "2", "epochs": "7", "free_bits": "0.50", "warmup_epochs": "3"}
    expect(page.get_by_role("combobox", name="KL warm-up")).to_have_value("linear")
    assert urlsplit(page.url).path == "/train" and query_of(page.url) == SHARED  # the same link, on /train
    page.get_by_role("button", name="Copy link for this exercise").click()
    offered = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode").inner_text().strip()
    assert offered.startswith(app_url + "/train?") and query_of(offered) == SHARED  # the link to hand out
    shot(page, "lesson-shared-link")

    page.keyboard.press("Escape")
    # lesson 3, from the sidebar in the same session
    page.get_by_role("link", name="Learn").click()
    wait_idle(page)
    shot(page, "lesson-learn-page")
    page.get_by_text("3 · Posterior collapse", exact=True).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Lesson 3: Posterior collapse")).to_be_visible()
    assert "lesson=3" in page.url
    t0 = time.perf_counter()
    page.get_by_role("button", name="Run lesson 3").click()
    expect(page.get_by_text(re.compile(r"Run \d of 3: \*?\*?β = 32")).first).to_be_visible(timeout=30_000)
    shot(page, "lesson-3-training")
    flag = page.get_by_text("Red flag: the code collapsed.")
    expect(flag).to_be_visible(timeout=240_000)  # about 45 s on an idle 2-core machine
    TIMINGS["lesson_3_run_s"] = time.perf_counter() - t0
    wait_idle(page)
    said = flag.locator("xpath=ancestor::*[@data-testid='stAlert'][1]").inner_text()
    assert re.search(r"the KL was \d+\.\d\d nats after epoch 1 and \d+\.\d\d after epoch 2", said), said
    collapsed = int(re.search(r"and (\d+) are active units", said).group(1))
    page.get_by_role("heading", name="What you got").scroll_into_view_if_needed()
    shot(page, "lesson-3-figures")
    flag.scroll_into_view_if_needed()
    shot(page, "lesson-3-red-flag")
    fix = page.get_by_text("The fix: free bits")
    expect(fix).to_be_visible()
    said = fix.locator("xpath=ancestor::*[@data-testid='stAlert'][1]").inner_text()
    recovered, before = map(int, re.search(r"(\d+) of 16 active units \(against (\d+) without\)", said).groups())
    assert before == collapsed and recovered > collapsed, said
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)

    # the free-bits run's report, saved and opened offline in the browser
    with page.expect_download() as saving:
        page.get_by_role("button", name="Report: run 3 (HTML)").click()
    saved = SHOTS.parent / "lesson-3-report.html"
    saving.value.save_as(saved)
    viewer = page.context.new_page()
    viewer.route("http*://**", lambda route: route.abort())  # offline: nothing may be fetched
    viewer.goto(saved.as_uri())
    figures = viewer.locator("div.figure")
    expect(viewer.locator("div.figure.js-plotly-plot")).to_have_count(figures.count(), timeout=30_000)
    assert figures.count() >= 4 and viewer.locator("img").count() == 3
    expect(viewer.get_by_text("Diagnosis:")).to_be_visible()
    shot(viewer, "lesson-3-report")
    viewer.close()

    # presenter mode for the projector: larger type at once, the lesson still there
    assert page.evaluate(ROOT_FONT) == "16px"
    page.get_by_text("Presenter mode", exact=True).click()
    wait_idle(page)
    page.wait_for_function(f"({ROOT_FONT})() === '20px'")
    expect(page.get_by_test_id("stToolbar")).to_be_hidden()
    wait_idle(page)  # the toggle reruns the page: the flag is drawn anew
    expect(flag).to_be_visible()
    flag.scroll_into_view_if_needed()
    shot(page, "lesson-3-presenter")
