"""Build the tf.data pipeline from a source: shuffle, decode/convert, batch, prefetch.

* In-memory arrays: shuffle *indices*, batch them, then gather and convert a whole
  batch at once (fast, no per-image Python or shuffle buffer of images).
* Files: shuffle the *paths* (a few bytes each), then decode in parallel
  (``num_parallel_calls=AUTOTUNE``), batch and prefetch. Only a few batches of
  pixels are in memory at any time, however many files there are.
  ``cache=True`` keeps the decoded images in memory after the first epoch (then
  memory grows with the collection, by design).
* ``binarize=True``: every epoch draws new Bernoulli samples.
* ``augment`` (an :class:`~vaecore.data.augment.AugmentSpec`): random flips and
  shifts of each image, applied per batch after decoding/resizing and before
  binarization, with their own seed stream (new draws every epoch). With
  ``cache=True`` the cache holds the un-augmented images, so augmentation stays
  fresh every epoch.

Seeded pipelines are a function of (seed, epoch). With a ``seed``, each epoch's
order (a stateless permutation), augmentation and binarization draws (stateless
ops seeded from seed, stream, epoch and batch index) depend on nothing else, so
a process that resumes at epoch k continues the very same sequence. The epoch is
a small ``tf.Variable`` per pipeline, read once when an epoch's iterator starts
(and then counted up, so iterating a pipeline by hand still gives a new epoch
each time); :func:`set_epoch`, which :func:`vaecore.train` calls at every epoch
begin, sets it, so that epoch k of a resumed run is epoch k of the sequence.
Without a ``seed`` the pipeline shuffles and draws as ``tf.data`` does
(``reshuffle_each_iteration``, ``Dataset.random``): fresh each epoch, not repeatable.

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
_AUGMENT_SEED_OFFSET = 7919  # seedless: augmentation's Dataset.random seed stream
# Seeded pipelines: one stateless stream each, so that adding augmentation leaves
# the order and the binarization draws as they were.
_SHUFFLE, _AUGMENT, _BINARIZE = 1, 2, 3
_EPOCH_COUNTERS: list[tf.Variable] = []


def set_epoch(epoch: int) -> None:
    """Make the next iteration of every seeded pipeline in this process epoch ``epoch``.

    :func:`vaecore.train` calls this at the start of every epoch (Keras makes the
    epoch's iterator after that), so the order and draws of epoch ``epoch`` are
    the same whether the run got there uninterrupted or resumed there. Each
    pipeline's counter then goes on counting its iterations, so a validation
    pipeline iterated at the epoch's end also sees ``epoch``.
    """
    for counter in _EPOCH_COUNTERS:
        counter.assign(epoch)


def _epoch_counter() -> tf.Variable:
    """A new pipeline's epoch counter (int64 on the CPU, outside any tf.function)."""
    with tf.init_scope(), tf.device("/cpu:0"):
        counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="vaecore_epoch")
    _EPOCH_COUNTERS.append(counter)  # kept alive: the pipeline's graph reads it
    return counter


def _stream_seed(seed: int, stream: int, epoch: tf.Tensor, batch: tf.Tensor | None = None):
    """A stateless seed (2 int64s) for one stream of one epoch (and one batch of it)."""
    pair = tf.constant([seed, stream], tf.int64)
    pair = tf.random.experimental.stateless_fold_in(pair, tf.cast(epoch, tf.int64))
    if batch is not None:
        pair = tf.random.experimental.stateless_fold_in(pair, tf.cast(batch, tf.int64))
    return pair


def _per_epoch(
    elements, n: int, seed: int, shuffle: bool, cached: tf.data.Dataset | None = None
) -> tf.data.Dataset:
    """One epoch of ``elements`` (tensors to slice), or of ``cached``, in a (seed, epoch) order.

    Each element gets the epoch appended (``(*element, epoch)``), so the random
    draws further down the pipeline can be seeded from it. The epoch is claimed
    once per iteration from the pipeline's counter (see :func:`set_epoch`).
    """
    counter = _epoch_counter()
    head = tf.data.Dataset.from_tensors(tf.constant(0, tf.int64))
    head = head.map(lambda _: counter.assign_add(1) - 1)

    def one_epoch(epoch):
        if cached is not None:
            ds = cached
            if shuffle:
                # Not sliceable: stack the cached epoch (what a shuffle buffer of n holds
                # anyway) and gather it in the (seed, epoch) order. Not ds.shuffle with a
                # tensor seed: TensorFlow's get_seed compares it with 0 in Python, which
                # fails once keras.utils.set_random_seed(0) has set the global seed.
                keys = tf.random.stateless_uniform([n], _stream_seed(seed, _SHUFFLE, epoch))
                order = tf.argsort(keys)
                ds = ds.batch(n).map(lambda *t: tuple(tf.gather(x, order) for x in t))
                ds = ds.unbatch()
        else:
            if shuffle:
                keys = tf.random.stateless_uniform([n], _stream_seed(seed, _SHUFFLE, epoch))
                order = tf.argsort(keys)
                picked = tf.nest.map_structure(lambda t: tf.gather(t, order), elements)
            else:
                picked = elements
            ds = tf.data.Dataset.from_tensor_slices(picked)
        return ds.map(lambda *element: (*element, epoch))

    return head.flat_map(one_epoch)


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
    quantize: bool = False,
) -> tf.data.Dataset:
    """Pipeline over in-memory uint8 images ``(N, H, W, C)``."""
    pixels = tf.constant(source.images)
    targets = tf.constant(source.labels) if labels else None
    channels = channels or source.images.shape[-1]
    native = tuple(source.images.shape[1:3])
    size = None if image_size is None or tuple(image_size) == native else image_size
    bg = img.background_for(channels, background)

    def fetch(index: tf.Tensor, *epoch):
        x = tf.cast(tf.gather(pixels, index), tf.float32) / 255.0
        x = img.convert_channels(x, channels)
        if size is not None:
            x = img.resize(x, size, resize_mode, bg)
        element = (x, tf.gather(targets, index)) if labels else (x,)
        return element + epoch if epoch else (element if labels else x)

    n = len(source)
    seeded = _seeded(seed, shuffle, binarize, augment)
    if seeded:
        ds = _per_epoch(tf.range(n, dtype=tf.int64), n, seed, shuffle)
    else:
        ds = tf.data.Dataset.range(n)
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(fetch, num_parallel_calls=AUTOTUNE)
    if seeded:  # the flat_map hides the length; Keras needs it (see the module docstring)
        ds = ds.apply(
            tf.data.experimental.assert_cardinality(_batch_count(n, batch_size, drop_remainder))
        )
    return _finish(ds, binarize, seed, augment, bg, seeded, quantize)


