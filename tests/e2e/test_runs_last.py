"""Runs that last (issue 11), with real processes: a server killed with SIGKILL mid-run leaves the run interrupted at
its last checkpoint; a new server on the same run store lists it, Continue finishes it with the weights of a run
that never stopped, and every page of a finished run opens; a CLI run appears on a personal server; on a shared
server two browsers never see each other's runs, a workspace code reopens them in a fresh browser, a wrong one
reveals nothing."""
from __future__ import annotations

import hashlib
import re
import signal
import subprocess
import sys
import time

import pytest
from e2e_support import ROOT, free_port, shot, start_server, stop_server, visitor, wait_idle
from playwright.sync_api import expect

from vae_core.store import RunStore

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]
SETTINGS = "epochs=8&latent_dim=3&batch_size=32"  # 125 steps an epoch: a few seconds per epoch on one thread


def digest(folder) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


def test_a_killed_server_loses_no_run_and_the_run_continues_exactly(browser, tmp_path) -> None:
    runs = tmp_path / "runs"
    env = {"VAE_EXPLORER_RUNS_DIR": str(runs), "VAE_EXPLORER_SHARED": "0"}  # a personal machine: every run shows
    cli = subprocess.run([sys.executable, "-m", "vae_core.cli", "train", "--data", "mnist", "--epochs", "1",
                          "--latent-dim", "2", "--eval-k", "0", "--quiet", "--runs-dir", str(runs)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, env=env, log_name="server-runs-last.log")
    try:
        page = visitor(browser, f"{url}/train?{SETTINGS}")
        page.get_by_role("button", name="Train", exact=True).click()
        expect(page.get_by_text(re.compile(r"Epoch [3-8]/8"))).to_be_visible(timeout=240_000)  # 2 checkpoints in
        server.send_signal(signal.SIGKILL)  # no goodbye: the process dies mid-epoch
        server.wait(30)
        page.context.close()
    finally:
        if server.poll() is None:
            stop_server(server)
    (entry,) = [e for e in RunStore(runs).list() if e.settings.get("latent_dim") == 3]
    assert entry.status == "interrupted" and 2 <= entry.epochs < 8, entry

    t0 = time.perf_counter()
    server = start_server(port, env=env, log_name="server-runs-last-2.log")  # the same run store, a new process
    restart_seconds = time.perf_counter() - t0
    try:
        page = visitor(browser, url + "/runs")
        expect(page.get_by_text(re.compile(r"interrupted at epoch \d of 8 \(its last checkpoint\)"))).to_be_visible()
        expect(page.get_by_text("mnist · mlp · β=1 · z=2 · bce").filter(visible=True).first).to_be_visible()  # CLI's
        shot(page, "runs-after-restart")
        page.goto(url + "/train")
        wait_idle(page)
        page.get_by_role("button", name="Continue training").click()
        expect(page.get_by_text(re.compile(r"Finished: trained 8 epochs"))).to_be_visible(timeout=300_000)
        for path, heading in (("latent", "Latent space"), ("generate", "Reconstructions & samples"),
                              ("diagnostics", "Diagnostics")):
            page.goto(f"{url}/{path}")
            wait_idle(page)
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            expect(page.get_by_text(re.compile(r"Exploring \*?\*?run 1"))).to_be_visible()
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        page.context.close()
    finally:
        stop_server(server)
    resumed = RunStore(runs).find(entry.id)
    assert resumed.status == "finished" and resumed.epochs == 8
    straight = tmp_path / "straight"  # the same settings and seed, never interrupted, from the CLI
    done = subprocess.run([sys.executable, "-m", "vae_core.cli", "train", "--data", "mnist", "--epochs", "8",
                           "--latent-dim", "3", "--batch-size", "32", "--eval-k", "0", "--quiet",
                           "--out", str(straight)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert digest(resumed.path) == digest(straight)
    print(f"\nRESTART: a new server on the same run store answered in {restart_seconds:.1f} s")


def test_on_a_shared_server_each_browser_sees_only_its_own_runs_and_its_code_reopens_them(browser, tmp_path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, env={"VAE_EXPLORER_RUNS_DIR": str(tmp_path), "VAE_EXPLORER_SHARED": "1"},
                          log_name="server-shared.log")
    try:
        pages = {}
        for who, latent in (("a", 2), ("b", 4)):
            page = visitor(browser, f"{url}/train?epochs=1&latent_dim={latent}")
            page.get_by_role("button", name="Train", exact=True).click()
            expect(page.get_by_text(re.compile(r"Finished: trained 1 epoch"))).to_be_visible(timeout=180_000)
            pages[who] = page
        for who, mine, theirs in (("a", "z=2", "z=4"), ("b", "z=4", "z=2")):
            page = pages[who]
            page.goto(url + "/runs")
            wait_idle(page)
            expect(page.get_by_text(re.compile(rf"run 1: mnist, mlp, β=1, {mine}, bce")).first).to_be_visible()
            assert not page.get_by_text(re.compile(rf"{theirs}, bce")).count()
        sidebar = pages["a"].get_by_test_id("stSidebar")
        sidebar.get_by_text("Your workspace code").click()
        code = sidebar.get_by_test_id("stCode").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
        shot(pages["a"], "workspace-code")
        for page in pages.values():
            page.context.close()

        fresh = visitor(browser, url + "/runs")  # another browser, no cookie of A's
        expect(fresh.get_by_text("No runs yet")).to_be_visible()
        box = fresh.get_by_test_id("stSidebar")
        field = box.get_by_placeholder("XXXX-XXXX-XXXX-XXXX")

        def open_code_box() -> None:  # the expander may stay open across a rerun: a second click would close it
            if not field.is_visible():
                box.get_by_text("Your workspace code").click()
            expect(field).to_be_editable()

        open_code_box()
        field.fill("AAAA-BBBB-CCCC-DDDD")  # a wrong code
        box.get_by_role("button", name="Open").click()
        wait_idle(fresh)
        expect(fresh.get_by_text("No runs yet")).to_be_visible()  # nothing revealed
        open_code_box()
        field.fill(code.lower())
        box.get_by_role("button", name="Open").click()
        wait_idle(fresh)
        expect(fresh.get_by_text(re.compile(r"run 1: mnist, mlp, β=1, z=2, bce")).first).to_be_visible()
        assert not fresh.get_by_text(re.compile(r"z=4, bce")).count()
        fresh.context.close()
    finally:
        stop_server(server)
