"""The two kinds of thing a dataset source hands to the pipeline builder.

* :class:`ArraySource`: all images already in memory as a uint8 array (MNIST,
  Fashion-MNIST, CIFAR-10). The pipeline shuffles indices and gathers batches.
* :class:`FileSource`: a list of image files (plus optional labels). The pipeline
  shuffles the *paths* and decodes in parallel, so memory stays flat however many
  files there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ArraySource:
    """In-memory images ``(N, H, W, C)`` uint8 and optional int labels ``(N,)``."""

    images: np.ndarray
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    origin: str = ""

    def __len__(self) -> int:
        return len(self.images)

    def head(self, n: int) -> ArraySource:
        """The first ``n`` examples (deterministic, used by ``limit=``)."""
        labels = None if self.labels is None else self.labels[:n]
        return replace(self, images=self.images[:n], labels=labels)


@dataclass(frozen=True)
class FileSource:
    """Image files under ``root``, with optional labels aligned to ``paths``.

    ``labels`` is ``(N,)`` class indices into ``class_names`` or ``(N, K)`` 0/1
    attributes named by ``attribute_names`` (CelebA). ``root`` anchors relative
    paths (used for the stable train/test split and the scan cache). ``ignored``
    lists non-image files met while listing, so they can be reported.
    """

    paths: tuple[str, ...]
    root: Path
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    attribute_names: tuple[str, ...] | None = None
    origin: str = ""
    default_channels: int = 3
    default_image_size: tuple[int, int] | None = None
    ignored: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.paths)

    def select(self, index: np.ndarray | list[int]) -> FileSource:
        """A copy keeping only the examples at ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.int64)
        paths = tuple(self.paths[i] for i in index)
        labels = None if self.labels is None else self.labels[index]
        return replace(self, paths=paths, labels=labels)
