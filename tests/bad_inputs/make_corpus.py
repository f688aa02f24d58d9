"""The bad-file corpus: every kind of broken input a classroom uploads, generated (never hand-edited).

    python tests/bad_inputs/make_corpus.py OUT_DIR     # writes the files and a manifest.json

Importable: `write_corpus(folder)` writes the same files and returns the entries. Each entry names the
file(s) a user would give (one data file, an IDX pair, a run zip or a run folder), how it is used
(`data` for `train --data` and the Data page, `run` for `evaluate` and the Runs page) and the fragment
the engine's message must contain. Everything is built in memory from a few hundred bytes: the
"10^6 columns" file is 2 MB and the zip bomb only declares its huge size.
"""
from __future__ import annotations

import functools
import gzip
import io
import json
import struct
import sys
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for filemakers when run as a script
from filemakers import npz_bytes, png_bytes, zip_bytes  # noqa: E402


@dataclass(frozen=True)
class Entry:
    """One bad input: its files (relative path -> bytes), which of them the user picks, and the message."""

    name: str
    kind: str  # "data" (a data file or IDX pair) or "run" (a saved run: zip or folder)
    expect: str  # a fragment of the engine's message (case-sensitive)
    given: tuple[str, ...]  # the path(s) the user gives: the CLI takes the first, the browser uploads all
    files: dict[str, bytes] = field(repr=False, default_factory=dict)
    browser: bool = True  # False for run folders (the browser takes zips)

    def manifest(self) -> dict:
        row = asdict(self)
        row["files"] = sorted(self.files)
        return row


# ---- small writers ---------------------------------------------------------------------------------

def _png(side: int = 8, value: int = 128) -> bytes:
    return png_bytes(np.full((side, side), value, dtype=np.uint8))


_zip, _npz = zip_bytes, npz_bytes


def _idx_labels(n: int) -> bytes:
    return struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))


def _image_csv(cell: str = "", side: int = 4, rows: int = 6) -> bytes:
    """label + side*side pixel columns; the first pixel of row 3 is `cell` when given."""
    header = "label," + ",".join(f"pixel{i}" for i in range(side * side))
    lines = [header]
    for r in range(rows):
        pixels = [str((r * 7 + i) % 256) for i in range(side * side)]
        if cell and r == 2:
            pixels[0] = cell
        lines.append(f"{r % 3}," + ",".join(pixels))
    return ("\n".join(lines) + "\n").encode()


def _sensor_csv(cell: str = "", rows: int = 200) -> bytes:
    lines = ["timestamp,temp,vibration"]
    for i in range(rows):
        value = cell if cell and i == 50 else f"{np.sin(i / 9):.4f}"
        lines.append(f"{i},{value},{np.cos(i / 5):.4f}")
    return ("\n".join(lines) + "\n").encode()


def _zip_bomb() -> bytes:
    """A small zip whose member declares 3.75 GB unpacked: both size fields patched, as real bombs do."""
    blob = bytearray(_zip({"a/1.png": bytes(1 << 16)}))
    huge = struct.pack("<I", 0xF000_0000)
    local = blob.index(b"PK\x03\x04")
    blob[local + 22:local + 26] = huge  # uncompressed size in the local header
    central = blob.index(b"PK\x01\x02")
    blob[central + 24:central + 28] = huge  # ... and in the central directory, which readers trust
    return bytes(blob)


# ---- saved runs --------------------------------------------------------------------------------------

def _valid_run_files() -> dict[str, bytes]:
    """The four files of a real (untrained) tiny run, as the dashboard and the CLI write them."""
    from vae_core.checkpoint import Run, run_files
    from vae_core.config import TrainConfig, default_model_config
    from vae_core.runs import new_model

    cfg = default_model_config("image", (1, 28, 28), hidden=(16,), latent_dim=2)
    info = {"name": "mnist", "kind": "image", "input_shape": [1, 28, 28], "label_kind": "class",
            "label_names": [str(d) for d in range(10)], "channels": [], "scaling": None, "source": "mnist"}
    return run_files(Run(new_model(cfg), TrainConfig(epochs=1), info, [], {}))


def _tampered_config(files: dict[str, bytes], **model) -> dict[str, bytes]:
    config = json.loads(files["config.json"])
    config["model"].update(model)
    return {**files, "config.json": json.dumps(config).encode()}


def _tampered_shapes(files: dict[str, bytes]) -> dict[str, bytes]:
    from safetensors.torch import load, save

    tensors = load(files["model.safetensors"])
    key = next(k for k, v in tensors.items() if v.ndim == 2)
    tensors[key] = tensors[key][:, :-1].contiguous()  # one input column cut off
    return {**files, "model.safetensors": save(tensors)}


