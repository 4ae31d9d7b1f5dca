"""Image decoding and preprocessing as TensorFlow ops (they run inside tf.data).

Every function returns float32 in [0, 1] and works on one image ``(H, W, C)``;
the channel and resize helpers also work on a batch ``(B, H, W, C)``.

* Decoding: :func:`vaecore.images.decode_bytes`, the one decoder the toolbox uses
  too: JPEG, PNG (8- and 16-bit; palette PNGs come out as RGB/RGBA), GIF (first
  frame), BMP, WebP. PNGs are decoded as uint16 (16-bit values are scaled by
  65535, 8-bit ones exactly by 255), the rest as uint8.
* Transparency: RGBA and grey+alpha are alpha-blended onto ``background``
  (``out = rgb * a + background * (1 - a)``), not just dropped, so a transparent
  Pokémon background becomes white rather than whatever colour hid behind it.
* Channels: grey -> RGB repeats the grey value; RGB -> grey uses the ITU-R BT.601
  weights 0.299, 0.587, 0.114 (they sum to 1, so grey images round-trip).
* Resize modes: ``"stretch"`` (ignore the aspect ratio), ``"crop"`` (centre crop to
  the target aspect ratio, then resize), ``"pad"`` (fit inside, letterbox with
  ``background``). Bilinear with antialiasing, so downscaling does not alias.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from vaecore.images import LUMA, decode_bytes

__all__ = [
    "RESIZE_MODES",
    "background_for",
    "binarize",
    "center_crop_to_aspect",
    "check_resize_mode",
    "convert_channels",
    "decode_bytes",
    "decode_file",
    "parse_background",
    "parse_image_size",
    "resize",
    "to_rgb",
]

RESIZE_MODES = ("stretch", "crop", "pad")


def parse_image_size(image_size: int | Sequence[int] | None) -> tuple[int, int] | None:
    """``64`` -> ``(64, 64)``; ``(h, w)`` kept; None stays None."""
    if image_size is None:
        return None
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    size = tuple(int(v) for v in image_size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(
            f"image_size must be an int or (height, width) of positive ints, got {image_size!r}"
        )
    return size  # type: ignore[return-value]


def parse_background(background: int | Sequence[int]) -> tuple[float, float, float]:
    """An RGB colour as 0..255 ints (or one grey value) -> three floats in [0, 1]."""
    values = (background,) * 3 if isinstance(background, (int, float)) else tuple(background)
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise ValueError(
            f"background must be an (R, G, B) colour with values 0..255, got {background!r}"
        )
    return tuple(float(v) / 255.0 for v in values)  # type: ignore[return-value]


def check_resize_mode(resize_mode: str) -> None:
    """Raise a clear ``ValueError`` for an unknown resize mode."""
    if resize_mode not in RESIZE_MODES:
        raise ValueError(f"resize_mode must be one of {RESIZE_MODES}, got {resize_mode!r}")


def decode_file(
    path: tf.Tensor, channels: int, background: tuple[float, float, float]
) -> tf.Tensor:
    """Read and decode one image file to ``(H, W, channels)`` float32 in [0, 1]."""
    return convert_channels(to_rgb(decode_bytes(tf.io.read_file(path)), background), channels)


def to_rgb(image: tf.Tensor, background: tuple[float, float, float]) -> tf.Tensor:
    """Any of grey, grey+alpha, RGB, RGBA (float in [0, 1]) -> RGB, alpha blended onto ``background``."""
    bg = tf.constant(background, tf.float32)

    def blend(rgb: tf.Tensor, alpha: tf.Tensor) -> tf.Tensor:
        return rgb * alpha + bg * (1.0 - alpha)

    n = tf.shape(image)[-1]
    rgb = tf.switch_case(
        tf.clip_by_value(n, 1, 4) - 1,
        branch_fns=[
            lambda: tf.concat([image[..., :1]] * 3, axis=-1),
            lambda: blend(tf.concat([image[..., :1]] * 3, axis=-1), image[..., 1:2]),
            lambda: image[..., :3],
            lambda: blend(image[..., :3], image[..., 3:4]),
        ],
    )
    rgb.set_shape(image.shape[:-1].concatenate([3]))
    return rgb


def convert_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """Grey <-> RGB for an image or batch whose channel count (1 or 3) is known."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}")
    have = image.shape[-1]
    if have == channels:
        return image
    if have == 1:
        return tf.concat([image] * 3, axis=-1)
    if have == 3:
        return tf.reduce_sum(image * tf.constant(LUMA, image.dtype), axis=-1, keepdims=True)
    raise ValueError(f"cannot convert {have} channels to {channels}")


def background_for(channels: int, background: tuple[float, float, float]) -> tuple[float, ...]:
    """The background colour in the output's channel space (grey for 1 channel)."""
    if channels == 1:
        return (sum(w * c for w, c in zip(LUMA, background, strict=True)),)
    return background


def resize(
    image: tf.Tensor, size: tuple[int, int], mode: str, background: tuple[float, ...]
) -> tf.Tensor:
    """Resize an image or batch to ``size`` = (height, width) with ``mode`` (see module doc)."""
    check_resize_mode(mode)
    height, width = size
    if mode == "crop":
        image = center_crop_to_aspect(image, height / width)
    if mode == "pad":
        fitted = tf.image.resize(image, size, preserve_aspect_ratio=True, antialias=True)
        shape = tf.shape(fitted)
        top = (height - shape[-3]) // 2
        left = (width - shape[-2]) // 2
        bg = tf.constant(background, tf.float32)
        out = tf.image.pad_to_bounding_box(fitted - bg, top, left, height, width) + bg
    else:
        out = tf.image.resize(image, size, antialias=True)
    return tf.clip_by_value(out, 0.0, 1.0)


def center_crop_to_aspect(image: tf.Tensor, aspect: float) -> tf.Tensor:
    """The largest centred window whose height / width equals ``aspect``."""
    shape = tf.shape(image)
    h, w = shape[-3], shape[-2]
    hf, wf = tf.cast(h, tf.float32), tf.cast(w, tf.float32)
    crop_h = tf.clip_by_value(tf.cast(tf.round(wf * aspect), tf.int32), 1, h)
    crop_w = tf.clip_by_value(tf.cast(tf.round(hf / aspect), tf.int32), 1, w)
    return tf.image.crop_to_bounding_box(
        image, (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w
    )


def binarize(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Dynamic binarization: each pixel is 1 with probability equal to its value.

    ``seed`` is a shape-(2,) int tensor; the pipeline feeds a new one per batch and
    per epoch, so every epoch sees a fresh Bernoulli draw.
    """
    noise = tf.random.stateless_uniform(tf.shape(images), seed=seed, dtype=images.dtype)
    return tf.cast(noise < images, images.dtype)
