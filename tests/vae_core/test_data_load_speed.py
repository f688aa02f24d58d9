"""The fast paths of loading give exactly what the plain computations give (speed itself is in bench/costs.py)."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from numpy._core.multiarray import _set_madvise_hugepage

from vae_core.data import SensorOptions, load_upload
from vae_core.dataset import DataError, Dataset, Scaling, all_finite
from vae_core.formats import csv_table, pages
from vae_core.formats.sensor_csv import cut_windows


@pytest.mark.parametrize("text", [
    "a,b\n1,2\n", "\n\n  \na,b\r\n1,2\r\n3,4", "x\ry\rz", "", "only one line",
    "hhhhh\r\n" + "1,2\r\n" * 40_000,  # the first 64 KiB head ends between a \r and its \n
    "h\n" + "\n" * 70_000 + "a,b\n1,2\n",  # the first line with text far down
])
def test_head_lines_and_first_line_match_splitting_everything(text):
    for n in (1, 3, 20, 201, 13_106, 13_107, 50_000):
        assert csv_table.head_lines(text, n) == text.splitlines()[:n]
    assert csv_table._first_line(text) == next((line for line in text.splitlines() if line.strip()), "")


def test_utf8_with_bom_and_latin1_files_read_as_before():
    utf8 = "\ufefftemp°C;ch1\n1,5;2\n2,5;3\n3,5;1\n".encode()
    table = csv_table.read_table(utf8, "bom.csv")
    assert list(table.frame.columns) == ["temp°C", "ch1"]
    np.testing.assert_array_equal(table.frame["temp°C"], [1.5, 2.5, 3.5])
    latin1 = "température,ch1\n1,2\n3,4\n".encode("latin-1")
    assert list(csv_table.read_table(latin1, "l1.csv").frame.columns) == ["température", "ch1"]


def test_scaling_apply_in_blocks_equals_the_whole_formula():
    rng = np.random.default_rng(0)
    raw = rng.normal(3, 7, (1_200_000, 3))  # more rows than one block
    s = Scaling("zscore", raw.mean(0), raw.std(0))
    np.testing.assert_array_equal(s.apply(raw), ((raw - s.center) / s.scale).astype(np.float32))
    windows = rng.normal(size=(5, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(s.apply(windows), ((windows - s.center) / s.scale).astype(np.float32))
    assert s.apply(raw[0]).shape == (3,) and s.apply(raw[0]).dtype == np.float32


def test_cut_windows_equals_indexing_the_window_view():
    series = np.random.default_rng(1).normal(size=(70_000, 5)).astype(np.float32)
    starts = np.r_[np.arange(0, 40_000, 3), np.arange(40_001, 69_900, 7)]
    x = cut_windows(series, starts, 100)
    view = np.lib.stride_tricks.sliding_window_view(series, 100, axis=0)
    expected = np.ascontiguousarray(view[starts].transpose(0, 2, 1))
    assert x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_all_finite_finds_any_nan_or_inf(bad):
    x = np.zeros((30, 8, 2), np.float32)
    assert all_finite(x) and all_finite(np.zeros((3, 0, 2), np.float32))
    x[17, 3, 1] = bad
    assert not all_finite(x)
    with pytest.raises(DataError, match="NaN or infinite"):
        Dataset(name="d", kind="sensor", x=x, split=np.zeros(30, np.int8))


def test_loading_turns_numpys_hugepage_advice_off_and_restores_it():
    seen = []
    previous = _set_madvise_hugepage(True)
    try:
        with pages.small_pages():
            seen.append(_set_madvise_hugepage(False))  # what loading runs under
            with pages.small_pages():  # a second load at the same time (another visitor)
                pass
            seen.append(_set_madvise_hugepage(False))
        seen.append(_set_madvise_hugepage(True))  # restored after the last load
        with pytest.raises(DataError):
            load_upload([("bad.csv", b"a,b\n1\n2,3,4,5\n")])
        seen.append(_set_madvise_hugepage(True))  # restored after a failed load too
        threads = [threading.Thread(target=load_upload, args=([("r.csv", b"t,v\n" + b"".join(
            f"{i},{np.sin(i / 5):.3f}\n".encode() for i in range(200)))], SensorOptions(window=8)))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seen.append(_set_madvise_hugepage(True))
    finally:
        _set_madvise_hugepage(previous)
    assert seen == [False, False, True, True, True]
