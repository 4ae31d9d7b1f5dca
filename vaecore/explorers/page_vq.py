"""The in-page VQ-VAE explorer: click a cell of the code grid, pick another codebook entry.

A VQ-VAE (:mod:`vaecore.vq`) decodes an ``(h, w)`` grid of code indices: each cell is
replaced by its codebook vector, and the latent-map decoder reads the ``(h, w, D)``
grid of vectors. :func:`vq_explorer` puts into the page the decoder (as
:func:`vaecore.explorers.page.latent_explorer` does, float16 or int8 weights), the
codebook (float32) and the index grid of a real test image; the page shows the grid
(each cell coloured by its code, with its index where the cells are large enough), a
click chooses a cell, a slider its codebook entry, and the image is decoded again.
:func:`grid_code` and :func:`decode_grid` compute what the page decodes, in NumPy.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np

from vaecore._shared import to_numpy
from vaecore.explorers.page import AUTO_INT8_BYTES, WebExplorer, _hint
from vaecore.export import decoder_spec, run_network
from vaecore.images import to_uint8

__all__ = ["VQExplorer", "decode_grid", "grid_code", "vq_explorer"]


class VQExplorer(WebExplorer):
    """What :func:`vq_explorer` returns: display it (``_repr_html_``) or ``save`` it.

    ``spec["vq"]`` holds the grid shape, the codebook, the start grid and the test
    image; ``check_error`` is the NumPy runtime's worst pixel against Keras's
    ``decode_indices`` on the check grids, in 1/255.
    """

    def _describe(self, size_bytes: int | None = None) -> str:
        size = self.size_bytes if size_bytes is None else size_bytes
        vq = self.spec["vq"]
        h, w = vq["grid"]
        return f"VQExplorer(grid={h}x{w}, codes={vq['num_codes']}, {size / 1e6:.2f} MB)"


def _codebook(spec: Mapping[str, Any]) -> np.ndarray:
    book = spec["vq"]["codebook"]
    return np.frombuffer(base64.b64decode(book["blob"]), "<f4").reshape(book["shape"]).astype(np.float32)


def grid_code(spec: Mapping[str, Any], grid: Any) -> np.ndarray:
    """The flat ``(h * w * D,)`` code the page decodes for a grid of indices (its codebook rows)."""
    vq = spec.get("vq") if isinstance(spec, Mapping) else None
    if not vq:
        raise ValueError("not a VQ explorer's spec (made by web.vq_explorer)")
    grid = np.asarray(grid)
    h, w = vq["grid"]
    if grid.size != h * w or not np.issubdtype(grid.dtype, np.integer):
        raise ValueError(f"grid must hold {h} x {w} integer code indices, got {grid.dtype} {grid.shape}")
    if grid.min() < 0 or grid.max() >= vq["num_codes"]:
        raise ValueError(f"code indices must lie in 0 .. {vq['num_codes'] - 1}")
    return _codebook(spec)[grid.reshape(-1)].reshape(-1)


def decode_grid(spec: Mapping[str, Any], grid: Any) -> np.ndarray:
    """The ``(H, W, C)`` image in [0, 1] the page shows for ``grid``, by the NumPy runtime."""
    logits = run_network(spec["decoder"], grid_code(spec, grid))
    return (1.0 / (1.0 + np.exp(-logits))).reshape(spec["decoder"]["output_shape"])


def _colors(codebook: np.ndarray) -> bytes:
    """A colour per code: its first three principal components, so similar codes look alike."""
    centred = codebook - codebook.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    pcs = centred @ vt[: min(3, len(vt))].T
    pcs = np.pad(pcs, ((0, 0), (0, 3 - pcs.shape[1])))
    lo, hi = np.percentile(pcs, 2, axis=0), np.percentile(pcs, 98, axis=0)
    scaled = np.clip((pcs - lo) / np.where(hi > lo, hi - lo, 1.0), 0, 1)
    return np.round(40 + 190 * scaled).astype(np.uint8).tobytes()


def vq_explorer(
    model: Any,
    image: Any = None,
    *,
    grid: Any = None,
    cell: int | tuple[int, int] | None = None,
    precision: str = "auto",
    image_width: int = 192,
    hint: str | None = None,
    title: str | None = None,
    check_grids: int = 3,
    seed: int = 0,
) -> VQExplorer:
    """An in-page explorer of a VQ-VAE's code grid, starting from a real image's codes::

        web.vq_explorer(vq_model, x_test[0], hint="Click a cell of the sky, pick another entry.")

    Args:
        model: a trained :class:`vaecore.vq.VQVAE`.
        image: an ``(H, W, C)`` image of this model (a test image): its grid of nearest
            codes is where the page starts (Reset returns there), shown beside the decoding.
        grid: an ``(h, w)`` grid of code indices to start from instead of ``image``.
        cell: the cell chosen first, an index ``row * w + column`` or ``(row, column)``
            (default: the grid's centre, moved to the next cell whose entry is not the
            last, so the slider can move up).
        precision: the decoder's weights: ``"float16"``, ``"int8"`` or ``"float32"``;
            ``"auto"`` takes float16 unless its weights pass ``AUTO_INT8_BYTES`` (then
            int8 if it stays within 4/255 of Keras). The codebook is always float32.
        image_width: CSS pixels of the test image and of the decoded image.
        hint: what to try, one or two sentences over the explorer (plain text).
        title: a heading over the grid.
        check_grids: how many grids carry their Keras decoding for the page's self-check:
            the start grid, then grids with a quarter of the cells drawn at random.

    Raises:
        ValueError: not a VQ-VAE, an image or grid of the wrong shape, a bad cell.
    """
    if not hasattr(model, "decode_indices") or not hasattr(model, "grid_shape"):
        raise ValueError(f"vq_explorer needs a VQ-VAE (vaecore.vq.VQVAE), got {type(model).__name__}")
    h, w = (int(d) for d in model.grid_shape)
    k = int(model.num_codes)
    shape = tuple(int(d) for d in model.arch_def["input"])
    pixels = None
    if image is not None:
        pixels = to_numpy(image, np.float32)
        if pixels.shape not in (shape, (1, *shape)):
            raise ValueError(f"image must be one {shape} image of this model, got shape {pixels.shape}")
        pixels = pixels.reshape(shape)
        if grid is None:
            grid = model.index_grids(pixels[None])[0]
    if grid is None:
        raise ValueError("give image (a test image, encoded to its grid of codes) or grid (code indices)")
    grid = np.asarray(to_numpy(grid), np.int64)
    if grid.size != h * w or grid.min() < 0 or grid.max() >= k:
        raise ValueError(f"grid must be {h} x {w} code indices in 0 .. {k - 1}, got shape {grid.shape}")
    grid = grid.reshape(h, w)
    if cell is None:
        order = np.roll(np.arange(h * w), -((h // 2) * w + w // 2))
        cell = int(next((c for c in order if grid.flat[c] != k - 1), order[0]))
    elif isinstance(cell, tuple | list):
        if len(cell) != 2 or not (0 <= cell[0] < h and 0 <= cell[1] < w):
            raise ValueError(f"cell (row, column) must lie in the {h} x {w} grid, got {cell!r}")
        cell = int(cell[0]) * w + int(cell[1])
    if not 0 <= int(cell) < h * w:
        raise ValueError(f"cell must be an index below {h * w} (row * {w} + column), got {cell}")
    if precision == "auto":
        small = decoder_spec(model, "float16")["blob"]
        precision = "float16"
        if len(small) * 3 // 4 > AUTO_INT8_BYTES:
            tried = vq_explorer(model, image, grid=grid, cell=cell, precision="int8", image_width=image_width,
                                hint=hint, title=title, check_grids=check_grids, seed=seed)  # fmt: skip
            if tried.check_error <= 4:
                return tried

    codebook = np.ascontiguousarray(model.codebook, np.float32)
    spec: dict[str, Any] = {
        "decoder": decoder_spec(model, precision),
        "precision": precision,
        "base": [],  # (a latent explorer's code; the page builds this one from the grid)
        "start": None,
        "dims": [],
        "limits": [],
        "step": 1.0,
        "image_width": int(image_width),
        "map": None,
        "hint": _hint(hint),
        "dim_labels": [],
        "kl": None,
        "condition": None,
        "vq": {
            "grid": [h, w],
            "dim": int(codebook.shape[1]),
            "num_codes": k,
            "indices": [int(v) for v in grid.reshape(-1)],
            "cell": int(cell),
            "codebook": {"shape": [k, int(codebook.shape[1])], "dtype": "f32", "offset": 0,
                         "blob": base64.b64encode(codebook.astype("<f4").tobytes()).decode("ascii")},
            "colors": base64.b64encode(_colors(codebook)).decode("ascii"),
            "image": None if pixels is None else base64.b64encode(to_uint8(pixels).tobytes()).decode("ascii"),
            "title": title,
        },
    }
    rng = np.random.default_rng(seed)
    grids = [grid]
    for _ in range(max(1, int(check_grids)) - 1):
        other = grid.copy()
        cells = rng.random((h, w)) < 0.25
        other[cells] = rng.integers(0, k, int(cells.sum()))
        grids.append(other)
    grids = np.stack(grids).astype(np.int32)
    keras_u8 = to_uint8(to_numpy(model.decode_indices(grids), np.float32))
    mine_u8 = to_uint8(np.stack([decode_grid(spec, g) for g in grids])).astype(np.int16)
    spec["check"] = {
        "grids": grids.reshape(len(grids), -1).tolist(),
        "images": [base64.b64encode(im.tobytes()).decode("ascii") for im in keras_u8],
    }
    return VQExplorer(spec, int(np.abs(mine_u8 - keras_u8.reshape(mine_u8.shape)).max()))
