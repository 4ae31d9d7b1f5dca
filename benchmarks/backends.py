"""Epoch times of the same vaecore models on the TensorFlow and the JAX backend.

The question: since :class:`vaecore.VAE` trains through Keras' own ``train_step``
(``compute_loss``), the same arch dict trains on any Keras 3 backend. Is JAX
faster than TensorFlow for a chapter's model on this CPU?

Two models, each with the settings of its chapter: the dense MNIST VAE
(``mnist_dense_z2``, 784-512-2, Bernoulli, binarized MNIST, batch 128) and the
CIFAR-10 conv VAE (``cifar10_conv``, latent 64, discretized logistic, batch 64,
the shared 10,000-image subset). Both backends read the same ``tf.data``
pipeline (``vaecore.data.load_dataset``) and use ``VAE.compile``'s defaults
(TensorFlow: XLA for dense, not for conv on a CPU; JAX always compiles with XLA).

A Keras backend is fixed when Keras is first imported, so each measurement is a
fresh process: ``--worker`` trains one warm-up epoch (tracing and compiling) and
``--epochs`` timed epochs, and prints their seconds. The parent runs TF, JAX, TF,
JAX, ... for ``--rounds`` rounds, so the two share whatever else the machine is
doing, and reports the median seconds per epoch of each and the ratio.

    VAECORE_DATA_DIR=../shared/data python benchmarks/backends.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODELS = {
    "mnist_dense": {
        "dataset": "mnist",
        "arch": "mnist_dense_z2",
        "likelihood": "bernoulli",
        "batch": 128,
        "binarize": True,
    },
    "cifar10_conv": {
        "dataset": "cifar10",
        "arch": "cifar10_conv",
        "likelihood": "discretized_logistic",
        "batch": 64,
        "binarize": False,
    },
}
BACKENDS = ("tensorflow", "jax")


def worker(model_name: str, epochs: int, steps: int | None) -> dict:
    """Train one model on the backend of this process; return its epoch times."""
    import keras

    import vaecore
    from vaecore.data import load_dataset

    spec = MODELS[model_name]
    options = {"binarize": True} if spec["binarize"] else {}
    train = load_dataset(
        spec["dataset"], split="train", batch_size=spec["batch"], seed=0, **options
    )
    model = vaecore.build_vae(
        vaecore.get_architecture(spec["arch"]), likelihood=spec["likelihood"], seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(
        train, epochs=1 + epochs, steps_per_epoch=steps, verbose=0, callbacks=[Timer()]
    )
    return {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "warmup_seconds": times[0],
        "epoch_seconds": times[1:],
        "jit_compile": bool(model.jit_compile),
        "steps_per_execution": int(model.steps_per_execution),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per process")
    parser.add_argument("--steps", type=int, default=None, help="steps per epoch (default: all)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "BACKEND"))
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "backends.json"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.epochs, args.steps)))
        return
    results: dict = {"rounds": args.rounds, "machine": platform.platform(), "models": {}}
    for model_name in args.models:
        runs: dict[str, list[dict]] = {b: [] for b in BACKENDS}
        for r in range(args.rounds):
            for backend in BACKENDS:
                env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
                cmd = [sys.executable, __file__, "--worker", model_name, backend]
                cmd += ["--epochs", str(args.epochs)]
                if args.steps:
                    cmd += ["--steps", str(args.steps)]
                done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                if done.returncode:
                    sys.exit(f"{model_name} on {backend} failed:\n{done.stderr[-3000:]}")
                run = json.loads(done.stdout.strip().splitlines()[-1])
                runs[backend].append(run)
                print(f"{model_name} round {r + 1} {backend}: {run['epoch_seconds']}", flush=True)
        medians = {
            b: statistics.median(s for run in runs[b] for s in run["epoch_seconds"])
            for b in BACKENDS
        }
        results["models"][model_name] = {
            "runs": runs,
            "median_epoch_seconds": medians,
            "jax_speedup": medians["tensorflow"] / medians["jax"],
        }
        print(f"{model_name}: median s/epoch {medians}, TF/JAX = "
              f"{medians['tensorflow'] / medians['jax']:.2f}", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
