"""Projector export: the files parse as TensorBoard's Embedding Projector reads them (the config against its
protobuf schema, tensor rows against metadata rows, the sprite's size and tiles), from the CLI too."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest
from cli_session import run_cli
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from PIL import Image

from vae_core import analysis, projector
from vae_core.checkpoint import save_run
from vae_core.config import configs_for
from vae_core.runs import new_run, train_run


def _projector_config_class():
    """tensorboard.projector.ProjectorConfig, built from tensorboard/plugins/projector/projector_config.proto."""
    f = descriptor_pb2.FileDescriptorProto(name="projector_config.proto", package="tensorboard.projector",
                                           syntax="proto3")
    T = descriptor_pb2.FieldDescriptorProto
    one, many = T.LABEL_OPTIONAL, T.LABEL_REPEATED

    def message(name, *fields):
        m = f.message_type.add(name=name)
        for number, (field, kind, label, type_name) in enumerate(fields, 1):
            m.field.add(name=field, number=number, type=kind, label=label, type_name=type_name)

    message("SpriteMetadata", ("image_path", T.TYPE_STRING, one, None), ("single_image_dim", T.TYPE_UINT32, many, None))
    message("EmbeddingInfo", ("tensor_name", T.TYPE_STRING, one, None), ("metadata_path", T.TYPE_STRING, one, None),
            ("bookmarks_path", T.TYPE_STRING, one, None), ("tensor_shape", T.TYPE_UINT32, many, None),
            ("sprite", T.TYPE_MESSAGE, one, ".tensorboard.projector.SpriteMetadata"),
            ("tensor_path", T.TYPE_STRING, one, None))
    message("ProjectorConfig", ("model_checkpoint_path", T.TYPE_STRING, one, None),
            ("embeddings", T.TYPE_MESSAGE, many, ".tensorboard.projector.EmbeddingInfo"),
            ("model_checkpoint_dir", T.TYPE_STRING, one, None))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorboard.projector.ProjectorConfig"))


def _read_like_the_projector(files: dict[str, bytes]):
    """(config, tensors (N, D), metadata rows with the header) as vz_projector's parsers see them."""
    config = text_format.Parse(files[projector.CONFIG].decode(), _projector_config_class()())  # strict: no unknowns
    lines = [line for line in files[projector.TENSORS].decode().split("\n") if line.strip()]
    tensors = np.array([[float(v) for v in line.split("\t")] for line in lines])
    meta = [line.split("\t") for line in files[projector.METADATA].decode().split("\n") if line.strip()]
    return config, tensors, meta


@pytest.fixture(scope="module")
def image_run(mnist_small):
    run = new_run(mnist_small, *configs_for("image", (1, 28, 28), {"latent_dim": 3, "hidden": (32,), "epochs": 1}))
    list(train_run(run))
    return run


def test_image_codes_parse_as_the_projector_expects(image_run, mnist_small):
    files = projector.projector_files(image_run.model, mnist_small, "test", name='run "1": codes')
    config, tensors, meta = _read_like_the_projector(files)
    (emb,) = config.embeddings
    ids = mnist_small.indices("test")
    assert tensors.shape == (len(ids), 3) == tuple(emb.tensor_shape)
    assert np.allclose(tensors, analysis.encode_means(image_run.model, mnist_small.x[ids]), atol=1e-5)
    assert meta[0] == ["index", "part", "label"] and len(meta) - 1 == len(tensors)  # a header, then one row a point
    assert meta[1] == [str(ids[0]), "test", mnist_small.label_text(int(ids[0]))]
    assert (emb.tensor_name, emb.tensor_path, emb.metadata_path) == ('run "1": codes', "tensors.tsv", "metadata.tsv")
    sprite = np.asarray(Image.open(io.BytesIO(files[emb.sprite.image_path])))
    cols = math.ceil(math.sqrt(len(ids)))
    assert list(emb.sprite.single_image_dim) == [28, 28]
    assert sprite.shape == (math.ceil(len(ids) / cols) * 28, cols * 28) and max(sprite.shape) <= projector.MAX_SPRITE_PX
    r, c = divmod(len(ids) - 1, cols)  # the last point's thumbnail, row-major
    tile = sprite[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28]
    assert np.abs(tile.astype(int) - np.rint(mnist_small.x[ids[-1], 0] * 255)).max() <= 1


def test_sensor_codes_have_no_sprite_and_a_sample_is_capped(bleeding):
    run = new_run(bleeding, *configs_for("sensor", bleeding.input_shape, {"hidden": (8, 16), "epochs": 1}))
    list(train_run(run))
    files = projector.projector_files(run.model, bleeding, "all", max_points=100)
    config, tensors, meta = _read_like_the_projector(files)
    assert projector.SPRITE not in files and not config.embeddings[0].HasField("sprite")
    assert tensors.shape == (100, 8) and len(meta) == 101 and meta[0] == ["index", "part", "label"]
    assert {row[2] for row in meta[1:]} <= {"normal", "anomaly"}


def test_a_one_dimensional_code_is_refused(mnist_small):
    run = new_run(mnist_small, *configs_for("image", (1, 28, 28), {"latent_dim": 1, "hidden": (8,)}))
    with pytest.raises(ValueError, match="needs codes of 2 dimensions or more"):
        projector.projector_files(run.model, mnist_small)


def test_the_export_command_writes_the_folder(image_run, tmp_path, capsys):
    image_run.data_info.update(source="mnist")
    save_run(image_run, tmp_path / "run")
    code, out, err = run_cli(capsys, "export", str(tmp_path / "run"), "--projector", str(tmp_path / "p"),
                             "--points", "200", "--part", "all")
    assert code == 0, err
    assert out.startswith(f"wrote {tmp_path / 'p'}/: tensors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt "
                          "(200 points, 3 dimensions)")
    config, tensors, meta = _read_like_the_projector({p.name: p.read_bytes() for p in (tmp_path / "p").iterdir()})
    assert tensors.shape == (200, 3) and len(meta) == 201 and list(config.embeddings[0].tensor_shape) == [200, 3]
    code, _, err = run_cli(capsys, "export", str(tmp_path / "run"), "--projector", str(tmp_path / "q"), "--points", "0")
    assert code == 2 and err.startswith("error: --points must be from 1 to 10,000")
