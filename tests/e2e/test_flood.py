"""A flood of sessions cannot take another visitor's place (issue 18): on a server with room for 8 workspaces,
40 bare WebSocket sessions arrive while two visitors work; the one holding an upload keeps its data, the one
that trained on bundled data finds its run and its data choice again, and the server's memory stays bounded."""
from __future__ import annotations

import re

import psutil
import pytest
from e2e_support import PeakRss, anonymous_sessions, free_port, start_server, stop_server, wait_idle
from filemakers import bundled_digits, npz_bytes
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]
ROOM, FLOOD = 8, 40


def test_a_flood_of_sessions_evicts_no_visitor_with_data_or_runs(browser, tmp_path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    upload = tmp_path / "my-digits.npz"
    images, labels = bundled_digits(300)
    upload.write_bytes(npz_bytes(x=images, y=labels))
    server = start_server(port, env={"VAE_EXPLORER_MAX_WORKSPACES": str(ROOM),
                                     "VAE_EXPLORER_RUNS_DIR": str(tmp_path / "runs")},
                          log_name="server-flood.log")
    try:
        with PeakRss(server.pid, every=0.2) as rss:
            idle = psutil.Process(server.pid).memory_info().rss
            keeper = browser.new_context().new_page()  # uploads its own data
            keeper.set_default_timeout(120_000)
            keeper.goto(url + "/data")
            wait_idle(keeper)
            keeper.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
            expect(keeper.get_by_text(re.compile(r"Loaded my-digits\.npz"))).to_be_visible()
            trainer = browser.new_context().new_page()  # trains on the bundled digits, then goes quiet
            trainer.set_default_timeout(120_000)
            trainer.goto(url + "/train?epochs=1&latent_dim=3")
            trainer.get_by_role("button", name="Train", exact=True).click()
            expect(trainer.get_by_text(re.compile(r"Finished: trained 1 epoch"))).to_be_visible(timeout=180_000)

            sockets = anonymous_sessions(url, FLOOD)  # each one a new workspace: far more than there is room for
            for ws in sockets:
                ws.close()

            keeper.reload()
            wait_idle(keeper)
            expect(keeper.get_by_test_id("stSidebar").get_by_text("my-digits.npz")).to_be_visible()  # its upload
            trainer.goto(url + "/runs")
            wait_idle(trainer)
            expect(trainer.get_by_text(re.compile(r"run 1: mnist, mlp, β=1, z=3, bce")).first).to_be_visible()
            peak = rss.stop()
    finally:
        stop_server(server)
    print(f"\nFLOOD: {FLOOD} sessions on room for {ROOM} workspaces; server RSS {idle / 2**20:.0f} MB idle, "
          f"peak {peak / 2**20:.0f} MB")
    assert peak - idle < 1.5 * 2**30  # bundled data is shared: empty workspaces cost next to nothing
