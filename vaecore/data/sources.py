"""General file sources for a reader's own images: a folder, a list of paths, a CSV.

Also the helpers every file-based dataset shares: listing image files, labels
from sub-folder names, and the deterministic train/test split.

**Split rule.** A file belongs to the test split when a stable hash (SHA-1) of its
path relative to the dataset root, read as a number in [0, 1), is below
``test_fraction`` (default 0.1). The rule does not depend on the order or the
number of files, on the machine, or on a seed: adding images never moves an
existing image between train and test. ``split="all"`` keeps every file.

**Order** (what ``limit=N`` takes first): files of a folder are sorted by path
and, when they have sub-folder labels, interleaved across classes (the first
image of every class, then the second of every class, ...), so a small
``limit`` still covers all classes. Path lists and CSVs keep their own order.
"""

from __future__ import annotations

import csv
import hashlib
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaecore.data.archives import COMPLETE_MARKER
from vaecore.data.display import show_path
from vaecore.data.errors import DatasetNotFoundError, MissingFilesError
from vaecore.data.source_types import FileSource

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp"})
SPLITS = ("train", "test", "all")
DEFAULT_TEST_FRACTION = 0.1
_SKIPPED_DIRS = frozenset({"__MACOSX", ".ipynb_checkpoints", ".git"})


def is_image_name(path: str | os.PathLike) -> bool:
    """True for file names with an image extension TensorFlow can decode."""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


def walk_files(root: Path) -> tuple[list[str], list[str]]:
    """All files under ``root`` as sorted relative POSIX paths: ``(images, others)``.

    ``others`` are non-image files (``.DS_Store``, ``Thumbs.db``, ``.txt``...), kept
    so they can be reported. Folders such as ``__MACOSX`` and hidden folders are
    not entered. Symlinked folders are followed, each real folder once (no loops).
    Broken symlinks count as files (they are reported as unreadable).
    """
    images, others = [], []
    seen = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(
            d for d in dirnames if d not in _SKIPPED_DIRS and not d.startswith(".")
        )
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            if name == COMPLETE_MARKER:
                continue
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            (images if is_image_name(name) else others).append(rel)
    return sorted(images), sorted(others)


def labels_from_subfolders(
    relpaths: Sequence[str],
) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    """Class index per file from its first sub-folder, and the sorted class names.

    Returns ``(None, None)`` when any file sits directly in the root (no labels).
    """
    if not relpaths or any("/" not in rel for rel in relpaths):
        return None, None
    tops = [rel.split("/", 1)[0] for rel in relpaths]
    class_names = tuple(sorted(set(tops)))
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[t] for t in tops], dtype=np.int32), class_names


def interleave_classes(labels: np.ndarray) -> np.ndarray:
    """Stable order taking the k-th file of every class before the (k+1)-th of any."""
    rank = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        rank[members] = np.arange(len(members))
    return np.lexsort((labels, rank))


