"""Training throughput: vaecore's dense MNIST VAE against a plain keras-io-style VAE.

Both models have the same architecture (784-512-2 MLP, ReLU, Bernoulli
likelihood), the same data (MNIST train, 60,000 images), the same batch size
and optimizer. The baseline is written here the way the keras-io VAE example
writes it: a ``Sampling`` layer, a subclassed model whose ``train_step``
computes ``binary_crossentropy`` on sigmoid outputs, ``fit`` on NumPy arrays,
and Keras' default compile settings. vaecore feeds a ``tf.data`` pipeline and
uses ``VAE.compile``'s defaults, which for dense models switch XLA on and run
32 batches per ``tf.function`` call (``steps_per_execution``).

The two run alternately in one process (baseline, vaecore, baseline, ...), one
timed epoch per round after an untimed warm-up epoch each, and the script
reports the median images/s of each and their ratio.

    python benchmarks/throughput.py --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import vaecore  # noqa: E402
from vaecore.data import load_dataset  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keras_io_baseline import dense_vae  # noqa: E402

LATENT, HIDDEN, BATCH = 2, 512, 128


# ---------------------------------------------------------------------------- timing
class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self._t


def timed_epochs(model, data, epochs: int, **fit_kwargs) -> float:
    """Fit ``epochs`` epochs and return the wall time of the last one."""
    timer = EpochTimer()
    model.fit(data, epochs=epochs, verbose=0, callbacks=[timer], **fit_kwargs)
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--limit", type=int, default=None, help="train images (default: all 60,000)"
    )
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).with_name("results") / "throughput.json"
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    pipeline = load_dataset("mnist", batch_size=BATCH, limit=args.limit, seed=0)
    x_train = np.concatenate(
        list(load_dataset("mnist", batch_size=10_000, shuffle=False, limit=args.limit))
    )
    n = len(x_train)

    baseline = dense_vae((28, 28, 1), LATENT, HIDDEN)
    ours = vaecore.build_vae(
        {"input": (28, 28, 1), "latent": LATENT, "hidden": [HIDDEN], "name": "mnist_dense"}
    )
    ours.compile(optimizer=keras.optimizers.Adam())

    # Untimed warm-up epoch each: graph tracing and XLA compilation happen here.
    timed_epochs(baseline, x_train, 1, batch_size=BATCH)
    timed_epochs(ours, pipeline, 1)
    rates = {"keras_io": [], "vaecore": []}
    for r in range(args.rounds):
        rates["keras_io"].append(n / timed_epochs(baseline, x_train, 1, batch_size=BATCH))
        rates["vaecore"].append(n / timed_epochs(ours, pipeline, 1))
        print(
            f"round {r + 1}: keras-io {rates['keras_io'][-1]:,.0f} img/s, vaecore {rates['vaecore'][-1]:,.0f} img/s"
        )

    median = {k: statistics.median(v) for k, v in rates.items()}
    result = {
        "images": n,
        "batch_size": BATCH,
        "rounds": args.rounds,
        "images_per_second": rates,
        "median_images_per_second": median,
        "ratio_vaecore_over_keras_io": median["vaecore"] / median["keras_io"],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "devices": [d.device_type for d in tf.config.list_physical_devices()],
        "versions": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
    }
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
