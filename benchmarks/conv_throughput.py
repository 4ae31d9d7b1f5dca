"""Conv training throughput: vaecore against copy-paste code, at batch 64 and at batch 32.

Part ``files`` (the library is never slower than the copy-paste version):
vaecore's conv VAE fed by ``load_dataset("caltech101")`` from the JPEG files
at 64 px, against a keras-io-style conv VAE of the same architecture
(``keras_io_baseline.conv_vae``) fed from a NumPy array already in memory,
compiled with Keras' defaults. One untimed warm-up epoch each, then
alternating timed epochs in one process; images/s of each and their ratio.

Part ``loop`` (per-step overhead at small batches): the TensorFlow CVAE
tutorial's MNIST conv model at batch 32, trained three ways on the same
vaecore model class: ``fit`` with one step per ``tf.function`` call (Keras'
default), ``fit`` with ``VAE.compile``'s defaults, and a hand-written
``tf.function`` training loop over the same ``tf.data`` pipeline. Alternating
epochs; the ratio of each ``fit`` to the loop's time.

    python benchmarks/conv_throughput.py --part files --rounds 3
    python benchmarks/conv_throughput.py --part loop --rounds 3
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
from keras_io_baseline import conv_vae  # noqa: E402

RESULTS = Path(__file__).with_name("results")

CALTECH_ARCH = {
    "input": (64, 64, 3),
    "latent": 64,
    "encode": [(32, 3, 2), (64, 3, 2), (128, 3, 2)],
    "decode": None,
    "name": "caltech64_conv",
}
# The TensorFlow CVAE tutorial's model: two stride-2 convs (32, 64), latent 2, batch 32.
TUTORIAL_ARCH = {
    "input": (28, 28, 1),
    "latent": 2,
    "encode": [(32, 3, 2), (64, 3, 2)],
    "decode": None,
    "name": "tf_tutorial_cvae",
}


class _LastEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self._t


def fit_seconds(model, data, **fit_kwargs) -> float:
    """Wall time of one ``fit`` epoch."""
    timer = _LastEpoch()
    model.fit(data, epochs=1, verbose=0, callbacks=[timer], **fit_kwargs)
    return timer.seconds


def _machine() -> dict:
    return {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "devices": [d.device_type for d in tf.config.list_physical_devices()],
        "versions": {
            "vaecore": vaecore.__version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
        },
    }


def _alternate(contenders: dict, rounds: int) -> dict[str, list[float]]:
    """Warm each contender up once, then time one epoch of each per round, in turn."""
    for run in contenders.values():
        run()
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name, run in contenders.items():
            seconds[name].append(run())
        print(f"round {r + 1}: " + ", ".join(f"{n} {s[-1]:.2f} s" for n, s in seconds.items()))
    return seconds


def part_files(rounds: int, batch: int) -> dict:
    keras.utils.set_random_seed(0)
    # vaecore: JPEG files decoded and resized in the tf.data graph; decoded images are
    # cached in memory after the first (warm-up) epoch, as a reader would set it up.
    pipeline = load_dataset("caltech101", image_size=64, batch_size=batch, seed=0, cache=True)
    x_train = np.concatenate(
        list(load_dataset("caltech101", image_size=64, batch_size=512, shuffle=False))
    )
    n = len(x_train)
    ours = vaecore.build_vae(CALTECH_ARCH, likelihood="bernoulli", seed=0)
    ours.compile(optimizer=keras.optimizers.Adam())
    encode = [(f, k, s) for f, k, s in CALTECH_ARCH["encode"]]
    baseline = conv_vae(CALTECH_ARCH["input"], CALTECH_ARCH["latent"], encode)
    baseline_params = baseline.encoder.count_params() + baseline.decoder.count_params()
    assert ours.count_params() == baseline_params, "the two models must match"
    seconds = _alternate(
        {
            "keras_io_numpy": lambda: fit_seconds(baseline, x_train, batch_size=batch),
            "vaecore_files": lambda: fit_seconds(ours, pipeline),
        },
        rounds,
    )
    rates = {k: [n / s for s in v] for k, v in seconds.items()}
    median = {k: statistics.median(v) for k, v in rates.items()}
    return {
        "part": "files",
        "images": n,
        "image_size": 64,
        "batch_size": batch,
        "params": int(ours.count_params()),
        "vaecore_compile": {
            "jit_compile": bool(ours.jit_compile),
            "steps_per_execution": int(ours.steps_per_execution),
        },
        "images_per_second": rates,
        "median_images_per_second": median,
        "ratio_vaecore_over_keras_io": median["vaecore_files"] / median["keras_io_numpy"],
    }


def hand_written_loop(model: vaecore.VAE, optimizer: keras.optimizers.Optimizer):
    """The TensorFlow CVAE tutorial's way: a ``tf.function`` step called from a Python loop."""

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = model.loss_terms(x, training=True)["loss"]
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        return loss

    def epoch(data) -> float:
        start = time.perf_counter()
        for x in data:
            loss = step(x)
        float(loss)  # wait for the last step
        return time.perf_counter() - start

    return epoch


def part_loop(rounds: int, batch: int, limit: int) -> dict:
    keras.utils.set_random_seed(0)
    data = load_dataset("mnist", batch_size=batch, limit=limit, seed=0, binarize=True)
    n = sum(int(x.shape[0]) for x in data)
    fit_one = vaecore.build_vae(TUTORIAL_ARCH, seed=0)
    fit_one.compile(optimizer=keras.optimizers.Adam(1e-4), steps_per_execution=1)
    fit_16 = vaecore.build_vae(TUTORIAL_ARCH, seed=0)
    fit_16.compile(optimizer=keras.optimizers.Adam(1e-4), steps_per_execution=16)
    fit_default = vaecore.build_vae(TUTORIAL_ARCH, seed=0)
    fit_default.compile(optimizer=keras.optimizers.Adam(1e-4))
    looped = vaecore.build_vae(TUTORIAL_ARCH, seed=0)
    loop_epoch = hand_written_loop(looped, keras.optimizers.Adam(1e-4))
    seconds = _alternate(
        {
            "loop": lambda: loop_epoch(data),
            "fit_steps_1": lambda: fit_seconds(fit_one, data),
            "fit_steps_16": lambda: fit_seconds(fit_16, data),
            "fit_default": lambda: fit_seconds(fit_default, data),
        },
        rounds,
    )
    median = {k: statistics.median(v) for k, v in seconds.items()}
    return {
        "part": "loop",
        "images": n,
        "batch_size": batch,
        "params": int(looped.count_params()),
        "fit_default_compile": {
            "jit_compile": bool(fit_default.jit_compile),
            "steps_per_execution": int(fit_default.steps_per_execution),
        },
        "seconds_per_epoch": seconds,
        "median_seconds_per_epoch": median,
        "ratio_fit_steps_1_over_loop": median["fit_steps_1"] / median["loop"],
        "ratio_fit_steps_16_over_loop": median["fit_steps_16"] / median["loop"],
        "ratio_fit_default_over_loop": median["fit_default"] / median["loop"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["files", "loop"], required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="default: 64 files, 32 loop")
    parser.add_argument("--limit", type=int, default=10_000, help="MNIST images (loop part)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.part == "files":
        result = part_files(args.rounds, args.batch_size or 64)
    else:
        result = part_loop(args.rounds, args.batch_size or 32, args.limit)
    result.update(rounds=args.rounds, **_machine())
    print(json.dumps(result, indent=2))
    output = args.output or RESULTS / f"conv_throughput_{args.part}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
