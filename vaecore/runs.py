"""The run folder: its file names and the helpers that read and guard it.

A run folder is what :func:`vaecore.train` (and ``vaecore train``) writes::

    run_dir/
        backup/            weights + optimizer state, seed states and epoch, each epoch
        model.keras        the whole model after the last finished epoch (load_model-able)
        history.csv        one row per finished epoch, appended across restarts
        fingerprint.json   what was trained (model and optimizer config): a resumed run must match
        .lock              held while a run is in progress (released when its process dies)

Helpers here:

* :func:`read_history`, :func:`completed_epochs`: the history as written.
* :func:`check_fingerprint`, :func:`differences`: refuse a folder holding another run,
  naming what differs (used by :func:`vaecore.train` and by ``vaecore train``).
* :func:`run_lock`: one run per folder at a time.
* :func:`atomic_path`, :func:`write_json`: write to a temporary name, then rename, so a
  kill or a full disk mid-write leaves the previous file whole.

This module has no TensorFlow or Keras import, so that plots, the command line
and the training loop can all use it without importing one another.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import errno
import json
import math
import os
import shutil
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

HISTORY_FILE = "history.csv"
MODEL_FILE = "model.keras"
BACKUP_DIR = "backup"
BACKUP_STATE = "state.json"  # in BACKUP_DIR: the epoch, its weights file, the seed states
FINGERPRINT_FILE = "fingerprint.json"
LOCK_FILE = ".lock"
# What train() writes into a run folder (overwrite=True removes exactly these).
RUN_FILES = (HISTORY_FILE, MODEL_FILE, BACKUP_DIR, FINGERPRINT_FILE)


class RunFolderError(ValueError):
    """The run folder holds a run of another model or config; nothing was changed."""


class RunLockedError(RuntimeError):
    """Another process is training into this run folder right now."""


def completed_epochs(run_dir: str | os.PathLike) -> int:
    """How many epochs a run folder has finished (0 for a new folder).

    The backup's epoch where there is one: it is written last, so it is what a
    resumed run starts after (a kill just before it leaves the epoch's history
    row on disk, and that epoch runs again). Otherwise the rows of ``history.csv``.
    """
    backup = Path(run_dir) / BACKUP_DIR
    # ours, then keras.callbacks.BackupAndRestore's (run folders from before vaecore.runs)
    for state in (backup / BACKUP_STATE, backup / "training_metadata.json"):
        if state.is_file():
            try:
                return int(json.loads(state.read_text())["epoch"])
            except (OSError, ValueError, KeyError):
                pass
    history = read_history(run_dir)
    return len(history.get("epoch", []))


def read_history(run_dir_or_csv: str | os.PathLike) -> dict[str, list[float]]:
    """Read ``history.csv`` as ``{column: [values per epoch]}``, one row per epoch.

    A row written twice for one epoch (a kill between the log and the
    checkpoint, so the epoch ran again) keeps its last version. A missing file
    gives an empty dict.
    """
    path = Path(run_dir_or_csv)
    if path.is_dir():
        path = path / HISTORY_FILE
    if not path.exists():
        return {}
    with path.open(newline="") as f:
        rows = {
            int(float(row["epoch"])): row
            for row in csv.DictReader(f)
            if row.get("epoch") not in (None, "")
        }
    if not rows:
        return {}
    ordered = [rows[e] for e in sorted(rows)]
    history: dict[str, list[float]] = {"epoch": [int(r["epoch"]) for r in ordered]}
    for column in ordered[0]:
        if column == "epoch":
            continue
        values = [_to_float(r.get(column)) for r in ordered]
        if not all(math.isnan(v) for v in values):  # Keras logs "NA" for absent val_ columns
            history[column] = values
    return history


def _to_float(value: str | None) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


# ---------------------------------------------------------------------------
# Writing safely
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    Whatever writes the temporary file (``model.save``, ``save_weights``, ...) may
    be killed or hit a full disk half-way: ``path`` then still holds its previous,
    whole version, and the half-written temporary file is removed when the error
    passes through here. ``suffix`` is the temporary name's ending (Keras wants
    ``.keras`` or ``.weights.h5``); by default the same name with a ``.tmp-`` prefix.
    """
    path = Path(path)
    tmp = path.with_name(f".tmp-{os.getpid()}-" + (path.name if suffix is None else "x" + suffix))
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (see :func:`atomic_path`), flushed to disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, tmp.open("w") as f:
        f.write(json.dumps(data, indent=2) + "\n")
        f.flush()
        os.fsync(f.fileno())


def append_history_row(run_dir: str | os.PathLike, row: Mapping[str, Any]) -> None:
    """Append one epoch's row to ``history.csv`` and flush it to disk.

    Columns are ``epoch`` then the other keys sorted (as Keras' ``CSVLogger``
    writes them). A row with a column the file lacks (say ``val_loss`` from a
    resumed run that now validates) rewrites the file with the wider header, so
    no column is silently shifted; absent values are ``NA``.
    """
    path = Path(run_dir) / HISTORY_FILE
    keys = ["epoch", *sorted(k for k in row if k != "epoch")]
    header: list[str] = []
    old_rows: list[dict[str, str]] = []
    if path.exists() and path.stat().st_size:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            if not set(keys) <= set(header):
                old_rows = list(reader)
    cells = {k: _cell(v) for k, v in row.items()}
    if header and set(keys) <= set(header):
        with path.open("a", newline="") as f:
            csv.DictWriter(f, header, restval="NA").writerow(cells)
            f.flush()
            os.fsync(f.fileno())
        return
    columns = header + [k for k in keys if k not in header] if header else keys
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="NA")
        writer.writeheader()
        writer.writerows(old_rows)
        writer.writerow(cells)
        f.flush()
        os.fsync(f.fileno())


