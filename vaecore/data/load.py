"""``load_dataset``: registry lookup, file check, then one pipeline builder."""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from vaecore.data import images as img
from vaecore.data import pipeline, validate
from vaecore.data.augment import parse_augment
from vaecore.data.errors import DatasetNotFoundError
from vaecore.data.registry import default_split, get_loader
from vaecore.data.source_types import ArraySource, FileSource


def load_dataset(
    name: str,
    split: str | None = None,
    *,
    batch_size: int | None = 128,
    shuffle: bool = True,
    seed: int | None = None,
    labels: bool = False,
    binarize: bool = False,
    limit: int | None = None,
    data_dir: str | os.PathLike | None = None,
    image_size: int | Sequence[int] | None = None,
    channels: int | None = None,
    resize_mode: str = "stretch",
    background: int | Sequence[int] = (255, 255, 255),
    strict: bool = False,
    cache: bool = False,
    drop_remainder: bool = False,
    download: bool | None = None,
    augment: bool | dict[str, Any] | None = False,
    quantize: bool = False,
    **source_kwargs: Any,
) -> tf.data.Dataset:
    """A shuffled, batched, prefetched ``tf.data.Dataset`` of float32 images in [0, 1].

    Elements are ``images`` of shape ``(B, H, W, C)``, or ``(images, labels)`` with
    ``labels=True`` (int32 class indices ``(B,)``; for ``celeba``, the 40
    attributes as 0/1 ``(B, 40)``, also asked for with ``attributes=True``; for
    ``dsprites``, the 5 factor classes ``(B, 5)``).
    ``batch_size=None`` yields single examples.

    Args:
        name: ``mnist``, ``fashion_mnist``, ``cifar10``, ``caltech101``, ``dogs``,
            ``pokemon``, ``celeba``, ``dsprites`` (generated; ``subset=``,
            ``subset_seed=``; labels are its 5 factor classes, ``ds.factors``
            the factor table in source order: see :mod:`vaecore.data.dsprites`), or a general source: ``folder`` (``path=``),
            ``paths`` (``paths=[...]``, ``file_labels=``), ``csv`` (``path=``,
            ``column="path"``, ``label_column=None``). See ``list_datasets()``.
        split: ``"train"``, ``"test"`` or ``"all"``. Official splits for the array
            datasets; for file datasets a stable hash of each relative path puts
            ``test_fraction`` (default 0.1) of the files in ``"test"``. Default
            (``None``): ``"train"`` for named datasets, ``"all"`` for a reader's
            own ``folder``, ``paths`` or ``csv``.
        binarize: dynamic binarization, a fresh Bernoulli draw every epoch.
        seed: makes each epoch's order and random draws (binarization,
            augmentation) a function of (seed, epoch): the same every time, and
            continued by a run that :func:`vaecore.train` resumes, bit for bit.
            ``None``: fresh randomness, not repeatable.
        limit: keep the first ``limit`` examples of the split (before shuffling).
        data_dir: search only this folder (default: ``$VAECORE_DATA_DIR``, then
            ``<cache>/data``) before downloading.
        image_size: ``int`` or ``(height, width)``. Default: native size for the
            array datasets, 64x64 for the named photo datasets, the common size
            of the files for general sources.
        channels: 1 or 3 (default 1 for MNIST/Fashion-MNIST, else 3).
        resize_mode: ``"stretch"``, ``"crop"`` (centre crop to the aspect ratio)
            or ``"pad"`` (letterbox with ``background``).
        background: RGB (0-255) that transparent pixels and padding become.
        strict: raise :class:`BadImageError` instead of skipping bad files.
        cache: keep decoded images in memory after the first epoch (files only).
        download: allow downloading; default: yes unless ``VAECORE_OFFLINE=1``.
        augment: random data augmentation for *training* pipelines, inside the
            ``tf.data`` graph (per batch, after decoding and resizing, before
            binarization): ``True`` for the defaults, a horizontal flip with
            probability 1/2 and a shift of up to 4 pixels each way with the
            border filled with ``background``; or a dict that changes some of
            them, e.g. ``{"flip": False, "shift": 2, "fill": "reflect"}`` (keys
            ``flip`` bool, ``shift`` int pixels >= 0, ``fill`` ``"background"``
            or ``"reflect"``). New random draws every epoch, the same sequence
            for the same ``seed``. It also applies with ``shuffle=False`` (handy
            to look at the augmented images; reproducible with ``seed``), but
            ``split="test"`` with augmentation is refused (a ``ValueError``):
            evaluate on the images as they are. ``cache=True`` caches the
            un-augmented images. Default ``False``: no augmentation.
        quantize: round every pixel value to the 8-bit grid k/255 after the last
            resampling step (resize, crop, padding, augmentation; also 16-bit
            files), before binarization. Turn it on for a discretized likelihood
            (``vaecore train --likelihood discretized_logistic`` does), whose
            bits/dim are a code length of 8-bit images only. Default ``False``:
            the resampled values as they are.
        **source_kwargs: options of the source (``test_fraction``,
            ``include_background``, ``attributes``, ``missing``, ...).

    Raises:
        DatasetNotFoundError: the data is neither local nor downloadable.
        BadImageError: ``strict=True`` and some files are not usable images.
        MissingFilesError: files listed in ``paths``/CSV do not exist.
        ValueError: a bad option value (``augment`` included).
    """
    loader = get_loader(name)
    if split is None:
        split = default_split(name)
    labels = labels or bool(source_kwargs.get("attributes"))
    if labels and "attributes" in inspect.signature(loader).parameters:
        source_kwargs["attributes"] = True  # CelebA's only labels are its attributes
    size = img.parse_image_size(image_size)
    bg = img.parse_background(background)
    img.check_resize_mode(resize_mode)
    _check_arguments(batch_size, limit, channels)
    augment_spec = parse_augment(augment)
    if augment_spec is not None and split == "test":
        raise ValueError(
            "augment is for training pipelines: the test split is evaluated on the images as "
            "they are. Load it without augment (or use split='train' / 'all')."
        )
    source = loader(split, **_source_options(name, loader, data_dir, download, source_kwargs))
    if labels and source.labels is None:
        raise ValueError(_no_labels_message(name, source))

    if isinstance(source, ArraySource):
        if limit is not None:
            source = source.head(limit)
        ds = pipeline.array_pipeline(
            source,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            labels=labels,
            binarize=binarize,
            image_size=size,
            channels=channels,
            resize_mode=resize_mode,
            background=bg,
            drop_remainder=drop_remainder,
            augment=augment_spec,
            quantize=bool(quantize),
        )
    else:
        source, sizes = _checked_files(source, limit, strict)
        known_size = next(iter(sizes)) if len(sizes) == 1 else None
        size = size or source.default_image_size
        if size is None and known_size is None and batch_size is not None:
            raise ValueError(_mixed_sizes_message(source, sizes))
        ds = pipeline.file_pipeline(
            source.paths,
            source.labels if labels else None,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            binarize=binarize,
            image_size=size,
            known_size=known_size,
            channels=channels or source.default_channels,
            resize_mode=resize_mode,
            background=bg,
            cache=cache,
            drop_remainder=drop_remainder,
            augment=augment_spec,
            quantize=bool(quantize),
        )
    ds.class_names = source.class_names
    ds.attribute_names = getattr(source, "attribute_names", None)
    ds.factor_names = getattr(source, "factor_names", None)  # dsprites: its known factors
    ds.factors = getattr(source, "factors", None)  # (N, K) in the source's (unshuffled) order
    ds.num_examples = len(source)
    return ds


