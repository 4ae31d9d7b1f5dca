"""``vaecore`` flags: the settings of ``train`` (one checker per kind, shared by flags and
config files) and the parser of every subcommand.

Nothing here imports TensorFlow, so ``vaecore --help`` is fast.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

PROG = "vaecore"
EXIT_USAGE = 2
CONFIG_FILE = "config.json"
ARCH_FILE = "arch.json"
SAMPLES_DIR = "samples"
# Keys that say how or where a run goes, not what is trained: a re-run may change them.
RUNTIME_KEYS = frozenset(
    {"epochs", "out", "overwrite", "quiet", "samples_every", "strategy", "data_dir"}
)
RECORD_KEYS = frozenset({"versions", "device", "replicas"})
FILE_DATASETS = ("folder", "csv")
# vaecore.data.images.RESIZE_MODES, spelled out so that --help needs no TensorFlow (a test checks)
RESIZE_MODES = ("stretch", "crop", "pad")
DEBUG_ENV = "VAECORE_DEBUG"


class CliError(Exception):
    """A user error: printed as ``vaecore: error: <message>`` (one line), exit code 2."""


def _one_line(text: str) -> str:
    """``text`` on one line: line breaks (and list dashes after them) become ``; ``."""
    return re.sub(r"[.:]?\s*\n\s*-?\s*", "; ", text.strip())


# ---------------------------------------------------------------------------
# Values: one checker per kind, shared by flags and config files
# ---------------------------------------------------------------------------


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, str):
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    raise ValueError


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    result = float(value)
    if not math.isfinite(result):
        raise ValueError
    return result


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.lower() in ("true", "yes", "1")
    raise ValueError


def _checked(kind: str, value: Any, choices: Sequence[Any] | None = None) -> Any:
    """``value`` converted to ``kind``; ``ValueError`` with a readable message otherwise."""
    converters: dict[str, tuple[Callable[[Any], Any], Callable[[Any], bool], str]] = {
        "pos_int": (_as_int, lambda v: v >= 1, "an integer >= 1"),
        "nonneg_int": (_as_int, lambda v: v >= 0, "an integer >= 0"),
        "pos_float": (_as_float, lambda v: v > 0, "a number > 0"),
        "nonneg_float": (_as_float, lambda v: v >= 0, "a number >= 0"),
        "bool": (_as_bool, lambda v: True, "true or false"),
        "str": (str, lambda v: bool(v.strip()), "a non-empty string"),
    }
    if kind == "choice":
        assert choices is not None
        for choice in choices:
            if str(choice) == str(value).strip():
                return choice
        raise ValueError(f"must be one of {', '.join(map(str, choices))}, got {value!r}")
    convert, ok, what = converters[kind]
    try:
        result = convert(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be {what}, got {value!r}") from None
    if not ok(result):
        raise ValueError(f"must be {what}, got {value!r}")
    return result


def _flag_type(kind: str, choices: Sequence[Any] | None = None) -> Callable[[str], Any]:
    """An argparse ``type=`` that checks like :func:`_checked` (argparse then exits 2)."""

    def convert(text: str) -> Any:
        try:
            return _checked(kind, text, choices)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = kind
    return convert


@dataclass(frozen=True)
class Key:
    """One ``train`` setting: flag ``--name-with-dashes``, config key ``name_with_underscores``."""

    kind: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    metavar: str | None = None


def _train_keys() -> dict[str, Key]:
    from vaecore.cli.vq_settings import VQ_TRAIN_KEYS
    from vaecore.distribute import STRATEGIES
    from vaecore.likelihoods import SCALES
    from vaecore.models import LIKELIHOODS

    return {
        "dataset": Key(
            "str", None, "a load_dataset name (mnist, cifar10, folder, ...)", None, "NAME"
        ),
        "data_dir": Key(
            "str",
            None,
            "read the data from this folder (default: $VAECORE_DATA_DIR, cache)",
            None,
            "DIR",
        ),
        "path": Key(
            "str",
            None,
            "the image folder (--dataset folder) or CSV file (--dataset csv)",
            None,
            "PATH",
        ),
        "column": Key(
            "str", "path", "the CSV column holding image paths (--dataset csv)", None, "COL"
        ),
        "image_size": Key(
            "pos_int", None, "resize images to N x N (default: the arch's input size)", None, "N"
        ),
        "channels": Key("choice", None, "1 (grey) or 3 (RGB) (default: the arch's)", (1, 3)),
        "resize_mode": Key(
            "choice",
            "stretch",
            "how an image of another aspect ratio becomes the model's size: stretch it, centre-"
            "crop it or pad it (load_dataset resize_mode=)",
            RESIZE_MODES,
        ),
        "limit": Key("pos_int", None, "use the first N training images", None, "N"),
        "test_limit": Key("pos_int", None, "use the first N test images for validation", None, "N"),
        "subset": Key(
            "pos_int",
            None,
            "dsprites: train on N random images of the training split (load_dataset subset=) "
            "instead of the first --limit ones, and validate on --test-limit random test images",
            None,
            "N",
        ),
        "binarize": Key("bool", False, "binarize pixels dynamically (a fresh draw every epoch)"),
        "augment": Key(
            "bool",
            False,
            "augment the training images (random left-right flip, shift up to 4 px; "
            "load_dataset augment=True); the test images are never augmented",
        ),
        "arch": Key(
            "str",
            None,
            "a named architecture or a JSON file holding an arch dict (in a config file also "
            "the arch dict itself, as a mapping)",
            None,
            "NAME_OR_JSON_FILE",
        ),
        "latent": Key("pos_int", None, "latent size (overrides the arch's)", None, "N"),
        "condition_column": Key("str", None, "a conditional arch (its 'condition'): the label columns it takes, e.g. Smiling,Eyeglasses (celeba attributes; default: the arch's names, or the class labels)", None, "A,B"),
        "likelihood": Key("choice", "bernoulli", "p(x|z)", LIKELIHOODS),
        "sigma": Key(
            "pos_float",
            0.1,
            "pixel std of the gaussian likelihood (initial scale of the discretized logistic)",
            None,
            "F",
        ),
        "scale": Key(
            "choice",
            None,
            "the likelihood's pixel scale: fixed (gaussian: --sigma as given), shared (one "
            "learned), channel (one per colour channel) or pixel (predicted by the decoder); "
            "default: the likelihood's own (gaussian fixed, discretized_logistic channel)",
            SCALES,
        ),
        "channel_coupling": Key(
            "bool",
            False,
            "couple a pixel's colour channels (PixelCNN++): each channel's mean depends "
            "linearly on the earlier channels' values given z; conv archs, "
            "discretized_logistic or gaussian",
        ),
        "beta": Key("nonneg_float", 1.0, "KL weight (1 = the ELBO)", None, "F"),
        "kl_warmup_steps": Key(
            "nonneg_int", 0, "ramp the KL weight from 0 to beta over N steps", None, "N"
        ),
        "kl_schedule": Key(
            "choice",
            "constant",
            "how the KL weight moves: constant (beta, after any --kl-warmup-steps), cyclical "
            "(Fu et al. 2019: --kl-cycle-steps, --kl-cycles) or capacity (Burgess et al. "
            "2018: beta * |KL - C|, C rising to --kl-capacity nats over --kl-capacity-steps)",
            ("constant", "cyclical", "capacity"),
        ),
        "kl_cycle_steps": Key(
            "pos_int", None, "steps per cycle of --kl-schedule cyclical", None, "N"
        ),
        "kl_cycles": Key(
            "pos_int", None, "cycles before beta holds (cyclical; default: cycle on)", None, "N"
        ),
        "kl_capacity": Key(
            "nonneg_float",
            None,
            "the capacity C reached, in nats (--kl-schedule capacity)",
            None,
            "F",
        ),
        "kl_capacity_steps": Key(
            "pos_int", None, "steps over which C rises from 0 (--kl-schedule capacity)", None, "N"
        ),
        "tc_weight": Key(
            "nonneg_float",
            None,
            "train a beta-TCVAE (Chen et al. 2018, vaecore.tcvae): the weight of the total "
            "correlation, --beta weighing the rest of the KL; its TC estimate counts the "
            "training images",
            None,
            "F",
        ),
        "free_bits": Key(
            "nonneg_float",
            0.0,
            "free bits (Kingma et al. 2016): nats per latent dimension below which the KL "
            "is not penalized",
            None,
            "F",
        ),
        "epochs": Key(
            "pos_int", 10, "total epochs (a re-run with more continues training)", None, "N"
        ),
        "batch_size": Key(
            "pos_int", 128, "the global batch size (split across replicas)", None, "N"
        ),
        "lr": Key("pos_float", 1e-3, "Adam learning rate", None, "F"),
        "seed": Key(
            "nonneg_int", 0, "seed for weights, shuffling, noise and sample codes", None, "N"
        ),
        "out": Key(
            "str", None, "the run folder (default: runs/<dataset>-<arch name>)", None, "DIR"
        ),
        "overwrite": Key("bool", False, "clear a run folder that holds a different config"),
        "strategy": Key("choice", "default", "tf.distribute strategy", STRATEGIES),
        "samples_every": Key("pos_int", 1, "save a sample grid every N epochs", None, "N"),
        "quiet": Key("bool", False, "no progress bar or per-epoch lines"),
        **{key: Key(*spec) for key, spec in VQ_TRAIN_KEYS.items()},  # vaecore.cli.vq
    }


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``vaecore: error: ...`` and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{PROG}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


_EPILOGS = {
    "train": """examples:
  vaecore train --dataset mnist --arch mnist_dense_z2 --epochs 30 --out runs/mnist
  vaecore train --dataset cifar10 --arch cifar10_conv --likelihood discretized_logistic --out runs/cifar
  vaecore train --dataset folder --path my_photos/ --image-size 64 --arch my_arch.json --out runs/mine
  vaecore train --config run.yaml --epochs 50          # flags override the file's keys
  vaecore train ... --beta 4 --kl-schedule cyclical --kl-cycle-steps 2000   # Fu et al. 2019
  vaecore train ... --beta 1000 --kl-schedule capacity --kl-capacity 25 --kl-capacity-steps 100000
  vaecore train ... --strategy mirrored --batch-size 512   # all local GPUs; 512 is the global batch