def _cell(value: Any) -> str:
    if isinstance(value, int | str):
        return str(value)
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return str(value)


# ---------------------------------------------------------------------------
# Fingerprint: is this the same run?
# ---------------------------------------------------------------------------


def has_run(run_dir: str | os.PathLike) -> bool:
    """Whether ``run_dir`` holds any of the files :func:`vaecore.train` writes."""
    run_dir = Path(run_dir)
    return any((run_dir / name).exists() for name in RUN_FILES)


def differences(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    ignore: frozenset[str] | set[str] = frozenset(),
    one_sided: bool = True,
) -> list[str]:
    """``"key: old -> new"`` for every leaf that differs; nested keys are dotted (``model.beta``).

    Keys in ``ignore`` (top-level names or dotted paths) are left out. Lists are
    compared whole. ``one_sided=False`` skips keys that only one side has (a
    setting that a newer vaecore added or an older one had), so that a run
    recorded by another version still resumes.
    """
    found: list[str] = []

    def walk(a: Any, b: Any, prefix: str) -> None:
        if prefix in ignore:
            return
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            keys = [*a, *b] if one_sided else [k for k in a if k in b]
            for key in dict.fromkeys(keys):
                walk(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
        elif a != b:
            found.append(f"{prefix}: {a!r} -> {b!r}")

    walk(dict(old), dict(new), "")
    return found


def jsonable(data: Any) -> Any:
    """``data`` as it reads back from JSON (tuples become lists, odd objects their repr)."""
    return json.loads(json.dumps(data, default=repr))


def check_fingerprint(
    run_dir: str | os.PathLike,
    fingerprint: Mapping[str, Any],
    overwrite: bool = False,
    hint: str = "overwrite=True",
) -> str:
    """Compare ``fingerprint`` with the one stored in ``run_dir``; store it if new.

    Returns what happened: ``"new"`` (no run there), ``"same"`` (resume),
    ``"adopted"`` (a run from before fingerprints: it is trusted and its fingerprint
    written now) or ``"overwritten"`` (``overwrite=True`` removed the earlier run's
    files, :data:`RUN_FILES`, and nothing else).

    Keys that only one of the two fingerprints has are not compared (see
    :func:`differences`): a vaecore that adds a model setting still resumes the
    runs of the one before. ``hint`` names the way to overwrite in the message.

    Raises:
        RunFolderError: the stored fingerprint differs and ``overwrite`` is false;
            the message names every difference, and the folder is left as it was.
    """
    run_dir = Path(run_dir)
    new = jsonable(dict(fingerprint))
    path = run_dir / FINGERPRINT_FILE
    state = "new"
    if path.exists():
        old = json.loads(path.read_text())
        diffs = differences(old, new, one_sided=False)
        if not diffs and not overwrite:
            return "same"
        if not overwrite:
            raise RunFolderError(
                f"{run_dir} holds a run of another model or config ({'; '.join(diffs)}); "
                f"nothing was changed. Use another run folder, or {hint} to delete "
                "that run and start over"
            )
    elif has_run(run_dir) and not overwrite:
        state = "adopted"
    if overwrite and has_run(run_dir):
        clear_run(run_dir)
        state = "overwritten"
    write_json(path, new)
    return state


def clear_run(run_dir: str | os.PathLike) -> None:
    """Delete what :func:`vaecore.train` wrote into ``run_dir`` (:data:`RUN_FILES`), nothing else."""
    run_dir = Path(run_dir)
    for name in RUN_FILES:
        target = run_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


# ---------------------------------------------------------------------------
# One run per folder
# ---------------------------------------------------------------------------


_HELD: dict[str, int] = {}  # lock files this process holds, and how many times


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold ``run_dir/.lock`` while the block runs; a second holder fails at once.

    The lock is an ``fcntl.flock`` on the file, which the operating system drops
    when the holding process ends, however it ends (a ``kill -9`` included), so a
    dead run never keeps its folder locked. The file itself stays, holding who
    took it last (pid, host, time) for the message. Where ``fcntl`` is missing
    (Windows), the pid in the file is checked instead.

    Nested use in one process (``vaecore train`` holds the lock around its own checks
    and :func:`vaecore.train`) is allowed.

    Raises:
        RunLockedError: another process holds it.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_FILE
    key = str(path.resolve())
    if key in _HELD:  # re-entrant within one process: the CLI holds it around train()
        _HELD[key] += 1
        try:
            yield path
        finally:
            _HELD[key] -= 1
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                raise RunLockedError(_locked_message(run_dir, path)) from None
        elif _holder_alive(path):  # pragma: no cover - Windows
            raise RunLockedError(_locked_message(run_dir, path))
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.datetime.now().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        _HELD[key] = 1
        try:
            yield path
        finally:
            del _HELD[key]
    finally:
        os.close(fd)  # releases the flock


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return {}


def _locked_message(run_dir: Path, path: Path) -> str:
    holder = _read_holder(path)
    who = ""
    if holder:
        who = f" (pid {holder.get('pid')} on {holder.get('host')}, since {holder.get('since')})"
    return (
        f"{run_dir}: a run is already in progress in this folder{who}; wait for it to finish, "
        "or stop it first"
    )


def _holder_alive(path: Path) -> bool:  # pragma: no cover - Windows only
    holder = _read_holder(path)
    pid = holder.get("pid")
    if not pid or pid == os.getpid() or holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except OSError:
        return False
    return True
