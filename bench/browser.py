"""The dashboard in a real browser: its overhead on training, and the latencies a visitor feels.

One `vae-explorer ui` server (the browser tests' launcher) on a free loopback port, Debian's chromium
through Playwright, a fresh browser context (hence a fresh workspace) per visit.
- Overhead: the default run (bundled MNIST, 20 epochs, batch 128) trained from the Train page while
  the browser streams its curves, against the same job (dashboard.jobs.TrainJob, same data and
  settings) in this process with no page at all. Samples/s = 20 epochs x 4,000 training digits over
  the training seconds the run reports ("trained 20 epochs in X s"); the two alternate.
- Latency: page interactive (navigation until the Train button is enabled and the script is idle; the
  first visit after the server starts separately, as it pays for the imports); Train click until the
  loss curve holds a point in the page; Stop click until the page says the job stopped.
The overhead is measured twice: as a local `make run` has it (browser, server and job share both cores), and
with the browser pinned to core 1 and the server (and, for the headless baseline, this process) to core 0
(os.sched_setaffinity, as `taskset` does), so that the figure is the server's own cost, not the renderer's.
"""
from __future__ import annotations

import os
import re
import sys
import time
from contextlib import contextmanager

import psutil

from .common import ARTIFACTS, ROOT, Row, median, spread

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from e2e_support import CHROMIUM, CHROMIUM_ARGS, CURVE_POINTS, free_port, start_server, stop_server, wait_idle  # noqa: E402

EPOCHS = 20
N_TRAIN = 4_000  # bundled MNIST's training part


def open_train_page(browser, url: str) -> tuple[object, object, float]:
    """A fresh visitor on the Train page: (context, page, seconds until interactive)."""
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    t0 = time.perf_counter()
    page.goto(url)
    expect(page.get_by_role("button", name="Train", exact=True)).to_be_enabled(timeout=120_000)
    wait_idle(page, 120_000)
    return ctx, page, time.perf_counter() - t0


def headless_rate() -> float:
    """Samples/s of the default run as a TrainJob in this process, nobody watching."""
    from dashboard.jobs import TrainJob
    from vae_core.config import TrainConfig, default_model_config
    from vae_core.data import load_bundled
    from vae_core.tasks import Slots

    data = load_bundled("mnist")
    job = TrainJob.new(data, default_model_config("image", data.input_shape), TrainConfig(epochs=EPOCHS), Slots(2),
                       lambda job: None).start()
    assert job.done.wait(600), "headless job did not finish"
    assert job.status == "finished" and job.run.state.epoch == EPOCHS, job.snapshot().message
    return EPOCHS * N_TRAIN / job.run.state.seconds


def browser_rate(browser, url: str) -> float:
    """Samples/s of the default run started from the Train page while the page streams its curves."""
    ctx, page, _ = open_train_page(browser, url)
    try:
        page.get_by_role("button", name="Train", exact=True).click()
        done = page.get_by_text(re.compile(rf"Finished: trained {EPOCHS} epochs in [\d.]+ s"))
        done.wait_for(timeout=600_000)
        seconds = float(re.search(r"in ([\d.]+) s", done.inner_text()).group(1))
        return EPOCHS * N_TRAIN / seconds
    finally:
        ctx.close()


def latencies(browser, url: str) -> tuple[float, float, float]:
    """(page interactive, Train click -> first curve point, Stop click -> stopped) for a fresh visitor."""
    ctx, page, interactive = open_train_page(browser, url)
    try:
        epochs = page.locator('input[type=range][aria-label="Epochs"]')
        epochs.focus()
        epochs.press("End")  # 200 epochs: still running when Stop is clicked
        wait_idle(page)
        t = time.perf_counter()
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_function(f"({CURVE_POINTS})() > 0", polling=20, timeout=120_000)
        first_point = time.perf_counter() - t
        page.wait_for_timeout(1500)
        t = time.perf_counter()
        page.get_by_role("button", name="Stop", exact=True).click()
        page.get_by_text(re.compile(r"Stopped: stopped by you after")).wait_for(timeout=120_000)
        stopped = time.perf_counter() - t
        page.screenshot(path=str(ARTIFACTS / "train-stopped.png"))
        return interactive, first_point, stopped
    finally:
        ctx.close()


