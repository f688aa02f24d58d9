"""Image CSVs: one image per row, an optional label column and k*k pixel columns (784 -> 28x28)."""
from __future__ import annotations

import numpy as np

from ..dataset import DataError, Dataset
from . import common
from .csv_table import Table, first_bad_cell, is_numeric_column


def _pixel_matrix(table: Table, pixels: list[str]) -> np.ndarray:
    """Pixel cells (N, k*k) as float32, with the line and column of the first bad cell in any error."""
    frame = table.frame[pixels]
    for column in pixels:
        if not is_numeric_column(frame[column]):
            row, text = first_bad_cell(frame[column]) or (0, "")
            raise DataError(f"'{table.name}' line {table.line_of(row)}, column '{column}': {text!r} is not a number; "
                            "every pixel must be a number 0..255 (or 0..1)")
    values = frame.to_numpy(dtype=np.float32, na_value=np.nan)
    missing = np.argwhere(~np.isfinite(values))
    if len(missing):
        row, col = (int(i) for i in missing[0])
        line = table.line_of(row)
        n_fields = table.fields_on_line(line)
        if n_fields < len(table.frame.columns):
            raise DataError(f"'{table.name}' line {line} has {n_fields} values but the others have "
                            f"{len(table.frame.columns)}: every row needs the same number of columns")
        raise DataError(f"'{table.name}' line {line}, column '{pixels[col]}' is empty or not finite: "
                        "fill in a pixel value 0..255")
    out_of_range = np.argwhere((values < 0) | (values > 255))
    if len(out_of_range):
        row, col = (int(i) for i in out_of_range[0])
        raise DataError(f"'{table.name}' line {table.line_of(row)}, column '{pixels[col]}' has pixel value "
                        f"{values[row, col]:g}: pixels must be 0..255 (or all within 0..1)")
    return values


def _labels(table: Table, label: str) -> tuple[np.ndarray, tuple[str, ...] | None]:
    column = table.frame[label]
    empty = np.flatnonzero(column.isna().to_numpy())
    if len(empty):
        raise DataError(f"'{table.name}' line {table.line_of(int(empty[0]))} has no label in column '{label}': "
                        "give every row a label")
    values = column.to_numpy() if is_numeric_column(column) else column.astype(str).str.strip().to_numpy(dtype=str)
    return common.labels_from_array(values, f"'{table.name}' column '{label}'", len(column))


def load_image_csv(table: Table, label: str | None, pixels: list[str], side: int) -> Dataset:
    """Rows of [label,] k*k pixels -> image Dataset (N, 1, k, k) in [0, 1]."""
    common.check_pixel_count(table.name, len(table.frame) * len(pixels))
    values = _pixel_matrix(table, pixels)
    unit, how = common.pixels_to_unit(values, table.name)
    notes = [f"image CSV: {len(pixels)} pixel columns read as {side}x{side} images", how]
    y = label_names = None
    if label is None:
        notes.append("no label column, so the images are unlabelled")
    else:
        y, label_names = _labels(table, label)
        notes.append(f"labels from column '{label}'")
    return common.image_dataset(table.name, unit.reshape(-1, side, side), y, label_names, tuple(notes))

