"""Uploads load on one action: choosing the files loads them, no second click. A file that fails keeps its message
until another is chosen, and is not read again on every rerun."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict

import streamlit as st

from vae_core.data import MAX_UPLOAD_BYTES, SensorOptions, load_upload
from vae_core.dataset import DataError, Dataset

FORMATS = ("MNIST IDX files (images + labels, .gz or not), CSV with a label and 784 (or k×k) pixel columns, "
           ".npz with `x`/`images` and `y`/`labels`, a .zip of PNG/JPEG images in one folder per label, or a "
           "sensor CSV or .xlsx with a header row (optional time and anomaly/label columns).")
_FAILED = "upload_failed"  # (signature, message) of the last upload that could not be loaded

Use = Callable[..., None]  # use(data, source, what, sensor=..., file=...): put it in use and rerun


def signature(blobs: list[tuple[str, bytes]]) -> str:
    return hashlib.sha256(b"".join(hashlib.sha256(name.encode() + b).digest() for name, b in blobs)).hexdigest()[:12]


def upload_section(use: Use) -> None:
    """The uploader; chosen files are loaded at once (a sensor table with the detected column roles)."""
    mb = MAX_UPLOAD_BYTES // 2**20
    files = st.file_uploader("Upload data files", accept_multiple_files=True,
                             key=f"upload_{st.session_state.get('upload_round', 0)}", max_upload_size=mb,
                             help=f"Accepted: {FORMATS} Up to {mb} MB per file. Choosing them loads them.")
    st.caption(f"Accepted: {FORMATS} Files up to {mb} MB; they are read in memory, never run or saved on the server. "
               "A sensor recording loads with the column roles it looks like; change them below once it is in use.")
    if not files:
        return
    blobs = [(f.name, f.getvalue()) for f in files]
    sig, label = signature(blobs), ", ".join(name for name, _ in blobs)
    failed = st.session_state.get(_FAILED)
    if failed is not None and failed[0] == sig:
        st.error(failed[1])  # the data already loaded stays in place
        return
    try:
        with st.spinner(f"Loading {label}…"):
            data: Dataset = load_upload(blobs)
    except DataError as exc:
        st.session_state[_FAILED] = (sig, f"Could not load {label}: {exc}")
        st.error(st.session_state[_FAILED][1])
        return
    table = len(blobs) == 1 and data.kind == "sensor" and data.series is not None
    use(data, f"upload:{label}", label, sensor=asdict(SensorOptions()) if table else None,
        file=blobs[0] if table else None)
