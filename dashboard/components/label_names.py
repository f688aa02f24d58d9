"""Name the classes of uploaded labelled images (IDX, CSV, NPZ labels are numbers): 'T-shirt, Trouser, ...'."""
from __future__ import annotations

import streamlit as st

from vae_core.data import name_labels
from vae_core.dataset import DataError, Dataset


def show(data: Dataset, key: str) -> Dataset | None:
    """A names box for class labels; the renamed data when the visitor applies names, else None."""
    if data.y is None or data.label_kind != "class" or data.kind != "image":
        return None
    count = len(data.label_names) if data.label_names else int(data.y.max()) + 1
    current = ", ".join(data.label_names or [str(k) for k in range(count)])
    with st.expander(f"Name the {count} labels" + (" (they are numbers now)" if current.replace(", ", "").isdigit()
                                                   else "")):
        text = st.text_input(f"Names of labels 0 to {count - 1}, in order, separated by commas", current, key=key,
                             help="Legends, captions and reports then say these names (e.g. T-shirt, Trouser, ... "
                                  "for Fashion-MNIST) instead of numbers. On the command line: --label-names.")
        if st.button("Use these names", key=f"{key}_apply") and text != current:
            try:
                return name_labels(data, text)
            except DataError as exc:
                st.error(str(exc))
    return None
