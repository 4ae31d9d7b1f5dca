"""Memory and speed of ``load_dataset("folder", ...)`` as the image collection grows.

For each N (default 5,000 and 50,000) a fresh subprocess builds the pipeline over a
folder of N small JPEGs (64x64, 100 sub-folders) with ``image_size=64,
batch_size=128``, runs one full epoch, and reports:

* the time to build the pipeline the first time (file listing + the bad-file scan,
  which decodes every file once) and the second time (scan results cached);
* images/s of one epoch of the pipeline alone (decode, resize, batch; no model);
* peak RSS of the process (``ru_maxrss``) and its RSS right after importing
  TensorFlow, so the growth due to the pipeline is visible.

If memory stays flat (the paths are shuffled, not the decoded images), the peak
RSS at 50,000 is close to the one at 5,000.

The JPEGs are generated once with a process pool into ``--image-dir`` and reused
by later runs (the 5,000 set is hard links to the first 5,000 of the large one):

    python benchmarks/pipeline_memory.py --sizes 5000 50000 --image-dir /tmp/vaecore_bench_jpegs

``--scan-cost FOLDER_OR_ARCHIVE`` instead times the bad-file check alternatives
(Pillow ``verify()``, the draft-mode decode vaecore uses, a full decode):

    python benchmarks/pipeline_memory.py --scan-cost ../shared/data/caltech101/caltech101_subset20.tar.gz
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CLASSES = 100
SIDE = 64


def _write_jpeg(args: tuple[Path, int]) -> None:
    """One 64x64 JPEG with smooth random content (realistic size, ~2-3 kB)."""
    import numpy as np
    from PIL import Image

    path, seed = args
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((SIDE, SIDE), Image.BICUBIC)
    noisy = np.asarray(image, dtype=np.int16) + rng.integers(-12, 13, size=(SIDE, SIDE, 3))
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, "JPEG", quality=90)


def make_folder(image_dir: Path, n: int, largest: int) -> Path:
    """``image_dir/n<N>/class_XX/NNNNNN.jpg``; smaller sets are hard links into the largest."""
    big = image_dir / f"n{largest}"
    done = image_dir / f"n{largest}.complete"  # beside the folder: a file inside would be reported
    if not done.is_file():
        for c in range(CLASSES):
            (big / f"class_{c:02d}").mkdir(parents=True, exist_ok=True)
        jobs = [(big / f"class_{i % CLASSES:02d}" / f"{i:06d}.jpg", i) for i in range(largest)]
        start = time.perf_counter()
        with Pool(os.cpu_count() or 1) as pool:
            pool.map(_write_jpeg, jobs, chunksize=256)
        done.write_text(f"{largest} files in {time.perf_counter() - start:.1f} s\n")
        print(f"generated {largest} JPEGs in {time.perf_counter() - start:.1f} s", flush=True)
    if n == largest:
        return big
    small = image_dir / f"n{n}"
    if not (image_dir / f"n{n}.complete").is_file():
        for i in range(n):
            src = big / f"class_{i % CLASSES:02d}" / f"{i:06d}.jpg"
            dst = small / src.parent.name / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                os.link(src, dst)
        (image_dir / f"n{n}.complete").write_text(f"{n} hard links\n")
    return small


def child(folder: Path, batch_size: int) -> dict:
    """Runs in a fresh process: build twice, one epoch, report times and memory."""
    import resource

    import psutil

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import PIL
    import tensorflow as tf

    from vaecore.data import load_dataset

    rss_after_import = psutil.Process().memory_info().rss
    kwargs = dict(path=folder, split="all", image_size=SIDE, batch_size=batch_size, seed=0)
    start = time.perf_counter()
    load_dataset("folder", **kwargs)
    build_cold = time.perf_counter() - start
    start = time.perf_counter()
    ds = load_dataset("folder", **kwargs)
    build_warm = time.perf_counter() - start
    rss_after_build = psutil.Process().memory_info().rss
    start = time.perf_counter()
    seen = 0
    for batch in ds:
        seen += int(batch.shape[0])
    epoch = time.perf_counter() - start
    return {
        "n": ds.num_examples,
        "seen": seen,
        "build_cold_s": round(build_cold, 2),
        "build_warm_s": round(build_warm, 2),
        "epoch_s": round(epoch, 2),
        "images_per_s": round(seen / epoch),
        "rss_after_import_mb": round(rss_after_import / 2**20),
        "rss_after_build_mb": round(rss_after_build / 2**20),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
            "pillow": PIL.__version__,
        },
    }


def run_child(folder: Path, batch_size: int) -> dict:
    """One measurement in a fresh process with an empty cache (so the first scan is cold)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(
            os.environ, VAECORE_CACHE_DIR=cache, VAECORE_OFFLINE="1", TF_CPP_MIN_LOG_LEVEL="2"
        )
        command = [
            sys.executable,
            __file__,
            "--child",
            str(folder),
            "--batch-size",
            str(batch_size),
        ]
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarize(runs: list[dict]) -> dict:
    """Medians of the timings, the largest memory figures, and the spread of images/s."""
    row = {"n": runs[0]["n"], "runs": len(runs)}
    for key in ("build_cold_s", "build_warm_s", "epoch_s", "images_per_s"):
        row[key] = statistics.median(r[key] for r in runs)
    for key in ("rss_after_import_mb", "rss_after_build_mb", "peak_rss_mb"):
        row[key] = max(r[key] for r in runs)
    speeds = [r["images_per_s"] for r in runs]
    row["images_per_s_range"] = [min(speeds), max(speeds)]
    row["versions"] = runs[0]["versions"]
    return row


