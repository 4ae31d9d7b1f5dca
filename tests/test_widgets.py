"""vaecore.widgets: the latent explorer reacts to its sliders; generate_from validates input."""

import io

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from vaecore import build_vae  # noqa: E402
from vaecore import widgets as vw  # noqa: E402

ARCH = {"input": (8, 8, 1), "latent": 3, "hidden": [16], "name": "tiny_widgets"}


@pytest.fixture(scope="module")
def model():
    return build_vae(ARCH, seed=0)


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(0)
    return rng.normal(size=(500, 3)).astype("float32"), rng.integers(0, 10, 500)


def png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_slider_change_updates_image_and_marker(model, codes):
    z, y = codes
    explorer = vw.latent_explorer(model, z, y, class_names=[f"c{i}" for i in range(10)])
    assert isinstance(explorer, widgets.HBox)
    assert len(explorer.sliders) == 3 and explorer.view == "2d"
    assert explorer.marker_position == (0.0, 0.0)
    image_before, scatter_before = explorer.image.value, explorer.scatter.value
    decoded_before = explorer.decoded.copy()

    explorer.sliders[0].value = 2.5

    assert explorer.image.value != image_before
    assert not np.allclose(explorer.decoded, decoded_before)
    expected = np.asarray(model.decode(np.array([[2.5, 0.0, 0.0]], np.float32)))[0]
    np.testing.assert_allclose(explorer.decoded, expected, atol=1e-5)
    assert explorer.marker_position == (2.5, 0.0)
    assert explorer.scatter.value != scatter_before


def test_only_the_marker_is_redrawn(model, codes, monkeypatch):
    z, y = codes
    explorer = vw.latent_explorer(model, z, y)
    points = explorer._ax.collections[0]
    draws = []
    original_draw = points.draw
    monkeypatch.setattr(points, "draw", lambda renderer: draws.append(1) or original_draw(renderer))
    before = png_pixels(explorer.scatter.value)
    explorer.update({1: -2.0})
    after = png_pixels(explorer.scatter.value)
    assert draws == []  # the 500 points were not drawn again (blitting)
    changed = np.any(after != before, axis=-1)
    assert 0 < changed.sum() < 0.02 * changed.size  # old and new marker spots only


def test_update_and_reset(model, codes):
    z, _ = codes
    explorer = vw.latent_explorer(model, z, view="3d")
    explorer.update([1.0, -1.0, 0.5])
    assert [s.value for s in explorer.sliders] == [1.0, -1.0, 0.5]
    np.testing.assert_allclose(explorer.z, [1.0, -1.0, 0.5])
    assert explorer.marker_position == (1.0, -1.0, 0.5)
    assert "1.00" in explorer.readout.value
    explorer.reset()
    np.testing.assert_allclose(explorer.z, 0.0)
    assert explorer.marker_position == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="expected 3 values"):
        explorer.update([1.0])
    with pytest.raises(ValueError, match="no slider"):
        explorer.update({5: 1.0})


def test_without_reference_codes_there_is_no_scatter(model):
    explorer = vw.latent_explorer(model, slider_range=2.0)
    assert explorer.scatter is None and explorer.marker_position is None
    assert len(explorer.children) == 2
    assert explorer.sliders[0].min == -2.0 and explorer.sliders[0].max == 2.0
    before = explorer.image.value
    explorer.sliders[2].value = -1.5
    assert explorer.image.value != before


def test_large_latent_gets_sliders_for_the_most_used_dims():
    big = build_vae({"input": (8, 8, 1), "latent": 12, "hidden": [8], "name": "tiny_big"}, seed=0)
    rng = np.random.default_rng(1)
    z_ref = rng.normal(scale=0.05, size=(300, 12)).astype("float32")
    z_ref[:, 7] *= 40  # the dimensions the "model uses"
    z_ref[:, 3] *= 20
    base = np.full(12, 0.25, np.float32)
    explorer = vw.latent_explorer(big, z_ref, max_sliders=2, base=base)
    assert explorer.dims == (7, 3)
    assert [s.description for s in explorer.sliders] == ["z[7]", "z[3]"]
    explorer.update({3: 1.0})
    expected = base.copy()
    expected[3] = 1.0
    np.testing.assert_allclose(explorer.z, expected)  # others held at the base code
    assert explorer.marker_position == (0.25, 1.0)
    # the readout shows the values the sliders set, not z[0..7]
    assert explorer.readout.value == "<code>z[7] = 0.25, z[3] = 1.00</code>"
    chosen = vw.latent_explorer(big, dims=[0, 11])
    assert chosen.dims == (0, 11) and len(chosen.sliders) == 2


def test_explorer_argument_errors(model, codes):
    z, _ = codes
    with pytest.raises(ValueError, match="needs z_ref"):
        vw.latent_explorer(model, view="3d")
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        vw.latent_explorer(model, z[:, :2])
    with pytest.raises(ValueError, match=r"from 0 to 2 \(latent_dim=3\), got \(0, 3\)"):
        vw.latent_explorer(model, dims=[0, 3])
    with pytest.raises(ValueError, match="at least 3"):
        vw.latent_explorer(model, z, dims=[0, 1], view="3d")
    with pytest.raises(ValueError, match="view"):
        vw.latent_explorer(model, z, view="4d")


