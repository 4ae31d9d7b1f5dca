"""Everyday tools for a trained VAE: load images, walk and edit the latent space.

This is the original CVAE project's ``CVAEToolBox`` done as plain functions that
take the model as their first argument, so each one can be read, tested and
reused on its own. :class:`VAEToolbox` bundles them for readers who prefer
``tb = VAEToolbox(model); tb.interpolate(a, b)``.

The functions only rely on the small model interface of
:class:`vaecore.models.VAE`: ``encode(x) -> (z_mean, z_log_var)``,
``decode(z) -> images``, ``latent_dim`` and ``arch_def["input"]``.

A conditional VAE (:mod:`vaecore.conditional`): what encodes or decodes takes
``condition=`` (one for all images, or one each), :func:`encode_dataset` the labels.

Images go in as anything :func:`to_tensor` understands (a file path, a PIL
image, a uint8 or float array, a tensor) and come back as ``float32`` numpy
arrays of shape ``(N, H, W, C)`` in ``[0, 1]``, ready for :mod:`vaecore.plots`.

Any Keras backend: the model gets NumPy arrays and its outputs are read back with
``np.asarray`` (TensorFlow tensors and JAX arrays alike); TensorFlow stays for what
the data layer does, ``tf.data`` datasets and the image decoder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from vaecore._shared import to_numpy
from vaecore.conditional import condition_rows
from vaecore.images import load_images
from vaecore.interpolation import Method, interpolate_latents

__all__ = [
    "VAEToolbox",
    "attribute_vector",
    "decode_latents",
    "encode_dataset",
    "encode_images",
    "generate_from",
    "input_shape",
    "interpolate",
    "interpolate_latents",
    "latent_translate",
    "to_tensor",
]

#: Batch size used when encoding or decoding many vectors at once.
_BATCH = 256


# ---------------------------------------------------------------------------
# Loading images
# ---------------------------------------------------------------------------


def to_tensor(
    image_or_path: Any,
    size: Sequence[int] | None = None,
    channels: int | None = None,
) -> tf.Tensor:
    """Turn an image from almost anywhere into a model-ready ``float32`` tensor.

    :func:`vaecore.images.load_images` as a ``tf.Tensor`` (the toolbox itself works on
    its NumPy result, so it runs under any Keras backend). Accepts a file path
    (``str``/``Path``; JPEG, PNG, GIF, BMP or WebP, decoded as the data layer
    decodes), a PIL image, or an array/tensor that is ``HW``, ``HWC`` or ``NHWC``. ``uint8`` (or
    other integer) data is read as ``0..255``, float data must already lie in
    ``[0, 1]``. Transparent images (RGBA, LA, palette with transparency) are
    composited on white, the way they look in an image viewer.

    Args:
        image_or_path: the image.
        size: ``(H, W)`` or ``(H, W, C)`` to resize to, e.g. ``model.arch_def["input"]``.
            With ``(H, W, C)`` and ``channels=None`` the channel count is taken from it.
        channels: 1 (grayscale) or 3 (RGB) to convert to; ``None`` keeps the image's own.

    Returns:
        ``(1, H, W, C)`` float32 tensor in ``[0, 1]`` (``(N, H, W, C)`` for an
        ``NHWC`` batch).

    Raises:
        FileNotFoundError: the path does not exist (the message names it).
        ValueError: unsupported shape, channel count or value range.
        TypeError: an input type that is not an image.
    """
    return tf.convert_to_tensor(load_images(image_or_path, size, channels), dtype=tf.float32)


# ---------------------------------------------------------------------------
# Encoding and decoding helpers
# ---------------------------------------------------------------------------


def input_shape(model: Any) -> tuple[int, int, int]:
    """The model's image shape ``(H, W, C)``, from ``model.arch_def["input"]``."""
    return tuple(int(d) for d in model.arch_def["input"])


def _model_images(model: Any, images: Any) -> np.ndarray:
    """Any image input -> ``(N, H, W, C)`` float32 array sized for ``model``."""
    return load_images(images, size=input_shape(model))


def _given(rows: np.ndarray | None, start: int, size: int) -> tuple:
    """The extra ``y`` argument of a batch: ``()`` or ``(rows[start:start + size],)``."""
    return () if rows is None else (rows[start : start + size],)


