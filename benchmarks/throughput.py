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
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers, ops  # noqa: E402

import vaecore  # noqa: E402
from vaecore.data import load_dataset  # noqa: E402

LATENT, HIDDEN, BATCH = 2, 512, 128


# --------------------------------------------------------------------------- baseline
class Sampling(layers.Layer):
    """keras-io: uses (z_mean, z_log_var) to sample z."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class KerasIoVAE(keras.Model):
    """keras-io's VAE class, unchanged but for the dense encoder/decoder below."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def keras_io_vae() -> keras.Model:
    encoder_inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Flatten()(encoder_inputs)
    x = layers.Dense(HIDDEN, activation="relu")(x)
    z_mean = layers.Dense(LATENT, name="z_mean")(x)
    z_log_var = layers.Dense(LATENT, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(LATENT,))
    x = layers.Dense(HIDDEN, activation="relu")(latent_inputs)
    x = layers.Dense(784, activation="sigmoid")(x)
    decoder_outputs = layers.Reshape((28, 28, 1))(x)
    decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")
    vae = KerasIoVAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam())
    return vae


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

    baseline = keras_io_vae()
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
