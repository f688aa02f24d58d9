"""Full MNIST in the browser: the upload's load time, a 20-epoch run's time and the server's peak RSS.

The way a visitor would do it: a fresh `vae-explorer ui` server, the Data page, a 60,000-image MNIST IDX
pair (the bundled 5,000 real digits tiled 12 times, gzipped) chosen in the file uploader (that one action
loads it: timed until the page says so), then a 20-epoch run of the default MLP model trained from the Train
page until the page says it finished. Baselines measured in the same run: the same 20 epochs on the same
files with `vae-explorer train` in a terminal (no browser, no server), and for memory the server idle after
its first visit (bundled MNIST loaded, the modules imported). psutil samples the server's RSS every 20 ms.
"""
from __future__ import annotations

import gzip
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from e2e_support import PeakRss  # noqa: E402 - on the path bench.browser sets, like the names above

from .browser import CHROMIUM, CHROMIUM_ARGS, free_port, open_train_page, start_server, stop_server, wait_idle
from .common import ROOT, Row, mnist_uint8

N = 60_000
EPOCHS = 20
GOAL_GB = 1.5
LOAD_GOAL_S = 2.0


def idx_pair(folder: Path) -> list[str]:
    import struct

    images, labels = mnist_uint8(N)
    img = folder / "train-images-idx3-ubyte.gz"
    lab = folder / "train-labels-idx1-ubyte.gz"
    img.write_bytes(gzip.compress(struct.pack(">IIII", 0x803, *images.shape) + images.tobytes(), 6))
    lab.write_bytes(gzip.compress(struct.pack(">II", 0x801, len(labels)) + labels.astype("u1").tobytes(), 6))
    return [str(img), str(lab)]


def vm_hwm(pid: int) -> int | None:
    """The kernel's own peak RSS of the process (Linux), in bytes."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run(repeats: int = 1) -> list[Row]:
    from playwright.sync_api import expect, sync_playwright

    (ROOT / "artifacts").mkdir(exist_ok=True)
    tmp = tempfile.TemporaryDirectory()
    files = idx_pair(Path(tmp.name))
    port = free_port()
    server = start_server(port, log_name="server-bench-memory.log")
    url = f"http://127.0.0.1:{port}"
    try:
        rss = PeakRss(server.pid)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            ctx, page, _ = open_train_page(browser, url)
            time.sleep(1)
            idle = rss.now()
            page.goto(url + "/data")
            wait_idle(page, 120_000)
            t0 = time.perf_counter()
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)  # one action loads
            expect(page.get_by_text(re.compile(r"Loaded train-images.*: 60,000 samples"))).to_be_visible(
                timeout=300_000)
            load_s = time.perf_counter() - t0
            loaded = rss.now()
            page.goto(url + f"/?epochs={EPOCHS}")  # the Train page (the app's root), 20 epochs by a shared link
            wait_idle(page, 120_000)
            expect(page.get_by_text("60,000 images of 28×28").first).to_be_visible()
            expect(page.locator('input[type=range][aria-label="Epochs"]')).to_have_value(str(EPOCHS))
            t0 = time.perf_counter()
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text(re.compile(rf"Finished: trained {EPOCHS} epochs"))).to_be_visible(
                timeout=1_800_000)
            browser_s = time.perf_counter() - t0
            wait_idle(page, 120_000)
            time.sleep(1)
            ctx.close()
            browser.close()
        peak = rss.stop()
        hwm = vm_hwm(server.pid)
    finally:
        stop_server(server)
    headless_s = headless(files)
    tmp.cleanup()
    gb = 1024 ** 3
    print(f"  memory: idle {idle / gb:.2f} GB, 60k loaded {loaded / gb:.2f} GB, peak {peak / gb:.2f} GB "
          f"(VmHWM {hwm / gb if hwm else float('nan'):.2f} GB); load {load_s:.2f} s; {EPOCHS} epochs in the browser "
          f"{browser_s:.1f} s, headless {headless_s:.1f} s", flush=True)
    return [Row("memory", "loading a 60,000-image IDX upload (one action, until the page says loaded)",
                f"{load_s:.2f} s", "", None, "", f"<= {LOAD_GOAL_S:g} s", load_s <= LOAD_GOAL_S),
            Row("memory", f"full MNIST 60k, {EPOCHS} epochs, MLP, in the browser (click to 'Finished')",
                f"{browser_s:.1f} s", f"same run headless (CLI) {headless_s:.1f} s", browser_s / headless_s, " x"),
            Row("memory", "server peak RSS: 60k images uploaded + that run trained", f"{peak / gb:.2f} GB",
                f"idle {idle / gb:.2f} GB", peak / idle, " x idle", f"<= {GOAL_GB} GB", peak / gb <= GOAL_GB),
            Row("memory", "  after the upload, before training", f"{loaded / gb:.2f} GB")]


def headless(files: list[str]) -> float:
    """Wall seconds of the same run from the CLI (same data, epochs and defaults), in its own folder."""
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vae_core.cli", "train", "--data", files[0], "--epochs", str(EPOCHS),
                        "--quiet", "--out", str(Path(out) / "run")], cwd=ROOT, check=True, capture_output=True)
        return time.perf_counter() - t0
