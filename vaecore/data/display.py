"""Paths as the library prints them: relative to a folder the reader knows, never the machine's.

Messages, warnings and the ``origin`` of a data source name files by where they sit relative to
the folders a reader set or can look up, so that an executed notebook's outputs (committed, read
on another machine) hold no absolute path of the machine it ran on:

=====================================  =============================================
a path under                           is shown as
=====================================  =============================================
``$VAECORE_DATA_DIR``                  ``$VAECORE_DATA_DIR/caltech101/x.tar.gz``
``$VAECORE_CACHE_DIR``                 ``$VAECORE_CACHE_DIR/data/mnist``
the default cache ``~/.cache/vaecore``  ``~/.cache/vaecore/data/mnist``
``$VAECORE_RUNS_DIR``                  ``$VAECORE_RUNS_DIR/cifar10_conv_z64``
the current folder                     ``runs/cifar10_conv_z64`` (relative)
the temporary folder                   ``<tmp>/caltech101_sets_abc123``
the home folder                        ``~/data/101_ObjectCategories``
=====================================  =============================================

The most specific folder wins (a data dir inside the home folder is shown as
``$VAECORE_DATA_DIR/...``). A path under none of them is shown as it is.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vaecore import config


def _bases() -> list[tuple[Path, str]]:
    """(folder, how it is written) for every folder a path may be shown relative to."""
    bases: list[tuple[Path, str]] = []
    for env in (config.DATA_DIR_ENV, config.CACHE_DIR_ENV, config.RUNS_DIR_ENV):
        value = os.environ.get(env)
        if value:
            bases.append((Path(value).expanduser(), f"${env}"))
    if not os.environ.get(config.CACHE_DIR_ENV):
        bases.append((config.DEFAULT_CACHE_DIR.expanduser(), str(config.DEFAULT_CACHE_DIR)))
    try:
        bases.append((Path.cwd(), "."))
    except OSError:  # the current folder was deleted
        pass
    bases.append((Path(tempfile.gettempdir()), "<tmp>"))
    bases.append((Path.home(), "~"))
    return bases


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def show_path(path: str | os.PathLike) -> str:
    """``path`` written relative to the data, cache, runs, current, temporary or home folder.

    A relative path is returned unchanged; see the module docstring for the rules.

    With ``VAECORE_DATA_DIR=/data``:

    >>> show_path("/data/caltech101/101_ObjectCategories")  # doctest: +SKIP
    '$VAECORE_DATA_DIR/caltech101/101_ObjectCategories'
    """
    raw = Path(os.fspath(path))
    if not raw.is_absolute():
        return raw.as_posix()
    best: tuple[int, str] | None = None
    for folder in (raw, _resolved(raw)):
        for base, label in _bases():
            for candidate in {base, _resolved(base)}:
                try:
                    rel = folder.relative_to(candidate)
                except ValueError:
                    continue
                depth = len(candidate.parts)
                if best is None or depth > best[0]:
                    text = rel.as_posix()
                    if label == ".":
                        shown = text
                    else:
                        shown = label if text == "." else f"{label}/{text}"
                    best = (depth, shown)
    return best[1] if best is not None else raw.as_posix()
