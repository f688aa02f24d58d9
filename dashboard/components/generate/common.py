"""Small pieces the Reconstructions & samples tabs share: which inputs, which channel, a PNG download."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.dataset import Dataset
from vae_core.run import Run

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


def class_names(run: Run) -> list[str]:
    """The names of a conditional run's classes (its data's label names, else their numbers)."""
    names = [str(n) for n in run.data_info.get("label_names") or []]
    return names if len(names) == run.model.classes else [str(c) for c in range(run.model.classes)]


def class_choice(run: Run, key: str, label: str = "Class to draw", column=None) -> int:
    """A conditional run's class picker: the class number chosen."""
    names = class_names(run)
    return (column or st).selectbox(label, list(range(len(names))), format_func=lambda c: names[c], key=key,
                                    help="A conditional model's decoder takes the label as an input: pick the class "
                                         "it should draw. The code z is left to hold everything else (the style).")


def layer_names(run: Run) -> dict[str, str]:
    """A hierarchical run's stochastic layers in words, by name."""
    words = {"z1": "z1, the bottom layer (feeds the decoder)", "z2": "z2, the top layer (sets z1's prior)"}
    return {name: words.get(name, name) for name, _, _ in run.model.latent_layers}
