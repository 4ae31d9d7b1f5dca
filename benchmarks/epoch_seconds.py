"""Median seconds per epoch of every run folder the chapters left in ``book/runs``.

The ``epoch_seconds`` column of each ``history.csv`` is written by
``vaecore.callbacks.EpochTimer`` during ``vaecore.train``. Usage::

    python benchmarks/epoch_seconds.py [RUNS_DIR]   # default: book/runs
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path


def epoch_seconds(runs_dir: Path) -> list[tuple[str, int, float]]:
    """(run name, epochs, median s/epoch) for each run folder with a timed history."""
    rows = []
    for history in sorted(runs_dir.glob("*/history.csv")):
        with history.open(newline="") as f:
            seconds = [float(r["epoch_seconds"]) for r in csv.DictReader(f) if r.get("epoch_seconds")]
        if seconds:
            rows.append((history.parent.name, len(seconds), statistics.median(seconds)))
    return rows


def main(argv: list[str]) -> int:
    runs_dir = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "book" / "runs"
    if not runs_dir.is_dir():
        print(f"epoch_seconds: no run folder at {runs_dir}; execute the chapters first", file=sys.stderr)
        return 2
    print(f"{'run':<32} {'epochs':>6} {'median s/epoch':>15}")
    for name, epochs, median in epoch_seconds(runs_dir):
        print(f"{name:<32} {epochs:>6} {median:>15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
