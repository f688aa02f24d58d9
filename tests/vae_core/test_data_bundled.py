"""The bundled real data sets: files, shapes, labels, splits and scaling."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from vae_core import data as D
from vae_core.data import SensorOptions
from vae_core.dataset import DataError


def test_sample_files_are_small_plain_arrays():
    folder = D.SAMPLE_DATA_DIR
    assert sum(p.stat().st_size for p in folder.iterdir()) < 3 * 1024**2
    mnist = np.load(folder / "mnist_5k.npz", allow_pickle=False)
    assert (mnist["images"].dtype, mnist["images"].shape) == (np.uint8, (5000, 28, 28))
    assert mnist["labels"].dtype == np.uint8 and np.bincount(mnist["labels"]).tolist() == [500] * 10
    motions = np.load(folder / "basicmotions.npz", allow_pickle=False)
    assert (motions["x"].dtype, motions["x"].shape) == (np.float32, (80, 100, 6))
    assert motions["label_names"].dtype.kind == "U" and motions["channels"].dtype.kind == "U"
    for name in ("mnist_5k.npz", "basicmotions.npz"):
        with zipfile.ZipFile(folder / name) as archive:  # nothing but .npy members
            assert all(n.endswith(".npy") for n in archive.namelist())
    readme = (folder / "README.md").read_text()
    for must in ("CC BY-SA 3.0", "Bagnall", "Wu and", "Bächlin", "CC BY 4.0", "BSD-3", "build_sample_data.py",
                 "no freezing-of-gait episode"):
        assert must in readme


def test_bundled_names_and_descriptions():
    assert list(D.BUNDLED) == ["mnist", "basicmotions", "bleeding", "daphnet"]
    assert all(isinstance(text, str) and text for text in D.BUNDLED.values())


def test_mnist():
    ds = D.load_bundled("mnist")
    assert ds.kind == "image" and ds.name == "mnist" and ds.x.shape == (5000, 1, 28, 28) and ds.x.dtype == np.float32
    assert ds.in_unit_interval and ds.x.max() == 1.0
    assert ds.label_names == tuple("0123456789") and np.bincount(ds.y).tolist() == [500] * 10
    assert np.bincount(ds.split).tolist() == [4000, 500, 500]
    np.testing.assert_array_equal(ds.split, D.load("mnist").split)  # seeded: the same split every time


def test_basicmotions_scaled_on_train_samples():
    ds = D.load_bundled("basicmotions")
    assert ds.kind == "sensor" and ds.x.shape == (80, 100, 6) and ds.label_kind == "class"
    assert ds.label_names == ("Standing", "Running", "Walking", "Badminton")
    assert ds.channels == ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
    assert np.bincount(ds.split).tolist() == [64, 8, 8] and np.bincount(ds.y).tolist() == [20] * 4
    train = ds.x[ds.split == 0].reshape(-1, 6)
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(train.std(axis=0), 1, atol=1e-4)
    raw = np.load(D.SAMPLE_DATA_DIR / "basicmotions.npz", allow_pickle=False)["x"]
    np.testing.assert_allclose(ds.scaling.undo(ds.x), raw, atol=1e-4)


def test_bleeding_anomaly_only_in_test_and_train_only_scaling():
    ds = D.load_bundled("bleeding")
    assert ds.name == "bleeding" and ds.kind == "sensor" and ds.label_kind == "anomaly"
    assert ds.x.shape[1:] == (64, 1) and ds.series.shape == (7501, 1) and ds.channels == ("value",)
    assert ds.split_starts == (1000, 1200)  # train + val inside the archive's anomaly-free first 1200 steps
    assert np.flatnonzero(ds.series_anomaly).tolist() == list(range(4187, 4199))
    assert ds.y.sum() > 0 and set(ds.split[ds.y == 1]) == {2}
    assert (ds.window_starts[ds.split < 2] + 64 <= 1200).all()
    train, test = ds.series[:1000, 0], ds.series[1200:, 0]
    assert abs(train.mean()) < 1e-4 and abs(train.std() - 1) < 1e-3
    assert abs(test.mean()) > 0.05 or abs(test.std() - 1) > 0.05  # statistics not fitted on test differ
    np.testing.assert_array_equal(np.diff(ds.window_starts[ds.split == 0]), 4)


def test_bleeding_sensor_options_override_window_stride_scaling_only():
    ds = D.load_bundled("bleeding", SensorOptions(window=32, stride=16, scaling="minmax", train_frac=0.5))
    assert ds.x.shape[1] == 32 and ds.scaling.method == "minmax" and ds.split_starts == (1000, 1200)
    np.testing.assert_array_equal(np.diff(ds.window_starts[ds.split == 2]), 16)


def test_daphnet_unlabelled_nine_channels():
    ds = D.load_path("daphnet")
    assert ds.kind == "sensor" and ds.y is None and len(ds.channels) == 9 and ds.x.shape[1:] == (64, 9)
    assert ds.series.shape == (7040, 9) and ds.split_starts == (4224, 5632)
    np.testing.assert_array_equal(np.diff(ds.window_starts[ds.split == 0]), 16)
    assert any("no freezing episodes" in note for note in ds.notes)


def test_unknown_name_and_missing_files(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"no bundled data set named 'cifar': choose one of mnist, basicmotions"):
        D.load_bundled("cifar")
    monkeypatch.setattr(D, "SAMPLE_DATA_DIR", tmp_path)
    with pytest.raises(DataError,
                       match=r"mnist_5k.npz is missing: rebuild it with `python sample_data/build_sample_data.py`"):
        D.load("mnist")


def test_data_dir_from_environment(tmp_path):
    code = "from vae_core import data; print(data.SAMPLE_DATA_DIR)"
    env = os.environ | {"VAE_EXPLORER_DATA": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(tmp_path)


def test_bleeding_takes_a_training_range_and_keeps_anomalies_only_when_asked():
    base = D.bundled_sensor_options("bleeding")
    ranged = D.load_bundled("bleeding", replace(base, train_range=(2000, 5000)))
    # the range's last sixth validates (the bundle's 1,000 : 200 split); the labelled steps 4187-4198 lie inside it
    assert ranged.part_ranges == ((2, 0, 2000), (0, 2000, 4500), (1, 4500, 5000), (2, 5000, 7501))
    assert not ranged.y[ranged.split < 2].any() and any("left out" in note for note in ranged.notes)
    kept = D.load_bundled("bleeding", replace(base, train_range=(2000, 5000), exclude_anomalies=False))
    assert kept.y[kept.split == 0].sum() > 0 and len(kept.x) > len(ranged.x)
    fixed = D.load_bundled("bleeding", replace(base, channels=("timestamp",), label_column=None))
    assert fixed.channels == ("value",) and fixed.series_anomaly is not None  # a bundle's columns stay its own
