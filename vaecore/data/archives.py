"""Unpack an archive once into the cache and reuse it afterwards.

Archives (``.tar``, ``.tar.gz``/``.tgz``, ``.zip``) are never unpacked next to
themselves: the data folder may be read-only and shared. They go to
``<cache>/extracted/<archive-stem>-<hash of size and mtime>/``. The folder only
counts as done when it holds the marker file :data:`COMPLETE_MARKER`; unpacking
happens in a temporary sibling folder that is renamed into place at the end, so
an interrupted run (or two notebooks racing) never leaves a half-filled folder
that looks complete. Editing or replacing the archive changes its size or mtime
and therefore its folder, so a stale unpacked copy is never used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import uuid
import zipfile
from pathlib import Path

from vaecore import config
from vaecore.data.display import show_path

log = logging.getLogger(__name__)

COMPLETE_MARKER = ".vaecore-complete"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")


def is_archive(path: Path) -> bool:
    """True if ``path`` has a file name ending this module can unpack."""
    name = path.name.lower()
    return any(name.endswith(suffix) for suffix in ARCHIVE_SUFFIXES)


def archive_stem(path: Path) -> str:
    """``caltech101_subset20.tar.gz`` -> ``caltech101_subset20``."""
    name = path.name
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def extraction_dir(archive: Path) -> Path:
    """Where ``archive`` is (or will be) unpacked; depends on its size and mtime."""
    stat = archive.stat()
    key = hashlib.sha1(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:10]
    return config.cache_dir() / "extracted" / f"{archive_stem(archive)}-{key}"


def extract_once(archive: str | os.PathLike) -> Path:
    """Unpack ``archive`` into the cache unless already done; return the folder.

    The second and later calls only ``stat`` the archive and look for the marker.
    """
    archive = Path(archive)
    target = extraction_dir(archive)
    if (target / COMPLETE_MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    log.info("Unpacking %s into %s (done once, then reused)", show_path(archive), show_path(target))
    try:
        _unpack(archive, tmp)
        (tmp / COMPLETE_MARKER).write_text(f"{archive}\n")
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished first (target exists and is complete), or a
            # stale incomplete target is in the way: replace the latter.
            if not (target / COMPLETE_MARKER).is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _unpack(archive: Path, dest: Path) -> None:
    """Unpack without letting members escape ``dest`` (absolute paths, ``..``, links)."""
    dest.mkdir(parents=True)
    if archive.name.lower().endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)  # zipfile strips absolute paths and '..' itself
        return
    with tarfile.open(archive, "r:*") as tf:
        try:
            tf.extractall(dest, filter="data")
        except TypeError:  # Python without extraction filters
            for member in tf.getmembers():
                resolved = (dest / member.name).resolve()
                if (
                    not str(resolved).startswith(str(dest.resolve()))
                    or member.issym()
                    or member.islnk()
                ):
                    raise ValueError(f"unsafe member {member.name!r} in {archive}") from None
            tf.extractall(dest)
