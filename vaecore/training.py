"""Training that survives: checkpoint every epoch, resume bit for bit, refuse another run.

:func:`train` wraps ``model.fit`` with callbacks that all write into one run
folder (file names and helpers in :mod:`vaecore.runs`)::

    run_dir/
        backup/            weights + optimizer state, SeedGenerator states and the epoch
        model.keras        the whole model after the last finished epoch (load_model-able)
        history.csv        one row per finished epoch (with its epoch_seconds), appended across restarts
        fingerprint.json   the model's and optimizer's config: a resumed run must match it
        .lock              held while training, so a second run into the folder stops at once

Run the same :func:`train` call again after the process was killed and it
continues from the last finished epoch; run it again after it finished and it
returns at once. On a CPU the resumed run ends with exactly the weights of an
uninterrupted one, when the data come from :func:`vaecore.data.load_dataset`
with a ``seed`` (each epoch's order and random draws are a function of seed and
epoch, and the model's seed states are in the backup). A NaN or infinite loss
stops training with a :class:`TrainingDivergedError` that says where and what to try.

Each epoch ends with three writes, in this order, each to a temporary name then
renamed: ``model.keras``, the ``history.csv`` row, the backup. The backup is the
commit: a kill before it repeats the epoch (its row, written twice, is read
back once by :func:`~vaecore.runs.read_history`), a kill after it loses nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from vaecore import runs
from vaecore.callbacks import EpochTimer

# Re-exported: these lived here before vaecore.runs existed.
from vaecore.runs import (  # noqa: F401
    BACKUP_DIR,
    BACKUP_STATE,
    HISTORY_FILE,
    MODEL_FILE,
    RunFolderError,
    RunLockedError,
    completed_epochs,
    read_history,
)

_LEGACY_WEIGHTS = "latest.weights.h5"  # keras.callbacks.BackupAndRestore's, before vaecore.runs
_LEGACY_METADATA = "training_metadata.json"


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


class EpochSeeds(keras.callbacks.Callback):
    """Tell the seeded ``load_dataset`` pipelines which epoch begins.

    Keras makes each epoch's data iterator after ``on_epoch_begin``, so setting
    the epoch here makes that epoch's shuffle order and random draws a function
    of (seed, epoch), also in a process that resumed at this epoch
    (:func:`vaecore.data.pipeline.set_epoch`).
    """

    def on_epoch_begin(self, epoch, logs=None):
        from vaecore.data.pipeline import set_epoch

        set_epoch(epoch)


def seed_state_variables(model: keras.Model) -> list:
    """The model's ``keras.random.SeedGenerator`` states (``seed_generator_state`` variables).

    ``model.save_weights`` does not store them, yet they decide the next random
    draws (sampling noise, dropout); the backup stores them beside the weights.
    Found by path among ``model.variables``, so any Keras model's generators count.
    """
    return [v for v in model.variables if "seed_generator_state" in v.path]


class RunCheckpoint(keras.callbacks.Callback):
    """Write the run folder at every epoch end, in an order that a kill cannot corrupt.

    1. ``model.keras`` (for ``load_model``), 2. the epoch's ``history.csv`` row,
    3. the backup: ``backup/epoch_NNNN.weights.h5`` (weights and optimizer
    state), then ``backup/state.json`` (the epoch, the weights file's name and
    the seed states), which is the commit; older weights files are removed after it.
    Every file is written under a temporary name and renamed, so a kill or a full
    disk mid-write leaves the previous checkpoint whole and loadable.

    At train begin it restores the last committed backup (or a
    ``keras.callbacks.BackupAndRestore`` backup from an older run folder) and
    tells ``fit`` to start at the epoch after it.
    """

    def __init__(self, files_dir: Path, backup_dir: Path):
        super().__init__()
        self.files_dir = Path(files_dir)
        self.backup_dir = Path(backup_dir)

    # -------------------------------------------------------------- restore
    def on_train_begin(self, logs=None):
        # Keras never resets this: a model trained before, now into a new folder, starts at 0
        self.model._initial_epoch = None
        state_path = self.backup_dir / BACKUP_STATE
        if state_path.exists():
            state = json.loads(state_path.read_text())
            self._load_weights(self.backup_dir / state["weights"])
            self._set_seed_states(state.get("seed_states", []))
            self.model._initial_epoch = int(state["epoch"])  # as BackupAndRestore does
        elif (self.backup_dir / _LEGACY_WEIGHTS).exists():
            self._restore_legacy()

    def _load_weights(self, path: Path) -> None:
        if not self.model.built:
            raise ValueError(
                "train() restores a backup into the model, which must be built first "
                "(call it on a batch of data, or build it with input shapes)"
            )
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(str(path))

    def _set_seed_states(self, states: list) -> None:
        variables = seed_state_variables(self.model)
        if len(states) != len(variables):
            raise RunFolderError(
                f"the backup in {self.backup_dir} holds {len(states)} seed states; this model "
                f"has {len(variables)}: it is not the model that was trained there"
            )
        for variable, (_, value) in zip(variables, states, strict=True):
            variable.assign(np.asarray(value, dtype=variable.dtype))

    def _restore_legacy(self) -> None:
        """A backup from ``keras.callbacks.BackupAndRestore`` (no seed states: they start afresh)."""
        weights = self.backup_dir / _LEGACY_WEIGHTS
        metadata = self.backup_dir / _LEGACY_METADATA
        try:
            self._load_weights(weights)
        except OSError:  # a half-written file: the double checkpoint's previous one
            weights, metadata = Path(f"{weights}.bkp"), Path(f"{metadata}.bkp")
            self._load_weights(weights)
        if metadata.exists():
            self.model._initial_epoch = int(json.loads(metadata.read_text())["epoch"])

    # ---------------------------------------------------------------- save
    def on_epoch_end(self, epoch, logs=None):
        with runs.atomic_path(self.files_dir / MODEL_FILE, suffix=".keras") as tmp:
            self.model.save(tmp)
        runs.append_history_row(self.files_dir, {"epoch": epoch, **(logs or {})})
        self._save_backup(epoch + 1)

    def _save_backup(self, epochs_done: int) -> None:
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        name = f"epoch_{epochs_done:04d}.weights.h5"
        with runs.atomic_path(self.backup_dir / name, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)
        seeds = [[v.path, np.asarray(v).tolist()] for v in seed_state_variables(self.model)]
        state = {"epoch": epochs_done, "weights": name, "seed_states": seeds}
        runs.write_json(self.backup_dir / BACKUP_STATE, state)
        for old in self.backup_dir.iterdir():  # only after the commit above
            stale = re.fullmatch(r"epoch_\d+\.weights\.h5", old.name) and old.name != name
            legacy = old.name.startswith((_LEGACY_WEIGHTS, _LEGACY_METADATA))
            if (stale or legacy) and old.is_file():
                old.unlink()


def model_fingerprint(model: keras.Model, kl_schedule=None) -> dict[str, Any]:
    """What decides a run, for ``fingerprint.json``: model and optimizer, by class and config.

    * ``model``: the class and ``get_config()``. For :class:`vaecore.VAE` these are
      the constructor's arguments (arch dict, likelihood, beta, warm-up, sigma,
      seed); a KL schedule that moves the KL weight during training does not change
      them, so a resumed run matches. A model whose ``get_config`` is Keras' own
      (Functional, Sequential) is described layer by layer without the layers'
      names, which come from Keras' global counters and would differ between
      two builds of the same model in one session.
    * ``optimizer``: the class and config without its name: another optimizer
      cannot take over the saved optimizer state, and another learning rate is
      another run (as ``vaecore train`` treats ``--lr``).
    * ``loss``: the compiled loss, where one was given (a VAE has its own).
    * ``kl_schedule``: the settings of the KL schedule callback, where one is given
      (another schedule trains another model).

    Left out on purpose: the number of epochs (a re-run may train on), the data
    (``train`` cannot identify a dataset; the command line compares its data
    settings itself), callbacks, verbosity, the distribution strategy and
    compile options such as ``jit_compile`` or ``steps_per_execution``, which
    change how fast a run goes, not what it trains.
    """
    optimizer = model.optimizer
    opt_config = {k: v for k, v in optimizer.get_config().items() if k != "name"}
    fingerprint = {
        "model": {"class": _class_name(model), "config": _model_config(model)},
        "optimizer": {"class": _class_name(optimizer), "config": opt_config},
    }
    loss = getattr(model, "loss", None)
    if loss is not None:
        try:
            fingerprint["loss"] = keras.saving.serialize_keras_object(loss)
        except Exception:  # noqa: BLE001 - an unserializable loss: name it instead
            fingerprint["loss"] = getattr(loss, "__name__", type(loss).__name__)
    if kl_schedule is not None:
        fingerprint["kl_schedule"] = kl_schedule.get_config()
    return runs.jsonable(fingerprint)


def _class_name(obj: Any) -> str:
    """The class as Keras registers it (``vaecore>VAE``, ``Adam``): stable if a module moves."""
    return keras.saving.get_registered_name(type(obj))


def _model_config(model: keras.Model) -> Any:
    owner = type(model).get_config.__qualname__.split(".")[0]
    if owner not in ("Model", "Functional", "Sequential", "Layer"):
        try:
            return model.get_config()
        except NotImplementedError:
            pass
    return [
        {"class": _class_name(layer), "config": _layer_config(layer)}
        for layer in model._flatten_layers(include_self=False)
    ]


def _layer_config(layer: keras.layers.Layer) -> Any:
    try:
        config = layer.get_config()
    except NotImplementedError:
        return [list(w.shape) for w in layer.weights]
    return {k: v for k, v in config.items() if k != "name"}


def train(
    model: keras.Model,
    train_data,
    epochs: int,
    run_dir: str | os.PathLike,
    validation_data=None,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    overwrite: bool = False,
    kl_schedule=None,
    **fit_kwargs,
) -> dict[str, list[float]]:
    """Fit ``model`` for ``epochs`` epochs, resumably, and return the whole history.

    Args:
        model: a compiled model (e.g. from :func:`vaecore.build_vae`).
        train_data: what ``model.fit`` accepts; a ``tf.data.Dataset`` is best, and a
            seeded :func:`vaecore.data.load_dataset` pipeline resumes bit for bit.
        epochs: the total number of epochs, counting those already done in ``run_dir``.
        run_dir: the run folder (created if missing). Reuse it to resume.
        validation_data: evaluated at the end of every epoch (``val_*`` columns).
        callbacks: extra Keras callbacks (they run after the checkpoint's writes).
        verbose: passed to ``model.fit``.
        overwrite: if ``run_dir`` holds a run of another model or optimizer config,
            delete that run's files and start over, instead of refusing.
        kl_schedule: a :class:`vaecore.schedules.KLSchedule` callback, or a dict such
            as ``{"kind": "cyclical", "cycle_steps": 2000}`` for
            :func:`vaecore.schedules.from_spec`; part of the run's fingerprint.
        **fit_kwargs: anything else for ``model.fit`` (e.g. ``steps_per_epoch``).

    Returns:
        The history of every finished epoch in this run folder, as read back by
        :func:`read_history` (so a resumed run returns all epochs, not just the new ones).

    Raises:
        RunFolderError: ``run_dir`` holds a run with another fingerprint
            (:func:`model_fingerprint`; the message names what differs), and
            ``overwrite`` is false. Nothing in the folder is changed.
        RunLockedError: another run is in progress in ``run_dir``.
    """
    if not getattr(model, "compiled", False):
        raise ValueError("train() needs a compiled model: call model.compile(optimizer=...) first")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    from vaecore.schedules import from_spec

    schedule = from_spec(kl_schedule)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files_dir, backup_dir = _worker_folders(run_dir, getattr(model, "distribute_strategy", None))
    chief = files_dir == run_dir
    with runs.run_lock(run_dir if chief else backup_dir):
        if chief:
            fingerprint = model_fingerprint(model, schedule)
            runs.check_fingerprint(run_dir, fingerprint, overwrite=overwrite)
        ours = [
            EpochTimer(),  # first, so the history row gets its epoch_seconds
            StopOnNaN(run_dir),  # before the checkpoint: a diverged epoch is not saved
            EpochSeeds(),
            RunCheckpoint(files_dir, backup_dir),
        ]
        if schedule is not None:
            ours.insert(0, schedule)
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
