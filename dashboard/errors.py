"""Errors on a page become a short message; the traceback goes to the server log, never to the user."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("vae_explorer")


@contextmanager
def friendly_errors(where: str) -> Iterator[None]:
    """Run a page or panel; an unexpected error shows one line and keeps the visitor's data and runs."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - st.rerun/st.stop are BaseExceptions and pass through
        log.exception("error in %s", where)
        st.error(f"Something went wrong in {where}: {type(exc).__name__}: {exc}. Your data and runs are kept; "
                 f"try again, or change the settings.")