def _seeded(seed: int | None, shuffle: bool, binarize: bool, augment) -> bool:
    """Whether the pipeline is built as a function of (seed, epoch): seeded and random at all."""
    return seed is not None and (shuffle or binarize or augment is not None)


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
    quantize: bool = False,
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
    elements = files if label_values is None else (files, tf.constant(label_values))
    n = len(paths)
    seeded = _seeded(seed, shuffle, binarize, augment)

    def decode(path, *rest):
        return (load(path), *rest) if rest else load(path)

    if seeded:
        cached = None
        if cache:
            cached = _decoded(tf.data.Dataset.from_tensor_slices(elements), decode).cache()
        ds = _per_epoch(elements, n, seed, shuffle, cached)
        if not cache:
            ds = _decoded(ds, decode)
    else:
        ds = tf.data.Dataset.from_tensor_slices(elements)
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
    return _finish(ds, binarize, seed, augment, bg, seeded, quantize)


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
    seeded: bool = False,
    quantize: bool = False,
) -> tf.data.Dataset:
    """Optional augmentation, quantization and dynamic binarization (fresh draws every epoch), prefetch.

    ``seeded``: the elements end with their epoch (from :func:`_per_epoch`), and the
    draws come from (seed, stream, epoch, batch index); the epoch is dropped here.
    ``quantize``: round every value to the 8-bit grid k/255 after the last resampling
    step (resize, padding, augmentation), so a discretized likelihood sees 8-bit data.
    """
    if seeded:
        return _finish_seeded(ds, binarize, seed, augment, background, quantize)
    if augment is not None:
        # its own stream: the binarization draws stay what they were without augmentation
        aug_seed = None if seed is None else seed + _AUGMENT_SEED_OFFSET
        aug_seeds = tf.data.Dataset.random(seed=aug_seed, rerandomize_each_iteration=True).batch(2)

        def transform(element, pair):
            if isinstance(element, tuple):
                return (augment_batch(element[0], pair, augment, background), *element[1:])
            return augment_batch(element, pair, augment, background)

        ds = tf.data.Dataset.zip((ds, aug_seeds)).map(transform, num_parallel_calls=AUTOTUNE)
    if quantize:

        def to_grid(*element):
            return (
                (_to_grid(element[0]), *element[1:]) if len(element) > 1 else _to_grid(element[0])
            )

        ds = ds.map(to_grid, num_parallel_calls=AUTOTUNE)
    if binarize:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

        def draw(element, pair):
            if isinstance(element, tuple):
                return (img.binarize(element[0], pair), *element[1:])
            return img.binarize(element, pair)

        ds = tf.data.Dataset.zip((ds, seeds)).map(draw, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def _finish_seeded(
    ds: tf.data.Dataset,
    binarize: bool,
    seed: int,
    augment: AugmentSpec | None,
    background: tuple[float, ...],
    quantize: bool = False,
) -> tf.data.Dataset:
    """:func:`_finish` for elements ``(x, [label,] epoch)``: draws from (seed, epoch, batch)."""

    def transform(batch, element):
        x, rest, epoch = element[0], element[1:-1], tf.reshape(element[-1], [-1])[0]
        if augment is not None:
            x = augment_batch(x, _stream_seed(seed, _AUGMENT, epoch, batch), augment, background)
        if quantize:
            x = _to_grid(x)
        if binarize:
            x = img.binarize(x, _stream_seed(seed, _BINARIZE, epoch, batch))
        return (x, *rest) if rest else x

    return ds.enumerate().map(transform, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)


def _to_grid(x: tf.Tensor) -> tf.Tensor:
    """Values in [0, 1] rounded to the nearest k/255 (``vaecore.losses.quantize_to_grid``, in tf)."""
    return tf.clip_by_value(tf.round(x * 255.0), 0.0, 255.0) / 255.0
