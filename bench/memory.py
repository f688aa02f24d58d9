"""Memory: peak RSS of the dashboard's server with a 60,000-image data set loaded and one run trained.

The way a visitor would do it: a fresh `vae-explorer ui` server, the Data page, a 60,000-image MNIST IDX
pair (the bundled 5,000 real digits tiled 12 times, gzipped) uploaded through the file uploader and
loaded, then a 2-epoch run of the default model trained from the Train page until it is finished and
evaluated. psutil samples the server process's RSS every 20 ms; the baseline is the server idle after
its first visit (bundled MNIST loaded, the modules imported).
"""
from __future__ import annotations

import gzip
import re
import tempfile
import time
from pathlib import Path

from e2e_support import PeakRss  # noqa: E402 - on the path bench.browser sets, like the names above

from .browser import CHROMIUM, CHROMIUM_ARGS, free_port, open_train_page, start_server, stop_server, wait_idle
from .common import ROOT, Row, mnist_uint8

N = 60_000
GOAL_GB = 1.5


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
    port = free_port()
    server = start_server(port, log_name="server-bench-memory.log")
    url = f"http://127.0.0.1:{port}"
    try:
        rss = PeakRss(server.pid)
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            files = idx_pair(Path(tmp))
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            ctx, page, _ = open_train_page(browser, url)
            time.sleep(1)
            idle = rss.now()
            page.goto(url + "/data")
            wait_idle(page, 120_000)
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)
            page.get_by_role("button", name=re.compile(r"^Load train-images")).click(timeout=300_000)
            expect(page.get_by_text(re.compile(r"Loaded train-images.*: 60,000 samples"))).to_be_visible(
                timeout=300_000)
            loaded = rss.now()
            page.goto(url + "/?epochs=2")  # the Train page (the app's root), 2 epochs by a shared link
            wait_idle(page, 120_000)
            expect(page.get_by_text("60,000 images of 28×28").first).to_be_visible()
            expect(page.locator('input[type=range][aria-label="Epochs"]')).to_have_value("2")
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text(re.compile(r"Finished: trained 2 epochs"))).to_be_visible(timeout=600_000)
            wait_idle(page, 120_000)
            time.sleep(1)
            ctx.close()
            browser.close()
        peak = rss.stop()
        hwm = vm_hwm(server.pid)
    finally:
        stop_server(server)
    gb = 1024 ** 3
    print(f"  memory: idle {idle / gb:.2f} GB, 60k loaded {loaded / gb:.2f} GB, peak {peak / gb:.2f} GB "
          f"(VmHWM {hwm / gb if hwm else float('nan'):.2f} GB)", flush=True)
    return [Row("memory", "server peak RSS: 60k images uploaded + one run trained", f"{peak / gb:.2f} GB",
                f"idle {idle / gb:.2f} GB", peak / idle, " x idle", f"<= {GOAL_GB} GB", peak / gb <= GOAL_GB),
            Row("memory", "  after the upload, before training", f"{loaded / gb:.2f} GB")]