Run the same command again after a crash (or with a larger --epochs) and training
continues from the last finished epoch. Config files (YAML or JSON) use the flag
names with underscores: batch_size, kl_warmup_steps, ...""",
    "sample": """examples:
  vaecore sample --model runs/mnist --num 64 --out samples.png --zoom 2
  vaecore sample --model runs/cifar --temperature 0.7 --out cold.png
  vaecore sample --model runs/cifar --sampler gmm --gmm-components 10 --out gmm.png

--sampler gmm fits a Gaussian mixture to the posterior means of the run's training
images (Ghosh et al. 2020) and keeps it in the run folder (ex_post_gmm_k10_full.npz);
the next call reuses it, --refit-gmm fits it again.""",
    "reconstruct": """examples:
  vaecore reconstruct --model runs/mnist --num 16 --out recon.png   # inputs above reconstructions""",
    "interpolate": """examples:
  vaecore interpolate --model runs/mnist --steps 8 --pairs 4 --method slerp --with-inputs --out morph.png""",
    "evaluate": """examples:
  vaecore evaluate --model runs/mnist --k 100 --json eval.json
  vaecore evaluate --model runs/mnist --k 1000 --limit 1000 --split test""",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``vaecore`` parser with its five subcommands."""
    parser = _Parser(
        prog=PROG,
        description="Train and use variational autoencoders (the VAE book's vaecore).",
        epilog="Run 'vaecore <command> --help' for each command's options and examples.",
    )
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    helps = {
        "train": "train a VAE (resumable)",
        "sample": "decode random latent codes into an image grid",
        "reconstruct": "a grid of inputs above their reconstructions",
        "interpolate": "morph between pairs of images through the latent space",
        "evaluate": "test ELBO, importance-weighted NLL and bits/dim",
    }
    for name, text in helps.items():
        p = sub.add_parser(
            name,
            help=text,
            description=text,
            epilog=_EPILOGS[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        (_add_train_args if name == "train" else _add_use_args)(p, name)
        # SUPPRESS: a subcommand's default must not undo 'vaecore --debug train ...'
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return parser


_DEBUG_HELP = f"show the full traceback of an error instead of one line (or set {DEBUG_ENV}=1)"


def _add_train_args(p: argparse.ArgumentParser, _name: str) -> None:
    p.add_argument("--config", metavar="FILE", help="a YAML or JSON file of settings")
    for key, spec in _train_keys().items():
        flag = "--" + key.replace("_", "-")
        help_text = spec.help + (f" (default: {spec.default})" if spec.default is not None else "")
        if key == "binarize":
            p.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=spec.help
            )
        elif spec.kind == "bool":
            p.add_argument(flag, action="store_const", const=True, default=None, help=spec.help)
        else:
            p.add_argument(
                flag,
                dest=key,
                type=_flag_type(spec.kind, spec.choices),
                choices=spec.choices,
                default=None,
                metavar=spec.metavar,
                help=help_text,
            )


def _add_use_args(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument(
        "--model", required=True, metavar="RUN_DIR_OR_.keras", help="a run folder or a .keras file"
    )
    _add_data_args(p, "train" if name == "sample" else "test")
    pos, nonneg = _flag_type("pos_int"), _flag_type("nonneg_int")
    p.add_argument("--seed", type=nonneg, default=0, metavar="N", help="random seed (default: 0)")
    if name == "evaluate":
        p.add_argument(
            "--k", type=pos, default=100, metavar="N", help="importance samples (default: 100)"
        )
        p.add_argument(
            "--limit", type=pos, default=None, metavar="N", help="evaluate the first N images"
        )
        p.add_argument(
            "--batch-size",
            type=pos,
            default=100,
            metavar="N",
            help="images at a time (default: 100)",
        )
        p.add_argument("--json", metavar="FILE", help="also write the numbers to this JSON file")
        return
    p.add_argument("--out", required=True, metavar="PNG", help="the image file to write")
    p.add_argument("--zoom", type=pos, default=1, metavar="N", help="enlarge N times (default: 1)")
    # the old name of --zoom, kept so that earlier commands still work; hidden because
    # `vaecore train --scale` means the likelihood's pixel scale
    p.add_argument("--scale", dest="zoom", type=pos, help=argparse.SUPPRESS)
    if name in ("sample", "interpolate"):  # a conditional VAE's condition (vaecore.cli.conditional)
        p.add_argument("--condition", metavar="Y", help="conditional VAE: class label(s) (3, or 0,1,2 in turn), or 0/1 attribute values (1,0) or the names of those on (Smiling,Eyeglasses); default: classes in turn (sample) or each pair's first label (interpolate)")
    if name == "sample":
        p.add_argument("--num", type=pos, default=64, metavar="N", help="images (default: 64)")
        _add_sampler_args(p)
    elif name == "reconstruct":
        p.add_argument("--num", type=pos, default=16, metavar="N", help="images (default: 16)")
    else:
        p.add_argument(
            "--steps",
            type=_flag_type("pos_int"),
            default=8,
            metavar="N",
            help="images per row, endpoints included (default: 8)",
        )
        p.add_argument(
            "--pairs",
            type=pos,
            default=4,
            metavar="N",
            help="rows, one pair of images each (default: 4)",
        )
        p.add_argument(
            "--method",
            choices=("linear", "slerp"),
            default="linear",
            help="path through latent space (default: linear)",
        )
        p.add_argument("--with-inputs", action="store_true",
                       help="put the two images themselves at the ends of each row (steps + 2 images)")


def _add_sampler_args(p: argparse.ArgumentParser) -> None:
    """``sample``'s choice of codes: the prior at a temperature, or the ex-post mixture."""
    p.add_argument(
        "--temperature",
        type=_flag_type("nonneg_float"),
        default=1.0,
        metavar="T",
        help="draw z ~ N(0, T^2 I) (--sampler prior; default: 1)",
    )
    p.add_argument(
        "--sampler",
        choices=("prior", "gmm"),
        default="prior",
        help="prior: N(0, T^2 I); gmm: a Gaussian mixture fitted to the posterior means of "
        "the --split images (default: prior)",
    )
    p.add_argument(
        "--gmm-components",
        type=_flag_type("pos_int"),
        default=10,
        metavar="K",
        help="mixture components (default: 10)",
    )
    p.add_argument(
        "--gmm-covariance",
        choices=("full", "diag"),
        default="full",
        help="covariance of each component (default: full)",
    )
    p.add_argument(
        "--limit",
        type=_flag_type("pos_int"),
        default=None,
        metavar="N",
        help="fit the mixture on the first N images (default: all)",
    )
    p.add_argument(
        "--refit-gmm",
        action="store_true",
        help="fit the mixture again, replacing the one kept in the run folder",
    )


def _add_data_args(p: argparse.ArgumentParser, split: str = "test") -> None:
    """Dataset flags for the commands that read images; defaults come from the run's config."""
    g = p.add_argument_group("data (default: the dataset in the run's config.json)")
    g.add_argument("--dataset", metavar="NAME")
    g.add_argument("--data-dir", metavar="DIR")
    g.add_argument("--path", metavar="PATH")
    g.add_argument("--column", metavar="COL")
    g.add_argument("--image-size", type=_flag_type("pos_int"), metavar="N")
    g.add_argument("--channels", type=_flag_type("choice", (1, 3)), choices=(1, 3))
    g.add_argument("--binarize", action=argparse.BooleanOptionalAction, default=None)
    g.add_argument("--resize-mode", choices=RESIZE_MODES, help="(default: the run's)")
    g.add_argument(
        "--split", choices=("train", "test", "all"), default=split, help=f"(default: {split})"
    )


# ---------------------------------------------------------------------------
