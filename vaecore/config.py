"""Where vaecore looks for data and how big a notebook run is.

Two environment variables steer every chapter of the book:

* ``VAECORE_DATA_DIR``: a local data directory, read before any download.
  The layout of the book's offline data folder (``mnist/mnist.npz``,
  ``fashion-mnist/*.gz``, ``cifar10/*.npz``, ...) is read as it is.
* ``VAECORE_FAST``: ``1`` shrinks data and epochs so a chapter runs in a couple
  of minutes on a laptop CPU (what the test-suite uses); unset or ``0`` is the
  full run.

Training runs (checkpoints, history) go to ``VAECORE_RUNS_DIR`` or ``./runs``:
see :func:`run_dir`.

Downloads and unpacked archives go to the cache, ``VAECORE_CACHE_DIR`` or
``~/.cache/vaecore`` by default, which is also searched as a data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "VAECORE_DATA_DIR"
CACHE_DIR_ENV = "VAECORE_CACHE_DIR"
FAST_ENV = "VAECORE_FAST"
RUNS_DIR_ENV = "VAECORE_RUNS_DIR"
DEFAULT_CACHE_DIR = Path("~/.cache/vaecore")


def cache_dir() -> Path:
    """The writable cache: ``$VAECORE_CACHE_DIR`` or ``~/.cache/vaecore``."""
    return Path(os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR).expanduser()


def data_dirs() -> list[Path]:
    """Local data directories in the order they are searched.

    ``$VAECORE_DATA_DIR`` first (if set), then ``<cache>/data``.
    """
    dirs = []
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        dirs.append(Path(env).expanduser())
    dirs.append(cache_dir() / "data")
    return dirs


def fast_mode() -> bool:
    """True when ``VAECORE_FAST`` asks for the small, quick run."""
    return os.environ.get(FAST_ENV, "0").strip().lower() not in ("", "0", "false", "no")


def run_dir(name: str) -> Path:
    """The folder for the training run ``name``: ``$VAECORE_RUNS_DIR/name`` or ``./runs/name``.

    Fast-mode runs get their own ``-fast`` folder, so a quick run never resumes
    a full one (or the other way round).
    """
    base = Path(os.environ.get(RUNS_DIR_ENV) or "runs").expanduser()
    return base / (f"{name}-fast" if fast_mode() else name)
