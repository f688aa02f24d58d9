"""A visitor in a real browser: open the app, train, watch the curve grow, stop; upload real and broken files."""
from __future__ import annotations

import gzip
import re
import time

import pytest
from e2e_support import CURVE_POINTS, TIMINGS, shot, wait_idle
from filemakers import bundled_digits, idx_images, idx_labels
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def grown_past(page: Page, points: int) -> int:
    """Wait until the loss chart holds more than `points` points; how many it holds then.

    Read in one go in the page: the chart is redrawn twice a second, so a separate read could land
    between two draws and see none."""
    handle = page.wait_for_function(f"() => {{ const n = ({CURVE_POINTS})(); return n > {points} ? n : null; }}",
                                    timeout=30_000)
    return int(handle.json_value())


def test_train_watch_the_curve_grow_and_stop(page: Page, app_url: str) -> None:
    t0 = time.perf_counter()
    page.goto(app_url)
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    wait_idle(page)
    TIMINGS["page_interactive_s"] = time.perf_counter() - t0
    expect(page.get_by_role("heading", name="Train")).to_be_visible()
    expect(page.get_by_text("5,000 images of 28×28").first).to_be_visible()
    epochs = page.locator('input[type=range][aria-label="Epochs"]')
    epochs.focus()
    epochs.press("End")  # 200 epochs: long enough to watch and stop
    wait_idle(page)

    t_click = time.perf_counter()
    train.click()
    first = grown_past(page, 0)
    TIMINGS["train_click_to_first_curve_point_s"] = time.perf_counter() - t_click
    later = grown_past(page, first)  # the curve grows while training
    assert later > first > 0, (first, later)
    expect(page.get_by_text(re.compile(r"Epoch \d+/200 · step \d+/\d+"))).to_be_visible()
    shot(page, "train-running")

    t_stop = time.perf_counter()
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text(re.compile(r"Stopped: stopped by you after \d+ full epochs?"))).to_be_visible(
        timeout=60_000)
    TIMINGS["stop_click_to_stopped_s"] = time.perf_counter() - t_stop
    expect(train).to_be_enabled()
    expect(page.get_by_text(re.compile(r"run 1: mnist, mlp, β=1, z=16, bce")).first).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shot(page, "train-stopped")


def test_upload_a_real_idx_pair_then_a_broken_csv(page: Page, app_url: str, tmp_path) -> None:
    images, labels = bundled_digits(200)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_images(images)))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_labels(labels)))
    page.goto(app_url + "/data")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.set_input_files([str(tmp_path / "t10k-images-idx3-ubyte.gz"), str(tmp_path / "t10k-labels-idx1-ubyte.gz")])
    # choosing the files loads them: no second click
    expect(page.get_by_text(re.compile(r"Loaded t10k-images-idx3-ubyte\.gz.*: 200 samples"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"In use: t10k-images"))).to_be_visible()
    shot(page, "data-idx-upload")

    expect(page.locator('[data-testid="stFileChip"]')).to_have_count(0)  # the uploader is empty again
    broken = tmp_path / "broken.csv"
    broken.write_text("time,a,b\n1,2\n3,4,5,6\n")
    uploader.set_input_files(str(broken))
    expect(page.get_by_text(re.compile(r"Could not load broken\.csv"))).to_be_visible()
    # the data loaded before is still in use
    expect(page.get_by_role("heading", name=re.compile(r"In use: t10k-images"))).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shot(page, "data-broken-csv")