def _checked_files(
    source: FileSource, limit: int | None, strict: bool
) -> tuple[FileSource, set[tuple[int, int]]]:
    """Scan the files, report bad ones, keep the good ones (at most ``limit``); also their (h, w) sizes."""
    scan = validate.scan_files(source.paths, source.root, want=limit)
    bad = [(p, validate.non_image_reason(p)) for p in source.ignored] + scan.bad
    validate.report_bad(
        bad, len(source.ignored) + scan.checked + scan.from_cache, source.origin, strict
    )
    if not scan.kept:
        raise DatasetNotFoundError(
            f"{source.origin}: none of the {len(source)} files is a usable image."
        )
    return source.select(scan.kept), set(scan.sizes)


def _source_options(name: str, loader, data_dir, download, kwargs: dict) -> dict:
    params = inspect.signature(loader).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = [p for p in params if p not in ("split", "data_dir", "download")]
        raise TypeError(
            f"load_dataset({name!r}) got unknown options {unknown}; it accepts {accepted}."
        )
    options = dict(kwargs)
    for key, value in (("data_dir", data_dir), ("download", download)):
        if key in params:
            options[key] = value
        elif value is not None:
            raise TypeError(
                f"load_dataset({name!r}) does not use {key}=; pass the files with {_where_files_go(params)}."
            )
    return options


def _where_files_go(params) -> str:
    """How a general source is told where its files are (for messages)."""
    return " / ".join(f"{p}=" for p in ("path", "paths") if p in params) or "its own options"


def _check_arguments(batch_size: int | None, limit: int | None, channels: int | None) -> None:
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    if limit is not None and (not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None, got {channels!r}")


def _no_labels_message(name: str, source: ArraySource | FileSource) -> str:
    if name in ("folder",):
        return (
            f"labels=True, but {source.origin} has no labels: labels come from first-level sub-folder "
            "names, so every image must sit in a sub-folder (one per class)."
        )
    if name in ("paths", "csv"):
        return f"labels=True, but no labels were given (pass {'file_labels=' if name == 'paths' else 'label_column='})."
    return f"labels=True, but {name} has no labels."


def _mixed_sizes_message(source: FileSource, sizes: set[tuple[int, int]]) -> str:
    examples = ", ".join(f"{h}x{w}" for h, w in sorted(sizes)[:3])
    return (
        f"The images in {source.origin} have {len(sizes)} different sizes (height x width: {examples}, ...), "
        "so they cannot be batched as they are. "
        "Pass image_size=(height, width) (and resize_mode='stretch' | 'crop' | 'pad'), or batch_size=None."
    )
