"""Build the tf.data pipeline from a source: shuffle, decode/convert, batch, prefetch.

* In-memory arrays: shuffle *indices*, batch them, then gather and convert a whole
  batch at once (fast, no per-image Python or shuffle buffer of images).
* Files: shuffle the *paths* (a few bytes each), then decode in parallel
  (``num_parallel_calls=AUTOTUNE``), batch and prefetch. Only a few batches of
  pixels are in memory at any time, however many files there are.
  ``cache=True`` keeps the decoded images in memory after the first epoch (then
  memory grows with the collection, by design).
* ``binarize=True``: each batch is zipped with a seed from
  ``tf.data.Dataset.random(rerandomize_each_iteration=True)``, so every epoch
  draws new Bernoulli samples, reproducibly when ``seed`` is given.
* ``augment`` (an :class:`~vaecore.data.augment.AugmentSpec`): random flips and
  shifts of each image, applied per batch after decoding/resizing and before
  binarization, with their own seed stream (new draws every epoch, the same
  sequence for the same ``seed``). With ``cache=True`` the cache holds the
  un-augmented images, so augmentation stays fresh every epoch.

File pipelines declare their length (``assert_cardinality``): the scan knows how
many good files there are, so Keras sizes each epoch exactly, shows a real progress
bar and averages its metrics over the true batches only (with an unknown length,
Keras 3 runs one extra, empty step per epoch and its metric means come out biased).
A file that breaks between the scan and its epoch (deleted, rewritten) is named in a
logged warning and dropped (``ignore_errors``); that epoch then ends with an error
saying the dataset held fewer elements than declared. Re-run: the scan leaves the
file out, and ``vaecore.train`` resumes from the last finished epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from vaecore.data import images as img
from vaecore.data.augment import AugmentSpec, augment_batch
from vaecore.data.source_types import ArraySource

AUTOTUNE = tf.data.AUTOTUNE
_AUGMENT_SEED_OFFSET = 7919  # augmentation draws from seed + this, binarization from seed


def array_pipeline(
    source: ArraySource,
    *,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    labels: bool,
    binarize: bool,
    image_size: tuple[int, int] | None,
    channels: int | None,
    resize_mode: str,
    background: tuple[float, float, float],
    drop_remainder: bool,
    augment: AugmentSpec | None = None,
) -> tf.data.Dataset:
    """Pipeline over in-memory uint8 images ``(N, H, W, C)``."""
    pixels = tf.constant(source.images)
    targets = tf.constant(source.labels) if labels else None
    channels = channels or source.images.shape[-1]
    native = tuple(source.images.shape[1:3])
    size = None if image_size is None or tuple(image_size) == native else image_size
    bg = img.background_for(channels, background)

    def fetch(index: tf.Tensor):
        x = tf.cast(tf.gather(pixels, index), tf.float32) / 255.0
        x = img.convert_channels(x, channels)
        if size is not None:
            x = img.resize(x, size, resize_mode, bg)
        return (x, tf.gather(targets, index)) if labels else x

    ds = tf.data.Dataset.range(len(source))
    if shuffle:
        ds = ds.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(fetch, num_parallel_calls=AUTOTUNE)
    return _finish(ds, binarize, seed, augment, bg)


def file_pipeline(
    paths: Sequence[str],
    label_values: np.ndarray | None,
    *,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    binarize: bool,
    image_size: tuple[int, int] | None,
    known_size: tuple[int, int] | None,
    channels: int,
    resize_mode: str,
    background: tuple[float, float, float],
    cache: bool,
    drop_remainder: bool,
    augment: AugmentSpec | None = None,
) -> tf.data.Dataset:
    """Pipeline over image files; ``label_values`` (or None) aligned with ``paths``.

    ``image_size`` resizes every image; otherwise ``known_size`` (all images share
    it, as found by the scan) fixes the static shape, or shapes stay dynamic.
    """
    bg = img.background_for(channels, background)

    def load(path: tf.Tensor) -> tf.Tensor:
        x = img.decode_file(path, channels, background)
        if image_size is not None:
            x = img.resize(x, image_size, resize_mode, bg)
            x.set_shape((*image_size, channels))
        elif known_size is not None:
            x = tf.ensure_shape(x, (*known_size, channels))
        else:
            x.set_shape((None, None, channels))
        return x

    files = tf.constant(list(paths), dtype=tf.string)  # a tuple would be read as a structure
    elements = files if label_values is None else (files, label_values)
    ds = tf.data.Dataset.from_tensor_slices(elements)
    decode = load if label_values is None else (lambda path, y: (load(path), y))
    n = len(paths)
    if cache:
        ds = _decoded(ds, decode).cache()
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    else:
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        ds = _decoded(ds, decode)
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.apply(
        tf.data.experimental.assert_cardinality(_batch_count(n, batch_size, drop_remainder))
    )
    return _finish(ds, binarize, seed, augment, bg)


def _batch_count(n: int, batch_size: int | None, drop_remainder: bool) -> int:
    """How many elements a pipeline of ``n`` images yields once batched."""
    if batch_size is None:
        return n
    return n // batch_size if drop_remainder else -(-n // batch_size)


def _decoded(ds: tf.data.Dataset, decode) -> tf.data.Dataset:
    """Parallel decode; elements that fail (a file broken after the scan) are dropped."""
    return ds.map(decode, num_parallel_calls=AUTOTUNE).ignore_errors(log_warning=True)


def _finish(
    ds: tf.data.Dataset,
    binarize: bool,
    seed: int | None,
    augment: AugmentSpec | None = None,
    background: tuple[float, ...] = (1.0, 1.0, 1.0),
) -> tf.data.Dataset:
    """Optional augmentation, then dynamic binarization (fresh draws every epoch), then prefetch."""
    if augment is not None:
        # its own stream: the binarization draws stay what they were without augmentation
        aug_seed = None if seed is None else seed + _AUGMENT_SEED_OFFSET
        aug_seeds = tf.data.Dataset.random(seed=aug_seed, rerandomize_each_iteration=True).batch(2)

        def transform(element, pair):
            if isinstance(element, tuple):
                return (augment_batch(element[0], pair, augment, background), *element[1:])
            return augment_batch(element, pair, augment, background)

        ds = tf.data.Dataset.zip((ds, aug_seeds)).map(transform, num_parallel_calls=AUTOTUNE)
    if binarize:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

        def draw(element, pair):
            if isinstance(element, tuple):
                return (img.binarize(element[0], pair), *element[1:])
            return img.binarize(element, pair)

        ds = tf.data.Dataset.zip((ds, seeds)).map(draw, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)
