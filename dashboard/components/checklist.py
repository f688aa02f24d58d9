"""The Train page's sanity checks (vae_core.checks): a closed 'all pass' line on a sound set-up, else each problem
with its fix, before Train is pressed."""
from __future__ import annotations

import streamlit as st

from vae_core import checks
from vae_core.dataset import Dataset


def _capital(text: str) -> str:
    """A sentence's first letter capitalised; 'β = 0 ...' stays as it is (a capital β reads as a B)."""
    return text[:1].upper() + text[1:] if text[:1].isascii() else text


def show(data: Dataset, configs) -> list[checks.Check]:
    """Draw the checklist for these configs (None: the settings are invalid, nothing to check); the failed checks."""
    if configs is None:
        return []
    results = checks.run_checks(data, *configs)
    failed = [c for c in results if not c.passed]
    title = (f"Sanity checks: all {len(results)} pass" if not failed else
             f"Sanity checks: {len(failed)} of {len(results)} found a problem")
    with st.expander(title, expanded=bool(failed), icon=":material/checklist:" if not failed else ":material/warning:"):
        for c in results:
            if c.passed:
                st.markdown(f":green[:material/check:] {_capital(c.title)}")
            else:  # in the expander, not a page-wide warning box: the page's warnings are the link's and the data's
                st.markdown(f":orange[:material/warning:] **{_capital(c.problem)}.** Fix: {c.fix}.")
    return failed
