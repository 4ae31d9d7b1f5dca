"""Test NLL of the IWAE paper's one-layer VAE on dynamically binarized MNIST.

Architecture (Burda et al. 2015, one stochastic layer): 784-200-200-50, tanh
hidden units, Bernoulli likelihood, trained on the 60,000 training digits,
re-binarized at random every epoch (dynamic binarization). The test set is
binarized once with a fixed seed. The NLL is -log p(x) estimated with ``k``
importance samples (k >= 1000) and averaged over the 10,000 test digits.

Training goes through ``vaecore.train``, so an interrupted run resumes:

    python benchmarks/nll_iwae.py --epochs 300 --k 5000

Adam (epsilon 1e-4, as in the IWAE paper) at 1e-3 for the first half of the
epochs, then decayed geometrically to 1e-4 at the last epoch
(``vaecore.schedules.HoldThenDecay``): the paper's 3,280-epoch schedule does not
compress well into a CPU budget of a few hundred. The MNIST chapter
(``book/03_mnist_dense.ipynb``) trains and scores the same model the same way.

``--evaluate-only`` scores the checkpoint in the run folder as it is (e.g. a
run stopped early), saying how many epochs it had.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import vaecore  # noqa: E402
from vaecore.data import load_dataset  # noqa: E402
from vaecore.schedules import HoldThenDecay  # noqa: E402

ARCH = {
    "input": (28, 28, 1),
    "latent": 50,
    "hidden": [200, 200],
    "activation": "tanh",
    "name": "iwae_one_layer",
}


def test_nll(model, k: int, batch: int, seed: int = 0) -> tuple[float, float, int]:
    """Mean -log p(x) over the binarized test set, its standard error, and the count."""
    x_test = np.concatenate(
        list(load_dataset("mnist", split="test", batch_size=10_000, shuffle=False))
    )
    x_test = (np.random.default_rng(seed).random(x_test.shape) < x_test).astype("float32")
    log_px = np.asarray(
        model.importance_weighted_log_likelihood(
            x_test, num_samples=k, chunk_size=500, batch_size=batch, seed=seed
        )
    )
    return float(-log_px.mean()), float(log_px.std() / math.sqrt(len(log_px))), len(log_px)


class EpochSeconds(keras.callbacks.Callback):
    """Append each epoch's wall time to run_dir/epoch_seconds.txt (survives resumes)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        with self.path.open("a") as f:
            f.write(f"{epoch} {time.perf_counter() - self._start:.2f}\n")


def _median_epoch_seconds(run_dir: Path) -> float | None:
    path = run_dir / "epoch_seconds.txt"
    if not path.exists():
        return None
    return float(
        np.median(
            [float(line.split()[1]) for line in path.read_text().splitlines() if line.strip()]
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--k", type=int, default=5000, help="importance samples for the test NLL")
    parser.add_argument("--run-dir", type=Path, default=Path("benchmarks/runs/iwae_one_layer"))
    parser.add_argument(
        "--evaluate-only", action="store_true", help="score the saved checkpoint, no training"
    )
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).with_name("results") / "nll_iwae.json"
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    if args.evaluate_only:
        model = keras.models.load_model(args.run_dir / vaecore.training.MODEL_FILE)
        history = vaecore.read_history(args.run_dir)
    else:
        model = vaecore.build_vae(ARCH, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-4))
        train = load_dataset("mnist", batch_size=args.batch_size, binarize=True, seed=0)
        schedule = HoldThenDecay(args.epochs, base=1e-3, final=1e-4)  # hold half, then decay
        history = vaecore.train(
            model,
            train,
            epochs=args.epochs,
            run_dir=args.run_dir,
            callbacks=[schedule, EpochSeconds(args.run_dir / "epoch_seconds.txt")],
            verbose=2,
        )
    train_seconds = time.perf_counter() - start

    start = time.perf_counter()
    nll, stderr, n = test_nll(model, args.k, batch=100)
    eval_seconds = time.perf_counter() - start
    result = {
        "architecture": "784-200-200-50 (tanh), Bernoulli, one stochastic layer",
        "data": "MNIST, dynamically binarized train (60,000); test binarized once, seed 0 (10,000)",
        "epochs_trained": len(history["epoch"]),
        "epochs_planned": args.epochs,
        "batch_size": args.batch_size,
        "final_train_elbo": history["elbo"][-1],
        "importance_samples": args.k,
        "test_nll_nats": nll,
        "test_nll_standard_error": stderr,
        "test_images": n,
        "train_seconds_this_invocation": round(train_seconds, 1),
        "seconds_per_epoch_median": _median_epoch_seconds(args.run_dir),
        "eval_seconds": round(eval_seconds, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "devices": [d.device_type for d in tf.config.list_physical_devices()],
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
        "command": f"python benchmarks/nll_iwae.py --epochs {args.epochs} --k {args.k}",
    }
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