def scan_cost(target: Path) -> None:
    """Time three ways to check the JPEGs of a folder or archive (unpacked once into the cache).

    ``verify`` (Pillow's header/structure check: misses truncated JPEGs),
    ``draft+load`` (what vaecore.data does: full decode of the stream at 1/8
    scale) and ``load`` (full-size decode); one thread, then the scan's pool.
    """
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    from vaecore.data import archives, validate

    root = archives.extract_once(target) if target.is_file() else target
    files = sorted(str(p) for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))

    def verify(path: str) -> None:
        with Image.open(path) as im:
            im.verify()

    def load(path: str) -> None:
        with Image.open(path) as im:
            im.load()

    workers = min(16, 4 * (os.cpu_count() or 1))
    print(f"{len(files)} JPEGs under {root}")
    for name, check in (("verify", verify), ("draft+load", validate.check_image), ("load", load)):
        for threads in (1, workers):
            start = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(check, files))
            print(f"{name:>10}, {threads:2d} threads: {time.perf_counter() - start:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    default_dir = Path(tempfile.gettempdir()) / "vaecore_bench_jpegs"
    parser.add_argument("--image-dir", type=Path, default=default_dir)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per N (medians)")
    default_out = Path(__file__).parent / "runs" / "pipeline_memory.json"
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--scan-cost", type=Path, help="only time the file checks on this folder/archive"
    )
    args = parser.parse_args()
    if args.scan_cost:
        scan_cost(args.scan_cost)
        return
    if args.child:
        print(json.dumps(child(args.child, args.batch_size)))
        return

    largest = max(args.sizes)
    rows = []
    for n in sorted(args.sizes):
        folder = make_folder(args.image_dir, n, largest)
        runs = [run_child(folder, args.batch_size) for _ in range(args.repeats)]
        for run in runs:
            print(json.dumps(run), flush=True)
        rows.append(summarize(runs))

    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {platform.platform()}",
        "python": platform.python_version(),
        "versions": rows[0]["versions"],
        "command": " ".join(["python", *sys.argv]),
        "image_size": SIDE,
        "batch_size": args.batch_size,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(
        "\n| N images | build, cold scan (s) | build, cached scan (s) | epoch (s) "
        "| images/s (min-max) | RSS after import (MB) | RSS after build (MB) | peak RSS (MB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        lo, hi = r["images_per_s_range"]
        print(
            f"| {r['n']:,} | {r['build_cold_s']:.2f} | {r['build_warm_s']:.2f} | {r['epoch_s']:.2f} "
            f"| {r['images_per_s']:,.0f} ({lo:,}-{hi:,}) | {r['rss_after_import_mb']} "
            f"| {r['rss_after_build_mb']} | {r['peak_rss_mb']} |"
        )
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
