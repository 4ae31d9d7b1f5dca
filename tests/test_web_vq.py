"""The in-page VQ-VAE explorer (vaecore.explorers.page_vq): what the page decodes, in NumPy.

The page looks each cell's index up in the codebook and runs the exported decoder; here
the same computation (``grid_code``, ``decode_grid``) is checked against Keras'
``decode_indices``, for float16 and int8 weights, and the spec is checked for what the
page needs. The browser side is ``tests/test_browser.py::test_vq_explorer_cell_and_entry``.
"""

from __future__ import annotations

import numpy as np
import pytest

from vaecore import web
from vaecore.images import to_uint8
from vaecore.vq import build_vqvae

ARCH = {"input": (16, 16, 3), "encode": [(8, 3, 2), (16, 3, 2)], "latent": (4, 4, 6),
        "codebook": {"size": 12}, "name": "web_vq"}  # fmt: skip


@pytest.fixture(scope="module")
def vq_model():
    model = build_vqvae(ARCH, likelihood="discretized_logistic", scale="pixel", channel_coupling=True, seed=0)
    rng = np.random.default_rng(0)  # a codebook spread like trained codes, not the init's
    model.quantizer.codebook.assign(rng.normal(0, 1.0, (12, 6)).astype("float32"))
    return model


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(1).random((16, 16, 3)).astype("float32")


@pytest.mark.parametrize(("precision", "tolerance"), [("float16", 2), ("int8", 4), ("float32", 1)])
def test_numpy_decode_matches_keras(vq_model, image, precision, tolerance):
    explorer = web.vq_explorer(vq_model, image, precision=precision)
    assert explorer.spec["precision"] == precision
    assert explorer.check_error <= tolerance
    rng = np.random.default_rng(2)
    grids = rng.integers(0, 12, (4, 4, 4)).astype("int32")
    keras_u8 = to_uint8(np.asarray(vq_model.decode_indices(grids))).astype(int)
    mine_u8 = to_uint8(np.stack([web.decode_grid(explorer.spec, g) for g in grids])).astype(int)
    assert np.abs(mine_u8 - keras_u8).max() <= tolerance
    code = web.grid_code(explorer.spec, grids[0])  # the codebook rows, exactly
    np.testing.assert_array_equal(code.reshape(4, 4, 6), vq_model.codebook[grids[0]])


def test_spec_starts_on_the_image_codes(vq_model, image):
    explorer = web.vq_explorer(vq_model, image, hint="Click a cell.", title="toy")
    vq = explorer.spec["vq"]
    start = np.asarray(vq_model.encode_indices(image[None]))[0]
    assert vq["grid"] == [4, 4] and vq["num_codes"] == 12 and vq["dim"] == 6
    assert vq["indices"] == start.reshape(-1).tolist()
    assert explorer.spec["check"]["grids"][0] == vq["indices"] and len(explorer.spec["check"]["grids"]) == 3
    assert vq["indices"][vq["cell"]] != 11  # the slider can move up from the first cell
    assert len(vq["colors"]) == 4 * ((12 * 3 + 2) // 3)  # one RGB per code, base64
    assert explorer.spec["hint"] == "Click a cell." and vq["image"] is not None
    assert repr(explorer).startswith("VQExplorer(grid=4x4, codes=12")
    html = explorer.html()
    assert 'class="vaecore-explorer"' in html and "vaecoreWeb.mount(" in html


def test_start_from_a_grid_and_a_cell(vq_model):
    grid = np.arange(16).reshape(4, 4) % 12
    explorer = web.vq_explorer(vq_model, grid=grid, cell=(1, 2), precision="float16")
    assert explorer.spec["vq"]["cell"] == 6 and explorer.spec["vq"]["image"] is None
    assert explorer.spec["vq"]["indices"] == grid.reshape(-1).tolist()


def test_refusals(vq_model, image):
    from vaecore import build_vae

    vae = build_vae({"input": (16, 16, 3), "latent": 4, "encode": [(8, 3, 2)], "name": "v"}, seed=0)
    with pytest.raises(ValueError, match="needs a VQ-VAE"):
        web.vq_explorer(vae, image)
    with pytest.raises(ValueError, match="image must be one"):
        web.vq_explorer(vq_model, image[:8])
    with pytest.raises(ValueError, match="give image"):
        web.vq_explorer(vq_model)
    with pytest.raises(ValueError, match="code indices"):
        web.vq_explorer(vq_model, grid=np.full((4, 4), 12))
    with pytest.raises(ValueError, match="cell"):
        web.vq_explorer(vq_model, image, cell=(4, 0))
    spec = web.vq_explorer(vq_model, image, precision="float16").spec
    with pytest.raises(ValueError, match="code indices"):
        web.grid_code(spec, np.zeros((3, 3), int))
    with pytest.raises(ValueError, match="not a VQ explorer"):
        web.grid_code({"decoder": spec["decoder"]}, np.zeros((4, 4), int))
