"""Whatever bytes arrive under whatever name, the loaders raise DataError and nothing else."""
from __future__ import annotations

import gzip
import io
import os
import struct
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vae_core import data as D
from vae_core.dataset import DataError

NAMES = ("data.csv", "data.csv.gz", "data.npz", "data.npy", "images.zip", "train-images-idx3-ubyte",
         "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte", "data.txt", "picture.png", "noext")
# Prefixes that steer random bytes past the first check of each format.
PREFIXES = (b"", b"\x1f\x8b", b"PK\x03\x04", b"\x93NUMPY", struct.pack(">I", 0x803), struct.pack(">I", 0x801),
            b"timestamp,value,is_anomaly\n", b"label,p0,p1,p2,p3\n")
# VAE_FUZZ_EXAMPLES=5000 for a longer hunt; 150 keeps the suite fast.
FUZZ = settings(max_examples=int(os.environ.get("VAE_FUZZ_EXAMPLES", 150)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _loads_or_data_error(files) -> None:
    try:
        D.load_upload(files)
    except DataError:
        pass


@FUZZ
@given(name=st.sampled_from(NAMES), prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=300))
def test_random_bytes_raise_only_data_error(name, prefix, body):
    _loads_or_data_error([(name, prefix + body)])


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)
    return buffer.getvalue()


member_names = st.sampled_from(["a/1.png", "b/2.jpg", "x.npy", "y.npy", "label_names.npy", "../up.png", "c/.hidden"])


@FUZZ
@given(name=st.sampled_from(["images.zip", "data.npz"]),
       members=st.dictionaries(member_names, st.binary(max_size=200), max_size=3))
def test_valid_zips_with_random_members_raise_only_data_error(name, members):
    _loads_or_data_error([(name, _zip_of(members))])


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list("0123456789,.-;\n\tabe xNnTruFls\"")), max_size=400),
       gz=st.booleans())
def test_random_csv_text_raises_only_data_error(text, gz):
    raw = text.encode()
    _loads_or_data_error([("data.csv.gz" if gz else "data.csv", gzip.compress(raw) if gz else raw)])
    try:
        D.sniff_csv(raw)
    except DataError:
        pass
