"""Training that survives: checkpoint every epoch, resume after a kill, stop on NaN.

:func:`train` wraps ``model.fit`` with three Keras callbacks and one of ours,
all writing into one run folder::

    run_dir/
        backup/          BackupAndRestore: weights + optimizer state + epoch, each epoch
        model.keras      the whole model after the last finished epoch (load_model-able)
        history.csv      one row per finished epoch (with its epoch_seconds), appended across restarts

Run the same :func:`train` call again after the process was killed and it
continues from the last finished epoch instead of starting over; run it again
after it finished and it returns at once. A NaN or infinite loss stops
training with a :class:`TrainingDivergedError` that says where and what to try.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from vaecore.callbacks import EpochTimer

# Re-exported: these lived here before vaecore.runs existed.
from vaecore.runs import (  # noqa: F401
    BACKUP_DIR,
    HISTORY_FILE,
    MODEL_FILE,
    completed_epochs,
    read_history,
)


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class StopOnNaN(keras.callbacks.Callback):
    """Raise :class:`TrainingDivergedError` as soon as a logged loss is not finite.

    Unlike ``keras.callbacks.TerminateOnNaN``, which stops quietly, this says
    which epoch and batch diverged, the values of the loss terms, and what
    usually fixes it. It raises before the epoch's checkpoint is written, so
    the checkpoint on disk is the last good one.
    """

    def __init__(self, run_dir: str | os.PathLike | None = None):
        super().__init__()
        self.run_dir = run_dir
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _check(self, logs, where: str) -> None:
        if not logs or "loss" not in logs:
            return
        loss = float(np.asarray(logs["loss"]))
        if math.isfinite(loss):
            return
        self.model.stop_training = True
        terms = ", ".join(f"{k}={float(np.asarray(v)):.4g}" for k, v in logs.items())
        keep = f" The last good checkpoint is in {self.run_dir}." if self.run_dir else ""
        raise TrainingDivergedError(
            f"Training diverged: the loss is {loss} at epoch {self._epoch + 1}, {where} ({terms}).{keep} "
            "Usual fixes: a lower learning rate, inputs scaled to [0, 1], a larger Gaussian "
            "sigma, or gradient clipping (e.g. keras.optimizers.Adam(clipnorm=1.0))."
        )

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs, f"batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs, "end of epoch")


def train(
    model: keras.Model,
    train_data,
    epochs: int,
    run_dir: str | os.PathLike,
    validation_data=None,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    **fit_kwargs,
) -> dict[str, list[float]]:
    """Fit ``model`` for ``epochs`` epochs, resumably, and return the whole history.

    Args:
        model: a compiled model (e.g. from :func:`vaecore.build_vae`).
        train_data: what ``model.fit`` accepts; a ``tf.data.Dataset`` is best.
        epochs: the total number of epochs, counting those already done in ``run_dir``.
        run_dir: the run folder (created if missing). Reuse it to resume.
        validation_data: evaluated at the end of every epoch (``val_*`` columns).
        callbacks: extra Keras callbacks.
        verbose: passed to ``model.fit``.
        **fit_kwargs: anything else for ``model.fit`` (e.g. ``steps_per_epoch``).

    Returns:
        The history of every finished epoch in this run folder, as read back by
        :func:`read_history` (so a resumed run returns all epochs, not just the new ones).
    """
    if not getattr(model, "compiled", False):
        raise ValueError("train() needs a compiled model: call model.compile(optimizer=...) first")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files_dir, backup_dir = _worker_folders(run_dir, getattr(model, "distribute_strategy", None))
    ours = [
        EpochTimer(),  # first, so CSVLogger below writes its epoch_seconds
        StopOnNaN(run_dir),
        keras.callbacks.BackupAndRestore(
            str(backup_dir), delete_checkpoint=False, double_checkpoint=True
        ),
        keras.callbacks.ModelCheckpoint(str(files_dir / MODEL_FILE)),
        keras.callbacks.CSVLogger(str(files_dir / HISTORY_FILE), append=True),
    ]
    if isinstance(train_data, tf.data.Dataset):
        # A pipeline shuffles itself; Keras would only warn that shuffle=True is ignored.
        fit_kwargs.setdefault("shuffle", False)
    model.fit(
        train_data,
        epochs=epochs,
        validation_data=validation_data,
        callbacks=ours + list(callbacks),
        verbose=verbose,
        **fit_kwargs,
    )
    return read_history(files_dir)


def _worker_folders(run_dir: Path, strategy=None) -> tuple[Path, Path]:
    """Where this process writes (model and history, backup).

    Normally both go into ``run_dir``. On a non-chief worker of a multi-worker
    run (``strategy``: the model's, :func:`vaecore.distribute.is_chief`), the model and history go to a
    throw-away folder (every worker must run the same saving code, but only the
    chief's copy is kept), and the backup to ``backup/<task>`` so that workers
    sharing a file system do not overwrite each other's; each worker restores
    from its own backup.
    """
    from vaecore.distribute import is_chief, task_name

    if is_chief(strategy):
        return run_dir, run_dir / BACKUP_DIR
    task = task_name(strategy)
    return Path(tempfile.mkdtemp(prefix=f"vaecore-{task}-")), run_dir / BACKUP_DIR / task
