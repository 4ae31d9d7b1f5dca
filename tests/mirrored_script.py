"""Run by tests/test_distribute.py in a fresh process: train on 1 and on 2 replicas, compare.

The CPU must be split into two logical devices before TensorFlow sets its devices
up, which can happen only once per process, hence a script of its own. It
writes one JSON file (argv[2]) with what the test checks; work goes to argv[1].

The models differ from ``vaecore.VAE`` only in ``reparameterize``: the noise
``eps`` is a fixed function of each example (``sin`` of its posterior mean, with
no gradient through it) instead of a draw from ``keras.random``. Under
``MirroredStrategy`` every replica draws from its own copy of the seed
generator, so the two runs' random noise cannot be the same; a per-example
function gives every image the same noise whichever replica it lands on, so the
1-replica and 2-replica runs compute the same loss up to float rounding, while
the noise still flows through the reparameterization and the KL and
reconstruction terms as in training.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import tensorflow as tf

CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    CPU, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402
from PIL import Image  # noqa: E402

from vaecore import read_history, train  # noqa: E402
from vaecore.cli import main as cli_main  # noqa: E402
from vaecore.distribute import get_strategy  # noqa: E402
from vaecore.models import VAE  # noqa: E402

ARCH = {"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "tiny"}
GLOBAL_BATCH = 16
# Under MirroredStrategy both XLA and steps_per_execution > 1 fail in Keras 3.15 / TF 2.21
# (see vaecore.distribute.compile_options); both runs use the settings the CLI uses there.
COMPILE = {"jit_compile": False, "steps_per_execution": 1}


@keras.saving.register_keras_serializable(package="vaecore_tests")
class PerExampleNoiseVAE(VAE):
    """A VAE whose reparameterization noise is a deterministic function of each example."""

    def reparameterize(self, z_mean, z_log_var):
        eps = ops.stop_gradient(ops.sin(37.0 * z_mean + 1.0))
        return z_mean + ops.exp(0.5 * z_log_var) * eps


def data() -> tuple[tf.data.Dataset, tf.data.Dataset]:
    rng = np.random.default_rng(0)
    x = (rng.random((64, 8, 8, 1)) > 0.5).astype("float32")
    x_val = (rng.random((32, 8, 8, 1)) > 0.5).astype("float32")
    batches = tf.data.Dataset.from_tensor_slices
    return batches(x).batch(GLOBAL_BATCH), batches(x_val).batch(GLOBAL_BATCH)


def new_model(weights: list[np.ndarray] | None) -> PerExampleNoiseVAE:
    model = PerExampleNoiseVAE(ARCH, kl_warmup_steps=5, seed=0)
    if weights is not None:
        model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), **COMPILE)
    return model


def fit(model, run_dir: Path, epochs: int) -> None:
    train_ds, val_ds = data()
    train(model, train_ds, epochs=epochs, run_dir=run_dir, validation_data=val_ds, verbose=0)


def fixture_images(folder: Path, n: int = 32) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        Image.fromarray((rng.random((8, 8)) * 255).astype("uint8"), "L").save(folder / f"{i}.png")


def run(work: Path) -> dict:
    keras.utils.set_random_seed(0)
    start = new_model(None).get_weights()

    single = new_model(start)  # the default strategy: one device, the whole batch
    fit(single, work / "single", epochs=3)

    mirrored = get_strategy("mirrored")
    with mirrored.scope():
        first = new_model(start)
    fit(first, work / "mirrored", epochs=2)
    with mirrored.scope():  # a new model, as after a restart: it resumes from the backup
        resumed = new_model(start)
    fit(resumed, work / "mirrored", epochs=3)

    fixture_images(work / "images")
    (work / "arch.json").write_text(json.dumps(ARCH))
    cli_out = work / "cli-run"
    cli_code = cli_main(
        ["train", "--dataset", "folder", "--path", str(work / "images"), "--arch"]
        + [str(work / "arch.json"), "--epochs", "2", "--batch-size", "8"]
        + ["--strategy", "mirrored", "--out", str(cli_out), "--quiet"]
    )
    return {
        "replicas": mirrored.num_replicas_in_sync,
        "single": read_history(work / "single"),
        "mirrored": read_history(work / "mirrored"),
        "single_weights": [w.tolist() for w in single.get_weights()],
        "mirrored_weights": [w.tolist() for w in resumed.get_weights()],
        "mirrored_steps": int(resumed.optimizer.iterations.numpy()),
        "cli_code": cli_code,
        "cli_config": json.loads((cli_out / "config.json").read_text()) if cli_code == 0 else {},
        "cli_history": read_history(cli_out),
    }


if __name__ == "__main__":
    result = run(Path(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(result))
