"""Find a dataset on disk, fall back to its public download, or say clearly why not.

Search order for every dataset:

1. the ``data_dir=`` argument if given, else each of :func:`vaecore.config.data_dirs`
   (``$VAECORE_DATA_DIR``, then ``<cache>/data``);
2. the public download (Keras loaders or :func:`keras.utils.get_file` into
   ``<cache>/data/<dataset>/``), unless downloads are switched off;
3. a :class:`~vaecore.data.errors.DatasetNotFoundError` that names the dataset,
   lists what was searched and says how to get the files.

Downloads are switched off with ``download=False`` or the environment variable
``VAECORE_OFFLINE=1`` (the test-suite sets it, so tests never touch the network).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from vaecore import config
from vaecore.data.archives import extract_once, is_archive
from vaecore.data.display import show_path
from vaecore.data.errors import DatasetNotFoundError

OFFLINE_ENV = "VAECORE_OFFLINE"
T = TypeVar("T")


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The data directories searched: ``data_dir`` alone, or the configured ones."""
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    return config.data_dirs()


def downloads_allowed(download: bool | None = None) -> bool:
    """``download`` if given, else False when ``$VAECORE_OFFLINE`` is set to a true value."""
    if download is not None:
        return bool(download)
    value = os.environ.get(OFFLINE_ENV, "0").strip().lower()
    return value in ("", "0", "false", "no")


def download_dir(name: str) -> Path:
    """Where downloaded files of dataset ``name`` are stored (a searched data dir)."""
    return config.cache_dir() / "data" / name


def first_existing(dirs: Sequence[Path], relpaths: Sequence[str]) -> Path | None:
    """The first ``dir / relpath`` that exists, data dirs in order, then relpaths."""
    for d in dirs:
        for rel in relpaths:
            candidate = d / rel
            if candidate.exists():
                return candidate
    return None


@dataclass(frozen=True)
class Layout:
    """Where one dataset may sit inside a data directory.

    ``folders`` are checked first (relative to the data dir, ``"."`` is the dir
    itself): ``match(folder)`` returns the dataset root inside it, or None. Then
    archives matching the ``archives`` globs are unpacked once (see
    :mod:`vaecore.data.archives`) and searched the same way, two levels deep,
    including archives nested inside them (the official Caltech-101 zip holds a
    ``.tar.gz``).
    """

    folders: tuple[str, ...]
    match: Callable[[Path], Path | None]
    archives: tuple[str, ...] = field(default=())
    content: str = ""

    def describe(self) -> str:
        """What is looked for, compactly, for error messages."""
        folders = ", ".join(f"{f}/" if f != "." else "the data dir itself" for f in self.folders)
        text = f"{self.content} in {folders}" if self.content else folders
        grouped: dict[str, list[str]] = {}
        single = []
        for pattern in self.archives:
            folder, _, name = pattern.rpartition("/")
            if folder and name.startswith("*."):
                grouped.setdefault(folder, []).append(name[2:])
            else:
                single.append(pattern)
        archives = [f"{folder}/*.{{{','.join(exts)}}}" for folder, exts in grouped.items()] + single
        return f"{text}; or archives holding it: {', '.join(archives)}" if archives else text


def find_layout(layout: Layout, dirs: Iterable[Path]) -> Path | None:
    """The dataset root for ``layout`` in the first data dir that has it, else None."""
    for d in dirs:
        if not d.is_dir():
            continue
        for folder in layout.folders:
            base = d / folder
            if base.is_dir():
                found = layout.match(base)
                if found is not None:
                    return found
        for pattern in layout.archives:
            for archive in sorted(d.glob(pattern)):
                if archive.is_file() and is_archive(archive):
                    found = _search_archive(archive, layout.match, nested_levels=2)
                    if found is not None:
                        return found
    return None


def _search_archive(
    archive: Path, match: Callable[[Path], Path | None], nested_levels: int
) -> Path | None:
    root = extract_once(archive)
    found = match_in_tree(root, match)
    if found is not None or nested_levels == 0:
        return found
    for inner in _shallow_files(root, depth=2):
        if is_archive(inner):
            found = _search_archive(inner, match, nested_levels - 1)
            if found is not None:
                return found
    return None


def match_in_tree(root: Path, match: Callable[[Path], Path | None], depth: int = 2) -> Path | None:
    """Try ``match`` on ``root`` and on its sub-folders up to ``depth`` levels."""
    level = [root]
    for _ in range(depth + 1):
        next_level = []
        for folder in level:
            found = match(folder)
            if found is not None:
                return found
            next_level.extend(sorted(p for p in folder.iterdir() if p.is_dir()))
        level = next_level
    return None


def _shallow_files(root: Path, depth: int) -> list[Path]:
    files, level = [], [root]
    for _ in range(depth + 1):
        next_level = []
        for folder in level:
            for p in sorted(folder.iterdir()):
                (next_level if p.is_dir() else files).append(p)
        level = next_level
    return files


def where_to_put() -> str:
    """The folders a loader reads, in words a reader in Colab or on a laptop can act on."""
    return (
        f"Put the files in a data directory: the folder named by ${config.DATA_DIR_ENV} (set it, "
        f"e.g. in Colab `%env {config.DATA_DIR_ENV}=/content/data`, or pass data_dir=...) or the "
        f"cache's data folder ({show_path(config.cache_dir() / 'data')})."
    )


def not_found(
    name: str, dirs: Sequence[Path], looked_for: str, how_to_get: str, reason: str
) -> DatasetNotFoundError:
    """Build the error raised when ``name`` is nowhere: what, where searched, how to fix.

    Folders are written with :func:`~vaecore.data.display.show_path` (``$VAECORE_DATA_DIR/...``,
    ``~/.cache/vaecore/data``), never as this machine's absolute paths.
    """
    searched = "\n".join(
        f"  {show_path(d)}{'' if d.is_dir() else '  (does not exist)'}" for d in dirs
    )
    return DatasetNotFoundError(
        f"Dataset {name!r} was not found {reason}.\n"
        f"Looked for: {looked_for}\n"
        f"in these data directories:\n{searched}\n"
        f"How to get it: {how_to_get}\n"
        f"{where_to_put()}"
    )


def offline_reason(download: bool | None) -> str:
    """Why no download was tried, for :func:`not_found`."""
    if download is False:
        return "locally, and download=False was given"
    return f"locally, and downloads are switched off ({OFFLINE_ENV}=1)"


def try_download(
    name: str, fetch: Callable[[], T], dirs: Sequence[Path], looked_for: str, how_to_get: str
) -> T:
    """Run ``fetch`` (a Keras loader or ``get_file`` call); turn any failure into a clear error.

    The original exception (``URLError``, HTTP 403, a hash mismatch, a broken
    archive, ...) is summarised in one line instead of a urllib/TF traceback.
    """
    try:
        return fetch()
    except Exception as exc:  # any download failure gets the same clear message
        detail = " ".join(str(exc).split())[:300]
        raise not_found(
            name,
            dirs,
            looked_for,
            how_to_get,
            reason=f"locally, and the download failed ({type(exc).__name__}: {detail})",
        ) from None


def fetch_file(name: str, url: str, filename: str) -> Path:
    """Download ``url`` to ``<cache>/data/<name>/<filename>`` with Keras (skipped if present)."""
    import keras

    target_dir = download_dir(name)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = keras.utils.get_file(
        fname=filename, origin=url, cache_dir=str(config.cache_dir()), cache_subdir=f"data/{name}"
    )
    return Path(path)