def _run_entries() -> list[Entry]:
    good = _valid_run_files()
    variants = {
        "run_config_latent_changed": (_tampered_config(good, latent_dim=5), "does not match config.json"),
        "run_config_bad_value": (_tampered_config(good, arch="evil"), "arch must be one of"),
        "run_config_huge_model": (_tampered_config(good, hidden=[4096, 4096, 4096]), "over the limit"),
        "run_config_not_json": ({**good, "config.json": b"{\"format\": \"vae-explorer-run\", "}, "not valid JSON"),
        "run_tensor_shape_changed": (_tampered_shapes(good), "has shape"),
        "run_tensor_bytes_garbage": ({**good, "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage"},
                                     "not a valid safetensors file"),
    }
    entries = []
    for name, (files, expect) in variants.items():
        entries.append(Entry(f"{name}_zip", "run", expect, (f"{name}.zip",), {f"{name}.zip": _zip(files)}))
        entries.append(Entry(f"{name}_folder", "run", expect, (name,),
                             {f"{name}/{member}": blob for member, blob in files.items()}, browser=False))
    pickled = {**good, "model.pt": b"\x80\x04\x95cos\nsystem\n."}  # a pickle beside the run is never read
    del pickled["model.safetensors"]
    entries.append(Entry("run_pickle_instead_of_safetensors", "run", "has no model.safetensors",
                         ("run_pickle.zip",), {"run_pickle.zip": _zip(pickled)}))
    entries.append(Entry("run_zip_bomb", "run", "unpacks to more than", ("run_bomb.zip",),
                         {"run_bomb.zip": _patched_run_bomb(good)}))
    return entries


def _patched_run_bomb(files: dict[str, bytes]) -> bytes:
    blob = bytearray(_zip(files))
    at = 0
    while True:  # every central-directory entry of model.safetensors declares 3.75 GB
        at = blob.find(b"PK\x01\x02", at)
        if at < 0:
            break
        name_len = struct.unpack("<H", blob[at + 28:at + 30])[0]
        if blob[at + 46:at + 46 + name_len] == b"model.safetensors":
            blob[at + 24:at + 28] = struct.pack("<I", 0xF000_0000)
        at += 46
    return bytes(blob)


# ---- hostile saved runs (issue 18, item 1): small zips that describe something huge -----------------
# Each was measured to cost the server gigabytes before the run limits (vae_core/run_limits.py); now each is
# refused before anything is built. tests/robustness/test_hostile_runs.py loads each in a child process and
# holds its peak memory under 300 MB; `python -m bench hostile` times them.

def _repeated(chunk: bytes, times: int, head: bytes = b"", tail: bytes = b"") -> tuple[bytes, bytes, int, bytes]:
    return head, chunk, times, tail