def encode_images(model: Any, images: Any, batch_size: int = _BATCH, condition: Any = None) -> np.ndarray:
    """Latent means ``z_mean`` of ``images`` (anything :func:`to_tensor` reads), in batches.

    The mean rather than a sample is used so results are repeatable.
    """
    x = _model_images(model, images)
    rows = condition_rows(model, condition, len(x))
    codes = [
        to_numpy(model.encode(x[i : i + batch_size], *_given(rows, i, batch_size))[0], np.float32)
        for i in range(0, int(x.shape[0]), batch_size)
    ]
    return np.concatenate(codes, axis=0)


def _as_latents(model: Any, z_values: Any, what: str = "latent vectors") -> np.ndarray:
    """Validate latent values against ``model.latent_dim``; returns ``(n, latent)`` float32."""
    z = to_numpy(z_values, np.float32)
    latent = int(model.latent_dim)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[-1] != latent:
        raise ValueError(
            f"{what} must have length {latent} (the model's latent_dim), "
            f"got shape {tuple(np.shape(z_values))}"
        )
    if not np.all(np.isfinite(z)):
        raise ValueError(f"{what} contain NaN or infinite values")
    return z


def decode_latents(model: Any, z: Any, batch_size: int = _BATCH, condition: Any = None) -> np.ndarray:
    """Decode latent vectors in batches into a ``(n, H, W, C)`` float32 array (given ``condition``)."""
    z = _as_latents(model, z)
    rows = condition_rows(model, condition, len(z))
    images = [
        to_numpy(model.decode(z[i : i + batch_size], *_given(rows, i, batch_size)), np.float32)
        for i in range(0, len(z), batch_size)
    ]
    return np.concatenate(images, axis=0)


def generate_from(model: Any, z_values: Any, condition: Any = None) -> np.ndarray:
    """Decode latent values the reader picks, e.g. ``generate_from(model, [0.5, -1.2])``.

    Args:
        model: a trained VAE.
        z_values: one vector of length ``model.latent_dim`` or an ``(n, latent_dim)``
            array / nested list.
        condition: a conditional VAE's condition (one for all, or one per vector).

    Returns:
        ``(n, H, W, C)`` float32 images in ``[0, 1]`` (``n = 1`` for a single vector).

    Raises:
        ValueError: wrong length (the message gives the expected latent size) or
            non-finite values.
    """
    return decode_latents(model, _as_latents(model, z_values, "z_values"), condition=condition)


# ---------------------------------------------------------------------------
# Interpolation
# ---------------------------------------------------------------------------


def interpolate(
    model: Any,
    a: Any,
    b: Any,
    steps: int = 8,
    method: Method = "linear",
    condition: Any = None,
    with_inputs: bool = False,
) -> np.ndarray:
    """Morph image ``a`` into image ``b`` through the latent space.

    Both images are encoded to their latent means,
    :func:`vaecore.interpolation.interpolate_latents` walks between them and every
    step is decoded. The decoded ends are reconstructions, not the images: with
    ``with_inputs=True`` the two images themselves (as the model sees them, resized)
    stand at the ends of the row, so a reader sees how far the reconstructions are.

    Args:
        model: a trained VAE.
        a, b: single images, anything :func:`to_tensor` reads (paths, arrays, ...).
        steps: number of decoded images, endpoints included.
        method: ``"linear"`` or ``"slerp"``.
        condition: a conditional VAE's condition, one for both images and every step.
        with_inputs: put ``a`` before and ``b`` after the decoded steps.

    Returns:
        ``(steps, H, W, C)`` float32 images (``steps + 2`` with ``with_inputs``).
    """
    x_a, x_b = _model_images(model, a), _model_images(model, b)
    for name, x in (("a", x_a), ("b", x_b)):
        if len(x) != 1:
            raise ValueError(f"{name} must be a single image, got a batch of {len(x)}")
    z_a, z_b = encode_images(model, x_a, condition=condition), encode_images(model, x_b, condition=condition)
    path = decode_latents(model, interpolate_latents(z_a[0], z_b[0], steps, method), condition=condition)
    return np.concatenate([x_a, path, x_b]) if with_inputs else path


# ---------------------------------------------------------------------------
# Latent arithmetic
# ---------------------------------------------------------------------------


