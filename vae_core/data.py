"""Loading data: bundled sets by name, files by path (CLI) and uploaded bytes (dashboard).

Every loader returns a `Dataset` and raises only `DataError`, whose message says what was wrong and
how to fix it. Formats (detected from content, then from the file name's suffix):
MNIST IDX (optionally gzipped, with its labels file), image CSV (label + k*k pixels), .npz/.npy,
a zip of PNG/JPEG images in label folders, and sensor CSV (a recording cut into windows).
Input is only ever read, never written or extracted to disk; .npz is read without pickle.
"""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from .dataset import DataError, Dataset, Scaling, random_split
from .formats import common, idx

# The limits live in formats.common, where every reader looks them up (tests patch them there).
from .formats.common import (
    MAX_COLUMNS,
    MAX_IMAGE_PIXELS,
    MAX_PIXEL_VALUES,
    MAX_UNPACKED_BYTES,
    MAX_UPLOAD_BYTES,
    base_name,
    check_upload_size,
)
from .formats.csv_table import CsvInfo, Table, image_layout, read_table, sniff
from .formats.image_csv import load_image_csv
from .formats.image_zip import load_image_zip
from .formats.npz import load_npy, load_npz
from .formats.pages import small_pages
from .formats.sensor_columns import ColumnRole, column_roles, options_for_roles
from .formats.sensor_csv import SensorOptions, load_sensor_csv
from .formats.xlsx import is_workbook, read_xlsx

__all__ = ["BUNDLED", "SAMPLE_DATA_DIR", "MAX_UPLOAD_BYTES", "MAX_UNPACKED_BYTES", "MAX_COLUMNS", "MAX_PIXEL_VALUES",
           "MAX_IMAGE_PIXELS", "CsvInfo", "DataError", "Dataset", "SensorOptions", "load", "load_bundled",
           "load_path", "load_upload", "sniff_csv", "bundled_sensor_options", "ColumnRole", "sensor_column_roles",
           "bundled_file", "BUNDLE_CHOICES", "options_for_roles", "name_labels"]

SAMPLE_DATA_DIR = Path(os.environ.get("VAE_EXPLORER_DATA") or Path(__file__).resolve().parent.parent / "sample_data")

BUNDLED: dict[str, str] = {
    "mnist": "MNIST handwritten digits: 5,000 real 28x28 images, 500 per digit 0-9",
    "basicmotions": "BasicMotions: smartwatch accelerometer + gyroscope, 80 recordings of 100 steps x 6 channels, "
                    "4 activities",
    "bleeding": "InternalBleeding16: one physiological signal, 7,501 steps, one labelled anomaly (UCR archive)",
    "daphnet": "Daphnet: 9 accelerometer channels on a Parkinson's patient, 7,040 steps at 64 Hz, unlabelled",
}
_BUNDLED_FILES = {"mnist": "mnist_5k.npz", "basicmotions": "basicmotions.npz",
                  "bleeding": "internal_bleeding16.csv.gz", "daphnet": "daphnet_s06r02.csv.gz"}
_DAPHNET_CHANNELS = tuple(f"{place}_{axis}" for place in ("ankle", "leg", "trunk")
                          for axis in ("horiz_fwd", "vert", "horiz_lateral"))
_BLEEDING_STEPS = 7501
# Train (steps 0-999) and val (1000-1199) lie inside the first 1200 steps, the UCR archive's anomaly-free
# TRAIN file, so the labelled anomaly (steps 4187-4198) only ever appears in test windows.
_SENSOR_BUNDLES = {
    "bleeding": SensorOptions(channels=("value",), time_column="timestamp", label_column="is_anomaly",
                              window=64, stride=4, train_frac=1000 / _BLEEDING_STEPS, val_frac=200 / _BLEEDING_STEPS),
    "daphnet": SensorOptions(channels=_DAPHNET_CHANNELS, time_column="timestamp", label_column=None,
                             window=64, stride=16),
}
_SOURCES = {
    "mnist": "MNIST (LeCun, Cortes & Burges), CC BY-SA 3.0; see sample_data/README.md",
    "basicmotions": "BasicMotions, UEA archive (Bagnall et al. 2018); see sample_data/README.md",
    "bleeding": "InternalBleeding16, UCR anomaly archive (Wu & Keogh 2021); see sample_data/README.md",
    "daphnet": "Daphnet S06R02 (Bächlin et al. 2010), CC BY 4.0; this recording has no freezing episodes, "
               "so it is unlabelled; see sample_data/README.md",
}
SUPPORTED = ("MNIST IDX files (*-images-idx3-ubyte[.gz] with *-labels-idx1-ubyte[.gz]), an image CSV "
             "(label + k*k pixels), a sensor CSV with a header row (or the first sheet of an .xlsx workbook), "
             ".npz/.npy arrays, or a .zip of PNG/JPEG images in label folders")
