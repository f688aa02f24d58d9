"""Load: eight visitors press Train at once on one server (loopback), a ninth opens the app meanwhile.

Every visitor's run finishes (or waits in the queue with a message first), nobody sees another's run, the
ninth visitor's page becomes interactive, and the server's peak memory (RSS, psutil) is recorded. Each
visitor trains a few epochs with their own latent size (z = 2..9), so their runs tell apart; the server has
one training slot, so seven of them wait in the queue and must say so. The figures are
printed as LOAD FIGURES and written to artifacts/load-figures.json; timings are recorded, not asserted tightly.
"""
from __future__ import annotations

import json
import re
import time

import psutil
import pytest
from e2e_support import ROOT, PeakRss, free_port, start_server, stop_server, wait_idle
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

VISITORS = 8
EPOCHS = 8  # long enough that the last runs still wait when their page, slowed by seven others, shows its state
STATES = re.compile(rf"in the queue|Epoch \d+/{EPOCHS}|Starting|Finished|evaluating")


CRASHES: list[str] = []


def open_visitor(browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.on("crash", lambda p: CRASHES.append(p.url))
    page.set_default_timeout(90_000)
    page.goto(url)
    return page


def test_eight_visitors_train_at_once_and_a_ninth_gets_in(browser, tmp_path) -> None:
    (ROOT / "artifacts").mkdir(exist_ok=True)
    t_start = time.perf_counter()
    port = free_port()
    # one training slot: the queue is then certain (with two, eight short runs could drain it before a page is read)
    server = start_server(port, env={"VAE_EXPLORER_MAX_JOBS": "1", "VAE_EXPLORER_RUNS_DIR": str(tmp_path)},
                          log_name="server-load.log")
    url = f"http://127.0.0.1:{port}"
    figures: dict[str, float] = {"visitors": VISITORS}
    try:
        with PeakRss(server.pid, every=0.2) as rss:
            idle_rss = psutil.Process(server.pid).memory_info().rss
            # a shared link sets the epochs and this visitor's mark, z = i + 2; a run takes a few seconds, so the
            # last of the eight are still waiting for a slot when their page is read (1 epoch ended too soon)
            pages = [open_visitor(browser, f"{url}/?epochs={EPOCHS}&latent_dim={i + 2}") for i in range(VISITORS)]
            for i, page in enumerate(pages):
                expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled()
                wait_idle(page)
                expect(page.locator('input[type=range][aria-label="Epochs"]')).to_have_value(str(EPOCHS))
                expect(page.locator('input[type=range][aria-label="Latent size (dimensions of z)"]')).to_have_value(
                    str(i + 2))
            figures["rss_before_training_mb"] = psutil.Process(server.pid).memory_info().rss / 2**20

            t_click = time.perf_counter()
            for page in pages:
                page.get_by_role("button", name="Train", exact=True).click()
            figures["eight_clicks_s"] = time.perf_counter() - t_click
            # each says where it stands (in the queue, training, or done): read all pages in turn, without waiting
            # on any one of them, so a queue is seen before the runs ahead of it drain it
            told_queue, seen = set(), set()
            deadline = time.perf_counter() + 120
            while len(seen) < VISITORS and time.perf_counter() < deadline:
                for i, page in enumerate(pages):
                    if page.get_by_text("in the queue").count():
                        told_queue.add(i)
                    if page.get_by_text(STATES).count():
                        seen.add(i)
                time.sleep(0.2)
            for i in set(range(VISITORS)) - seen:
                pages[i].screenshot(path=str(ROOT / "artifacts" / f"load-visitor-{i}.png"), full_page=True)
            assert seen == set(range(VISITORS)), \
                f"visitors {sorted(set(range(VISITORS)) - seen)} never said where they stand"
            queued = len(told_queue)
            figures["visitors_told_they_queue"] = queued

            t_ninth = time.perf_counter()  # a ninth visitor arrives while the eight train
            ninth = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            ninth.set_default_timeout(150_000)
            ninth.goto(url, wait_until="commit")
            figures["ninth_visitor_first_byte_s"] = time.perf_counter() - t_ninth
            expect(ninth.get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=60_000)
            wait_idle(ninth, timeout=60_000)
            figures["ninth_visitor_interactive_s"] = time.perf_counter() - t_ninth
            ninth.get_by_role("link", name="Data").first.click()  # and can move around
            expect(ninth.get_by_role("heading", name="Data", exact=True)).to_be_visible()
            figures["ninth_visitor_data_page_s"] = time.perf_counter() - t_ninth

            figures["pages_reloaded"] = 0
            for i, page in enumerate(pages):  # the finished run is handed over: the sidebar offers it
                mine = page.get_by_text(f"run 1: mnist, mlp, β=1, z={i + 2}, bce").first
                finished = page.get_by_text(re.compile(rf"Finished: trained {EPOCHS} epochs")).first
                try:
                    expect(finished).to_be_visible(timeout=120_000)
                    expect(mine).to_be_visible(timeout=120_000)
                except AssertionError:
                    # On this shared 2-core machine a browser tab sometimes goes blank (a renderer lost, not the
                    # server: its log stays clean). The visitor reloads; their workspace (keyed by their cookie)
                    # must still hold their run.
                    page.screenshot(path=str(ROOT / "artifacts" / f"load-visitor-{i}.png"), full_page=True)
                    figures["pages_reloaded"] += 1
                    page.reload()
                    wait_idle(page)
                    expect(mine).to_be_visible(timeout=60_000)
                    expect(finished).to_be_visible(timeout=60_000)
            figures["all_eight_finished_s"] = time.perf_counter() - t_click

            for i, page in enumerate(pages):  # each run list holds exactly this visitor's one run
                page.goto(url + "/runs")
                wait_idle(page)
                expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
                try:
                    expect(page.get_by_text(f"z={i + 2}, bce").first).to_be_visible()
                except AssertionError:
                    page.screenshot(path=str(ROOT / "artifacts" / f"load-runs-{i}.png"), full_page=True)
                    raise
                html = page.content()
                assert set(re.findall(r"z=(\d+), bce", html)) == {str(i + 2)}, f"visitor {i} sees other runs"
                assert set(re.findall(r"run (\d+): mnist", html)) == {"1"}
                expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            ninth.goto(url + "/runs")
            wait_idle(ninth)
            expect(ninth.get_by_text("No runs yet")).to_be_visible()
        run_folders = [p for p in tmp_path.rglob("config.json")]
        figures["runs_on_disk"] = len(run_folders)
        figures["disk_per_run_mb"] = sum(f.stat().st_size for p in run_folders for f in p.parent.iterdir()) / \
            max(len(run_folders), 1) / 2**20
        figures["server_idle_rss_mb"] = idle_rss / 2**20
        figures["server_peak_rss_mb"] = rss.peak / 2**20
        figures["total_s"] = time.perf_counter() - t_start
        figures["browser_tabs_crashed"] = len(CRASHES)
    finally:
        for context in browser.contexts:
            context.close()
        stop_server(server)
    figures = {k: round(v, 1) for k, v in figures.items()}
    print(f"\nLOAD FIGURES {figures}")
    (ROOT / "artifacts" / "load-figures.json").write_text(json.dumps(figures, indent=1))
    assert figures["total_s"] < 270 and figures["ninth_visitor_interactive_s"] < 60
    assert figures["pages_reloaded"] <= 2  # a lost tab now and then; more would be the app's fault
    assert queued >= 1  # 8 jobs, 1 slot: the others wait, and are told so
    assert figures["runs_on_disk"] == VISITORS  # every run in the store, each in its own workspace
