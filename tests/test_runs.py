"""Runs that cannot be corrupted: fingerprint, lock, write order under a kill, resume bit for bit.

The subprocess tests train a tiny dense VAE on 48 fake MNIST images through a
seeded ``load_dataset`` pipeline (shuffled, binarized and augmented, so every
random stream of the pipeline is exercised) and compare every variable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from tests.test_data_fixtures import write_mnist_npz
from vaecore import build_vae, read_history, runs, train
from vaecore.runs import RunFolderError, RunLockedError

ARCH = {"input": (28, 28, 1), "latent": 2, "hidden": [16], "name": "tiny"}

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    import keras, numpy as np
    from vaecore import build_vae, train, training
    from vaecore.data import load_dataset

    run_dir, epochs, mode, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    keras.utils.set_random_seed(0)
    model = build_vae({"input": (28, 28, 1), "latent": 2, "hidden": [16], "name": "tiny"}, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    common = {"batch_size": 16, "binarize": True, "seed": 0}
    ds = load_dataset("mnist", "train", shuffle=True, augment=True, **common)
    val = load_dataset("mnist", "test", shuffle=False, **common)
    callbacks = []
    if mode.startswith("kill-before-backup:"):
        # the worst moment: model.keras and the history row of that epoch written, backup not
        k = int(mode.split(":")[1])
        save = training.RunCheckpoint._save_backup
        def dying(self, epochs_done):
            if epochs_done == k:
                os._exit(9)
            save(self, epochs_done)
        training.RunCheckpoint._save_backup = dying
    if mode == "hold":
        class Hold(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                open(out, "w").close()
                time.sleep(300)
        callbacks.append(Hold())
    train(model, ds, epochs, run_dir, validation_data=val, callbacks=callbacks, verbose=0)
    state = {v.path + "#" + str(i): np.asarray(v) for i, v in enumerate(model.variables)}
    state.update({"opt/" + v.path: np.asarray(v) for v in model.optimizer.variables})
    np.savez(out, **state)
    """
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_mnist_npz(root / "mnist" / "mnist.npz", n_train=48, n_test=8)
    return root


def _env(data_dir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        VAECORE_DATA_DIR=str(data_dir),
        VAECORE_OFFLINE="1",
        VAECORE_CACHE_DIR=str(data_dir / "cache"),
    )


def _script(folder: Path) -> Path:
    script = folder / "train_script.py"
    if not script.exists():
        script.write_text(SCRIPT)
    return script


def _train(data_dir, run_dir, epochs, out, mode="plain", expect=0):
    proc = subprocess.run(
        [sys.executable, str(_script(data_dir)), str(run_dir), str(epochs), mode, str(out)],
        capture_output=True,
        text=True,
        env=_env(data_dir),
        timeout=300,
    )
    assert proc.returncode == expect, proc.stderr[-3000:]
    return dict(np.load(out)) if expect == 0 else None


@pytest.fixture(scope="module")
def straight(data_dir, tmp_path_factory):
    """Four epochs in one process: the reference."""
    folder = tmp_path_factory.mktemp("straight")
    return _train(data_dir, folder / "run", 4, folder / "w.npz"), read_history(folder / "run")


def _assert_same_variables(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not np.array_equal(a[k], b[k])]
    assert not different, f"variables that differ: {different}"


def test_resumed_run_is_bit_for_bit_the_uninterrupted_one(data_dir, straight, tmp_path):
    reference, ref_history = straight
    run = tmp_path / "run"
    _train(data_dir, run, 2, tmp_path / "half.npz")
    half = dict(np.load(tmp_path / "half.npz"))
    resumed = _train(data_dir, run, 4, tmp_path / "w.npz")  # a new process picks up epoch 2
    _assert_same_variables(reference, resumed)
    # the test can fail: after 2 epochs the weights are not yet the final ones
    kernel = next(k for k in reference if "kernel" in k and not k.startswith("opt/"))
    assert not np.array_equal(half[kernel], reference[kernel])
    history = read_history(run)
    assert history["epoch"] == [0, 1, 2, 3]
    assert history["loss"] == ref_history["loss"] and history["val_loss"] == ref_history["val_loss"]
    seeds = [k for k in reference if "seed_generator_state" in k]
    assert seeds and not np.array_equal(reference[seeds[0]], [0, 0])