_OLD_SPREADSHEETS = {".xls": "Excel 97-2003 (.xls)", ".xlsb": "binary Excel (.xlsb)", ".ods": "OpenDocument (.ods)",
                     ".numbers": "Apple Numbers"}


# ---- bundled data ------------------------------------------------------------------------------------

def _bundled_bytes(name: str) -> bytes:
    path = Path(SAMPLE_DATA_DIR) / _BUNDLED_FILES[name]
    try:
        return path.read_bytes()
    except OSError:
        raise DataError(f"bundled file {path} is missing: rebuild it with `python sample_data/build_sample_data.py` "
                        "or point VAE_EXPLORER_DATA at the folder that holds it") from None


def _bundled_mnist() -> Dataset:
    arrays = {k: v for k, v in np.load(io.BytesIO(_bundled_bytes("mnist")), allow_pickle=False).items()}
    x = arrays["images"].astype(np.float32)[:, None] / np.float32(255)
    return Dataset(name="mnist", kind="image", x=x, split=random_split(len(x), (0.8, 0.1), seed=0),
                   y=arrays["labels"].astype(np.int64), label_names=tuple(str(d) for d in range(10)),
                   notes=(_SOURCES["mnist"], "pixel values 0..255 divided by 255", "random split 80/10/10 % (seed 0)"))


def _bundled_basicmotions() -> Dataset:
    arrays = {k: v for k, v in np.load(io.BytesIO(_bundled_bytes("basicmotions")), allow_pickle=False).items()}
    x = arrays["x"].astype(np.float64)  # (80, 100, 6)
    split = random_split(len(x), (0.8, 0.1), seed=0)
    train = x[split == 0].reshape(-1, x.shape[2])
    scaling = Scaling("zscore", train.mean(axis=0), train.std(axis=0))
    return Dataset(name="basicmotions", kind="sensor", x=scaling.apply(x), split=split,
                   y=arrays["y"].astype(np.int64), label_names=tuple(str(s) for s in arrays["label_names"]),
                   channels=tuple(str(s) for s in arrays["channels"]), scaling=scaling,
                   notes=(_SOURCES["basicmotions"], "one sample = one whole 100-step recording",
                          "random split 80/10/10 % (seed 0)",
                          "z-score (mean 0, std 1) per channel, fitted on the train part only"))


# What a user may change on a bundled recording; its columns, time and label stay as the bundle says.
BUNDLE_CHOICES = ("window", "stride", "scaling", "exclude_anomalies", "train_range")


def _bundled_sensor(name: str, sensor: SensorOptions | None) -> Dataset:
    opts = _SENSOR_BUNDLES[name]
    if sensor is not None:
        opts = replace(opts, **{field: getattr(sensor, field) for field in BUNDLE_CHOICES})
    table = read_table(common.gunzip(_bundled_bytes(name), name), name)
    data = load_sensor_csv(table, opts)
    return replace(data, notes=(_SOURCES[name], *data.notes))


def bundled_sensor_options(name: str) -> SensorOptions | None:
    """The options a bundled sensor recording loads with (None for the others)."""
    return _SENSOR_BUNDLES.get(name)


