"""The Reconstructions & samples page headless: reconstructions with their errors, prior samples, traversals
sorted by KL, interpolation endpoints; images checked pixel by pixel against vae_core's own results."""
from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import pytest
import streamlit.testing.v1.app_test as app_test_module
from app_session import open_app, train_on, train_tiny
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from dashboard.components import images
from vae_core import analysis

PAGE = "app_pages/generate.py"
CAPTION = re.compile(r"^#(\d+) \(digit (\d)\): ([\d.]+) nats$")


@pytest.fixture()
def media(monkeypatch):
    """Reads back the pictures the last run sent (AppTest keeps them in a per-run in-memory store)."""
    stores: list[MemoryMediaFileStorage] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)

    def fetch(url: str) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(stores[-1].get_file(url.rsplit("/", 1)[1]).content)))

    return fetch


def tiles(canvas: np.ndarray, n: int, cols: int, upscale: int, h: int = 28, w: int = 28, pad: int = 2) -> np.ndarray:
    """The n tiles of a components.images.mosaic, undone: (n, h, w) uint8."""
    c = canvas[::upscale, ::upscale]
    out = []
    for k in range(n):
        r, col = divmod(k, cols)
        out.append(c[pad + r * (h + pad): pad + r * (h + pad) + h, pad + col * (w + pad): pad + col * (w + pad) + w])
    return np.stack(out)


def close(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a.astype(int), b.astype(int), atol=1)  # one grey level of float noise


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def recon_captions(at) -> list[tuple[int, str, float]]:
    (element,) = [im for im in at.image if im.captions and CAPTION.match(im.captions[0])]
    return [(int(m[1]), m[2], float(m[3])) for m in map(CAPTION.match, element.captions)]


@pytest.fixture(scope="module")
def trained():
    """One session with a tiny real MNIST run, on this page (shared: training costs seconds)."""
    at = open_app()
    ws = train_tiny(at, epochs=1)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at, ws.current_run()


def test_without_a_run_the_page_sends_you_to_train():
    at = open_app(PAGE)
    assert "Train one first" in at.info[0].value
    assert [link.proto.label for link in at.main.get("page_link")] == ["Go to Train"]
    assert not at.image


def test_five_sections_and_every_control_explains_itself(trained):
    at, _ = trained
    assert [t.label for t in at.tabs] == ["Reconstructions", "Samples from the prior", "Prior vs codes",
                                          "Latent traversals", "Interpolation"]
    for widget in (*at.slider, *at.selectbox, *at.radio, *at.number_input):
        assert widget.help and len(widget.help) > 30, widget.key


def test_reconstructions_sit_beside_their_originals_with_their_errors(trained, media):
    at, run = trained
    at.run()
    items = recon_captions(at)
    assert len(items) == 16
    ids = np.array([i for i, _, _ in items])
    assert set(ids) <= set(run.data.indices("test").tolist()) and len(set(ids)) == 16
    assert [d for _, d, _ in items] == [run.data.label_text(i) for i in ids]
    expected = analysis.reconstruction_errors(run.model, run.data.x[ids])
    np.testing.assert_allclose([e for _, _, e in items], expected, atol=0.051)
    all_errors = analysis.reconstruction_errors(run.model, run.data.x[run.data.indices("test")])
    assert any(f"**{all_errors.mean():.1f} nats** per input" in m.value for m in at.markdown)
    (element,) = [im for im in at.image if im.captions and CAPTION.match(im.captions[0])]
    pair = tiles(media(element.value[0]), 2, cols=2, upscale=3)
    close(pair[0], images.as_uint8(run.data.x[ids[:1]])[0])  # the original on the left
    close(pair[1], images.as_uint8(analysis.reconstruct(run.model, run.data.x[ids[:1]]))[0])  # its reconstruction


def test_worst_reconstructed_and_the_shuffle_seed(trained):
    at, run = trained
    first = [i for i, _, _ in recon_captions(at)]
    at.number_input(key="gen_recon_seed").set_value(1).run()
    other = [i for i, _, _ in recon_captions(at)]
    assert other != first and len(other) == 16
    at.run()
    assert [i for i, _, _ in recon_captions(at)] == other  # same seed, same inputs
    at.radio(key="gen_recon_order").set_value("worst")
    at.slider(key="gen_recon_count_image").set_value(8).run()
    assert at.number_input(key="gen_recon_seed").disabled
    test_ids = run.data.indices("test")
    errors = analysis.reconstruction_errors(run.model, run.data.x[test_ids])
    worst = test_ids[np.argsort(-errors)[:8]]
    assert [i for i, _, _ in recon_captions(at)] == worst.tolist()
    shown = [e for _, _, e in recon_captions(at)]
    assert shown == sorted(shown, reverse=True)
    at.radio(key="gen_recon_order").set_value("random")
    at.slider(key="gen_recon_count_image").set_value(16).run()
    at.number_input(key="gen_recon_seed").set_value(0).run()


def test_prior_samples_follow_the_seed(trained, media):
    at, run = trained
    at.run()
    (grid,) = [im for im in at.image if im.captions == ["32 samples, seed 0"]]
    close(tiles(media(grid.value[0]), 32, cols=8, upscale=3), images.as_uint8(analysis.sample_prior(run.model, 32, 0)))
    at.button(key="gen_prior_new").click().run()
    assert at.number_input(key="gen_prior_seed").value == 1
    (grid,) = [im for im in at.image if im.captions == ["32 samples, seed 1"]]
    close(tiles(media(grid.value[0]), 32, cols=8, upscale=3), images.as_uint8(analysis.sample_prior(run.model, 32, 1)))
    # reconstructions, samples, traversals, interpolation, and Prior vs codes' two sample grids
    assert [d.proto.label for d in at.get("download_button")].count("Download PNG") == 6


