"""The ``vaecore`` command line: train, sample, reconstruct, interpolate, evaluate.

::

    vaecore train --dataset mnist --arch mnist_dense_z2 --epochs 30 --out runs/mnist
    vaecore sample --model runs/mnist --num 64 --out samples.png
    vaecore evaluate --model runs/mnist --k 1000 --json nll.json

``train`` resolves one config (defaults, then ``--config`` file, then flags),
writes it to ``<out>/config.json`` and trains with :func:`vaecore.train`, so a
killed run continues when the same command is run again.

Every failure is one line on stderr, ``vaecore: error: ...``, no traceback:
exit code 2 for a user error that left nothing changed (bad flag, unknown dataset
or architecture, a run folder holding another config), 1 for a failure while
running (a full disk, a read-only folder, a file that vanished, a diverged loss,
a folder another run is using). ``--debug`` (or ``VAECORE_DEBUG=1``) shows the
traceback instead.

Modules: :mod:`~vaecore.cli.flags` (settings and parser), :mod:`~vaecore.cli.config`
(resolving a run's config, reading its data), :mod:`~vaecore.cli.train` and
:mod:`~vaecore.cli.use` (the commands that use a trained model), :mod:`~vaecore.cli.gmm`
(``sample --sampler gmm``'s mixture, kept in the run folder), :mod:`~vaecore.cli.conditional`
(a conditional VAE's labels, ``--condition-column`` and ``--condition``), :mod:`~vaecore.cli.vq`
(a VQ-VAE's training and ``train-prior``, its PixelCNN prior).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from vaecore.cli.config import (
    config_differences,
    load_split,
    read_config_file,
    resolve_arch,
    resolve_train_config,
)
from vaecore.cli.flags import (
    ARCH_FILE,
    CONFIG_FILE,
    DEBUG_ENV,
    EXIT_USAGE,
    PROG,
    RESIZE_MODES,
    SAMPLES_DIR,
    CliError,
    _one_line,
)
from vaecore.cli.flags import build_parser as _base_parser
from vaecore.cli.train import cmd_train, versions
from vaecore.cli.use import (
    cmd_evaluate,
    cmd_interpolate,
    cmd_reconstruct,
    cmd_sample,
    load_run,
)

__all__ = [
    "ARCH_FILE",
    "CONFIG_FILE",
    "RESIZE_MODES",
    "SAMPLES_DIR",
    "CliError",
    "build_parser",
    "config_differences",
    "load_run",
    "load_split",
    "main",
    "read_config_file",
    "resolve_arch",
    "resolve_train_config",
    "versions",
]
EXIT_FAILURE = 1


def build_parser():
    """The ``vaecore`` parser: :func:`vaecore.cli.flags.build_parser` plus ``train-prior``."""
    from vaecore.cli.vq import add_train_prior_parser

    parser = _base_parser()
    add_train_prior_parser(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 user error, 1 failure while running)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a bad flag (2, message already printed)
        return int(done.code or 0)
    commands = {
        "train": cmd_train,
        "sample": cmd_sample,
        "reconstruct": cmd_reconstruct,
        "interpolate": cmd_interpolate,
        "evaluate": cmd_evaluate,
        "train-prior": _train_prior,
    }
    debug = getattr(args, "debug", False) or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted; run the same command again to continue\n")
        return 130
    except Exception as err:
        if debug:
            raise
        message, code = error_line(err)
        sys.stderr.write(f"{PROG}: error: {message}\n")
        return code


def _train_prior(args) -> int:
    from vaecore.cli.vq import cmd_train_prior

    return cmd_train_prior(args)


def error_line(err: Exception) -> tuple[str, int]:
    """The one-line message for ``err`` and the exit code (2: user error, 1: failure)."""
    import tensorflow as tf

    from vaecore.arch import ArchDefError
    from vaecore.data import BadImageError, DatasetNotFoundError, MissingFilesError
    from vaecore.distribute import StrategyError
    from vaecore.runs import RunFolderError, RunLockedError
    from vaecore.training import TrainingDivergedError

    user_errors = (
        CliError,
        ArchDefError,
        DatasetNotFoundError,
        MissingFilesError,
        BadImageError,
        StrategyError,
        RunFolderError,
    )
    if isinstance(err, user_errors):
        return _one_line(str(err)), EXIT_USAGE
    if isinstance(err, TrainingDivergedError | RunLockedError):
        return _one_line(str(err)), EXIT_FAILURE
    if isinstance(err, OSError):
        what = err.strerror or str(err)
        where = f": {err.filename}" if err.filename else ""
        return f"{what}{where}{_CHECKPOINT_NOTE}", EXIT_FAILURE
    if isinstance(err, tf.errors.OpError):  # e.g. an image file that vanished mid-run
        first = (err.message or str(err)).strip().splitlines()[0]
        return f"TensorFlow: {first}{_CHECKPOINT_NOTE}", EXIT_FAILURE
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return (
        f"{type(err).__name__}: {first} (unexpected; run with --debug for the traceback)",
        EXIT_FAILURE,
    )


_CHECKPOINT_NOTE = (
    " (a run folder keeps its last good checkpoint: fix this and run the same command "
    "again to continue; --debug shows the traceback)"
)
