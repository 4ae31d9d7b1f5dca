"""vaecore.distribute: strategies by name, TF_CONFIG checks, and 2 replicas == 1 device."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vaecore.distribute import (
    StrategyError,
    compile_options,
    get_strategy,
    is_chief,
    read_tf_config,
    task_name,
)

SCRIPT = Path(__file__).with_name("mirrored_script.py")


def test_mirrored_two_replicas_match_one_device(tmp_path):
    """A 2-replica MirroredStrategy run equals a 1-device run with the same global batch.

    In a fresh process (tests/mirrored_script.py) the CPU is split into two logical
    devices; the same tiny VAE (same initial weights, same data, no shuffling, global
    batch 16, a KL warm-up so the optimizer step counter matters) trains 3 epochs
    with vaecore.train on the default strategy, and 2 + 1 epochs under
    MirroredStrategy with a restart in between (a new model in the scope, restored by
    BackupAndRestore). Per-epoch training and validation losses and the final weights
    must agree to rtol 1e-4.

    The noise is made identical honestly: keras.random draws cannot be, because each
    replica draws its own half-batch of noise from its own copy of the seed generator.
    The script's VAE subclass replaces only reparameterize, with noise that is a fixed
    function of each example (sin of its posterior mean, no gradient through it), so an
    image gets the same noise whichever replica it lands on. What is compared is thus
    exactly what the strategy changes: the batch split, VAE.compute_loss's division of
    the loss by num_replicas_in_sync, the gradient all-reduce, and the metric
    aggregation across replicas.
    """
    out = tmp_path / "result.json"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("VAECORE_FAST", None)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["replicas"] == 2
    assert r["single"]["epoch"] == r["mirrored"]["epoch"] == [0, 1, 2]
    assert r["mirrored_steps"] == 3 * 4  # resumed: 3 epochs of 64 / 16 batches in all
    for key in ("loss", "reconstruction_loss", "kl_loss", "val_loss"):
        np.testing.assert_allclose(r["mirrored"][key], r["single"][key], rtol=1e-4, err_msg=key)
    for mirrored, single in zip(r["mirrored_weights"], r["single_weights"], strict=True):
        np.testing.assert_allclose(mirrored, single, rtol=1e-4, atol=1e-6)
    # `vaecore train --strategy mirrored` ran on both logical devices and recorded it.
    assert r["cli_code"] == 0
    assert r["cli_config"]["replicas"] == 2 and r["cli_config"]["strategy"] == "mirrored"
    assert r["cli_history"]["epoch"] == [0, 1]


def test_default_strategy_and_unknown_name():
    import tensorflow as tf

    assert get_strategy("default") is tf.distribute.get_strategy()
    assert is_chief() and task_name() == "local"
    with pytest.raises(StrategyError, match="default, mirrored, multiworker"):
        get_strategy("tpu")


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "needs TF_CONFIG"),
        ("{not json", "not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', "needs 'cluster'"),
        ('{"cluster": {"worker": ["a:1", "b:1"]}}', "needs 'task'"),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
            "not an entry",
        ),
    ],
)
def test_multiworker_needs_a_valid_tf_config(monkeypatch, value, message):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(StrategyError, match=message):
        get_strategy("multiworker")


def test_tf_config_for_two_machines_is_accepted(monkeypatch):
    config = {
        "cluster": {"worker": ["host1:12345", "host2:12345"]},
        "task": {"type": "worker", "index": 1},
    }
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    assert read_tf_config() == config


def test_compile_options_on_one_device():
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    assert compile_options(strategy, conv=False, steps_per_epoch=5) == {
        "jit_compile": True,
        "steps_per_execution": 5,
    }
    assert compile_options(strategy, conv=False, steps_per_epoch=500)["steps_per_execution"] == 32
    assert compile_options(strategy, conv=True, steps_per_epoch=500)["steps_per_execution"] == 16
    assert compile_options(strategy, conv=True, steps_per_epoch=3)["steps_per_execution"] == 3


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_multiworker_cli_run_with_two_local_workers(tmp_path):
    """`vaecore train --strategy multiworker` on two worker processes of one machine.

    Each process gets the same TF_CONFIG cluster and its own task index, as two
    machines would; both must finish, the chief (worker 0) writes the run folder,
    and its history holds finite per-epoch losses averaged over the two workers.
    """
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(32):
        Image.fromarray((rng.random((8, 8)) * 255).astype("uint8"), "L").save(
            images / f"img_{i:02d}.png"
        )
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps({"input": [8, 8, 1], "latent": 2, "hidden": [8], "name": "tiny"}))
    cluster = {"worker": [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]}
    out = tmp_path / "run"
    args = [
        sys.executable, "-m", "vaecore", "train", "--dataset", "folder", "--path", str(images),
        "--arch", str(arch), "--batch-size", "8", "--epochs", "2", "--strategy", "multiworker",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    workers = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        env = dict(
            os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3", TF_CONFIG=tf_config
        )
        workers.append(
            subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
        )
    results = [w.communicate(timeout=300) for w in workers]
    for w, (_, err) in zip(workers, results, strict=True):
        assert w.returncode == 0, err[-3000:]
    from vaecore import read_history

    history = read_history(out)
    assert history["epoch"] == [0, 1]
    assert np.all(np.isfinite(history["loss"])) and np.all(np.isfinite(history["val_loss"]))
    config = json.loads((out / "config.json").read_text())
    assert config["strategy"] == "multiworker"
    assert (out / "model.keras").exists()
