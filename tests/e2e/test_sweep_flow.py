"""A visitor runs a small sweep in a real browser and opens a trial by clicking its heat-map cell: anywhere in the
cell, not only near its centre (Streamlit reports no selection on a heat map itself, only on scatter points)."""
from __future__ import annotations

import re

import pytest
from e2e_support import shot, wait_idle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The page position of a heat-map cell's centre (by its latent size and β category) and the cell's size.
CELL = """(plot, [x, y]) => {
  const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis, box = plot.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(xa._categories.indexOf(x)),
          y: box.top + ya._offset + ya.l2p(ya._categories.indexOf(y)),
          w: xa._length / xa._categories.length, h: ya._length / ya._categories.length};
}"""


def test_a_click_near_a_cells_corner_opens_that_trial(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/sweep")
    wait_idle(page)
    page.get_by_role("button", name="Start sweep").click()  # β 0.5, 1, 4 × latent size 2, 16 on MNIST
    expect(page.get_by_text(re.compile("Sweep finished"))).to_be_visible(timeout=180_000)
    wait_idle(page)
    for (z, b), (dx, dy) in ((("16", "4"), (0.85, -0.8)), (("2", "0.5"), (-0.85, 0.8))):
        plot = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
        plot.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        cell = plot.evaluate(CELL, [z, b])
        assert cell["w"] > 100 and cell["h"] > 40, cell  # far wider than the 44-px marker at its centre
        # 85 % of the way to the cell's corner: outside the centre marker, inside the cell
        at = (cell["x"] + dx * cell["w"] / 2, cell["y"] + dy * cell["h"] / 2)
        page.mouse.move(*at)
        page.mouse.click(*at)
        expect(page.get_by_text(re.compile(rf"Opened run \d+: mnist, mlp, β={b}, z={z}, bce"))).to_be_visible()
        wait_idle(page)
    shot(page, "sweep-cell-opened")
