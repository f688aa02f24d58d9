"""Excel workbooks (.xlsx): the first sheet read as a table, never as a zip of images.

An .xlsx is a zip of XML parts; its paths and unpacked size are checked like any zip before openpyxl
parses it (openpyxl reads cell values only: formulas are not evaluated and macros never run).
"""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd

from ..dataset import DataError
from . import common
from .csv_table import Table, is_number, is_numeric_column

WORKBOOK_PART = "xl/workbook.xml"


def is_zip_file(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)):
            return True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def is_workbook(data: bytes) -> bool:
    """True when zip bytes hold an Excel workbook (xl/workbook.xml)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return WORKBOOK_PART in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _first_sheet(data: bytes, name: str) -> tuple[pd.DataFrame, list[str]]:
    try:
        with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
            return book.parse(0, header=None), list(book.sheet_names)
    except ImportError:
        raise DataError(f"'{name}' is an Excel workbook, but openpyxl (which reads them) is not installed: "
                        "pip install openpyxl, or save the sheet as CSV") from None
    except Exception as err:  # noqa: BLE001 - openpyxl raises many kinds on a broken workbook
        raise DataError(f"'{name}' could not be read as an Excel workbook ({type(err).__name__}: {str(err)[:120]}): "
                        "save it again as .xlsx, or as CSV") from None


def _header(first_row: pd.Series) -> list[str] | None:
    """Column names from the first sheet row when it holds a word, else None (no header)."""
    if not any(isinstance(v, str) and v.strip() and not is_number(v.strip()) for v in first_row):
        return None
    return [str(v).strip() if pd.notna(v) and str(v).strip() else f"Unnamed: {i}" for i, v in enumerate(first_row)]


def read_xlsx(data: bytes, name: str) -> Table:
    """.xlsx bytes -> Table of its first sheet (header detected as in a CSV)."""
    if not is_zip_file(data):
        raise DataError(f"'{name}' is not a valid .xlsx workbook (an .xlsx file is a zip archive, and this is not "
                        "one): save it again from the spreadsheet program as .xlsx, or as CSV")
    _, parts = common.open_zip(data, name)  # unsafe paths and zip bombs are refused before parsing
    if WORKBOOK_PART not in {p.filename for p in parts}:
        raise DataError(f"'{name}' is not an Excel workbook (it has no {WORKBOOK_PART}): save it again as .xlsx, "
                        "or as CSV")
    raw, sheets = _first_sheet(data, name)
    raw = raw.dropna(how="all").reset_index(drop=True)  # blank rows between or after the data
    if raw.shape[1] > common.MAX_COLUMNS:
        raise DataError(f"'{name}' has {raw.shape[1]:,} columns, more than the limit of {common.MAX_COLUMNS:,}: "
                        "keep fewer columns")
    if raw.empty:
        raise DataError(f"the first sheet of '{name}' ('{sheets[0]}') is empty: put the data in the first sheet, "
                        "a header row and one row per time step")
    names = _header(raw.iloc[0])
    frame = raw.iloc[1:] if names else raw
    frame = frame.reset_index(drop=True).infer_objects()  # cells read one by one: numbers become numbers again
    frame.columns = names or [f"column {i + 1}" for i in range(raw.shape[1])]
    if len(frame) == 0:
        raise DataError(f"'{name}' has only a header row and no data: add rows of values below it")
    for column in frame.columns:
        if is_numeric_column(frame[column]) or pd.api.types.is_datetime64_any_dtype(frame[column]):
            continue
        # numbers mixed with empty cells stay objects after infer_objects: make them numbers
        as_numbers = pd.to_numeric(frame[column], errors="coerce")
        if as_numbers.notna().sum() == frame[column].notna().sum() > 0:
            frame[column] = as_numbers.astype(np.float64)
    note = f"read the first sheet, '{sheets[0]}'" + (f" (the workbook has {len(sheets)}: "
                                                     f"{', '.join(sheets[:5])})" if len(sheets) > 1 else "")
    return Table(name, frame, names is not None, "", [note])
