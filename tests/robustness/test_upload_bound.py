"""The upload bound: one number (MAX_UPLOAD_BYTES) in the server's config, the ui command, both uploaders'
explanations, and the engine's own check for files that arrive some other way."""
from __future__ import annotations

from pathlib import Path

import tomllib
from app_session import open_app, workspace

from vae_core.cli import ui_command
from vae_core.data import MAX_UPLOAD_BYTES
from vae_core.formats import common

ROOT = Path(__file__).resolve().parents[2]
MB = MAX_UPLOAD_BYTES // 2**20


def test_the_server_is_configured_with_the_engines_bound():
    argv = ui_command("127.0.0.1", 8501)
    assert argv[argv.index("--server.maxUploadSize") + 1] == str(MB)
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MB
    assert MB == 200


def test_both_uploaders_explain_the_bound():
    at = open_app("app_pages/data.py")
    assert f"{MB} MB" in at.file_uploader[0].help
    assert any(f"Files up to {MB} MB" in c.value for c in at.caption)
    at.switch_page("app_pages/runs.py").run()
    assert f"{MB} MB" in at.file_uploader(key="runs_upload").help
    assert any(f"up to {MB} MB" in c.value and "joins the run store" in c.value for c in at.caption)


def test_a_file_over_the_bound_is_refused_with_the_limit_in_the_message(monkeypatch):
    monkeypatch.setattr(common, "MAX_UPLOAD_BYTES", 1000)  # the engine looks the bound up here at each call
    at = open_app("app_pages/data.py")
    before = workspace(at).data
    at.file_uploader[0].set_value(("big.npz", b"PK\x03\x04" + bytes(2000), "application/octet-stream")).run()
    errors = " ".join(e.value for e in at.error)
    assert "'big.npz' is 2,004 bytes, more than the 1,000 bytes limit" in errors
    assert workspace(at).data is before


def test_the_server_does_not_collect_garbage_after_every_script_run():
    """A full gc.collect() after each fragment run starved the server under 8 training visitors (test_load.py)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