def pin(pid: int, cores: set[int]) -> None:
    """A process and its children so far onto `cores` (children forked later inherit it)."""
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:  # gone already (a browser's short-lived helper process)
        return
    for proc in procs:
        try:
            os.sched_setaffinity(proc.pid, cores)
        except (psutil.Error, OSError):
            pass


def browser_pids() -> list[int]:
    """Chromium's processes started by this process's Playwright driver."""
    return [p.pid for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]


@contextmanager
def pinned(server_pid: int):
    """Server (and this process) on core 0, the browser on core 1, for the duration; then all cores again."""
    every = os.sched_getaffinity(0)
    try:
        pin(server_pid, {0})
        for pid in browser_pids():
            pin(pid, {1})
        os.sched_setaffinity(0, {0})
        yield
    finally:
        os.sched_setaffinity(0, every)
        pin(server_pid, every)
        for pid in browser_pids():
            pin(pid, every)


def overhead_rates(browser, url: str, repeats: int) -> tuple[list[float], list[float]]:
    headless, watched = [], []
    for _ in range(repeats):
        headless.append(headless_rate())
        watched.append(browser_rate(browser, url))
        print(f"  dashboard: headless {headless[-1]:,.0f} samples/s, in the browser {watched[-1]:,.0f}", flush=True)
    return headless, watched


def run(repeats: int = 3) -> list[Row]:
    from playwright.sync_api import sync_playwright

    (ROOT / "artifacts").mkdir(exist_ok=True)
    port = free_port()
    t = time.perf_counter()
    server = start_server(port, log_name="server-bench.log")
    server_ready = time.perf_counter() - t
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                ctx, _, cold = open_train_page(browser, url)  # the first visit runs the imports
                ctx.close()
                warm, first, stop = [], [], []
                for _ in range(repeats):
                    a, b, c = latencies(browser, url)
                    warm.append(a), first.append(b), stop.append(c)
                    print(f"  dashboard: interactive {a:.2f} s, first curve point {b:.2f} s, stop {c:.2f} s",
                          flush=True)
                headless, watched = overhead_rates(browser, url, repeats)
                two_cores = len(os.sched_getaffinity(0)) >= 2
                if two_cores:
                    with pinned(server.pid):
                        print("  dashboard: pinned (server core 0, browser core 1)", flush=True)
                        headless_pinned, watched_pinned = overhead_rates(browser, url, repeats)
            finally:
                browser.close()
    finally:
        stop_server(server)
    overhead = median([1 - w / h for h, w in zip(headless, watched, strict=True)])
    rows = [Row("dashboard", "training while the browser streams curves (all share both cores)",
                f"{median(watched):,.0f} samples/s", f"headless {median(headless):,.0f} samples/s", overhead * 100,
                " % overhead")]
    if two_cores:
        pinned_cost = median([1 - w / h for h, w in zip(headless_pinned, watched_pinned, strict=True)])
        rows.append(Row("dashboard", "the same, browser pinned to its own core (the server's own cost)",
                        f"{median(watched_pinned):,.0f} samples/s",
                        f"headless {median(headless_pinned):,.0f} samples/s",
                        pinned_cost * 100, " % overhead", "<= 10 %", pinned_cost <= 0.10))
    return rows + [
        Row("latency", "server start until healthy", f"{server_ready:.2f} s"),
        Row("latency", "page interactive, first visit after server start", f"{cold:.2f} s", "", None, "",
            "<= 2 s", cold <= 2),
        Row("latency", "page interactive, later visits", f"{median(warm):.2f} s", f"spread {spread(warm)}", None, "",
            "<= 2 s", median(warm) <= 2),
        Row("latency", "Train click -> first curve point on screen", f"{median(first):.2f} s",
            f"spread {spread(first)}", None, "", "<= 1 s", median(first) <= 1),
        Row("latency", "Stop click -> page says stopped", f"{median(stop):.2f} s", f"spread {spread(stop)}", None, "",
            "<= 1 s", median(stop) <= 1.0),
    ]
