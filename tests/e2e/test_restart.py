"""A downloaded run travels: its zip loads again in another browser on a fresh server (a shared one: the new
browser has its own workspace) and in the CLI. (That runs outlast a restart in the run store: test_runs_last.py.)"""
from __future__ import annotations

import re

import pytest
from e2e_support import free_port, start_server, stop_server, visitor, wait_idle
from playwright.sync_api import expect

from vae_core import cli
from vae_core.checkpoint import run_from_zip

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]
LABEL = re.compile(r"run 1: mnist, mlp, β=1, z=3, bce")


def test_a_downloaded_run_loads_again_after_a_restart(browser, tmp_path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    saved = tmp_path / "saved-run.zip"
    server = start_server(port, log_name="server-restart.log")
    try:
        page = visitor(browser, f"{url}/?epochs=1&latent_dim=3")
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text(LABEL).first).to_be_visible(timeout=180_000)  # handed over: the sidebar offers it
        page.goto(url + "/runs")
        wait_idle(page)
        with page.expect_download() as download:
            page.get_by_role("button", name=re.compile(r"^Download run 1")).click()
        download.value.save_as(saved)
        page.context.close()
    finally:
        stop_server(server)

    server = start_server(port, log_name="server-restart-2.log")  # the same address, a fresh process
    try:
        page = visitor(browser, url + "/runs")
        expect(page.get_by_text("No runs yet")).to_be_visible()  # another browser: a workspace of its own
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(saved))
        page.get_by_role("button", name="Add it to my runs").click()
        expect(page.get_by_text(re.compile(r"Added run 1: mnist, mlp, β=1, z=3, bce from saved-run\.zip"))) \
            .to_be_visible()
        expect(page.get_by_text(LABEL).first).to_be_visible()
        expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        page.context.close()
    finally:
        stop_server(server)
    run = run_from_zip(saved.read_bytes())  # and the CLI reads the same file
    assert run.model_cfg.latent_dim == 3 and run.summary["epochs"] == 1
    assert cli.main(["evaluate", str(saved), "--eval-k", "0", "--json"]) == 0
