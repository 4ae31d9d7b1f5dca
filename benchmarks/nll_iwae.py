"""Test NLL of the IWAE paper's one-layer VAE on dynamically binarized MNIST.

Architecture (Burda et al. 2015, one stochastic layer): 784-200-200-50, tanh
hidden units, Bernoulli likelihood, trained on the 60,000 training digits,
re-binarized at random every epoch (dynamic binarization). The test set is
binarized once with a fixed seed. The NLL is -log p(x) estimated with ``k``
importance samples (k >= 1000) and averaged over the 10,000 test digits.

Training goes through ``vaecore.train``, so an interrupted run resumes:

    python benchmarks/nll_iwae.py --epochs 300 --k 5000

The learning rate follows a step schedule in the spirit of the IWAE paper's
(1e-3, divided by 10^(1/7) at epochs 3^i), compressed to the epoch budget.
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

ARCH = {"input": (28, 28, 1), "latent": 50, "hidden": [200, 200], "activation": "tanh", "name": "iwae_one_layer"}


def learning_rate(epoch: int, base: float = 1e-3, epochs: int = 300) -> float:
    """1e-3 decayed by 10^(-1/7) at stage boundaries 3^i scaled onto ``epochs``."""
    stages = 8  # the IWAE paper's 3^0 + ... + 3^7 = 3280 epochs, squeezed
    boundaries = np.cumsum([3**i for i in range(stages)]) / sum(3**i for i in range(stages)) * epochs
    stage = int(np.searchsorted(boundaries, epoch, side="right"))
    return base * 10 ** (-stage / 7)


def test_nll(model, k: int, batch: int, seed: int = 0) -> tuple[float, float, int]:
    """Mean -log p(x) over the binarized test set, its standard error, and the count."""
    x_test = np.concatenate(list(load_dataset("mnist", split="test", batch_size=10_000, shuffle=False)))
    x_test = (np.random.default_rng(seed).random(x_test.shape) < x_test).astype("float32")
    values = []
    for i in range(0, len(x_test), batch):
        values.append(np.asarray(model.importance_weighted_log_likelihood(x_test[i : i + batch], num_samples=k, chunk_size=500, seed=seed + i)))
    log_px = np.concatenate(values)
    return float(-log_px.mean()), float(log_px.std() / math.sqrt(len(log_px))), len(log_px)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--k", type=int, default=5000, help="importance samples for the test NLL")
    parser.add_argument("--run-dir", type=Path, default=Path("benchmarks/runs/iwae_one_layer"))
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results") / "nll_iwae.json")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = vaecore.build_vae(ARCH, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-4))
    train = load_dataset("mnist", batch_size=args.batch_size, binarize=True, seed=0)
    schedule = keras.callbacks.LearningRateScheduler(lambda e: learning_rate(e, epochs=args.epochs))
    start = time.perf_counter()
    history = vaecore.train(model, train, epochs=args.epochs, run_dir=args.run_dir, callbacks=[schedule], verbose=2)
    train_seconds = time.perf_counter() - start

    start = time.perf_counter()
    nll, stderr, n = test_nll(model, args.k, batch=100)
    eval_seconds = time.perf_counter() - start
    result = {
        "architecture": "784-200-200-50 (tanh), Bernoulli, one stochastic layer",
        "data": "MNIST, dynamically binarized train (60,000); test binarized once, seed 0 (10,000)",
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "final_train_elbo": history["elbo"][-1],
        "importance_samples": args.k,
        "test_nll_nats": nll,
        "test_nll_standard_error": stderr,
        "test_images": n,
        "train_seconds_this_invocation": round(train_seconds, 1),
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
