"""An engineer in a real browser: upload a labelled sensor CSV (it loads at once, the label kept out of the channels),
train briefly, open Anomalies, wait for every step to be scored in the background, move the threshold and see the
events table and the metrics change without retraining."""
from __future__ import annotations

import json
import re

import pytest
from e2e_support import shot, wait_idle
from playwright.sync_api import Page, expect
from sensor_filemakers import injected_recording

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# the events grid's rows as the grid tells assistive technology (the grid itself is drawn on a canvas): its header
# starts "#, start, end"; each row's cells joined by "|"
EVENT_ROWS = """() => {
  for (const grid of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    const head = [...grid.querySelectorAll('[role="columnheader"], th')].map(h => h.textContent.trim());
    if (head.slice(0, 3).join('|') !== '#|start|end') continue;
    return [...grid.querySelectorAll('[role="row"], tr')].slice(1)
      .map(r => [...r.querySelectorAll('[role="gridcell"], td')].map(c => c.textContent.trim()).join('|'))
      .filter(text => text);
  }
  return null;
}"""


def metric(page: Page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_upload_train_score_and_move_the_threshold(page: Page, app_url: str, tmp_path) -> None:
    csv = tmp_path / "injected.csv"
    csv.write_bytes(injected_recording())
    page.goto(app_url + "/data")
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    expect(page.get_by_text(re.compile(r"Loaded injected\.csv"))).to_be_visible()
    expect(page.get_by_text("Columns, windows and split of injected.csv")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Channels:\s*a, b, c"))).to_be_visible()  # 'anomaly' is no channel
    shot(page, "anomaly-flow-data")

    page.goto(app_url + "/train?epochs=3")
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    expect(page.get_by_text(re.compile(r"(Finished|Stopped early): trained"))).to_be_visible(timeout=180_000)

    page.goto(app_url + "/anomalies")
    expect(page.get_by_role("heading", name="Events")).to_be_visible(timeout=240_000)  # scored in the background
    wait_idle(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^Test part: 800 steps never trained on"))).to_be_visible()
    before = metric(page, "Events (whole recording)")
    ready = f"() => {{ const rows = ({EVENT_ROWS})(); return rows && rows.length ? rows : null; }}"
    rows_before = page.wait_for_function(ready).json_value()  # the grid draws itself after the script run
    assert rows_before and rows_before[0].startswith("1|"), rows_before
    shot(page, "anomaly-flow-scored")

    slider = page.get_by_role("slider", name="Percentile of the validation step scores")
    slider.focus()
    slider.press("Home")  # the 80th percentile: a much lower threshold
    wait_idle(page)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Events (whole recording)")
           .locator('[data-testid="stMetricValue"]')).not_to_have_text(before)
    after = metric(page, "Events (whole recording)")
    assert int(after) > int(before), (before, after)
    before_json = json.dumps(json.dumps(rows_before, separators=(",", ":"), ensure_ascii=False))  # as JS writes it
    changed = f"""() => {{ const rows = ({EVENT_ROWS})();
        return rows && rows.length && JSON.stringify(rows) !== {before_json} ? rows : null; }}"""
    rows_after = page.wait_for_function(changed, timeout=30_000).json_value()  # the grid redraws after the metrics
    assert rows_after != rows_before and rows_after[0].startswith("1|"), (rows_before, rows_after)
    expect(page.get_by_text(re.compile(r"^At this threshold the VAE raises \d+ alarm episodes"))).to_have_count(2)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shot(page, "anomaly-flow-threshold-moved")
