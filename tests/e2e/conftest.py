"""Browser tests: the real dashboard on a free loopback port, Debian's chromium through Playwright.
In CI a missing browser fails the run; it never skips."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from e2e_support import CHROMIUM, CHROMIUM_ARGS, ROOT, SHOTS, TIMINGS, free_port, start_server, stop_server


@pytest.fixture(scope="session")
def app_url():
    (ROOT / "artifacts").mkdir(exist_ok=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    t0 = time.perf_counter()
    proc = start_server(port)
    TIMINGS["server_ready_s"] = time.perf_counter() - t0
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # expect() waits 5 s by default (page.set_default_timeout does not reach it): too short for the first
    # visit on a busy 2-core CI machine, where the page's first run pays for the imports
    expect.set_options(timeout=30_000)

    if not Path(CHROMIUM).exists():
        message = f"no chromium at {CHROMIUM}: `make test` installs Debian's chromium (apt-get install chromium)"
        (pytest.fail if os.environ.get("CI") else pytest.skip)(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """One visitor: a fresh browser context (its own cookies, hence its own workspace)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def pytest_sessionfinish(session, exitstatus):
    if TIMINGS:
        print("\nE2E TIMINGS", {k: round(v, 2) for k, v in TIMINGS.items()})
