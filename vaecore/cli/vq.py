"""The VQ-VAE on the command line: ``vaecore train`` with a VQ arch, and ``vaecore train-prior``.

::

    vaecore train --dataset cifar10 --arch cifar_vq.json --likelihood discretized_logistic \\
        --restart-after 100 --epochs 20 --out runs/cifar_vq        # an arch dict with a 'codebook'
    vaecore train-prior --model runs/cifar_vq --epochs 20           # PixelCNN on the index grids
    vaecore sample --model runs/cifar_vq --num 64 --out samples.png # prior, then decoder
    vaecore evaluate --model runs/cifar_vq --json bound.json        # -log p(x) bound, bits/dim

``train`` builds a :class:`vaecore.vq.VQVAE` when the arch dict has a ``codebook``
(``--commitment-weight``, ``--ema-decay``, ``--restart-after`` set the quantizer;
the VAE's KL settings and conditions are refused: :mod:`vaecore.cli.config`). It
saves no sample snapshots (those decode Gaussian codes). ``train-prior`` encodes
the run's training images to index grids and fits a
:class:`vaecore.pixelcnn.PixelCNNPrior` with :func:`vaecore.train` into
``<run>/prior/`` (resumable; its test-split bits per cell are printed). ``sample``
and ``evaluate`` use that prior when it is there, and uniform codes otherwise
(:mod:`vaecore.cli.use`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from vaecore.cli.flags import CliError, _flag_type
from vaecore.cli.use import PRIOR_DIR, _use_data_config, load_run

TRAIN_PRIOR_HELP = "fit a PixelCNN prior to a VQ-VAE run's code grids (resumable)"
TRAIN_PRIOR_EPILOG = """examples:
  vaecore train-prior --model runs/cifar_vq --epochs 20
  vaecore train-prior --model runs/cifar_vq --epochs 40 --filters 128 --residual-blocks 4 --overwrite

The prior goes into <run>/prior/ (model.keras, history.csv); run the same command
again to continue. 'vaecore sample' and 'evaluate' on the run then use it."""


def build_vq(arch: dict[str, Any], *, cfg: dict[str, Any], likelihood: str, sigma: float,
             seed: int, scale: str | None, channel_coupling: bool, **vae_only: Any):  # fmt: skip
    """A :class:`vaecore.vq.VQVAE` from the train settings (``vae_only``: the VAE's KL
    settings, checked to be at their defaults by :mod:`vaecore.cli.config`)."""
    from vaecore.vq import VQVAE

    given = {k: cfg[k] for k in ("commitment_weight", "ema_decay", "restart_after")
             if cfg.get(k) is not None}  # fmt: skip
    return VQVAE(arch, likelihood=likelihood, sigma=sigma, seed=seed, scale=scale,
                 channel_coupling=channel_coupling, **given)  # fmt: skip


def add_train_prior_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``train-prior`` subcommand to ``vaecore``'s parser."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    p = sub.add_parser(
        "train-prior", help=TRAIN_PRIOR_HELP, description=TRAIN_PRIOR_HELP,
        epilog=TRAIN_PRIOR_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    pos, nonneg = _flag_type("pos_int"), _flag_type("nonneg_int")
    p.add_argument("--model", required=True, metavar="RUN", help="a VQ-VAE run folder")
    p.add_argument("--epochs", type=pos, default=10, metavar="N", help="total epochs (default: 10)")
    p.add_argument("--batch-size", type=pos, default=128, metavar="N", help="(default: 128)")
    p.add_argument("--lr", type=_flag_type("pos_float"), default=1e-3, metavar="F",
                   help="Adam learning rate (default: 0.001)")  # fmt: skip
    p.add_argument("--filters", type=pos, default=64, metavar="N", help="(default: 64)")
    p.add_argument("--kernel-size", type=pos, default=7, metavar="N",
                   help="the first (mask A) kernel, odd (default: 7)")  # fmt: skip
    p.add_argument("--residual-blocks", type=nonneg, default=2, metavar="N", help="(default: 2)")
    p.add_argument("--limit", type=pos, default=None, metavar="N",
                   help="train on the first N training images (default: all)")  # fmt: skip
    p.add_argument("--seed", type=nonneg, default=0, metavar="N", help="(default: 0)")
    p.add_argument("--overwrite", action="store_true", help="start the prior over")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the full traceback of an error")  # fmt: skip


def _grids(model, cfg: dict[str, Any], split: str, limit: int | None, seed: int):
    """The index grids of one split (None when it cannot be read), encoded batch by batch."""
    from vaecore.cli.config import load_split
    from vaecore.data import DatasetNotFoundError

    try:
        ds = load_split(cfg, split, limit=limit, shuffle=False, batch_size=256, seed=seed)
    except DatasetNotFoundError:
        if split == "train":
            raise
        return None
    return model.index_grids(ds)


def cmd_train_prior(args: argparse.Namespace) -> int:
    """``vaecore train-prior``: encode the training images, fit the PixelCNN, resumably."""
    import keras
    import numpy as np

    from vaecore import train
    from vaecore.pixelcnn import PixelCNNPrior

    model, run_cfg = load_run(args.model)
    if not hasattr(model, "index_grids"):
        raise CliError(f"{args.model} is not a VQ-VAE run (train-prior fits a prior to code grids)")
    if args.kernel_size % 2 == 0:
        raise CliError(f"--kernel-size must be odd (a centre cell), got {args.kernel_size}")
    for key in ("dataset", "data_dir", "path", "column", "binarize", "resize_mode",
                "condition_column", "image_size", "channels"):  # fmt: skip
        setattr(args, key, None)  # the run's own data
    cfg = _use_data_config(args, run_cfg, model)
    keras.utils.set_random_seed(args.seed)
    train_grids = _grids(model, cfg, "train", args.limit, args.seed)
    test_grids = _grids(model, cfg, "test", None, args.seed)
    prior = PixelCNNPrior.for_model(model, filters=args.filters, kernel_size=args.kernel_size,
                                    residual_blocks=args.residual_blocks, seed=args.seed)  # fmt: skip
    prior.compile(optimizer=keras.optimizers.Adam(args.lr))
    out = _run_folder(args.model) / PRIOR_DIR
    if not args.quiet:
        used = len(np.unique(train_grids))
        print(f"vaecore train-prior: {len(train_grids)} grids {model.grid_shape} of "
              f"{model.num_codes} codes ({used} used) -> {out}", flush=True)  # fmt: skip
    history = train(prior, train_grids, epochs=args.epochs, run_dir=out, batch_size=args.batch_size,
                    validation_data=None if test_grids is None else (test_grids, test_grids),
                    verbose=0, overwrite=args.overwrite)  # fmt: skip
    if not args.quiet:
        last = {k: v[-1] for k, v in history.items() if k in ("bits_per_dim", "val_bits_per_dim")}
        words = ", ".join(f"{k} {v:.4f}" for k, v in last.items())
        print(f"done: {len(history.get('epoch', []))} epochs ({words} bits per cell); "
              f"prior in {out / 'model.keras'}")  # fmt: skip
    return 0


def _run_folder(model_arg: str) -> Path:
    path = Path(model_arg)
    return path if path.is_dir() else path.parent