def load_bundled(name: str, sensor: SensorOptions | None = None) -> Dataset:
    """A bundled set by name (see BUNDLED): images (N, 1, 28, 28) or sensor windows (N, T, C).

    For the sensor recordings ("bleeding", "daphnet") `sensor` overrides the BUNDLE_CHOICES (window, stride,
    scaling, exclude_anomalies, train_range).
    """
    if name not in BUNDLED:
        raise DataError(f"no bundled data set named {name!r}: choose one of {', '.join(BUNDLED)}")
    if name == "mnist":
        return _guarded(_bundled_mnist, name)
    if name == "basicmotions":
        return _guarded(_bundled_basicmotions, name)
    return _guarded(_bundled_sensor, name, name, sensor)


# ---- one file's bytes -> Dataset --------------------------------------------------------------------

def _strip_gzip(data: bytes, name: str) -> tuple[bytes, str]:
    """Gunzip when the name ends in .gz or the bytes are gzip; returns (bytes, name without .gz)."""
    gz_name = name.lower().endswith(".gz")
    if gz_name or data[:2] == common.GZIP_MAGIC:
        return common.gunzip(data, name), (name[:-3] if gz_name else name)
    return data, name


def _is_zip(data: bytes) -> bool:
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def _zip_holds_arrays(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return bool(names) and all(n.endswith(".npy") for n in names)


def _format_of(data: bytes, inner_name: str) -> str:
    """One of idx, npy, npz, xlsx, zip, csv: binary signatures first, then the name's suffix."""
    suffix = Path(inner_name.lower()).suffix
    if idx.idx_role(data) or idx.looks_like_idx_name(inner_name):
        return "idx"
    if data[:6] == b"\x93NUMPY" or suffix == ".npy":
        return "npy"
    if suffix in (".xlsx", ".xlsm") or (_is_zip(data) and is_workbook(data)):
        return "xlsx"  # a workbook is a zip too: never read it as a zip of images
    if suffix in _OLD_SPREADSHEETS:
        raise DataError(f"cannot read '{inner_name}': {_OLD_SPREADSHEETS[suffix]} spreadsheets are not supported; "
                        "save the sheet as .xlsx or as CSV")
    if suffix == ".npz" or (_is_zip(data) and suffix != ".zip" and _zip_holds_arrays(data)):
        return "npz"
    if suffix == ".zip" or _is_zip(data):
        return "zip"
    if suffix in (".csv", ".tsv", ".txt", ".dat", ""):
        return "csv"
    raise DataError(f"cannot read '{inner_name}': {suffix} files are not supported; use {SUPPORTED}"
                    + (" (put single images in a .zip, one folder per label)"
                       if suffix in (".png", ".jpg", ".jpeg") else ""))


def _read_sheet(data: bytes, name: str, kind: str, sensor: SensorOptions | None) -> Table:
    if kind == "xlsx":
        return read_xlsx(data, name)
    return read_table(data, name, sensor.decimal if sensor else "auto")


def _load_table(table: Table, sensor: SensorOptions | None) -> Dataset:
    name = table.name
    layout = image_layout(table)
    if layout:
        images = load_image_csv(table, *layout)
        return replace(images, notes=(*table.notes, *images.notes)) if table.notes else images
    if not table.has_header:
        n = len(table.frame.columns)
        raise DataError(f"'{name}' has no header row and its {n} columns are not a label plus a square number of "
                        "pixels: for sensor data add a header row naming the columns (e.g. timestamp,value); "
                        "for images use a label plus k*k pixel columns (e.g. 785 = 1 + 28*28)")
    return load_sensor_csv(table, sensor or SensorOptions())


def _load_one(data: bytes, name: str, sensor: SensorOptions | None) -> Dataset:
    return _load_unpacked(*_strip_gzip(data, name), name, sensor)


def _load_unpacked(data: bytes, inner: str, name: str, sensor: SensorOptions | None) -> Dataset:
    if not data:
        raise DataError(f"'{name}' is empty: choose a file that holds data")
    kind = _format_of(data, inner)
    if kind == "idx":
        if idx.idx_role(data) == "labels":
            raise DataError(f"'{name}' is an IDX labels file: give the images file "
                            "(*-images-idx3-ubyte) together with it")
        return idx.load_idx(data, name)
    if kind == "npy":
        return load_npy(data, name)
    if kind == "npz":
        return load_npz(data, name)
    if kind == "zip":
        return load_image_zip(data, name)
    return _load_table(_read_sheet(data, name, kind, sensor), sensor)


def _guarded(load, name: str, *args) -> Dataset:
    """Run a loader; anything but a DataError becomes one (the contract: callers only catch DataError)."""
    try:
        with small_pages():
            return load(*args)
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"not enough memory to load '{name}': use a smaller file") from None
    except Exception as err:  # noqa: BLE001 - last line of defence; specific errors are handled above
        raise DataError(f"could not read '{name}' ({type(err).__name__}: {str(err)[:200]}): check that it is "
                        f"one of the supported formats: {SUPPORTED}") from None


