"""Image helpers every part of vaecore shares: one copy of each.

* :data:`LUMA`: the ITU-R BT.601 weights (0.299, 0.587, 0.114) for RGB -> grey, the
  ones PIL uses; they sum to 1, so grey images round-trip.
* :func:`to_uint8`: ``[0, 1]`` floats -> 8-bit pixels, rounded to nearest (one
  channel comes back as ``(H, W)``, the form PIL wants).
* :func:`png_bytes` and :func:`save_image`: PNG in memory (for widgets) and on
  disk (written to a temporary name, then renamed, so a kill never leaves half a file).
* :func:`montage`: a batch tiled into one image (sample grids, manifolds, snapshots).
* :func:`decode_bytes`: the one decoding path for encoded image files, a TensorFlow op
  so it runs inside ``tf.data`` (:mod:`vaecore.data.images`) and eagerly for a single
  file (:func:`read_image_file`, which :func:`load_images` and the toolbox use).
* :func:`load_images`: an image from almost anywhere (path, PIL image, array, tensor)
  -> a ``(N, H, W, C)`` float32 NumPy array in ``[0, 1]``, optionally resized and
  converted to 1 or 3 channels.

NumPy and PIL only at import; TensorFlow is imported where a function decodes or
resizes, so plotting and PNG writing do not pull it in.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

__all__ = [
    "LUMA",
    "as_image_batch",
    "decode_bytes",
    "grid_shape",
    "load_images",
    "montage",
    "png_bytes",
    "read_image_file",
    "save_image",
    "to_uint8",
]

#: ITU-R BT.601 luma weights, the same ones PIL uses for RGB -> L.
LUMA = (0.299, 0.587, 0.114)
_LUMA_ARRAY = np.array(LUMA, dtype=np.float32)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------
# Pixels and PNG files
# ---------------------------------------------------------------------------


def to_uint8(image: Any) -> np.ndarray:
    """``[0, 1]`` floats (clipped) -> uint8, rounded to nearest; one channel drops its axis."""
    arr = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    arr = (arr * 255.0 + 0.5).astype(np.uint8)
    return arr[..., 0] if arr.ndim == 3 and arr.shape[-1] == 1 else arr


def _pil_image(image: Any, scale: int = 1) -> Image.Image:
    """One ``(H, W, C)`` image in [0, 1] as a PIL image, enlarged ``scale`` times (nearest)."""
    if not isinstance(scale, int | np.integer) or scale < 1:
        raise ValueError(f"scale must be an int >= 1, got {scale!r}")
    img = Image.fromarray(to_uint8(image))
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    return img


def png_bytes(image: Any, width: int | None = None) -> bytes:
    """PNG bytes of one ``(H, W, C)`` image in ``[0, 1]``, enlarged to about ``width`` px.

    Enlarging uses nearest-neighbour by a whole factor so small images (MNIST's
    28 x 28) stay crisp instead of being smoothed by the browser.
    """
    image_width = int(np.shape(image)[1])
    factor = max(1, int(width) // image_width) if width is not None else 1
    buffer = io.BytesIO()
    _pil_image(image, factor).save(buffer, format="PNG")
    return buffer.getvalue()


def save_image(image: Any, path: str | os.PathLike, scale: int = 1) -> Path:
    """Write one ``(H, W, C)`` image in [0, 1] as a PNG, enlarged ``scale`` times (nearest).

    The file is written under a temporary name and renamed, so a reader (or a kill)
    never sees half a PNG.
    """
    img = _pil_image(image, scale)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    img.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------


def as_image_batch(images: Any) -> tuple[np.ndarray, int | None, int | None]:
    """Images -> float32 ``(N, H, W, C)`` plus the rows/columns implied by a 5-D input."""
    arr = np.asarray(images, dtype=np.float32)
    rows = cols = None
    if arr.ndim == 5:  # (rows, cols, H, W, C), e.g. from toolbox.latent_translate
        rows, cols = arr.shape[:2]
        arr = arr.reshape(-1, *arr.shape[2:])
    elif arr.ndim == 3:  # (N, H, W) grayscale
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4) or len(arr) == 0:
        raise ValueError(
            f"images must be (N, H, W, C) with C in 1, 3 or 4 (or (rows, cols, H, W, C)), "
            f"got shape {arr.shape}"
        )
    return arr, rows, cols


def grid_shape(n: int, nrows: int | None, ncols: int | None) -> tuple[int, int]:
    """Rows and columns for ``n`` cells; a roughly square grid by default."""
    if nrows is None and ncols is None:
        ncols = int(np.ceil(np.sqrt(n)))
    if ncols is None:
        ncols = int(np.ceil(n / nrows))
    if nrows is None:
        nrows = int(np.ceil(n / ncols))
    if nrows * ncols < n:
        raise ValueError(f"a {nrows}x{ncols} grid cannot hold {n} images")
    return nrows, ncols


def montage(
    images: Any, nrows: int | None = None, ncols: int | None = None, pad: int = 0
) -> np.ndarray:
    """Tile ``(N, H, W, C)`` images into one ``(rows*H, cols*W, C)`` array (white padding)."""
    arr, rows, cols = as_image_batch(images)
    nrows, ncols = grid_shape(len(arr), nrows or rows, ncols or cols)
    _, h, w, c = arr.shape
    cell_h, cell_w = h + pad, w + pad
    out = np.ones((nrows * cell_h - pad, ncols * cell_w - pad, c), dtype=np.float32)
    for i, image in enumerate(arr):
        r, col = divmod(i, ncols)
        out[r * cell_h : r * cell_h + h, col * cell_w : col * cell_w + w] = image
    return out


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------


def decode_bytes(data: Any) -> Any:
    """Encoded image (a string tensor) -> float32 tensor in [0, 1] with its own channels (1-4).

    JPEG, PNG (8- and 16-bit; palette PNGs come out as RGB/RGBA), GIF (first frame),
    BMP, WebP. PNGs are decoded at 16 bits (8-bit PNGs are scaled exactly, 16-bit
    ones keep their precision); other formats at 8 bits (the WebP decoder only
    offers uint8). A TensorFlow op: it runs inside ``tf.data`` graphs and eagerly.
    """
    import tensorflow as tf

    is_png = tf.equal(tf.strings.substr(data, 0, 8), _PNG_SIGNATURE)
    image = tf.cond(
        is_png,
        lambda: tf.image.convert_image_dtype(
            tf.io.decode_png(data, channels=0, dtype=tf.uint16), tf.float32
        ),
        lambda: tf.image.convert_image_dtype(
            tf.io.decode_image(data, channels=0, dtype=tf.uint8, expand_animations=False),
            tf.float32,
        ),
    )
    image.set_shape((None, None, None))
    return image


def read_image_file(path: str | os.PathLike) -> np.ndarray:
    """Decode one image file with :func:`decode_bytes` -> ``(H, W, C)`` float32 in [0, 1].

    Raises:
        FileNotFoundError: no such file (the message names it).
        ValueError: the file is not an image this decoder reads (the message names it).
    """
    import tensorflow as tf

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {str(path)!r}")
    try:
        return decode_bytes(tf.constant(path.read_bytes())).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.UnknownError, ValueError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"could not read {str(path)!r} as an image (JPEG, PNG, GIF, BMP or WebP; for other "
            f"formats pass PIL.Image.open(path) instead): {reason}"
        ) from err


def load_images(
    image_or_path: Any,
    size: Sequence[int] | None = None,
    channels: int | None = None,
) -> np.ndarray:
    """An image from almost anywhere -> ``(N, H, W, C)`` float32 array in ``[0, 1]``.

    Accepts a file path (``str``/``Path``; read by :func:`read_image_file`), a PIL
    image, or an array/tensor of any backend that is ``HW``, ``HWC`` or ``NHWC``.
    ``uint8`` (or other integer) data is read as ``0..255``, float data must already
    lie in ``[0, 1]``. Transparent images (RGBA, grey + alpha) are composited on
    white, the way they look in an image viewer.

    Args:
        image_or_path: the image.
        size: ``(H, W)`` or ``(H, W, C)`` to resize to (bilinear, antialiased);
            with ``(H, W, C)`` and ``channels=None`` the channel count is taken from it.
        channels: 1 (grayscale, :data:`LUMA` weights) or 3 (RGB) to convert to;
            ``None`` keeps the image's own.

    Raises:
        FileNotFoundError: the path does not exist (the message names it).
        ValueError: unsupported shape, channel count or value range.
        TypeError: an input type that is not an image.
    """
    size, channels = _target_size_and_channels(size, channels)
    array = _composite_alpha(_load_as_float_array(image_or_path))
    if channels is not None:
        array = _convert_channels(array, channels)
    if size is not None and tuple(array.shape[1:3]) != size:
        import tensorflow as tf

        resized = tf.image.resize(array, size, method="bilinear", antialias=True)
        array = np.clip(resized.numpy(), 0.0, 1.0)
    return array.astype(np.float32, copy=False)


def _target_size_and_channels(
    size: Sequence[int] | None, channels: int | None
) -> tuple[tuple[int, int] | None, int | None]:
    """Validate ``size``/``channels`` of :func:`load_images`; ``(H, W, C)`` sets channels."""
    if size is not None:
        size = tuple(int(s) for s in size)
        if len(size) not in (2, 3) or min(size) < 1:
            raise ValueError(f"size must be (H, W) or (H, W, C) with positive values, got {size}")
        if len(size) == 3:
            channels = size[2] if channels is None else channels
        size = size[:2]
    if channels is not None and channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
    return size, channels


def _load_as_float_array(image: Any) -> np.ndarray:
    """Read ``image`` into a float32 ``(N, H, W, C)`` array in ``[0, 1]``."""
    if isinstance(image, str | Path):
        return _to_nhwc(read_image_file(image))
    if isinstance(image, Image.Image):
        image = _pil_to_array(image)
    if isinstance(image, list | tuple):
        image = np.asarray(image)
    elif not isinstance(image, np.ndarray):
        if not hasattr(image, "__array__") or isinstance(image, dict | str | bytes):
            raise TypeError(
                "expected a file path, a PIL image, a numpy array or a tensor, "
                f"got {type(image).__name__}"
            )
        image = np.asarray(image)  # a tf, JAX or torch (CPU) tensor
    return _scale_to_unit_range(_to_nhwc(image))


def _pil_to_array(img: Image.Image) -> np.ndarray:
    """PIL image -> uint8 array, keeping alpha (if any) as a 4th/2nd channel."""
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("1", "I", "I;16", "F"):
        img = img.convert("L")
    elif img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGB")  # CMYK, YCbCr, ...
    return np.asarray(img)


def _to_nhwc(array: np.ndarray) -> np.ndarray:
    """Give an ``HW``/``HWC``/``NHWC`` array its batch and channel axes."""
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim == 3:
        if array.shape[-1] not in (1, 2, 3, 4):
            raise ValueError(
                f"a 3-D image must be (H, W, C) with C in 1, 3 or 4, got shape {array.shape}; "
                "for a batch of grayscale images add a channel axis: x[..., None]"
            )
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"expected an HW, HWC or NHWC image, got shape {array.shape}")
    if array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"images must have 1, 3 or 4 channels, got shape {array.shape}")
    if min(array.shape) == 0:
        raise ValueError(f"image is empty, shape {array.shape}")
    return array


def _scale_to_unit_range(array: np.ndarray) -> np.ndarray:
    """Integers are read as 0..255, floats must already be in [0, 1]."""
    if array.dtype == bool:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.integer):
        lo, hi = int(array.min()), int(array.max())
        if lo < 0 or hi > 255:
            raise ValueError(f"integer images must hold values in 0..255, got range {lo}..{hi}")
        return array.astype(np.float32) / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"unsupported image dtype {array.dtype}")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError("image contains NaN or infinite values")
    lo, hi = float(array.min()), float(array.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(
            f"float images must hold values in [0, 1], got range [{lo:.4g}, {hi:.4g}]; "
            "divide 0..255 data by 255 (or pass it as uint8)"
        )
    return np.clip(array, 0.0, 1.0)


def _composite_alpha(array: np.ndarray) -> np.ndarray:
    """Drop an alpha channel by compositing on white (grey + alpha -> grey, RGBA -> RGB)."""
    if array.shape[-1] not in (2, 4):
        return array
    color, alpha = array[..., :-1], array[..., -1:]
    return color * alpha + (1.0 - alpha)


def _convert_channels(array: np.ndarray, channels: int) -> np.ndarray:
    """Grayscale <-> RGB conversion (:data:`LUMA` weights for RGB -> gray)."""
    if array.shape[-1] == channels:
        return array
    if channels == 3:
        return np.repeat(array, 3, axis=-1)
    return (array @ _LUMA_ARRAY)[..., None].astype(np.float32)