def _zip_big(members: dict[str, bytes | tuple[bytes, bytes, int, bytes]]) -> bytes:
    """A deflated zip; a member given as _repeated(...) is streamed in, never built whole in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
                continue
            head, chunk, times, tail = content
            with archive.open(name, "w") as member:
                member.write(head)
                block = chunk * max(1, (1 << 20) // len(chunk))  # ~1 MB per write
                for _ in range(times // (len(block) // len(chunk))):
                    member.write(block)
                member.write(chunk * (times % (len(block) // len(chunk))))
                member.write(tail)
    return buffer.getvalue()


def _config_with(files: dict[str, bytes], **model) -> bytes:
    return _tampered_config(files, **model)["config.json"]


@functools.lru_cache(maxsize=2)
def _header_blob(entries: int) -> bytes:
    """The header as bytes: ~60 bytes an entry (1.3 million entries: 78 MB, 3.4 MB zipped)."""
    body = b",".join(b'"t%07d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}' % i for i in range(entries))
    header = b"{" + body + b"}"
    return struct.pack("<Q", len(header)) + header


def _metrics_rows(rows: int, kl_values: int = 0) -> tuple[bytes, bytes, int, bytes]:
    header = "kind,phase,epoch,step,loss,recon,kl,beta,lr,samples_per_second,seconds,kl_per_dim,reason,message\n"
    kl = ";".join(["0.1"] * kl_values)
    row = f"epoch,train,1,1,540.25,530.5,9.75,1.0,0.002,31234.5,0.5,{kl},,\n".encode()
    return _repeated(row, rows, header.encode())


def _many_entries_zip(files: dict[str, bytes], extra: int) -> bytes:
    return _zip({**files, **{f"x/{i}": b"" for i in range(extra)}})


@functools.lru_cache(maxsize=1)
def _hostile_run_entries() -> tuple[Entry, ...]:
    good = _valid_run_files()
    bare = {"config.json": good["config.json"], "model.safetensors": _header_blob(0)}  # no weights: a 3.5 KB zip
    wide = _config_with(good, hidden=[4096, 2048])  # 23 million weights: model.safetensors may hold ~185 MB
    cases = {  # name: (members, the message's fragment, also as a folder)
        "run_hidden_million_layers": ({**bare, "config.json": _config_with(good, hidden=[1] * 10**6)},
                                      "hidden layers, more than the limit of", True),
        "run_hidden_100k_wide_layers": ({**bare, "config.json": _config_with(good, hidden=[8192] * 100_000)},
                                        "hidden layers, more than the limit of", True),
        "run_input_shape_1e18": ({**bare, "config.json": _config_with(good, input_shape=[1, 10**9, 10**9])},
                                 "values, more than the limit of", True),
        "run_config_50mb": ({**good, "config.json": _repeated(b" ", 50 * 10**6, good["config.json"])},
                            "config.json in the zip unpacks to more than", False),
        "run_safetensors_1m_entries": ({**good, "model.safetensors": _header_blob(1_300_000)},
                                       "model.safetensors in the zip unpacks to more than", False),
        "run_safetensors_header_78mb": ({**good, "config.json": wide, "model.safetensors": _header_blob(1_300_000)},
                                        "declares a header of", False),
        "run_safetensors_5000_tensors": ({**good, "model.safetensors": _header_blob(5_000)},
                                         "tensors, more than the limit of", True),
        "run_weights_50mb_of_zeros": ({**good, "model.safetensors": _repeated(bytes(1 << 16), 800)},
                                      "model.safetensors in the zip unpacks to more than", False),
        "run_metrics_100mb": ({**good, "metrics.csv": _metrics_rows(1_800_000)},
                              "metrics.csv in the zip unpacks to more than", False),
        "run_metrics_200k_rows": ({**good, "metrics.csv": _metrics_rows(200_000)},
                                  "lines, more than the limit of", False),
        "run_metrics_2m_kl_values": ({**good, "metrics.csv": _metrics_rows(2_000, 1_000)},
                                     "KL values, more than the limit of", False),
        "run_summary_2mb": ({**good, "summary.json": b"[" + b"[]," * 700_000 + b"[]]"},
                            "more than 1 MB, the limit for this file in a saved run", True),
    }
    made = []
    for name, (members, expect, as_folder) in cases.items():
        made.append(Entry(f"{name}_zip", "run", expect, (f"{name}.zip",), {f"{name}.zip": _zip_big(members)}))
        if as_folder:
            made.append(Entry(f"{name}_folder", "run", expect, (name,), {
                f"{name}/{member}": blob if isinstance(blob, bytes) else blob[0] + blob[1] * blob[2] + blob[3]
                for member, blob in members.items()}, browser=False))
    made.append(Entry("run_zip_10000_entries", "run", "more than 64 files", ("run_many.zip",),
                      {"run_many.zip": _many_entries_zip(good, 10_000)}))
    return tuple(made)


def runs_at_the_bounds() -> dict[str, dict[str, bytes]]:
    """Runs that are not refused but cost the most the run limits let through: files at their bounds.

    A config.json of 4 MB of `[]` (the JSON that costs most memory per byte), a metrics.csv of 100,000 rows
    holding 999,000 KL values, a summary.json of 1 MB of `[]`; each beside a real tiny model.
    """
    from vae_core import run_limits as L

    good = _valid_run_files()
    config = json.loads(good["config.json"])
    config["data"]["padding"] = []
    text = json.dumps(config)
    lists = (L.MAX_CONFIG_BYTES - len(text) - 16) // 3
    config_at_bound = text.replace('"padding": []', '"padding": [' + "[]," * lists + "[]]").encode()
    head = b"kind,phase,epoch,step,loss,recon,kl,beta,lr,samples_per_second,seconds,kl_per_dim,reason,message\n"
    kl_row = b"epoch,train,1,1,540.25,530.5,9.75,1.0,0.002,31234.5,0.5," + b";".join([b"0.1"] * 11) + b",,\n"
    step_row = b"step,train,1,1,540.25,530.5,9.75,1.0,0.002,31234.5,0.5,,,\n"
    kl_rows = L.MAX_METRICS_KL_VALUES // 10 - 100
    metrics = head + kl_row * kl_rows + step_row * (L.MAX_METRICS_ROWS - kl_rows)
    summary = b"[" + b"[]," * ((L.MAX_SUMMARY_BYTES - 8) // 3) + b"[]]"
    return {"config_at_its_bound": {**good, "config.json": config_at_bound},
            "metrics_at_its_bounds": {**good, "metrics.csv": metrics},
            "summary_at_its_bound": {**good, "summary.json": summary}}


# ---- data files --------------------------------------------------------------------------------------

def _data_entries() -> list[Entry]:
    one = lambda name, expect, blob: Entry(name, "data", expect, (name,), {name: blob})  # noqa: E731
    images_4 = struct.pack(">IIII", 0x803, 10, 4, 4) + bytes(160)
    entries = [
        one("empty.csv", "is empty", b""),
        one("blank_lines.csv", "is empty", b"\n\n  \n"),
        one("only_header.csv", "only a header row", b"timestamp,temp,vibration\n"),
        one("only_header_image.csv", "only a header row", _image_csv(rows=0)),
        one("wrong_delimiter.csv", "separated by '|'", _sensor_csv().replace(b",", b"|")),
        one("non_numeric_image.csv", "is not a number", _image_csv("abc")),
        one("non_numeric_sensor.csv", "which is not a number", _sensor_csv("hot")),
        one("ragged_rows.csv", "every row needs the same number of columns", b"time,a,b\n1,2\n3,4,5,6\n"),
        one("ragged_image.csv", "every row needs the same number of columns",
            _image_csv().replace(b"\n1,", b"\n1,9,9,", 1)),
        one("nan_pixels.csv", "not finite", _image_csv("nan")),
        one("inf_pixels.csv", "not finite", _image_csv("inf")),
        one("inf_windows.npz", "NaN or infinite", _npz(windows=np.full((6, 8, 2), np.inf))),
        one("million_columns.csv", "columns, more than the limit",
            ("a," * 999_999 + "a\n" + "1," * 999_999 + "1\n").encode()),
        one("negative_pixels.csv", "pixels must be 0..255", _image_csv("-5")),
        one("big_pixels.csv", "pixels must be 0..255", _image_csv("300")),
        one("negative_pixels.npz", "outside 0..255", _npz(x=np.full((4, 4, 4), -3.0))),
        one("big_pixels.npy", "outside 0..255", _npy(np.full((4, 4, 4), 999.0))),
        one("nan_pixels.npz", "NaN or infinite", _npz(x=np.full((4, 4, 4), np.nan))),
        one("counts_differ.npz", "exactly one label per sample", _npz(x=np.zeros((10, 4, 4)), y=np.zeros(12, int))),
        one("idx_lying_count-images-idx3-ubyte", "truncated",
            struct.pack(">IIII", 0x803, 1000, 4, 4) + bytes(160)),
        one("idx_lying_size-images-idx3-ubyte", "pixel values, more than the limit",
            struct.pack(">IIII", 0x803, 0xFFFF_FFFF, 0xFFFF, 0xFFFF) + bytes(64)),
        one("idx_zero_rows-images-idx3-ubyte", "the file is corrupt", struct.pack(">IIII", 0x803, 10, 0, 4)),
        one("idx_longer-images-idx3-ubyte", "longer than its header says", images_4 + bytes(50)),
        one("truncated.csv.gz", "truncated gzip", gzip.compress(_sensor_csv())[:-40]),
        one("not_gzip.csv.gz", "gzip", b"this was never compressed\n1,2,3\n"),
        one("zip_bomb.zip", "unpacks to more than", _zip_bomb()),
        one("zip_slip.zip", "unsafe path", _zip({"cats/1.png": _png(), "../../etc/evil.png": _png()})),
        one("zip_absolute.zip", "unsafe path", _zip({"/tmp/evil.png": _png(), "dogs/1.png": _png()})),
        one("not_a_png.png", "put single images in a .zip", b"#!/bin/sh\necho this is no image\n"),
        one("fake_png_in_zip.zip", "is not a valid PNG or JPEG image",
            _zip({"cats/1.png": _png(), "dogs/2.png": b"<html>not a png</html>"})),
        one("no_images.zip", "holds no .png or .jpg images", _zip({"notes.txt": b"hello"})),
        one("pickle.npz", "needs pickle", _npz(x=np.array([{"evil": 1}, None], dtype=object))),
        one("pickle.npy", "needs pickle", _npy(np.array([{"evil": 1}], dtype=object))),
        one("text.npz", "must hold numbers", _npz(x=np.array(["a", "b"]))),
        one("not_a_zip.npz", "not a valid zip file", b"PK\x03\x04 but nothing after it"),
        one("binary.csv", "binary file", bytes(range(256)) * 4),
        one("labels_only-labels-idx1-ubyte", "IDX labels file", _idx_labels(10)),
        one("unknown.xlsx", "is not a valid .xlsx workbook", b"PK-ish spreadsheet bytes"),
    ]
    pair = {"pair-images-idx3-ubyte": images_4, "pair-labels-idx1-ubyte": _idx_labels(12)}
    entries.append(Entry("idx_counts_differ", "data", "has 10 images but", tuple(pair), pair))
    return entries


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)  # the corpus must hold the dangerous kind too
    return buffer.getvalue()


# ---- real-world sensor files (issue 18 items 4-9, issue 12 item 1): load right, or refused by name --------

@dataclass(frozen=True)
class RealWorld:
    """An everyday sensor file and what must happen to it: it loads, saying what was done, or is refused."""

    name: str
    outcome: str  # "loads" or "refused"
    expect: str  # loads: a fragment of one of the data set's notes; refused: of the message
    blob: bytes = field(repr=False, default=b"")
    channels: tuple[str, ...] = ()  # loads: exactly the model's input channels (never a label or the time)
    # refused: also an ordinary corpus entry (CLI and Data page). False while the Data page still preselects
    # every numeric column as a channel instead of asking vae_core.data.sensor_column_roles
    corpus: bool = True


def real_world_entries() -> list[RealWorld]:
    """Every real-world sensor case with its expected outcome under the default options."""
    import sensor_filemakers as S

    no_channel = "time,anomaly,flat\n" + "".join(f"{i},{int(i % 50 == 0)},2.5\n" for i in range(100))
    quoted = "t,value,other\n" + "".join(f'{i},"{i % 7},5",{i % 3}\n' for i in range(60))
    mixed_offsets = S.dst_csv().decode().replace("+01:00", "", 1)
    sensors = ("temp", "pressure")
    return [
        RealWorld("decimal_comma.csv", "loads", "numbers read with a decimal comma", S.decimal_comma_csv(), sensors),
        RealWorld("pandas_index.csv", "loads", "time column 'Unnamed: 0': a row index saved by pandas",
                  S.pandas_index_csv(), sensors),
        RealWorld("changepoint_column.csv", "loads", "label-like column(s) kept out of the channels: 'changepoint'",
                  S.pandas_index_csv(), sensors),
        RealWorld("duplicated_times.csv", "loads", "rows with the same time were averaged", S.duplicated_times_csv(),
                  sensors),
        RealWorld("dst_offsets.csv", "loads", "(a daylight-saving change): times converted to UTC", S.dst_csv(),
                  sensors),
        RealWorld("text_labels.csv", "loads", "'fault' marks an anomaly (1), 'ok' normal (0)", S.text_labels_csv(),
                  sensors),
        RealWorld("index_and_empty.csv", "loads", "skipped empty column(s): 'broken'", S.index_and_empty_csv(),
                  sensors),
        RealWorld("plant.xlsx", "loads", "read the first sheet, 'readings'", S.xlsx_bytes(), sensors),
        RealWorld("mixed_offsets.csv", "refused", "mixes times with a UTC offset", mixed_offsets.encode()),
        RealWorld("quoted_decimal_comma.csv", "refused", "holds numbers written with a decimal comma", quoted.encode()),
        RealWorld("labels_only.csv", "refused", "has no numeric column to use as a channel ('time': time",
                  no_channel.encode(), corpus=False),
        RealWorld("old_excel.xls", "refused", "Excel 97-2003 (.xls) spreadsheets are not supported",
                  b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 ole2 compound file"),
    ]


def _real_world_refused() -> list[Entry]:
    """The refused real-world files as ordinary corpus entries (CLI exit 2, the Data page's message)."""
    return [Entry(r.name, "data", r.expect, (r.name,), {r.name: r.blob}) for r in real_world_entries()
            if r.outcome == "refused" and r.corpus]


def entries() -> list[Entry]:
    """Every corpus entry, in memory."""
    return _data_entries() + _real_world_refused() + _run_entries() + list(_hostile_run_entries())


def write_corpus(folder: str | Path) -> list[Entry]:
    """Write every entry's files under `folder` (one subfolder per entry) plus manifest.json."""
    root = Path(folder)
    made = entries()
    for entry in made:
        for rel, blob in entry.files.items():
            path = root / entry.name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
    (root / "manifest.json").write_text(json.dumps([e.manifest() for e in made], indent=1))
    return made


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/bad_inputs/make_corpus.py OUT_DIR")
    written = write_corpus(sys.argv[1])
    print(f"wrote {len(written)} bad inputs to {sys.argv[1]}")