# ---- uploads (dashboard) -------------------------------------------------------------------------------

def _idx_pair(files: list[tuple[str, bytes]]) -> Dataset:
    """Two uploaded files forming an IDX images + labels pair (in either order)."""
    roles = {}
    for name, data in files:
        unpacked, _ = _strip_gzip(data, name)
        # The magic number decides; a file with a broken one is taken at its name, so parsing explains.
        role = idx.idx_role(unpacked) or idx.role_from_name(name)
        if role is None or role in roles:
            raise DataError(f"two files only go together as an IDX pair (an images file and its labels file); "
                            f"'{name}' is {'a second ' + role + ' file' if role else 'not an IDX file'}: "
                            "upload one data file, or the images file with its labels file")
        roles[role] = (name, unpacked)
    (images_name, images), (labels_name, labels) = roles["images"], roles["labels"]
    return idx.load_idx(images, images_name, labels, labels_name)


def load_upload(files: list[tuple[str, bytes]], sensor: SensorOptions | None = None) -> Dataset:
    """Uploaded (filename, bytes) pairs -> Dataset; one file, or an IDX images file with its labels file."""
    if not files:
        raise DataError("no file was uploaded: choose a data file first")
    named = [(base_name(name), data if isinstance(data, bytes) else bytes(data)) for name, data in files]
    for name, data in named:
        check_upload_size(name, len(data))
    if len(named) == 1:
        return _guarded(_load_one, named[0][0], named[0][1], named[0][0], sensor)
    if len(named) == 2:
        return _guarded(_idx_pair, named[0][0], named)
    raise DataError(f"{len(named)} files were uploaded; upload one data file (or an IDX images file with its "
                    "labels file)")


# ---- paths (CLI) ---------------------------------------------------------------------------------------

def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        check_upload_size(path.name, size)
        return path.read_bytes()
    except OSError as err:
        raise DataError(f"could not read {path} ({err.strerror or err}): check the path and its permissions") from None


def _idx_from_path(path: Path, unpacked: bytes) -> Dataset:
    if idx.idx_role(unpacked) == "labels":
        raise DataError(f"{path.name} is an IDX labels file: give the images file beside it "
                        "(e.g. train-images-idx3-ubyte.gz); its labels are found automatically")
    for candidate in idx.labels_name_candidates(path.name):
        labels_path = path.with_name(candidate)
        if labels_path.is_file():
            labels, _ = _strip_gzip(_read_file(labels_path), labels_path.name)
            return idx.load_idx(unpacked, path.name, labels, labels_path.name)
    data_set = idx.load_idx(unpacked, path.name)
    looked = " or ".join(idx.labels_name_candidates(path.name)) or "a labels file"
    return replace(data_set, notes=(*data_set.notes, f"no labels file found beside it (looked for {looked})"))


def _load_file(path: Path, sensor: SensorOptions | None) -> Dataset:
    unpacked, inner = _strip_gzip(_read_file(path), path.name)
    if idx.looks_like_idx_name(path.name) or idx.idx_role(unpacked):
        return _idx_from_path(path, unpacked)
    return _load_unpacked(unpacked, inner, path.name, sensor)


