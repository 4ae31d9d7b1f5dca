"""dSprites (Matthey et al. 2017), generated here in NumPy: 737,280 binary 64x64 sprites.

The factor grid of the original (https://github.com/deepmind/dsprites-dataset):
every combination, exactly once, of

* ``shape``: square, ellipse, heart (values 1, 2, 3, as the original's ``latents_values``);
* ``scale``: 6 values linearly spaced in [0.5, 1];
* ``orientation``: 40 values ``np.linspace(0, 2 pi, 40)`` (radians; the original's step,
  2 pi / 39, so orientation 0 and 2 pi are the same picture, as there);
* ``posX``, ``posY``: 32 values each, linearly spaced in [0, 1].

Images and flat indices are in the original's order (posY varies fastest, then posX,
orientation, scale, shape), so index ``i`` here is index ``i`` there. The original's
constant ``color`` factor is left out: five factors, :data:`FACTOR_NAMES`.

**Rendering.** Each pixel is lit when its centre lies inside the shape: the pixel
centres are mapped back through the translation, the rotation and the scale, and the
shape's implicit inside-test is evaluated there (vectorized, one small window around
each sprite). The geometry was fitted to the 320 frames of the original's README
animation (``dsprites.gif``: frames of the real data), in pixels of the 64x64 image:

* position: the sprite's centre is at ``16 + 32 * pos`` (x = column, y = row, rows
  counted downwards, as an image is shown), so centres span the middle half;
* rotation: counter-clockwise on screen by ``orientation``, about that centre;
* square: half-side ``9.635 * scale`` (20 x 20 pixels at scale 1, axis-aligned);
* ellipse: semi-axes ``12.74 * scale`` (horizontal at orientation 0) and ``7.2 * scale``;
* heart (lobes up, point down at orientation 0): two discs of radius 5.113 centred
  at ``(+-4.705, 4.043)`` (y up, from the centre) with the convex hull of the discs
  and the point ``(0, -8.857)`` below the discs' centres, all times ``scale``.

**Where it differs from the original.** The pixels on a shape's edge: against the
46 scale and orientation frames of each shape, 96 of 16,228 lit pixels differ for
the square, 96 of 12,592 for the ellipse, 346 of 9,788 for the heart (at most 8, 8 and
12 pixels in one frame), and 4-16 of about 225 in the heart's 64 position frames. The
original was drawn with the LOVE framework and thresholded, whose heart outline and
edge rule are not published; ours is the fit above. The animation shows only the
heart moving, so the position rule is checked on the heart alone. Everything else
(factor values, order, count, binary uint8 pixels) is the original's.

**Symmetries, kept as in the original.** Orientation 39 (2 pi) renders exactly as
orientation 0 for every shape. The square's 90-degree and the ellipse's 180-degree
symmetry fall between grid steps (9.75 and 19.5 steps of 2 pi / 39), so no other
orientations coincide exactly, but nearly: the square at orientation 10 differs from
orientation 0 by about 10 edge pixels, the ellipse at 19 or 20 by about 20, where a
turn of 5 steps changes over 100. A model cannot tell these apart, which caps what any
code can say about orientation for those two shapes.

**Memory and speed** (measured on one shared CPU core). All 737,280 images are 3 GB as
uint8, so they are never unpacked all at once unless asked for. :func:`dsprites_images`
renders just the images asked for (0.03 ms an image in grid order, 0.09 ms in random
order; a random subset of 50,000, rendered in grid order, 1.6 s), or, on first use of more than a quarter of the
grid, renders all of it once (about 30 s) into a bit-packed cache (``np.packbits``:
512 bytes an image, 377 MB) in ``<cache>/data/dsprites/`` (see :mod:`vaecore.config`;
a copy in ``$VAECORE_DATA_DIR/dsprites/`` is read first), which later calls read by
memory map (the whole grid unpacked in 14 s; random batches 2.5 times faster than
rendering them).
Nothing is downloaded, so it runs the same offline and in Colab.

``load_dataset("dsprites", subset=..., labels=True)`` gives the ``tf.data`` pipeline
(images (64, 64, 1) in {0, 1}, labels the factor classes); :func:`load_dsprites`
gives NumPy arrays with the factor table beside them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vaecore import config
from vaecore.data.source_types import ArraySource
from vaecore.data.sources import DEFAULT_TEST_FRACTION, check_split

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES = (3, 6, 40, 32, 32)
NUM_IMAGES = int(np.prod(FACTOR_SIZES))  # 737,280
IMAGE_SIZE = 64
CACHE_NAME = "dsprites_packed_v1.npy"
CITATION = (
    "L. Matthey, I. Higgins, D. Hassabis, A. Lerchner, dSprites: Disentanglement testing "
    "Sprites dataset, https://github.com/deepmind/dsprites-dataset/ (2017)."
)

# Geometry in pixels at scale 1 (see the module docstring: fitted to the original's frames).
POSITION_OFFSET, POSITION_RANGE = 16.0, 32.0
SQUARE_HALF_SIDE = 9.635
ELLIPSE_AXES = (12.74, 7.2)
HEART_DISC_RADIUS, HEART_DISC_X, HEART_DISC_Y, HEART_TIP_Y = 5.113, 4.705, 4.043, -8.857
_EXTENT = 13.7  # no lit pixel lies further than this from the centre (scale 1)
_BASES = np.array([int(np.prod(FACTOR_SIZES[k + 1 :])) for k in range(len(FACTOR_SIZES))])
_CHUNK = 8192


def factor_values() -> dict[str, np.ndarray]:
    """The possible values of each factor (float64), as the original's metadata lists them."""
    return {
        "shape": np.array([1.0, 2.0, 3.0]),
        "scale": np.linspace(0.5, 1.0, 6),
        "orientation": np.linspace(0.0, 2.0 * np.pi, 40),
        "posX": np.linspace(0.0, 1.0, 32),
        "posY": np.linspace(0.0, 1.0, 32),
    }


