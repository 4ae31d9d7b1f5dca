"""Check image files before training, so a bad file never stops an epoch.

Every file is opened with Pillow and **fully decoded** (JPEGs in Pillow's draft
mode, which still reads the whole compressed stream but skips most of the pixel
work). ``Image.verify()`` alone is not enough: it accepts truncated JPEGs that
TensorFlow then refuses to decode in the middle of ``fit``. The cost, measured
with ``benchmarks/pipeline_memory.py --scan-cost`` on the book's 2-core machine,
is about 2-6x that of ``verify()``: under a second for the 2,020 Caltech-101
JPEGs and about 2 s for 10,000 CelebA thumbnails, paid once (see below).

Results are cached per root folder in ``<cache>/scans/`` keyed by each file's
size and mtime, so a re-run only ``stat``s the files and re-checks changed ones.

Bad files (empty, unreadable, truncated or corrupt, not an image, a format
TensorFlow cannot decode such as TIFF) are skipped and reported once with a
:class:`~vaecore.data.errors.BadImageWarning` naming the count and the first
few paths and reasons; ``strict=True`` raises
:class:`~vaecore.data.errors.BadImageError` instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from vaecore import config
from vaecore.data.display import show_path
from vaecore.data.errors import BadImageError, BadImageWarning
from vaecore.data.sources import relative_path

# Pillow format names whose files tf.io.decode_image can decode.
TF_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "BMP", "WEBP"})
# Image files TensorFlow cannot decode, named by extension in the report.
UNSUPPORTED_EXTENSIONS = frozenset(
    {
        ".tif",
        ".tiff",
        ".heic",
        ".heif",
        ".avif",
        ".ico",
        ".ppm",
        ".pgm",
        ".pbm",
        ".jp2",
        ".svg",
        ".psd",
    }
)
_CACHE_VERSION = 1
_SHOWN = 5


@dataclass(frozen=True)
class FileCheck:
    """Outcome for one file: ``reason`` is empty when the image is good."""

    reason: str = ""
    height: int = 0
    width: int = 0

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass
class ScanResult:
    """Which files to keep (indices into the scanned list) and which are bad."""

    kept: list[int] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    bad: list[tuple[str, str]] = field(default_factory=list)
    checked: int = 0
    from_cache: int = 0


def check_image(path: str) -> FileCheck:
    """Open and fully decode ``path``; say why it cannot be used, if it cannot."""
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        return FileCheck(f"unreadable ({exc.strerror or type(exc).__name__})")
    if size == 0:
        return FileCheck("empty file (0 bytes)")
    try:
        with Image.open(path) as im:
            if im.format not in TF_FORMATS:
                return FileCheck(
                    f"{im.format} images cannot be decoded by TensorFlow; convert to PNG or JPEG"
                )
            width, height = im.size
            if im.format in ("JPEG", "MPO"):
                im.draft(
                    im.mode, (1, 1)
                )  # decode the whole stream at 1/8 scale: fast, still catches truncation
            im.load()
    except UnidentifiedImageError:
        return FileCheck("not an image (content not recognised)")
    except Exception as exc:  # truncated data, bad chunks, decompression bombs, I/O errors
        return FileCheck(f"corrupt or truncated ({' '.join(str(exc).split())[:80]})")
    return FileCheck("", height, width)


def non_image_reason(path: str) -> str:
    """Why a file without an image extension is skipped (for the report)."""
    ext = os.path.splitext(path)[1].lower()
    if ext in UNSUPPORTED_EXTENSIONS:
        return f"{ext} images cannot be decoded by TensorFlow; convert to PNG or JPEG"
    return "not an image file"


def scan_files(
    paths: Sequence[str], root: Path, *, want: int | None = None, workers: int | None = None
) -> ScanResult:
    """Check ``paths`` (in order) until ``want`` good images are found, or all of them.

    ``want`` lets ``limit=`` check only about as many files as it uses.
    """
    workers = workers or min(16, 4 * (os.cpu_count() or 1))
    cache = _ScanCache(root)
    result = ScanResult()
    start = 0
    while start < len(paths) and (want is None or len(result.kept) < want):
        stop = (
            len(paths)
            if want is None
            else min(len(paths), start + max(256, 2 * (want - len(result.kept))))
        )
        chunk = list(range(start, stop))
        checks = cache.lookup([paths[i] for i in chunk])
        todo = [j for j, c in enumerate(checks) if c is None]
        with ThreadPoolExecutor(workers) as pool:
            for j, check in zip(
                todo, pool.map(check_image, [paths[chunk[j]] for j in todo]), strict=True
            ):
                checks[j] = check
                cache.store(paths[chunk[j]], check)
        result.checked += len(todo)
        result.from_cache += len(chunk) - len(todo)
        for i, check in zip(chunk, checks, strict=True):
            if want is not None and len(result.kept) >= want:
                break  # files past the limit are not used, so not reported either
            if check.ok:
                result.kept.append(i)
                result.sizes.append((check.height, check.width))
            else:
                result.bad.append((paths[i], check.reason))
        start = stop
    cache.save()
    return result


def report_bad(bad: Sequence[tuple[str, str]], total: int, origin: str, strict: bool) -> None:
    """Warn once about skipped files, or raise :class:`BadImageError` if ``strict``."""
    if not bad:
        return
    shown = "\n".join(
        f"  {show_path(path)}: {reason}" for path, reason in bad[: (20 if strict else _SHOWN)]
    )
    more = len(bad) - (20 if strict else _SHOWN)
    shown += f"\n  ... and {more} more" if more > 0 else ""
    if strict:
        raise BadImageError(
            f"{len(bad)} of {total} files in {origin} are not usable images (strict=True):\n{shown}\n"
            "Remove or fix them, or pass strict=False to skip them with a warning."
        )
    warnings.warn(
        f"Skipped {len(bad)} of {total} files in {origin} that are not usable images:\n{shown}\n"
        "Pass strict=True to make this an error.",
        BadImageWarning,
        stacklevel=4,  # the caller of load_dataset
    )


class _ScanCache:
    """Per-root JSON of ``relpath -> [size, mtime_ns, reason, height, width]``."""

    def __init__(self, root: Path) -> None:
        self.given_root = root
        self.root = Path(root).absolute()
        key = hashlib.sha1(str(self.root).encode()).hexdigest()[:16]
        self.file = config.cache_dir() / "scans" / f"{key}.json"
        self.entries: dict[str, list] = {}
        self.stats: dict[str, tuple[int, int]] = {}
        self.dirty = False
        try:
            data = json.loads(self.file.read_text())
            if data.get("version") == _CACHE_VERSION and data.get("root") == str(self.root):
                self.entries = data["files"]
        except (OSError, ValueError, KeyError):
            pass

    def _rel(self, path: str) -> str:
        return relative_path(path, self.given_root)

    def lookup(self, paths: Sequence[str]) -> list[FileCheck | None]:
        found: list[FileCheck | None] = []
        for path in paths:
            try:
                st = os.stat(path)
                self.stats[path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                found.append(None)
                continue
            entry = self.entries.get(self._rel(path))
            if entry and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
                found.append(FileCheck(entry[2], entry[3], entry[4]))
            else:
                found.append(None)
        return found

    def store(self, path: str, check: FileCheck) -> None:
        if path in self.stats:  # unreadable files are re-checked next time
            size, mtime = self.stats[path]
            self.entries[self._rel(path)] = [size, mtime, check.reason, check.height, check.width]
            self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        payload = {"version": _CACHE_VERSION, "root": str(self.root), "files": self.entries}
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_name(f".{self.file.name}.{uuid.uuid4().hex[:8]}")
            tmp.write_text(json.dumps(payload, separators=(",", ":")))
            os.replace(tmp, self.file)
        except OSError:
            pass  # the cache only saves time; a read-only cache dir is fine