def load_path(path: str | Path, sensor: SensorOptions | None = None) -> Dataset:
    """A file path (or a bundled name) -> Dataset; an IDX images file brings its labels file beside it."""
    path = Path(path)
    if not path.exists():
        if str(path) in BUNDLED:
            return load_bundled(str(path), sensor)
        raise DataError(f"no file {str(path)!r} and no bundled data set of that name: give a file path or one of "
                        f"{', '.join(BUNDLED)}")
    if path.is_dir():
        raise DataError(f"{path} is a folder: give a file (to load images from label folders, zip the folder first)")
    return _guarded(_load_file, path.name, path, sensor)


def load(source: str, sensor: SensorOptions | None = None, label_names: str | None = None) -> Dataset:
    """A bundled name (see BUNDLED) or a file path -> Dataset; `label_names` names its classes (see name_labels)."""
    data = load_bundled(source, sensor) if source in BUNDLED else load_path(source, sensor)
    return name_labels(data, label_names) if label_names else data


def bundled_file(name: str) -> tuple[str, bytes] | None:
    """The file name and bytes of a bundled sensor recording (a gzipped CSV), None for the other bundled sets."""
    return (_BUNDLED_FILES[name], _bundled_bytes(name)) if name in _SENSOR_BUNDLES else None


def sensor_column_roles(data: bytes, name: str, sensor: SensorOptions | None = None) -> tuple[ColumnRole, ...]:
    """Each column's role in an uploaded sensor CSV/.xlsx (maybe gzipped): channel | time | label | extra_label |
    ignored, with the reason; the Data page shows them and turns a change into SensorOptions."""
    check_upload_size(name, len(data))

    def roles() -> tuple[ColumnRole, ...]:
        unpacked, inner = _strip_gzip(bytes(data), name)
        kind = "xlsx" if _format_of(unpacked, inner) == "xlsx" else "csv"
        return column_roles(_read_sheet(unpacked, name, kind, sensor), sensor or SensorOptions())

    return _guarded(roles, name)


def name_labels(data: Dataset, names: str | list[str] | tuple[str, ...]) -> Dataset:
    """`data` with its class labels named, e.g. 'T-shirt,Trouser,...' for Fashion-MNIST: one name per label value
    0, 1, 2, ... in order (comma separated text or a list); DataError when the count or a name is wrong."""
    if data.y is None or data.label_kind != "class":
        raise DataError(f"'{data.name}' has no class labels to name" + (" (its labels are anomaly flags)"
                                                                       if data.label_kind == "anomaly" else ""))
    given = [n.strip() for n in (names.split(",") if isinstance(names, str) else names)]
    count = len(data.label_names) if data.label_names else int(data.y.max()) + 1
    if len(given) != count or not all(given):
        raise DataError(f"'{data.name}' has {count} labels (values 0 to {count - 1}): give {count} names separated by "
                        f"commas, one per value in order, not {len(given)}" + ("" if all(given) else " (one is empty)"))
    if len(set(given)) != count:
        twice = sorted({n for n in given if given.count(n) > 1})
        raise DataError(f"label names must differ, but {', '.join(map(repr, twice))} is given twice")
    pairs = ", ".join(f"{k} = {n}" for k, n in enumerate(given[:3])) + (", ..." if count > 3 else "")
    notes = tuple(n for n in data.notes if not n.startswith("labels named: "))
    return replace(data, label_names=tuple(given), notes=(*notes, f"labels named: {pairs}"))


def sniff_csv(data: bytes) -> CsvInfo:
    """Columns, numeric ones, detected time/label columns, rows and image-or-sensor of CSV bytes (maybe gzipped)."""
    check_upload_size("the CSV", len(data))

    def describe() -> CsvInfo:
        text, _ = _strip_gzip(bytes(data), "the CSV")
        table = read_table(text, "the CSV")
        info = sniff(table)
        if info.looks_like != "sensor" or not table.has_header:
            return info
        try:  # the same time and label columns the loader will pick
            roles = {r.role: r.column for r in column_roles(table, SensorOptions())}
        except DataError:
            return info
        return replace(info, time_column=roles.get("time"), label_column=roles.get("label"))

    return _guarded(describe, "the CSV")