def factor_classes(index: Any) -> np.ndarray:
    """Flat image indices ``(n,)`` -> factor class indices ``(n, 5)`` int64 (:data:`FACTOR_NAMES`)."""
    index = np.asarray(index, dtype=np.int64).reshape(-1)
    if index.size and (index.min() < 0 or index.max() >= NUM_IMAGES):
        raise ValueError(
            f"dsprites indices must be in [0, {NUM_IMAGES}), got {index.min()}..{index.max()}"
        )
    return (index[:, None] // _BASES[None, :]) % np.asarray(FACTOR_SIZES)[None, :]


def factor_index(classes: Any) -> np.ndarray:
    """Factor class indices ``(n, 5)`` -> flat image indices ``(n,)`` (inverse of :func:`factor_classes`)."""
    classes = np.asarray(classes, dtype=np.int64).reshape(-1, len(FACTOR_SIZES))
    if (classes < 0).any() or (classes >= np.asarray(FACTOR_SIZES)).any():
        raise ValueError(f"factor classes must be below {FACTOR_SIZES} and >= 0")
    return classes @ _BASES


def factor_table(classes: Any) -> np.ndarray:
    """Factor class indices ``(n, 5)`` -> factor values ``(n, 5)`` float64 (shape as 1, 2, 3)."""
    classes = np.asarray(classes, dtype=np.int64).reshape(-1, len(FACTOR_SIZES))
    values = factor_values()
    return np.stack([values[name][classes[:, k]] for k, name in enumerate(FACTOR_NAMES)], axis=1)


def sample_factors(n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """``n`` factor configurations drawn uniformly from the grid: class indices ``(n, 5)``."""
    rng = np.random.default_rng(rng)
    return np.stack([rng.integers(0, size, n) for size in FACTOR_SIZES], axis=1)


# --- rendering ---------------------------------------------------------------------------


def _inside(shape: int, u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Inside-test of shape ``shape`` (0 square, 1 ellipse, 2 heart) at scale-1 coordinates
    ``u`` (right) and ``w`` (up) relative to the sprite's centre."""
    if shape == 0:
        return np.maximum(np.abs(u), np.abs(w)) <= SQUARE_HALF_SIDE
    if shape == 1:
        a, b = ELLIPSE_AXES
        return (u / a) ** 2 + (w / b) ** 2 <= 1.0
    r, c, yc, tip = HEART_DISC_RADIUS, HEART_DISC_X, HEART_DISC_Y, HEART_TIP_Y
    x = np.abs(u)  # the heart is symmetric about the vertical axis
    in_disc = (x - c) ** 2 + (w - yc) ** 2 <= r * r
    # outer tangent from the tip to the right disc: direction (dx, dy), touching at height y_touch
    length = np.hypot(c, yc - tip)
    angle = np.arctan2(yc - tip, c) - np.arcsin(r / length)
    dx, dy = np.cos(angle), np.sin(angle)
    y_touch = tip + np.sqrt(length**2 - r * r) * dy
    below = (w <= y_touch) & (dx * (w - tip) - dy * x >= 0.0)  # inner side of the tangent
    between = (w > y_touch) & (w <= yc) & (x <= c)  # between the axis and the disc's centre
    return in_disc | below | between


def render(classes: Any) -> np.ndarray:
    """Render the sprites of factor classes ``(n, 5)``: uint8 images ``(n, 64, 64)`` in {0, 1}.

    Deterministic (no randomness at all) and independent of any cache. Vectorized per
    (shape, scale) group over a window just large enough for the sprite.
    """
    classes = np.asarray(classes, dtype=np.int64).reshape(-1, len(FACTOR_SIZES))
    factor_index(classes)  # range check
    out = np.zeros((len(classes), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    values = factor_values()
    keys = classes[:, 0] * FACTOR_SIZES[1] + classes[:, 1]
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        shape, scale = int(key // FACTOR_SIZES[1]), float(values["scale"][key % FACTOR_SIZES[1]])
        half = int(np.ceil(_EXTENT * scale + 0.5))  # covers every centre within _EXTENT
        offsets = np.arange(2 * half + 1)
        for start in range(0, len(rows), _CHUNK):
            part = rows[start : start + _CHUNK]
            out[part] = _render_group(classes[part], shape, scale, half, offsets, values)
    return out


def _render_group(classes, shape: int, scale: float, half: int, offsets, values) -> np.ndarray:
    """One (shape, scale) group: evaluate the inside-test in a window, paste it into 64x64."""
    n = len(classes)
    theta = values["orientation"][classes[:, 2]].astype(np.float32)
    cx = (POSITION_OFFSET + POSITION_RANGE * values["posX"][classes[:, 3]]).astype(np.float32)
    cy = (POSITION_OFFSET + POSITION_RANGE * values["posY"][classes[:, 4]]).astype(np.float32)
    x0 = np.floor(cx).astype(np.int64) - half  # window origin (pixel index)
    y0 = np.floor(cy).astype(np.int64) - half
    dx = (x0[:, None] + offsets[None, :] + 0.5 - cx[:, None]).astype(np.float32) / scale
    up = -(y0[:, None] + offsets[None, :] + 0.5 - cy[:, None]).astype(np.float32) / scale
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    # inverse rotation (the sprite turns counter-clockwise on screen by theta)
    u = cos * dx[:, None, :] + sin * up[:, :, None]
    w = cos * up[:, :, None] - sin * dx[:, None, :]
    window = _inside(shape, u, w)
    image = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    rows = y0[:, None, None] + offsets[None, :, None]
    cols = x0[:, None, None] + offsets[None, None, :]
    image[np.arange(n)[:, None, None], rows, cols] = window
    return image


def model_inputs(classes: Any) -> np.ndarray:
    """Rendered sprites of factor classes ``(n, 5)`` as model inputs: float32 ``(n, 64, 64, 1)``
    in {0, 1}, what ``load_dataset("dsprites")`` yields (the image source of the
    FactorVAE and beta-VAE scores in :mod:`vaecore.disentangle`). Read from the packed
    cache when there is one (faster than rendering), else rendered."""
    return dsprites_images(factor_index(classes))[..., None].astype(np.float32)


# --- the packed cache --------------------------------------------------------------------


def cache_path() -> Path:
    """Where the bit-packed full grid is written: ``<cache>/data/dsprites/dsprites_packed_v1.npy``."""
    return config.cache_dir() / "data" / "dsprites" / CACHE_NAME


def _find_cache(data_dir: str | os.PathLike | None = None) -> Path | None:
    """A packed cache in ``data_dir`` (only there, if given) or the data directories."""
    dirs = [Path(data_dir).expanduser()] if data_dir is not None else config.data_dirs()
    for d in dirs:
        path = d / "dsprites" / CACHE_NAME
        if path.is_file():
            return path
    return None


def build_cache(path: str | os.PathLike | None = None) -> Path:
    """Render all 737,280 images once into a bit-packed ``.npy`` ``(N, 64, 8)`` uint8 (377 MB).

    Written chunk by chunk through a memory map to a temporary file, then renamed, so
    memory stays small and an interrupted build leaves no half file behind.
    """
    path = Path(path) if path is not None else cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    packed = np.lib.format.open_memmap(
        tmp, mode="w+", dtype=np.uint8, shape=(NUM_IMAGES, IMAGE_SIZE, IMAGE_SIZE // 8)
    )
    step = FACTOR_SIZES[2] * FACTOR_SIZES[3] * FACTOR_SIZES[4]  # one (shape, scale) block
    for start in range(0, NUM_IMAGES, step):
        index = np.arange(start, start + step)
        packed[start : start + step] = np.packbits(render(factor_classes(index)), axis=-1)
    packed.flush()
    del packed
    os.replace(tmp, path)
    return path


def dsprites_images(
    index: Any = None, *, cache: bool | None = None, data_dir: str | os.PathLike | None = None
) -> np.ndarray:
    """Images ``(n, 64, 64)`` uint8 in {0, 1} at flat ``index`` (default: all 737,280: 3 GB).

    Read from the packed cache when it exists. Otherwise a request for more than a
    quarter of the grid (``index=None`` included), or ``cache=True``, builds the cache
    first (about 30 s, once); a smaller subset is rendered directly. ``cache=False``
    always renders, never touching the cache. ``data_dir``: look for a cache
    (``<data_dir>/dsprites/dsprites_packed_v1.npy``) only there; a new one is still
    written to :func:`cache_path`.
    """
    found = _find_cache(data_dir) if cache is not False else None
    large = index is None or np.size(index) > NUM_IMAGES // 4
    if found is None and cache is not False and (cache or large):
        found = build_cache()
    if found is None:
        index = np.arange(NUM_IMAGES) if index is None else index
        return render(factor_classes(index))
    packed = np.load(found, mmap_mode="r")
    rows = packed if index is None else packed[np.sort(np.asarray(index, np.int64).reshape(-1))]
    images = np.unpackbits(np.asarray(rows), axis=-1)
    if index is not None:  # back to the order asked for
        order = np.argsort(np.asarray(index, np.int64).reshape(-1), kind="stable")
        images[order] = images.copy()
    return images


# --- splits and subsets ------------------------------------------------------------------


def split_mask(index: Any, split: str, test_fraction: float = DEFAULT_TEST_FRACTION) -> np.ndarray:
    """Which flat indices belong to ``split``: a fixed hash of the index puts
    ``test_fraction`` of the grid in ``"test"`` (dSprites has no official split)."""
    check_split(split)
    index = np.asarray(index, dtype=np.uint64)
    if split == "all":
        return np.ones(index.shape, dtype=bool)
    mixed = (index * np.uint64(0x9E3779B97F4A7C15) + np.uint64(0x632BE59BD9B4E019)) >> np.uint64(11)
    in_test = mixed.astype(np.float64) / float(2**53) < test_fraction
    return in_test if split == "test" else ~in_test


def select(
    split: str = "all",
    subset: Any = None,
    *,
    subset_seed: int = 0,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> np.ndarray:
    """The flat indices (sorted, grid order) of ``split`` restricted by ``subset``.

    ``subset``: ``None`` (every image of the split); an ``int`` n (n images drawn
    without replacement from the split, with ``subset_seed``); a dict
    ``{factor: stride or list of classes}``, e.g. ``{"posX": 2, "posY": 2}`` (every
    second position, 184,320 images) or ``{"shape": [2]}`` (hearts); or an array of
    flat indices (kept if in the split).
    """
    if subset is None or isinstance(subset, Mapping):
        per_factor = [np.arange(size) for size in FACTOR_SIZES]
        for name, rule in dict(subset or {}).items():
            if name not in FACTOR_NAMES:
                raise ValueError(f"unknown dsprites factor {name!r}; factors: {FACTOR_NAMES}")
            k = FACTOR_NAMES.index(name)
            per_factor[k] = (
                per_factor[k][:: int(rule)]
                if isinstance(rule, (int, np.integer))
                else np.unique(np.asarray(rule, np.int64))
            )
        grid = np.stack(np.meshgrid(*per_factor, indexing="ij"), axis=-1).reshape(-1, 5)
        index = factor_index(grid)
    elif isinstance(subset, (int, np.integer)) and not isinstance(subset, bool):
        pool = np.flatnonzero(split_mask(np.arange(NUM_IMAGES), split, test_fraction))
        if not 0 < subset <= len(pool):
            raise ValueError(f"subset={subset}: the {split!r} split has {len(pool)} images")
        return np.sort(np.random.default_rng(subset_seed).choice(pool, int(subset), replace=False))
    else:
        index = np.unique(np.asarray(subset, dtype=np.int64).reshape(-1))
        factor_classes(index)  # range check
    return index[split_mask(index, split, test_fraction)]


@dataclass(frozen=True)
class DSprites:
    """dSprites images with their factors, aligned row by row.

    ``images`` ``(n, 64, 64)`` uint8 in {0, 1}; ``classes`` ``(n, 5)`` int64 factor
    class indices and ``values`` ``(n, 5)`` float64 factor values (columns
    :data:`FACTOR_NAMES`); ``index`` ``(n,)`` the flat indices into the full grid.
    """

    images: np.ndarray
    classes: np.ndarray
    values: np.ndarray
    index: np.ndarray
    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES

    def __len__(self) -> int:
        return len(self.index)


def load_dsprites(
    split: str = "all",
    *,
    subset: Any = None,
    subset_seed: int = 0,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    cache: bool | None = None,
    data_dir: str | os.PathLike | None = None,
) -> DSprites:
    """dSprites as NumPy arrays with the factor table (see :func:`select` for ``subset``).

    Without ``subset`` the whole split is unpacked (the full grid: 3 GB of images;
    ``load_dataset`` then holds it twice for a while, as TensorFlow copies it into the
    pipeline). The metrics of :mod:`vaecore.disentangle` want ``split="all"``;
    ``load_dataset``'s default is ``"train"`` (90 %, :func:`split_mask`).
    """
    index = select(split, subset, subset_seed=subset_seed, test_fraction=test_fraction)
    classes = factor_classes(index)
    full = len(index) == NUM_IMAGES
    images = dsprites_images(None if full else index, cache=cache, data_dir=data_dir)
    return DSprites(images=images, classes=classes, values=factor_table(classes), index=index)


@dataclass(frozen=True)
class FactorSource(ArraySource):
    """An :class:`ArraySource` that also carries each image's factors (``limit=`` keeps them aligned)."""

    factors: np.ndarray | None = None
    factor_values: np.ndarray | None = None
    factor_names: tuple[str, ...] = ()
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def head(self, n: int) -> FactorSource:
        return replace(
            super().head(n),
            factors=self.factors[:n],
            factor_values=self.factor_values[:n],
            index=self.index[:n],
        )


def dsprites_source(
    split: str = "train",
    *,
    subset: Any = None,
    subset_seed: int = 0,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    data_dir: str | os.PathLike | None = None,
) -> FactorSource:
    """The registry's loader: images as uint8 0/255 ``(n, 64, 64, 1)``, labels the factor classes."""
    data = load_dsprites(
        split,
        subset=subset,
        subset_seed=subset_seed,
        test_fraction=test_fraction,
        data_dir=data_dir,
    )
    images = data.images[..., None]
    images *= 255
    return FactorSource(
        images=images,
        labels=data.classes.astype(np.int32),
        class_names=None,
        origin=f"dsprites (generated, {len(data)} of {NUM_IMAGES} images)",
        factors=data.classes,
        factor_values=data.values,
        factor_names=FACTOR_NAMES,
        index=data.index,
    )


def fingerprint(images: np.ndarray) -> str:
    """A short SHA-1 of an image array (for checks that a rendering did not change)."""
    return hashlib.sha1(np.ascontiguousarray(images, dtype=np.uint8).tobytes()).hexdigest()[:16]


__all__: Sequence[str] = (
    "DSprites",
    "FACTOR_NAMES",
    "FACTOR_SIZES",
    "NUM_IMAGES",
    "SHAPES",
    "build_cache",
    "cache_path",
    "dsprites_images",
    "dsprites_source",
    "factor_classes",
    "factor_index",
    "factor_table",
    "factor_values",
    "load_dsprites",
    "model_inputs",
    "render",
    "sample_factors",
    "select",
    "split_mask",
)