def test_kill_between_history_row_and_backup_repeats_the_epoch(data_dir, straight, tmp_path):
    reference, ref_history = straight
    run = tmp_path / "run"
    _train(data_dir, run, 4, tmp_path / "k.npz", mode="kill-before-backup:2", expect=9)
    rows = (run / "history.csv").read_text().splitlines()
    assert len(rows) == 1 + 2  # header + epochs 0 and 1: epoch 1's row is on disk
    state = json.loads((run / "backup" / "state.json").read_text())
    assert state["epoch"] == 1  # but the backup says one epoch is done
    keras.models.load_model(run / "model.keras")  # the model file is whole
    resumed = _train(data_dir, run, 4, tmp_path / "w.npz")
    rows = (run / "history.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["0", "1", "1", "2", "3"]  # epoch 1 ran twice
    history = read_history(run)
    assert history["epoch"] == [0, 1, 2, 3] and history["loss"] == ref_history["loss"]
    _assert_same_variables(reference, resumed)


def test_second_run_into_a_busy_folder_stops_and_a_dead_one_frees_it(data_dir, tmp_path):
    run, started = tmp_path / "run", tmp_path / "started"
    holder = subprocess.Popen(
        [sys.executable, str(_script(data_dir)), str(run), "2", "hold", str(started)],
        env=_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while not started.exists():
            assert holder.poll() is None, holder.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.5)
        model = _model()
        t0 = time.monotonic()
        with pytest.raises(RunLockedError, match=rf"a run is already in progress.*pid {holder.pid}"):
            train(model, np.zeros((16, 28, 28, 1), "float32"), 1, run, verbose=0)
        assert time.monotonic() - t0 < 10  # at once, not after waiting
    finally:
        holder.send_signal(signal.SIGKILL)  # no clean-up: the lock file stays behind
        holder.wait()
    assert (run / runs.LOCK_FILE).exists()
    x = np.zeros((16, 28, 28, 1), "float32")
    assert train(_model(), x, 1, run, verbose=0, batch_size=16)["epoch"] == [0]


def _model(beta: float = 1.0, lr: float = 1e-2):
    keras.utils.set_random_seed(0)
    model = build_vae(ARCH, seed=0, beta=beta)
    model.compile(optimizer=keras.optimizers.Adam(lr))
    return model


def test_a_folder_of_another_model_is_refused_unless_overwrite(tmp_path):
    x = (np.random.default_rng(0).random((16, 28, 28, 1)) > 0.5).astype("float32")
    train(_model(), x, 1, tmp_path, verbose=0, batch_size=16)
    before = (tmp_path / "history.csv").read_text()
    with pytest.raises(RunFolderError, match=r"model\.config\.beta: 1\.0 -> 4\.0.*overwrite=True"):
        train(_model(beta=4.0), x, 2, tmp_path, verbose=0, batch_size=16)
    with pytest.raises(RunFolderError, match=r"optimizer\.config\.learning_rate"):
        train(_model(lr=1e-3), x, 2, tmp_path, verbose=0, batch_size=16)
    assert (tmp_path / "history.csv").read_text() == before  # nothing touched
    # the same model resumes (a fresh object, same config)
    assert train(_model(), x, 2, tmp_path, verbose=0, batch_size=16)["epoch"] == [0, 1]
    history = train(_model(beta=4.0), x, 1, tmp_path, verbose=0, batch_size=16, overwrite=True)
    assert history["epoch"] == [0]  # started over
    stored = json.loads((tmp_path / runs.FINGERPRINT_FILE).read_text())
    assert stored["model"]["config"]["beta"] == 4.0


def test_a_run_from_before_fingerprints_is_adopted(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss\n0,1.5\n")
    assert runs.check_fingerprint(tmp_path, {"model": {"a": 1}}) == "adopted"
    assert runs.check_fingerprint(tmp_path, {"model": {"a": 1}}) == "same"
    with pytest.raises(RunFolderError, match=r"model\.a: 1 -> 2"):
        runs.check_fingerprint(tmp_path, {"model": {"a": 2}})


def test_functional_model_fingerprint_ignores_keras_layer_names():
    from vaecore.training import model_fingerprint

    def build(units):
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(units)(keras.layers.Dense(3)(inputs)))
        model.compile(optimizer="adam", loss="mse")
        return model

    first, second = build(2), build(2)  # second gets dense_2, dense_3: other names
    assert model_fingerprint(first) == model_fingerprint(second)
    assert model_fingerprint(first) != model_fingerprint(build(5))


def test_atomic_path_keeps_the_old_file_when_a_write_fails(tmp_path):
    target = tmp_path / "model.keras"
    target.write_text("good")
    with pytest.raises(OSError, match="No space"):
        with runs.atomic_path(target, suffix=".keras") as tmp:
            tmp.write_text("half")
            raise OSError(28, "No space left on device")
    assert target.read_text() == "good" and sorted(p.name for p in tmp_path.iterdir()) == [
        "model.keras"
    ]


def test_history_row_with_a_new_column_widens_the_header(tmp_path):
    runs.append_history_row(tmp_path, {"epoch": 0, "loss": 2.0})
    runs.append_history_row(tmp_path, {"epoch": 1, "loss": 1.0, "val_loss": 1.5})
    runs.append_history_row(tmp_path, {"epoch": 2, "loss": 0.5, "val_loss": 1.0})
    history = read_history(tmp_path)
    assert history["epoch"] == [0, 1, 2] and history["loss"] == [2.0, 1.0, 0.5]
    assert np.isnan(history["val_loss"][0]) and history["val_loss"][1:] == [1.5, 1.0]


def test_a_model_resumed_once_starts_a_new_folder_at_epoch_zero(tmp_path):
    x = (np.random.default_rng(0).random((16, 28, 28, 1)) > 0.5).astype("float32")
    model = _model()
    train(model, x, 1, tmp_path / "a", verbose=0, batch_size=16)
    train(model, x, 2, tmp_path / "a", verbose=0, batch_size=16)  # restores: fit starts at 1
    assert train(model, x, 1, tmp_path / "b", verbose=0, batch_size=16)["epoch"] == [0]


def test_a_keras_backup_from_an_older_run_folder_resumes(tmp_path):
    """Run folders written before vaecore.runs hold keras.callbacks.BackupAndRestore's files."""
    x = (np.random.default_rng(0).random((16, 28, 28, 1)) > 0.5).astype("float32")
    old = _model()
    old.fit(
        x,
        epochs=1,
        batch_size=16,
        verbose=0,
        callbacks=[
            keras.callbacks.BackupAndRestore(str(tmp_path / "backup"), delete_checkpoint=False),
            keras.callbacks.CSVLogger(str(tmp_path / "history.csv")),
        ],
    )
    assert runs.completed_epochs(tmp_path) == 1
    model = _model()
    history = train(model, x, 2, tmp_path, verbose=0, batch_size=16)
    assert history["epoch"] == [0, 1] and int(model.optimizer.iterations.numpy()) == 2
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == [
        "epoch_0002.weights.h5",
        "state.json",
    ]
