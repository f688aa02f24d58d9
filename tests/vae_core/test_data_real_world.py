"""Real-world sensor files (issue 18 items 4-10): each loads right, with a note saying what was done, or is
refused with a message that names the cause."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from sensor_filemakers import (
    ANOMALY,
    N,
    decimal_comma_csv,
    dst_csv,
    duplicated_times_csv,
    pandas_index_csv,
    signal,
    text_labels_csv,
    xlsx_bytes,
)

from vae_core import data as D
from vae_core.data import SensorOptions
from vae_core.dataset import DataError


def load(name: str, blob: bytes, **options) -> D.Dataset:
    return D.load_upload([(name, blob)], SensorOptions(**{"window": 16, "stride": 4} | options))


def raw_series(ds: D.Dataset) -> np.ndarray:
    return ds.scaling.undo(ds.series)


def has_note(ds: D.Dataset, fragment: str) -> bool:
    return any(fragment in note for note in ds.notes)


def test_decimal_commas_are_detected_and_read_as_numbers():
    ds = load("de.csv", decimal_comma_csv())
    s = signal()
    assert ds.channels == ("temp", "pressure")
    np.testing.assert_allclose(raw_series(ds), np.column_stack([s["temp"], s["pressure"]]), rtol=1e-6)
    assert has_note(ds, "numbers read with a decimal comma (e.g. '20,000'), detected")
    assert np.flatnonzero(ds.series_anomaly).tolist() == list(range(ANOMALY.start, ANOMALY.stop))


def test_decimal_comma_given_explicitly_and_refused_with_its_cause():
    assert load("de.csv", decimal_comma_csv(), decimal=",").channels == ("temp", "pressure")
    with pytest.raises(DataError, match=r"'de.csv' column 'temp' holds numbers written with a decimal comma "
                                        r"\(line 2: '20,000'\), which were read as text: set decimal to ','"):
        load("de.csv", decimal_comma_csv(), decimal=".")
    with pytest.raises(DataError, match=r"separates its values with commas, so ',' cannot also be its decimal mark"):
        load("comma.csv", pandas_index_csv(), decimal=",")


def test_quoted_decimal_commas_in_a_comma_separated_file_name_the_cause():
    rows = "\n".join(f'{i},"{i % 7},5",{i % 3}' for i in range(60))
    with pytest.raises(DataError, match=r"column 'value' holds numbers written with a decimal comma \(line 2: '0,5'\).*"
                                        r"save it with ';' between values"):
        load("quoted.csv", f"t,value,other\n{rows}\n".encode())


def test_pandas_index_column_is_the_time_axis_and_changepoint_stays_out():
    ds = load("frame.csv", pandas_index_csv())
    assert ds.channels == ("temp", "pressure") and ds.x.shape[2] == 2
    assert has_note(ds, "time column 'Unnamed: 0': a row index saved by pandas")
    assert has_note(ds, "label-like column(s) kept out of the channels: 'changepoint'")
    np.testing.assert_array_equal(ds.series_time, np.arange(N))
    assert ds.series_anomaly.sum() == ANOMALY.stop - ANOMALY.start  # the anomaly column, not the changepoints


@pytest.mark.parametrize(("policy", "temp_at_0", "label_at_250"), [("mean", 20.5, 1), ("first", 20.0, 1)])
def test_duplicated_timestamps_are_said_and_resolved(policy, temp_at_0, label_at_250):
    ds = load("dup.csv", duplicated_times_csv(), duplicates=policy)
    assert len(ds.series) == N
    assert raw_series(ds)[0, 0] == pytest.approx(temp_at_0, abs=1e-6)
    assert ds.series_anomaly[250] == label_at_250
    assert has_note(ds, f"time column 'timestamp' repeats times: {N} rows share a time with an earlier row "
                        "(first '0' on lines 2 and 3)")


def test_duplicated_timestamps_refused_when_asked():
    with pytest.raises(DataError, match=r"'dup.csv' time column 'timestamp' repeats times: 300 rows share a time .*"
                                        r"two recordings interleaved. Set duplicates to 'first'"):
        load("dup.csv", duplicated_times_csv(), duplicates="error")


def test_timestamps_across_daylight_saving_are_converted_to_utc():
    ds = load("berlin.csv", dst_csv())
    assert has_note(ds, "time column 'time' has UTC offsets +01:00, +02:00 (a daylight-saving change): "
                        "times converted to UTC")
    expected = pd.date_range("2024-03-31 00:00", periods=N, freq="1min").to_numpy()
    np.testing.assert_array_equal(ds.series_time, expected)
    assert len(ds.series) == N and ds.series_anomaly.sum() == 10


def test_mixed_offsets_and_naive_times_are_refused():
    text = dst_csv().decode().replace("+01:00", "", 1).encode()
    with pytest.raises(DataError, match=r"time column 'time' mixes times with a UTC offset \(line 3: .*\) and without "
                                        r"one \(line 2: '2024-03-31T01:00:00'\): give every time an offset, or none"):
        load("berlin.csv", text)


@pytest.mark.parametrize(("normal", "anomalous"), [("ok", "fault"), ("normal", "anomaly"), ("Normal", "Anomaly")])
def test_two_valued_text_labels_are_mapped_with_a_note(normal, anomalous):
    ds = load("words.csv", text_labels_csv(normal, anomalous))
    assert ds.label_kind == "anomaly" and ds.channels == ("temp", "pressure")
    assert np.flatnonzero(ds.series_anomaly).tolist() == list(range(ANOMALY.start, ANOMALY.stop))
    assert has_note(ds, f"label column 'state' holds text labels: '{anomalous}' marks an anomaly (1), "
                        f"'{normal}' normal (0)")


def test_unknown_text_labels_need_the_anomaly_value():
    with pytest.raises(DataError, match=r"label column 'state' holds two text values, 'A' and 'B', and it is not "
                                        r"clear which one marks an anomaly: set anomaly_value"):
        load("ab.csv", text_labels_csv("A", "B"), label_column="state")
    ds = load("ab.csv", text_labels_csv("A", "B"), label_column="state", anomaly_value="B")
    assert ds.series_anomaly.sum() == 10 and has_note(ds, "'B' marks an anomaly (1), 'A' normal (0)")


def test_xlsx_first_sheet_is_read_as_a_table():
    blob = xlsx_bytes()
    ds = load("plant.xlsx", blob)
    s = signal()
    assert ds.channels == ("temp", "pressure") and ds.label_kind == "anomaly"
    np.testing.assert_allclose(raw_series(ds), np.column_stack([s["temp"], s["pressure"]]), rtol=1e-6)
    assert has_note(ds, "read the first sheet, 'readings' (the workbook has 2: readings, notes)")
    assert has_note(ds, "time column 'when': holds dates and times")
    # named anything, a workbook is still a workbook, never a zip of images
    assert load("export", blob).channels == ("temp", "pressure")


EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet '
               b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')


def test_xlsx_holding_only_pictures_is_not_read_as_images():
    book = zipfile.ZipFile(io.BytesIO(xlsx_bytes(extra_sheet=False)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:  # the same workbook, its sheet emptied, a picture added
        for item in book.infolist():
            out.writestr(item, EMPTY_SHEET if item.filename.startswith("xl/worksheets/") else book.read(item))
        out.writestr("xl/media/image1.png", b"\x89PNG not really")
    with pytest.raises(DataError, match=r"the first sheet of 'pictures.xlsx' \('readings'\) is empty"):
        load("pictures.xlsx", buffer.getvalue())


@pytest.mark.parametrize(("name", "blob", "message"), [
    ("broken.xlsx", b"PK\x03\x04 not a workbook", r"'broken.xlsx' is not a valid .xlsx workbook \(an .xlsx file is a "
                                                  r"zip archive, and this is not one\): save it again"),
    ("old.xls", b"\xd0\xcf\x11\xe0 ole2", r"Excel 97-2003 \(.xls\) spreadsheets are not supported; save the sheet as "
                                          r".xlsx or as CSV"),
])
def test_spreadsheets_that_cannot_be_read_are_named(name, blob, message):
    with pytest.raises(DataError, match=message):
        D.load_upload([(name, blob)])


def test_one_image_data_set_says_its_test_figures_come_from_the_training_image():
    from filemakers import png_bytes, zip_bytes

    ds = D.load_upload([("one.zip", zip_bytes({"cats/1.png": png_bytes(np.full((8, 8), 90, np.uint8))}))])
    assert ds.split.tolist() == [0]
    assert has_note(ds, "only 1 image (1 train, 0 val, 0 test): nothing is held out, so the 'test' figures are "
                        "computed on the training image")
    assert not any("nothing is held out" in n for n in D.load_bundled("mnist").notes)


def test_an_image_table_in_a_workbook_is_read_as_images_with_the_sheet_note():
    frame = pd.DataFrame(np.arange(6 * 16).reshape(6, 16) % 256, columns=[f"pixel{i}" for i in range(16)])
    frame.insert(0, "label", [0, 1, 2, 0, 1, 2])
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name="digits")
    ds = D.load_upload([("digits.xlsx", buffer.getvalue())])
    assert ds.kind == "image" and ds.x.shape == (6, 1, 4, 4) and ds.y.tolist() == [0, 1, 2, 0, 1, 2]
    assert ds.notes[0] == "read the first sheet, 'digits'"