def test_generate_from(model):
    from vaecore import toolbox

    assert vw.generate_from is toolbox.generate_from  # known answers: tests/test_toolbox.py
    z = np.array([[0.1, 0.2, 0.3], [-1.0, 0.0, 2.0]], np.float32)
    np.testing.assert_allclose(vw.generate_from(model, z), np.asarray(model.decode(z)), atol=1e-6)
    with pytest.raises(ValueError, match=r"length 3 \(the model's latent_dim\), got shape \(2,\)"):
        vw.generate_from(model, [1.0, 2.0])


def test_image_to_png_upscales_crisply():
    image = np.zeros((4, 4, 1), np.float32)
    image[0, 0] = 1.0
    pixels = png_pixels(vw.image_to_png(image, width=16))
    assert pixels.shape == (16, 16, 3)
    assert (pixels[:4, :4] == 255).all() and (pixels[4:, 4:] == 0).all()


# ------------------------------------------------------------------ attribute_explorer
CONV = {"input": (8, 8, 3), "latent": 4, "encode": [(4, 3, 2)], "name": "tiny_attr"}


@pytest.fixture(scope="module")
def two_models():
    return {"beta = 1": build_vae(CONV, likelihood="gaussian", seed=0),
            "beta = 5": build_vae(CONV, likelihood="gaussian", beta=5.0, seed=1)}


@pytest.fixture(scope="module")
def faces():
    return np.random.default_rng(0).uniform(size=(5, 8, 8, 3)).astype("float32")


def _vectors(models):
    rng = np.random.default_rng(1)
    return {name: {"Smiling": rng.normal(size=4), "Male": rng.normal(size=4)} for name in models}


def test_attribute_explorer_decodes_code_plus_vectors_plus_offsets(two_models, faces):
    vectors = _vectors(two_models)
    ex = vw.attribute_explorer(two_models, faces, vectors, dims={"beta = 1": [2, 0], "beta = 5": [1]})
    assert isinstance(ex, widgets.HBox) and ex.attributes == ["Smiling", "Male"]
    m1 = two_models["beta = 1"]
    z0 = np.asarray(m1.encode(faces[:1])[0])[0]
    np.testing.assert_allclose(ex.z, z0, atol=1e-5)  # all sliders at 0: the reconstruction
    before = ex.image.value

    ex.update(face=3, strengths={"Smiling": 1.5}, offsets={2: -1.0})
    z3 = np.asarray(m1.encode(faces[3:4])[0])[0]
    expected = z3 + 1.5 * vectors["beta = 1"]["Smiling"]
    expected[2] -= 1.0
    np.testing.assert_allclose(ex.z, expected, atol=1e-5)
    np.testing.assert_allclose(ex.decoded, np.asarray(m1.decode(expected[None].astype("float32")))[0], atol=1e-5)
    assert ex.image.value != before and "Smiling +1.50" in ex.readout.value

    ex.strength_sliders["Male"].value = -2.0  # a slider drag decodes too
    np.testing.assert_allclose(ex.z, expected - 2.0 * vectors["beta = 1"]["Male"], atol=1e-5)


def test_attribute_explorer_switching_model_uses_its_vectors_and_dims(two_models, faces):
    vectors = _vectors(two_models)
    ex = vw.attribute_explorer(two_models, faces, vectors, dims={"beta = 1": [2, 0], "beta = 5": [1]})
    ex.update(offsets={0: 2.0}, strengths={"Male": 1.0})
    ex.update(model="beta = 5")
    assert ex.dims == (1,)
    assert ex.latent_sliders[0].description == "z[1]" and ex.latent_sliders[1].layout.display == "none"
    assert all(s.value == 0.0 for s in ex.latent_sliders)  # offsets reset with the model
    m5 = two_models["beta = 5"]
    z = np.asarray(m5.encode(faces[:1])[0])[0] + vectors["beta = 5"]["Male"]
    np.testing.assert_allclose(ex.z, z, atol=1e-5)
    np.testing.assert_allclose(ex.decoded, np.asarray(m5.decode(z[None].astype("float32")))[0], atol=1e-5)
    ex.reset()
    np.testing.assert_allclose(ex.z, np.asarray(m5.encode(faces[:1])[0])[0], atol=1e-5)


def test_attribute_explorer_default_dims_and_errors(two_models, faces):
    vectors = _vectors(two_models)
    ex = vw.attribute_explorer(two_models, faces, vectors, max_sliders=2)
    assert len(ex.dims) == 2 and len(ex.latent_sliders) == 2
    with pytest.raises(ValueError, match="no attribute vectors"):
        vw.attribute_explorer(two_models, faces, {"beta = 1": vectors["beta = 1"]})
    with pytest.raises(ValueError, match="expected"):
        vw.attribute_explorer(two_models, faces, {"beta = 1": vectors["beta = 1"],
                                                  "beta = 5": {"Smiling": np.zeros(4)}})
    with pytest.raises(ValueError, match="length"):
        vw.attribute_explorer(two_models, faces, {n: {"Smiling": np.zeros(3), "Male": np.zeros(3)}
                                                  for n in two_models})
    with pytest.raises(ValueError, match="dims"):
        vw.attribute_explorer(two_models, faces, vectors, dims={"beta = 1": [9]})
    with pytest.raises(ValueError, match="unknown model"):
        ex.update(model="beta = 3")
    with pytest.raises(ValueError, match="unknown attributes"):
        ex.update(strengths={"Bald": 1.0})
    with pytest.raises(ValueError, match="no slider"):
        ex.update(offsets={max(set(range(4)) - set(ex.dims)): 1.0})
