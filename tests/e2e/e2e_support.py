"""Browser-test support: start the real dashboard (`vae-explorer ui`'s command line) on a free loopback port and
drive Debian's chromium through Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

from vae_core.cli import ui_command

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
TIMINGS: dict[str, float] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, env: dict | None = None, log_name: str = "server-e2e.log") -> subprocess.Popen:
    """`vae-explorer ui` on 127.0.0.1:port, waited for until /_stcore/health answers."""
    log = open(ROOT / "artifacts" / log_name, "w")
    runs = tempfile.mkdtemp(prefix="e2e-runs-")  # each server its own run store, unless the test gives one
    proc = subprocess.Popen(ui_command("127.0.0.1", port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "VAE_EXPLORER_RUNS_DIR": runs, "VAE_EXPLORER_SHARED": "1",
                                 **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited early (code {proc.returncode}); see artifacts/{log_name}")
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                return proc
        except OSError:
            pass
        if time.time() > deadline:
            proc.kill()
            raise TimeoutError("the dashboard did not become healthy in 90 s")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()




# How many points the Train page's loss chart holds (0 before it exists), read from plotly in the page.
CURVE_POINTS = """() => {
  const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  if (!plot || !plot.data) return 0;
  const total = plot.data.find(t => t.name === 'total');
  return total ? total.y.length : 0;
}"""


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit finished the current script run (its own e2e tests do the same)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def visitor(browser, url: str):
    """A new browser context (its own cookies: a new visitor) at 1400 x 1000 on `url`, idle."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    wait_idle(page)
    return page


def shot(page, name: str, height: int = 1400) -> Path:
    """A screenshot of what the visitor sees, into artifacts/screenshots/NAME.png."""
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(600)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class PeakRss:
    """Peak resident memory (bytes) of a process and its children, sampled every `every` s in a thread.

    Sampling starts at once; `stop()` (or leaving a `with` block) ends it and returns the peak.
    """

    def __init__(self, pid: int, every: float = 0.02) -> None:
        self.process, self.every = psutil.Process(pid), every
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def now(self) -> int:
        return sum(p.memory_info().rss for p in [self.process, *self.process.children(recursive=True)])

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.peak = max(self.peak, self.now())
            except psutil.Error:  # the server is gone: the peak so far stands
                return

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak

    def __enter__(self) -> "PeakRss":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def anonymous_sessions(url: str, n: int, timeout: float = 60.0) -> list:
    """`n` bare WebSocket sessions (no browser, no cookie), each of which ran the app's script once; open.

    What a flood of visitors (or a script) does to the server: every session gets a workspace of its own.
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    sockets = []
    for _ in range(n):
        ws = connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                     open_timeout=timeout, max_size=None)
        ws.send(rerun.SerializeToString())
        deadline = time.time() + timeout
        while time.time() < deadline:  # until the script run ends (its page is drawn)
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=timeout))
            if msg.WhichOneof("type") == "script_finished":
                break
        sockets.append(ws)
    return sockets
