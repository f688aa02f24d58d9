"""Small pieces the Reconstructions & samples tabs share: which inputs, which channel, a PNG download."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.dataset import Dataset

from .. import images

PARTS = {"test": "test part (never trained on)", "val": "validation part", "train": "training part", "all": "all parts"}


def part_ids(data: Dataset, part: str) -> np.ndarray:
    """Sample ids of a part; all samples when the part is empty."""
    ids = data.indices(part)
    return ids if len(ids) else data.indices("all")


def channel_choice(channels: list[str], key: str, allow_all: bool = False) -> list[int]:
    """Which sensor channels a line chart draws (no choice with one channel)."""
    every = list(range(len(channels)))
    if len(every) <= 1:
        return every
    options = ([-1] if allow_all else []) + every
    pick = st.columns([1, 3])[0].selectbox(
        "Channel", options, format_func=lambda c: "all channels" if c == -1 else channels[c], key=key,
        help="The sensor channel drawn in the charts below; the model rebuilds and generates all of them.")
    return every if pick == -1 else [pick]


def png_download(array: np.ndarray, name: str, key: str) -> None:
    st.download_button("Download PNG", images.png_bytes(array), f"{name}.png", "image/png", key=key,
                       on_click="ignore", icon=":material/download:")