def latent_translate(
    model: Any,
    images: Any,
    vector: Any,
    scales: Sequence[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
    condition: Any = None,
) -> np.ndarray:
    """Move images along a latent direction: decode ``encode(x) + scale * vector``.

    With ``vector = attribute_vector(model, smiling, not_smiling)`` this adds
    (positive scales) or removes (negative scales) a smile.

    Args:
        model: a trained VAE.
        images: one image or a batch, anything :func:`to_tensor` reads.
        vector: a direction of length ``model.latent_dim``.
        scales: how far to move; ``0`` is the plain reconstruction.
        condition: a conditional VAE's condition (one for all images, or one each),
            kept for every step.

    Returns:
        ``(N, len(scales), H, W, C)`` float32 images: one row per input image,
        which :func:`vaecore.plots.image_grid` draws as a grid directly.
    """
    v = _as_latents(model, vector, "vector")
    if len(v) != 1:
        raise ValueError(f"vector must be a single latent vector, got {len(v)} of them")
    scales = np.asarray(scales, dtype=np.float32).reshape(-1)
    if scales.size == 0:
        raise ValueError("scales must contain at least one value")
    z = encode_images(model, images, condition=condition)  # (N, latent)
    moved = z[:, None, :] + scales[None, :, None] * v[None]  # (N, S, latent)
    rows = condition_rows(model, condition, len(z))
    rows = None if rows is None else np.repeat(rows, len(scales), axis=0)  # (N * S, K)
    decoded = decode_latents(model, moved.reshape(-1, z.shape[-1]), condition=rows)
    return decoded.reshape(len(z), len(scales), *decoded.shape[1:])


def attribute_vector(model: Any, images_with: Any, images_without: Any) -> np.ndarray:
    """Latent direction of an attribute: mean code *with* it minus mean code *without*.

    Either argument may be an image batch (anything :func:`to_tensor` reads) or a
    ``tf.data`` dataset of images / ``(images, labels)`` (labels are ignored), so
    large CelebA subsets can be streamed.

    Returns:
        ``(latent_dim,)`` float32 vector, ready for :func:`latent_translate`.
    """
    return _mean_code(model, images_with, "images_with") - _mean_code(
        model, images_without, "images_without"
    )


def _mean_code(model: Any, images: Any, name: str) -> np.ndarray:
    """Average latent mean over a batch or a dataset."""
    if isinstance(images, tf.data.Dataset):
        z, _ = encode_dataset(model, images, with_labels=False)
    else:
        z = encode_images(model, images)
    if len(z) == 0:
        raise ValueError(f"{name} holds no images")
    return z.mean(axis=0)


# ---------------------------------------------------------------------------
# Encoding datasets
# ---------------------------------------------------------------------------


def encode_dataset(
    model: Any,
    dataset: Any,
    with_labels: bool = True,
    max_batches: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Encode a whole dataset to latent means, e.g. for the latent scatter plots.

    Args:
        model: a trained VAE.
        dataset: a ``tf.data.Dataset`` whose elements are images, ``(images, labels)``
            tuples or ``{"image": ..., "label": ...}`` dicts, batched or not.
            An ``(images, images)`` autoencoder training pair counts as unlabelled.
            A numpy array, or an ``(x, y)`` tuple of arrays, is accepted too.
        with_labels: also collect the labels.
        max_batches: stop after this many batches (``None``: the whole dataset).

    A conditional VAE encodes each batch given its labels.

    Returns:
        ``(z_mean, labels)``: ``(n, latent)`` float32 codes and the ``(n, ...)`` labels,
        or ``None`` for labels when not asked for or not present.
    """
    dataset = _as_batched_dataset(model, dataset)
    codes, labels = [], []
    for i, element in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        images, batch_labels = _split_element(element)
        x = _model_images(model, images)
        given = (batch_labels,) if getattr(model, "conditional", False) else ()
        codes.append(to_numpy(model.encode(x, *given)[0], np.float32))
        if with_labels and batch_labels is not None:
            labels.append(np.asarray(batch_labels))
    latent = int(model.latent_dim)
    z = np.concatenate(codes, axis=0) if codes else np.zeros((0, latent), np.float32)
    y = (
        np.concatenate(labels, axis=0)
        if with_labels and labels and len(labels) == len(codes)
        else None
    )
    return z, y


def _as_batched_dataset(model: Any, dataset: Any) -> tf.data.Dataset:
    """Wrap arrays into a dataset and batch unbatched datasets."""
    if not isinstance(dataset, tf.data.Dataset):
        if isinstance(dataset, tuple) and len(dataset) == 2:
            dataset = tf.data.Dataset.from_tensor_slices(dataset)
        elif isinstance(dataset, np.ndarray | tf.Tensor):
            dataset = tf.data.Dataset.from_tensor_slices(dataset)
        else:
            raise TypeError(
                "dataset must be a tf.data.Dataset, an image array or an (x, y) tuple, "
                f"got {type(dataset).__name__}"
            )
    spec = dataset.element_spec
    image_spec, _ = _split_element(spec)
    rank = image_spec.shape.rank
    image_rank = len(input_shape(model))
    if rank is not None and rank < image_rank + 1:
        dataset = dataset.batch(_BATCH)
    return dataset


def _split_element(element: Any) -> tuple[Any, Any]:
    """A dataset element (or its spec) -> ``(images, labels or None)``."""
    if isinstance(element, Mapping):
        images = element.get("image", element.get("images"))
        if images is None:
            raise ValueError(f"dict dataset elements need an 'image' key, got {list(element)}")
        return images, element.get("label", element.get("labels"))
    if isinstance(element, (tuple, list)):
        if not element:
            raise ValueError("empty dataset element")
        images = element[0]
        labels = element[1] if len(element) > 1 else None
        if labels is not None and _same_shape(labels, images):
            labels = None  # (x, x) autoencoder pair, not labels
        return images, labels
    return element, None


def _same_shape(a: Any, b: Any) -> bool:
    """True when two tensors or specs have the same (known) shape and rank > 2."""
    shape_a, shape_b = tf.TensorShape(a.shape), tf.TensorShape(b.shape)
    return shape_a.rank is not None and shape_a.rank > 2 and shape_a.as_list() == shape_b.as_list()


# ---------------------------------------------------------------------------
# The bundle
# ---------------------------------------------------------------------------


class VAEToolbox:
    """The functions of this module bound to one model (the old ``CVAEToolBox``).

    >>> tb = VAEToolbox(model)
    >>> frames = tb.interpolate("a.png", "b.png", steps=10, method="slerp")
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The model's ``(H, W, C)``."""
        return input_shape(self.model)

    @property
    def latent_dim(self) -> int:
        """Size of the latent space."""
        return int(self.model.latent_dim)

    def to_tensor(self, image_or_path: Any) -> tf.Tensor:
        """:func:`to_tensor`, resized and converted to the model's input shape."""
        return to_tensor(image_or_path, size=self.input_shape)

    def encode(self, images: Any, condition: Any = None) -> np.ndarray:
        """Latent means of ``images`` (given a conditional VAE's ``condition``), see :func:`encode_images`."""
        return encode_images(self.model, images, condition=condition)

    def decode(self, z: Any, condition: Any = None) -> np.ndarray:
        """Decode latent vectors (given ``condition``), see :func:`decode_latents`."""
        return decode_latents(self.model, z, condition=condition)

    def reconstruct(self, images: Any, condition: Any = None) -> np.ndarray:
        """Decode the latent means of ``images`` (both given ``condition``)."""
        return self.decode(self.encode(images, condition), condition)

    def generate_from(self, z_values: Any, condition: Any = None) -> np.ndarray:
        """See :func:`generate_from`."""
        return generate_from(self.model, z_values, condition)

    def interpolate(
        self,
        a: Any,
        b: Any,
        steps: int = 8,
        method: Method = "linear",
        condition: Any = None,
        with_inputs: bool = False,
    ) -> np.ndarray:
        """See :func:`interpolate`."""
        return interpolate(self.model, a, b, steps, method, condition, with_inputs)

    @staticmethod
    def interpolate_latents(
        z_a: Any, z_b: Any, steps: int = 8, method: Method = "linear"
    ) -> np.ndarray:
        """See :func:`interpolate_latents`."""
        return interpolate_latents(z_a, z_b, steps, method)

    def latent_translate(
        self,
        images: Any,
        vector: Any,
        scales: Iterable[float] = (0.0, 0.5, 1.0, 1.5, 2.0),
        condition: Any = None,
    ) -> np.ndarray:
        """See :func:`latent_translate`."""
        return latent_translate(self.model, images, vector, tuple(scales), condition)

    def attribute_vector(self, images_with: Any, images_without: Any) -> np.ndarray:
        """See :func:`attribute_vector`."""
        return attribute_vector(self.model, images_with, images_without)

    def encode_dataset(
        self, dataset: Any, with_labels: bool = True, max_batches: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """See :func:`encode_dataset`."""
        return encode_dataset(self.model, dataset, with_labels, max_batches)
