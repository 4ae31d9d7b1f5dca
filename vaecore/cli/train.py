"""``vaecore train``: check the run folder, build the model, train resumably.

The run folder is guarded twice, each check where it knows most, both through
:mod:`vaecore.runs`: first the resolved settings against ``config.json`` (the
data settings, which the model cannot tell: dataset, path, batch size, ...), then,
in :func:`vaecore.train`'s own terms, the model's fingerprint (which catches an
architecture JSON file that was edited in place). The folder is locked for the
whole command, so a second ``vaecore train`` into it stops at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
from pathlib import Path
from typing import Any

from vaecore import runs
from vaecore.cli.config import (
    config_differences,
    kl_schedule_spec,
    load_split,
    resolve_train_config,
)
from vaecore.cli.flags import ARCH_FILE, CONFIG_FILE, SAMPLES_DIR, CliError, _one_line


def cmd_train(args: argparse.Namespace) -> int:
    """``vaecore train``: resolve, lock and check the run folder, then train resumably."""
    cfg, arch = resolve_train_config(args)
    out = Path(cfg["out"])
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file, not a folder")
    from vaecore.distribute import get_strategy, is_chief

    strategy = get_strategy(cfg["strategy"])
    chief = is_chief(strategy)
    # Only the chief guards the folder: the workers of a multi-worker run share it
    # (vaecore.train locks each worker's own backup folder).
    with runs.run_lock(out) if chief else contextlib.nullcontext():
        stop = _prepare_run_folder(cfg)
        if stop is not None:
            return stop
        return _train(cfg, arch, strategy, chief)


def _train(cfg: dict[str, Any], arch: dict[str, Any], strategy, chief: bool) -> int:
    import keras

    from vaecore import build_cvae, build_vae, train
    from vaecore.arch import condition_spec, is_conv
    from vaecore.distribute import compile_options, describe_devices
    from vaecore.training import model_fingerprint

    keras.utils.set_random_seed(cfg["seed"])
    train_ds, test_ds, steps = _training_data(cfg, condition_spec(arch))
    with strategy.scope():
        build = build_cvae if condition_spec(arch) else build_vae  # the arch's condition: a CVAE
        if cfg.get("tc_weight") is not None:  # beta-TCVAE: a VAE with the TC term added
            from functools import partial

            from vaecore.tcvae import build_tcvae

            build = partial(
                build_tcvae, tc_weight=cfg["tc_weight"], dataset_size=train_ds.num_examples
            )
        if "codebook" in arch:  # a VQ-VAE (vaecore.cli.vq); the KL settings are at their defaults
            from functools import partial

            from vaecore.cli.vq import build_vq

            build = partial(build_vq, cfg=cfg)
        model = build(
            arch,
            likelihood=cfg["likelihood"],
            beta=cfg["beta"],
            kl_warmup_steps=cfg["kl_warmup_steps"],
            sigma=cfg["sigma"],
            seed=cfg["seed"],
            free_bits=cfg.get("free_bits") or 0.0,
            kl_capacity=0.0 if cfg.get("kl_schedule") == "capacity" else None,
            scale=cfg.get("scale"),
            channel_coupling=bool(cfg.get("channel_coupling")),
        )
        model.compile(
            optimizer=keras.optimizers.Adam(cfg["lr"]),
            **compile_options(strategy, is_conv(arch), steps),
        )
    out = Path(cfg["out"])
    if chief:
        from vaecore.schedules import from_spec

        schedule = from_spec(kl_schedule_spec(cfg))
        runs.check_fingerprint(out, model_fingerprint(model, schedule), hint="--overwrite")
    record = {**cfg, "versions": versions(), "device": describe_devices(strategy)}
    record["replicas"] = strategy.num_replicas_in_sync
    if chief:
        runs.write_json(out / ARCH_FILE, arch)
        runs.write_json(out / CONFIG_FILE, record)
    _say(cfg, _start_line(cfg, arch, train_ds, test_ds, record["device"]))
    history = train(
        model,
        train_ds,
        epochs=cfg["epochs"],
        run_dir=out,
        validation_data=test_ds,
        callbacks=_train_callbacks(cfg, steps, chief, snapshots="codebook" not in arch),
        verbose=0,
        kl_schedule=kl_schedule_spec(cfg),
    )
    _say(cfg, _end_line(out, history))
    return 0


def _train_callbacks(cfg: dict[str, Any], steps: int, chief: bool, snapshots: bool = True) -> list:
    """Sample snapshots (the chief's; not for a VQ-VAE, whose codes are not Gaussian) and progress."""
    from vaecore.callbacks import ProgressBar, SnapshotsBeforeCheckpoint

    callbacks: list = []
    if chief and snapshots:
        out = Path(cfg["out"]) / SAMPLES_DIR
        callbacks.append(
            SnapshotsBeforeCheckpoint(
                out, steps, num=64, seed=cfg["seed"], every=cfg["samples_every"]
            )
        )
    if not cfg["quiet"]:
        callbacks.append(ProgressBar(cfg["epochs"], steps))
    return callbacks


def _prepare_run_folder(cfg: dict[str, Any]) -> int | None:
    """Check ``out`` against the new config; clear it for --overwrite.

    Returns None to go on training, or an exit code (0: the run is already complete).
    """
    out = Path(cfg["out"])
    config_path = out / CONFIG_FILE
    has_files = out.is_dir() and any(p.name != runs.LOCK_FILE for p in out.iterdir())
    if not has_files:
        return None
    if not config_path.is_file():
        raise CliError(
            f"--out {out} holds files but no {CONFIG_FILE}, so it is not a vaecore run folder; "
            "refusing to write into it (choose an empty or new folder)"
        )
    old = json.loads(config_path.read_text())
    diffs = config_differences(old, runs.jsonable(cfg))
    if diffs and not cfg["overwrite"]:
        raise CliError(
            f"{out} holds a run with a different config ({'; '.join(diffs)}); nothing was "
            "changed. Use another --out, or --overwrite to delete that run and start over"
        )
    if diffs or cfg["overwrite"]:
        _clear_folder(out)
        _say(cfg, f"--overwrite: deleted the earlier run in {out}")
        return None
    done = runs.completed_epochs(out)
    if done >= cfg["epochs"]:
        print(f"{out}: the run is complete ({done} of {cfg['epochs']} epochs); nothing to do")
        return 0
    if done:
        _say(cfg, f"{out}: resuming after epoch {done} of {cfg['epochs']}")
    return None


def _clear_folder(out: Path) -> None:
    """Everything in ``out`` but the lock file, which this process holds."""
    import shutil

    for entry in out.iterdir():
        if entry.name == runs.LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _say(cfg: dict[str, Any], text: str) -> None:
    if not cfg.get("quiet"):
        print(text, flush=True)


def _training_data(cfg: dict[str, Any], condition: dict[str, Any] | None = None):
    """(train pipeline, test pipeline or None, steps per epoch); ``(images, labels)`` pairs
    for a conditional arch (``condition``: its spec, :mod:`vaecore.cli.conditional`)."""
    from vaecore.cli.conditional import labelled
    from vaecore.data import DatasetNotFoundError

    common = {"batch_size": cfg["batch_size"], "seed": cfg["seed"]}
    if condition is not None:
        common["labels"] = True
    # --subset (dsprites): random images of each split, not the first ones of the grid
    train_rows = {"subset": cfg["subset"]} if cfg.get("subset") else {"limit": cfg["limit"]}
    test_rows = (
        {"subset": cfg["test_limit"]}
        if cfg.get("subset") and cfg["test_limit"]
        else {"limit": cfg["test_limit"]}
    )
    train_ds = load_split(
        cfg, "train", shuffle=True, augment=bool(cfg.get("augment")), **train_rows, **common
    )
    try:
        test_ds = load_split(cfg, "test", shuffle=False, **test_rows, **common)
    except DatasetNotFoundError as err:
        _say(cfg, f"no validation: the test split could not be read ({_one_line(str(err))})")
        test_ds = None
    if condition is not None:
        train_ds = labelled(train_ds, cfg, condition)
        test_ds = None if test_ds is None else labelled(test_ds, cfg, condition)
    steps = math.ceil(train_ds.num_examples / cfg["batch_size"])
    # load_dataset declares each pipeline's length, so Keras sizes epochs exactly.
    return train_ds, test_ds, steps


def versions() -> dict[str, str]:
    """vaecore, TensorFlow, Keras and Python versions, for config.json."""
    import keras
    import tensorflow as tf

    import vaecore

    return {
        "vaecore": vaecore.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "python": platform.python_version(),
    }


def _start_line(cfg, arch, train_ds, test_ds, device: str) -> str:
    test = f", test {test_ds.num_examples}" if test_ds is not None else ", no test split"
    return (
        f"vaecore train: {cfg['dataset']} (train {train_ds.num_examples} images{test}), "
        f"arch {arch['name']} (latent {arch['latent']}{_condition_words(arch)}), "
        f"{cfg['likelihood']} likelihood, "
        f"batch {cfg['batch_size']}, {device} -> {cfg['out']}"
    )


def _condition_words(arch: dict[str, Any]) -> str:
    condition = arch.get("condition")
    if not condition:
        return ""
    kind = "classes" if "classes" in condition else "binary"
    return f", conditional on {condition[kind]} {kind if kind == 'classes' else 'attributes'}"


def _end_line(out: Path, history: dict[str, list[float]]) -> str:
    epochs = len(history.get("epoch", []))
    last = {k: v[-1] for k, v in history.items() if k in ("loss", "val_loss")}
    numbers = ", ".join(f"{k} {v:.3f}" for k, v in last.items())
    return f"done: {epochs} epochs ({numbers}); model in {out / 'model.keras'}"
