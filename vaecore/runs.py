"""The run folder: its file names and the helpers that read and guard it.

A run folder is what :func:`vaecore.train` (and ``vaecore train``) writes::

    run_dir/
        backup/          weights + optimizer state + epoch (+ seed states), each epoch
        model.keras      the whole model after the last finished epoch (load_model-able)
        history.csv      one row per finished epoch, appended across restarts

This module has no TensorFlow or Keras import, so that plots, the command line
and the training loop can all use it without importing one another.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

HISTORY_FILE = "history.csv"
MODEL_FILE = "model.keras"
BACKUP_DIR = "backup"


def completed_epochs(run_dir: str | os.PathLike) -> int:
    """How many epochs a run folder has finished (0 for a new folder)."""
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
            int(row["epoch"]): row
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
