"""A visitor in a real browser switches on Conditional on the Train page, trains a conditional VAE on the digits, then
asks the Reconstructions & samples page for a chosen digit and for every digit drawn from the same codes."""
from __future__ import annotations

import re

import pytest
from e2e_support import shot, wait_idle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The src of the first picture under the tab panel that is showing (a new picture gets a new address).
SHOWN_PICTURE = """() => {
  const panel = [...document.querySelectorAll('[role="tabpanel"]')].find(p => !p.hidden && p.offsetParent !== null);
  const img = panel && panel.querySelector('[data-testid="stImage"] img');
  return img ? img.src : null;
}"""


def test_train_a_conditional_vae_and_draw_a_chosen_digit(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/?data=mnist&epochs=3")
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled()
    wait_idle(page)
    switch = page.get_by_role("switch", name="Conditional on the label")
    expect(switch).not_to_be_checked()
    page.get_by_text("Conditional on the label", exact=True).click()
    expect(switch).to_be_checked()
    wait_idle(page)
    assert "conditional=true" in page.url  # the link for this exercise carries it
    train.click()
    expect(page.get_by_text(re.compile(r"Finished: trained 3 epochs"))).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"run 1: mnist, mlp, β=1, z=16, bce, conditional VAE")).first).to_be_visible()
    wait_idle(page)
    shot(page, "family-train-conditional")

    page.get_by_role("link", name="Reconstructions & samples").first.click()
    expect(page.get_by_role("heading", name="Reconstructions & samples")).to_be_visible()
    wait_idle(page)
    page.get_by_role("tab", name="Samples of a chosen class").click()
    expect(page.get_by_text("32 samples of class 0, seed 0")).to_be_visible()
    before = page.evaluate(SHOWN_PICTURE)
    page.get_by_role("combobox", name=re.compile("Class to draw")).first.click()
    page.get_by_role("option", name="7", exact=True).click()
    expect(page.get_by_text("32 samples of class 7, seed 0")).to_be_visible()
    wait_idle(page)
    after = page.evaluate(SHOWN_PICTURE)
    assert before and after and before != after  # another class, another picture
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shot(page, "family-samples-class-7")

    page.get_by_role("tab", name="Every class × the same z").click()
    expect(page.get_by_text(re.compile(r"Columns: class 0, 1, 2, 3, 4, 5, 6, 7, 8, 9\. Rows: 6 codes"))).to_be_visible()
    box = page.locator('[role="tabpanel"]:not([hidden]) [data-testid="stImage"] img').first.bounding_box()
    assert box is not None and box["width"] > 300, box  # ten digits across
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shot(page, "family-every-class")