def test_traversal_rows_are_sorted_by_kl_and_decode_the_sweep(trained, media):
    at, run = trained
    at.run()
    kl = np.asarray(run.summary["kl_per_dim"])
    rows = [m.value for m in at.markdown if m.value.startswith("**z")]
    assert len(rows) == 8  # the default: the 8 most informative of 16
    shown = [int(re.match(r"\*\*z(\d+)\*\*", r)[1]) for r in rows]
    assert shown == np.argsort(-kl, kind="stable")[:8].tolist()
    assert [float(re.search(r"KL ([\d.]+) nats", r)[1]) for r in rows] == [round(kl[d], 2) for d in shown]
    first_row = next(im for im in at.image if len(im.value) == 1 and not im.captions[0]
                     and media(im.value[0]).shape == images.mosaic(np.zeros((9, 1, 28, 28)), cols=9).shape)
    sweep = analysis.traverse(run.model, np.zeros(run.model.cfg.latent_dim, np.float32), [shown[0]],
                              np.linspace(-2.5, 2.5, 9, dtype=np.float32))[0]
    close(tiles(media(first_row.value[0]), 9, cols=9, upscale=2), images.as_uint8(sweep))
    at.slider(key="gen_trav_dims_16").set_value(16)
    at.slider(key="gen_trav_steps").set_value(5)
    at.slider(key="gen_trav_range").set_value((-1.0, 3.0)).run()
    assert len([m for m in at.markdown if m.value.startswith("**z")]) == 16
    assert any(c.value == "Columns: z_d = -1, 0, 1, 2, 3." for c in at.caption)


def test_interpolation_runs_between_the_two_reconstructions(trained, media):
    at, run = trained
    at.run()
    a, b = at.selectbox(key="gen_interp_a").value, at.selectbox(key="gen_interp_b").value
    assert run.data.label_text(a) != run.data.label_text(b)  # two different digits by default
    assert at.selectbox(key="gen_interp_a").options[0] == f"#{a} (digit {run.data.label_text(a)})"
    at.slider(key="gen_interp_steps").set_value(6).run()
    by_caption = {im.captions[0]: im.value[0] for im in at.image if len(im.value) == 1}
    start, strip = by_caption["A (original)"], by_caption["decoded path, A → B, 6 steps"]
    assert "B (original)" in by_caption
    path = tiles(media(strip), 6, cols=6, upscale=3)
    ends = images.as_uint8(analysis.reconstruct(run.model, run.data.x[[a, b]]))
    close(path[0], ends[0])
    close(path[-1], ends[1])
    # the path really goes somewhere: its ends differ (the tiny model's two digits differ by ~4 grey levels a pixel)
    assert np.abs(path[0].astype(int) - path[-1].astype(int)).mean() > 2
    close(tiles(media(start), 1, cols=1, upscale=3)[0], images.as_uint8(run.data.x[[a]])[0])


def values(trace: dict, field: str) -> np.ndarray:
    v = trace[field]
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
    return np.asarray(v)


@pytest.mark.slow
def test_sensor_windows_are_drawn_as_lines():
    at, ws = train_on("basicmotions", 2, PAGE)
    run = ws.current_run()
    specs = charts(at)
    titles = [s["layout"]["title"]["text"] for s in specs]
    recon = [s for s in specs if re.match(r"^#\d+ \(\w+\): error [\d.]+ nats$", s["layout"]["title"]["text"])]
    assert len(recon) == 4  # the default for windows
    i = int(recon[0]["layout"]["title"]["text"][1:].split(" ")[0])
    err = float(re.search(r"error ([\d.]+) nats", recon[0]["layout"]["title"]["text"])[1])
    assert err == pytest.approx(analysis.reconstruction_errors(run.model, run.data.x[[i]])[0], abs=0.051)
    dashed = [t for t in recon[0]["data"] if t.get("line", {}).get("dash") == "dash"]
    np.testing.assert_allclose(values(dashed[0], "y"), analysis.reconstruct(run.model, run.data.x[[i]])[0][:, 0],
                               rtol=1e-4, atol=1e-5)
    assert any(t.startswith("6 windows decoded from the prior") for t in titles)
    (trav,) = [s for s in specs if s["layout"]["title"]["text"].startswith("One panel per latent dimension")]
    kl = np.asarray(run.summary["kl_per_dim"])
    panel_dims = [int(re.match(r"z(\d+):", a["text"])[1]) for a in trav["layout"]["annotations"]]
    assert panel_dims == np.argsort(-kl, kind="stable")[:len(panel_dims)].tolist()
    (path,) = [s for s in specs if s["layout"]["title"]["text"].startswith("From ")]
    assert sum(t["name"].startswith("step ") for t in path["data"]) == 10
    assert at.selectbox(key="gen_trav_channel").options == list(run.data.channels)
    assert at.selectbox(key="gen_recon_channel").options == ["all channels", *run.data.channels]
    at.selectbox(key="gen_recon_channel").set_value(2).run()  # one channel: original and reconstruction only
    one = [s for s in charts(at) if s["layout"]["title"]["text"] == recon[0]["layout"]["title"]["text"]][0]
    assert [t["name"] for t in one["data"]] == [run.data.channels[2], f"{run.data.channels[2]} (reconstruction)"]