def hash_fraction(relpath: str) -> float:
    """Stable number in [0, 1) from a relative path (same on every machine and run)."""
    digest = hashlib.sha1(relpath.replace(os.sep, "/").encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_indices(
    relpaths: Sequence[str], split: str, test_fraction: float = DEFAULT_TEST_FRACTION
) -> np.ndarray:
    """Indices of the files in ``split`` ("train", "test" or "all"); see the module doc."""
    check_split(split)
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    if split == "all":
        return np.arange(len(relpaths))
    in_test = np.array([hash_fraction(rel) < test_fraction for rel in relpaths], dtype=bool)
    return np.flatnonzero(in_test if split == "test" else ~in_test)


def check_split(split: str, allowed: Sequence[str] = SPLITS) -> None:
    """Raise a clear ``ValueError`` for an unknown split name."""
    if split not in allowed:
        raise ValueError(f"split must be one of {', '.join(map(repr, allowed))}; got {split!r}")


def apply_split(source: FileSource, split: str, test_fraction: float) -> FileSource:
    """Keep the files of ``split``, using paths relative to ``source.root``."""
    rel = [relative_path(p, source.root) for p in source.paths]
    return source.select(split_indices(rel, split, test_fraction))


def folder_files(root: Path, origin: str, what: str) -> FileSource:
    """Image files under ``root`` with sub-folder labels; clear error if there are none."""
    if not root.is_dir():
        raise DatasetNotFoundError(f"{what}: folder {show_path(root)} does not exist.")
    images, others = walk_files(root)
    if not images:
        extra = f" (found only {len(others)} other files, e.g. {others[:3]})" if others else ""
        raise DatasetNotFoundError(
            f"{what}: no image files ({', '.join(sorted(IMAGE_EXTENSIONS))}) under {show_path(root)}{extra}."
        )
    labels, class_names = labels_from_subfolders(images)
    if labels is not None:
        order = interleave_classes(labels)
        images, labels = [images[i] for i in order], labels[order]
    return FileSource(
        paths=tuple(os.path.join(root, rel) for rel in images),
        root=root,
        labels=labels,
        class_names=class_names,
        origin=origin,
        ignored=tuple(os.path.join(root, rel) for rel in others),
    )


def folder_source(
    split: str = "train", *, path: str | os.PathLike, test_fraction: float = DEFAULT_TEST_FRACTION
) -> FileSource:
    """All images under ``path`` (recursive); labels from first-level sub-folder names."""
    root = Path(path).expanduser()
    source = folder_files(root, origin=f"folder {show_path(root)}", what="load_dataset('folder')")
    return apply_split(source, split, test_fraction)


def paths_source(
    split: str = "train",
    *,
    paths: Sequence[str | os.PathLike],
    file_labels: Sequence[int | str] | None = None,
    missing: str = "error",
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> FileSource:
    """Images from an explicit list of files, optionally with one label per file.

    ``file_labels`` may be ints (used as they are) or strings (mapped to indices
    of their sorted unique values, which become ``class_names``).
    ``missing="error"`` raises for files that do not exist; ``"skip"`` drops them
    with one warning.
    """
    files = [Path(p).expanduser() for p in paths]
    if not files:
        raise DatasetNotFoundError("load_dataset('paths'): the list of paths is empty.")
    root = Path(os.path.commonpath([str(p.absolute().parent) for p in files]))
    return _listed_files(
        files, file_labels, root, missing, "load_dataset('paths')", split, test_fraction
    )


def csv_source(
    split: str = "train",
    *,
    path: str | os.PathLike,
    column: str = "path",
    label_column: str | None = None,
    missing: str = "error",
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> FileSource:
    """Images listed in column ``column`` of a CSV file (header row required).

    Relative paths are resolved against the CSV's own folder, so a CSV can travel
    with its images. ``label_column`` (optional) gives labels as in :func:`paths`.
    """
    csv_path = Path(path).expanduser()
    what = f"load_dataset('csv', path={str(csv_path)!r})"
    if not csv_path.is_file():
        raise DatasetNotFoundError(f"{what}: the CSV file does not exist.")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.DictReader(f, dialect=dialect))
    columns = list(rows[0].keys()) if rows else []
    for wanted in [column] + ([label_column] if label_column else []):
        if rows and wanted not in columns:
            raise ValueError(f"{what}: no column {wanted!r}; the columns are {columns}.")
    if not rows:
        raise DatasetNotFoundError(f"{what}: the CSV has no rows.")
    base = csv_path.parent
    files = [Path(r[column]) if os.path.isabs(r[column]) else base / r[column] for r in rows]
    file_labels = [r[label_column] for r in rows] if label_column else None
    if file_labels is not None and all(_is_int(v) for v in file_labels):
        file_labels = [int(v) for v in file_labels]
    return _listed_files(files, file_labels, base, missing, what, split, test_fraction)


def _listed_files(files, file_labels, root, missing, what, split, test_fraction) -> FileSource:
    if missing not in ("error", "skip"):
        raise ValueError(f"missing must be 'error' or 'skip', got {missing!r}")
    if file_labels is not None and len(file_labels) != len(files):
        raise ValueError(f"{what}: {len(files)} paths but {len(file_labels)} labels.")
    labels, class_names = _encode_labels(file_labels)
    absent = [i for i, p in enumerate(files) if not p.exists()]
    if absent:
        shown = "\n".join(f"  {files[i]}" for i in absent[:10])
        more = f"\n  ... and {len(absent) - 10} more" if len(absent) > 10 else ""
        message = f"{what}: {len(absent)} of {len(files)} listed files do not exist:\n{shown}{more}"
        if missing == "error":
            raise MissingFilesError(message + "\nPass missing='skip' to leave them out.")
        warnings.warn(message + "\nThey are skipped (missing='skip').", stacklevel=4)
    keep = sorted(set(range(len(files))) - set(absent))
    if not keep:
        raise DatasetNotFoundError(f"{what}: none of the listed files exist.")
    source = FileSource(
        paths=tuple(str(files[i]) for i in keep),
        root=root,
        labels=None if labels is None else labels[keep],
        class_names=class_names,
        origin=what,
    )
    return apply_split(source, split, test_fraction)


def _encode_labels(values) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    if values is None:
        return None, None
    if all(isinstance(v, (int, np.integer)) for v in values):
        return np.asarray(values, dtype=np.int32), None
    class_names = tuple(sorted({str(v) for v in values}))
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[str(v)] for v in values], dtype=np.int32), class_names


def _is_int(value: str) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def relative_path(path: str, root: str | os.PathLike) -> str:
    """``path`` relative to ``root`` with ``/`` separators; a plain prefix cut when
    possible (``os.path.relpath`` costs ~15 us a file, which shows at 100k files)."""
    prefix = os.path.join(os.fspath(root), "")
    if path.startswith(prefix) and ".." not in path:
        rel = path[len(prefix) :]
    else:
        rel = os.path.relpath(path, root)
    return rel.replace(os.sep, "/")
