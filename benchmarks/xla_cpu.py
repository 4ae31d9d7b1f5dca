"""Does XLA help vaecore's models on this CPU? Dense vs conv, jit_compile on vs off.

``VAE.compile(jit_compile="auto")`` turns XLA on for dense models and leaves
Keras' default (no XLA on a CPU-only machine) for conv models. This script is
the measurement behind that choice: for each model it trains one untimed
warm-up epoch with XLA on and off, then alternates timed epochs (on, off, on,
off, ...) in one process and reports the median images/s of each.

    python benchmarks/xla_cpu.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from throughput import timed_epochs  # noqa: E402

import vaecore  # noqa: E402
from vaecore.data import load_dataset  # noqa: E402

MODELS = {
    "dense MNIST 784-512-2": (
        {"input": (28, 28, 1), "latent": 2, "hidden": [512], "name": "mnist_dense"},
        "mnist",
    ),
    "conv CIFAR-10 32-64-128, latent 128": (
        {
            "input": (32, 32, 3),
            "latent": 128,
            "encode": [(32, 3, 2), (64, 3, 2), (128, 3, 2)],
            "decode": None,
            "name": "cifar_conv",
        },
        "cifar10",
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=10_000, help="training images per epoch")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).with_name("results") / "xla_cpu.json"
    )
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    results = {}
    for title, (arch, dataset) in MODELS.items():
        data = load_dataset(dataset, batch_size=128, limit=args.limit, seed=0)
        models = {}
        for jit in (True, False):
            model = vaecore.build_vae(
                arch, likelihood="bernoulli" if dataset == "mnist" else "gaussian", seed=0
            )
            model.compile(optimizer=keras.optimizers.Adam(), jit_compile=jit)
            timed_epochs(model, data, 1)  # warm-up: tracing and compilation
            models["xla" if jit else "no_xla"] = model
        rates = {k: [] for k in models}
        for _ in range(args.rounds):
            for key, model in models.items():
                rates[key].append(args.limit / timed_epochs(model, data, 1))
        median = {k: statistics.median(v) for k, v in rates.items()}
        results[title] = {
            "images_per_second": rates,
            "median": median,
            "xla_speedup": median["xla"] / median["no_xla"],
        }
        print(
            f"{title}: XLA {median['xla']:,.0f} img/s, no XLA {median['no_xla']:,.0f} img/s, "
            f"speed-up {median['xla'] / median['no_xla']:.2f}x",
            flush=True,
        )
    results["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    results["versions"] = {"tensorflow": tf.__version__, "keras": keras.__version__}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
