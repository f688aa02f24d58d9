"""Robustness tests: the bad-file corpus (generated into a temporary folder once per session) and the
dashboard's AppTest helpers."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in ("bad_inputs", "dashboard", "e2e"):
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))

from make_corpus import Entry, write_corpus  # noqa: E402


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> tuple[Path, list[Entry]]:
    """(folder, entries): every bad input written to disk, as a user would have it."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    return folder, write_corpus(folder)
