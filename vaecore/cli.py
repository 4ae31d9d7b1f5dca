"""The ``vaecore`` command line: train, sample, reconstruct, interpolate, evaluate.

::

    vaecore train --dataset mnist --arch mnist_dense_z2 --epochs 30 --out runs/mnist
    vaecore sample --model runs/mnist --num 64 --out samples.png
    vaecore evaluate --model runs/mnist --k 1000 --json nll.json

``train`` resolves one config (defaults, then ``--config`` file, then flags),
writes it to ``<out>/config.json`` and trains with :func:`vaecore.train`, so a
killed run continues when the same command is run again. Every user error
(bad flag, unknown dataset or architecture, a run folder holding another
config) is one line on stderr, ``vaecore: error: ...``, and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
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
EPOCH_LINE_KEYS = {
    "loss": "loss",
    "reconstruction_loss": "recon",
    "kl_loss": "kl",
    "val_loss": "val_loss",
}


class CliError(Exception):
    """A user error: printed as ``vaecore: error: <message>`` (one line), exit code 2."""


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
    from vaecore.distribute import STRATEGIES
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
            "a named architecture or a JSON file holding an arch dict",
            None,
            "NAME_OR_JSON_FILE",
        ),
        "latent": Key("pos_int", None, "latent size (overrides the arch's)", None, "N"),
        "likelihood": Key("choice", "bernoulli", "p(x|z)", LIKELIHOODS),
        "sigma": Key(
            "pos_float",
            0.1,
            "pixel std of the gaussian likelihood (initial scale of the discretized logistic)",
            None,
            "F",
        ),
        "beta": Key("nonneg_float", 1.0, "KL weight (1 = the ELBO)", None, "F"),
        "kl_warmup_steps": Key(
            "nonneg_int", 0, "ramp the KL weight from 0 to beta over N steps", None, "N"
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
  vaecore train ... --strategy mirrored --batch-size 512   # all local GPUs; 512 is the global batch

Run the same command again after a crash (or with a larger --epochs) and training
continues from the last finished epoch. Config files (YAML or JSON) use the flag
names with underscores: batch_size, kl_warmup_steps, ...""",
    "sample": """examples:
  vaecore sample --model runs/mnist --num 64 --out samples.png --scale 2""",
    "reconstruct": """examples:
  vaecore reconstruct --model runs/mnist --num 16 --out recon.png   # inputs above reconstructions""",
    "interpolate": """examples:
  vaecore interpolate --model runs/mnist --steps 8 --pairs 4 --method slerp --out morph.png""",
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
    return parser


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
    if name != "sample":
        _add_data_args(p)
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
    p.add_argument("--scale", type=pos, default=1, metavar="N", help="enlarge N times (default: 1)")
    if name == "sample":
        p.add_argument("--num", type=pos, default=64, metavar="N", help="images (default: 64)")
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


def _add_data_args(p: argparse.ArgumentParser) -> None:
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
        "--split", choices=("train", "test", "all"), default="test", help="(default: test)"
    )


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 user error, 1 training failure)."""
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
    }
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted; run the same command again to continue\n")
        return 130
    except Exception as err:  # noqa: BLE001 - user errors become one line, bugs keep their traceback
        message = _user_error_message(err)
        if message is None:
            raise
        sys.stderr.write(f"{PROG}: error: {message}\n")
        return 1 if _is_training_failure(err) else EXIT_USAGE


def _user_error_message(err: Exception) -> str | None:
    """The one-line message for an error the user can fix, or None for a bug."""
    from vaecore.arch import ArchDefError
    from vaecore.data import BadImageError, DatasetNotFoundError, MissingFilesError
    from vaecore.distribute import StrategyError

    user_errors = (
        CliError,
        ArchDefError,
        DatasetNotFoundError,
        MissingFilesError,
        BadImageError,
        StrategyError,
    )
    if isinstance(err, user_errors) or _is_training_failure(err):
        return _one_line(str(err))
    return None


def _is_training_failure(err: Exception) -> bool:
    from vaecore.training import TrainingDivergedError

    return isinstance(err, TrainingDivergedError)


def _one_line(text: str) -> str:
    return re.sub(r"[.:]?\s*\n\s*-?\s*", "; ", text.strip())


# ---------------------------------------------------------------------------
# train: resolve the config
# ---------------------------------------------------------------------------


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Settings from a YAML or JSON file, checked: unknown keys and bad values are named."""
    path = Path(path)
    if not path.is_file():
        raise CliError(f"config file {path} not found")
    text = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as err:  # noqa: BLE001 - any parse error is the file's fault
        raise CliError(f"config file {path} could not be read: {_one_line(str(err))}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CliError(f"config file {path} must hold key: value pairs, got {type(data).__name__}")
    keys = _train_keys()
    settings = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        if key not in keys:
            raise CliError(
                f"config file {path}: unknown key {raw_key!r}; known keys: {', '.join(keys)}"
            )
        if value is None:
            continue
        spec = keys[key]
        try:
            settings[key] = _checked(spec.kind, value, spec.choices)
        except ValueError as err:
            raise CliError(f"config file {path}: {key} {err}") from None
    return settings


def resolve_train_config(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The final settings (defaults < config file < flags) and the normalized arch dict."""
    keys = _train_keys()
    cfg = {key: spec.default for key, spec in keys.items()}
    if args.config:
        cfg.update(read_config_file(args.config))
    cfg.update({k: v for k, v in vars(args).items() if k in keys and v is not None})
    for key in ("dataset", "arch"):
        if cfg[key] is None:
            raise CliError(f"train needs --{key} (or '{key}:' in the config file)")
    _check_dataset(cfg)
    arch = resolve_arch(cfg["arch"], cfg["latent"])
    cfg["latent"] = arch["latent"]
    cfg["image_size"], cfg["channels"] = _image_size_for(arch, cfg["image_size"], cfg["channels"])
    if Path(cfg["arch"]).suffix.lower() == ".json":
        cfg["arch"] = str(Path(cfg["arch"]).resolve())
    for key in ("data_dir", "path"):
        if cfg[key] is not None:
            cfg[key] = str(Path(cfg[key]).expanduser().resolve())
    out = cfg["out"] or Path("runs") / f"{cfg['dataset']}-{arch['name']}"
    cfg["out"] = str(Path(out).expanduser().resolve())
    return cfg, arch


def _check_dataset(cfg: dict[str, Any]) -> None:
    from vaecore.data import list_datasets

    name = cfg["dataset"]
    known = [n for n in list_datasets() if n != "paths"]
    if name not in known:
        raise CliError(f"unknown dataset {name!r}; known datasets: {', '.join(known)}")
    if name in FILE_DATASETS and cfg["path"] is None:
        what = "image folder" if name == "folder" else "CSV file"
        raise CliError(f"--dataset {name} needs --path (the {what})")
    if name not in FILE_DATASETS and cfg["path"] is not None:
        raise CliError(f"--path is for --dataset folder or csv, not {name!r}")


def resolve_arch(arch: str, latent: int | None = None) -> dict[str, Any]:
    """A named architecture or a JSON file's arch dict, with ``latent`` applied, checked."""
    from vaecore.arch import ArchDefError, to_jsonable, validate_arch_def
    from vaecore.architectures import get_architecture, list_architectures

    changes = {} if latent is None else {"latent": latent}
    if arch in list_architectures():
        return to_jsonable(validate_arch_def(get_architecture(arch, **changes)))
    path = Path(arch)
    if not path.is_file():
        hint = " (no such file)" if path.suffix.lower() == ".json" else ""
        raise CliError(
            f"unknown architecture {arch!r}{hint}; known architectures: "
            f"{', '.join(list_architectures())}, or a JSON file holding an arch dict"
        )
    try:
        arch_def = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CliError(f"architecture file {path} is not valid JSON: {err}") from None
    if isinstance(arch_def, dict):
        arch_def = {**arch_def, **changes}
    try:
        return to_jsonable(validate_arch_def(arch_def))
    except ArchDefError as err:
        raise CliError(f"architecture file {path}: {_one_line(str(err))}") from None


def _image_size_for(
    arch: dict[str, Any], image_size: int | None, channels: int | None
) -> tuple[int | list[int], int]:
    """The data's image size and channels: the arch's input, checked against any given."""
    height, width, arch_channels = arch["input"]
    if image_size is not None and (image_size, image_size) != (height, width):
        raise CliError(
            f"--image-size {image_size} does not match the architecture {arch['name']!r}, whose "
            f"input is {height}x{width}x{arch_channels}; leave --image-size out to use it"
        )
    if channels is not None and channels != arch_channels:
        raise CliError(
            f"--channels {channels} does not match the architecture {arch['name']!r}, whose "
            f"input has {arch_channels} channel(s)"
        )
    return (height if height == width else [height, width]), arch_channels


ADDED_KEY_DEFAULTS: dict[str, Any] = {"augment": False, "resize_mode": "stretch"}


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``"key: old -> new"`` for each setting that changes what is trained."""
    ignored = RUNTIME_KEYS | RECORD_KEYS
    keys = [k for k in dict.fromkeys([*old, *new]) if k not in ignored]
    # a key added after a run was recorded means its default then ("augment" is newer than some runs)
    old = {**ADDED_KEY_DEFAULTS, **old}
    new = {**ADDED_KEY_DEFAULTS, **new}
    return [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


def _prepare_run_folder(cfg: dict[str, Any]) -> int | None:
    """Check ``out`` against the new config; clear it for --overwrite.

    Returns None to go on training, or an exit code (0: the run is already complete).
    """
    from vaecore.training import completed_epochs

    out = Path(cfg["out"])
    config_path = out / CONFIG_FILE
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file, not a folder")
    has_files = out.is_dir() and any(out.iterdir())
    if not has_files:
        return None
    if not config_path.is_file():
        raise CliError(
            f"--out {out} holds files but no {CONFIG_FILE}, so it is not a vaecore run folder; "
            "refusing to write into it (choose an empty or new folder)"
        )
    old = json.loads(config_path.read_text())
    diffs = config_differences(old, _comparable(cfg))
    if diffs and not cfg["overwrite"]:
        raise CliError(
            f"{out} holds a run with a different config ({'; '.join(diffs)}); nothing was "
            "changed. Use another --out, or --overwrite to delete that run and start over"
        )
    if diffs or cfg["overwrite"]:
        shutil.rmtree(out)
        _say(cfg, f"--overwrite: deleted the earlier run in {out}")
        return None
    done = completed_epochs(out)
    if done >= cfg["epochs"]:
        print(f"{out}: the run is complete ({done} of {cfg['epochs']} epochs); nothing to do")
        return 0
    if done:
        _say(cfg, f"{out}: resuming after epoch {done} of {cfg['epochs']}")
    return None


def _comparable(cfg: dict[str, Any]) -> dict[str, Any]:
    """The config as it is stored (JSON round trip), for comparison with a stored one."""
    return json.loads(json.dumps(cfg))


def _say(cfg: dict[str, Any], text: str) -> None:
    if not cfg.get("quiet"):
        print(text, flush=True)


# ---------------------------------------------------------------------------
# train: data, model, run
# ---------------------------------------------------------------------------


def _dataset_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """load_dataset keyword arguments from the settings' data keys."""
    options: dict[str, Any] = {
        "data_dir": cfg.get("data_dir"),
        "image_size": cfg.get("image_size"),
        "channels": cfg.get("channels"),
        "binarize": bool(cfg.get("binarize")),
        "resize_mode": cfg.get("resize_mode") or "stretch",
    }
    if cfg["dataset"] in FILE_DATASETS:
        options["path"] = cfg["path"]
    if cfg["dataset"] == "csv" and cfg.get("column"):
        options["column"] = cfg["column"]
    return options


def load_split(cfg: dict[str, Any], split: str, **kwargs: Any):
    """One split of the configured dataset as a tf.data pipeline (user errors as CliError)."""
    from vaecore.data import load_dataset

    try:
        return load_dataset(cfg["dataset"], split, **_dataset_options(cfg), **kwargs)
    except (TypeError, ValueError) as err:
        from vaecore.arch import ArchDefError
        from vaecore.data import BadImageError

        if isinstance(err, ArchDefError | BadImageError):
            raise
        raise CliError(f"dataset {cfg['dataset']!r}: {_one_line(str(err))}") from None


def _training_data(cfg: dict[str, Any]):
    """(train pipeline, test pipeline or None, steps per epoch)."""
    from vaecore.data import DatasetNotFoundError

    common = {"batch_size": cfg["batch_size"], "seed": cfg["seed"]}
    train_ds = load_split(
        cfg, "train", limit=cfg["limit"], shuffle=True, augment=bool(cfg.get("augment")), **common
    )
    try:
        test_ds = load_split(cfg, "test", limit=cfg["test_limit"], shuffle=False, **common)
    except DatasetNotFoundError as err:
        _say(cfg, f"no validation: the test split could not be read ({_one_line(str(err))})")
        test_ds = None
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


def cmd_train(args: argparse.Namespace) -> int:
    """``vaecore train``: resolve, check the run folder, then train resumably."""
    cfg, arch = resolve_train_config(args)
    stop = _prepare_run_folder(cfg)
    if stop is not None:
        return stop
    import keras

    from vaecore import build_vae, train
    from vaecore.arch import is_conv
    from vaecore.distribute import (
        compile_options,
        describe_devices,
        get_strategy,
        is_chief,
    )

    strategy = get_strategy(cfg["strategy"])
    keras.utils.set_random_seed(cfg["seed"])
    train_ds, test_ds, steps = _training_data(cfg)
    with strategy.scope():
        model = build_vae(
            arch,
            likelihood=cfg["likelihood"],
            beta=cfg["beta"],
            kl_warmup_steps=cfg["kl_warmup_steps"],
            sigma=cfg["sigma"],
            seed=cfg["seed"],
        )
        model.compile(
            optimizer=keras.optimizers.Adam(cfg["lr"]),
            **compile_options(strategy, is_conv(arch), steps),
        )
    record = {**cfg, "versions": versions(), "device": describe_devices(strategy)}
    record["replicas"] = strategy.num_replicas_in_sync
    out = Path(cfg["out"])
    chief = is_chief(strategy)
    if chief:
        _write_json(out / ARCH_FILE, arch)
        _write_json(out / CONFIG_FILE, record)
    _say(cfg, _start_line(cfg, arch, train_ds, test_ds, record["device"]))
    history = train(
        model,
        train_ds,
        epochs=cfg["epochs"],
        run_dir=out,
        validation_data=test_ds,
        callbacks=_train_callbacks(cfg, steps, chief),
        verbose=0,
    )
    _say(cfg, _end_line(out, history))
    return 0


def _train_callbacks(cfg: dict[str, Any], steps: int, chief: bool) -> list:
    callbacks: list = []
    if chief:
        out = Path(cfg["out"]) / SAMPLES_DIR
        callbacks.append(make_sample_snapshots(out, cfg["seed"], cfg["samples_every"], steps))
    if not cfg["quiet"]:
        callbacks.append(make_progress_bar(cfg["epochs"], steps))
    return callbacks


def make_sample_snapshots(out: Path, seed: int, every: int, steps_per_epoch: int):
    """:class:`~vaecore.callbacks.SampleSnapshots` that saves at an epoch's last batch.

    :func:`vaecore.train` runs its checkpoint callbacks before the caller's, so a
    frame saved in ``on_epoch_end`` comes after the epoch's ``history.csv`` row; a
    kill in between would lose that frame for good (the resumed run starts at the
    next epoch). The weights after the last batch are the epoch's final weights, so
    the frame is saved there instead, before anything marks the epoch finished.
    """
    from vaecore.callbacks import SampleSnapshots

    class FrameBeforeCheckpoint(SampleSnapshots):
        def on_epoch_begin(self, epoch, logs=None):
            self._epoch, self._saved = epoch, False

        def on_train_batch_end(self, batch, logs=None):
            # With steps_per_execution > 1, ``batch`` is the last step of a call.
            if batch + 1 >= steps_per_epoch and not self._saved:
                self._saved = True
                super().on_epoch_end(self._epoch, logs)

        def on_epoch_end(self, epoch, logs=None):
            if not self._saved:  # an epoch with fewer batches than expected
                super().on_epoch_end(epoch, logs)

    return FrameBeforeCheckpoint(out, num=64, seed=seed, every=every)


def _start_line(cfg, arch, train_ds, test_ds, device: str) -> str:
    test = f", test {test_ds.num_examples}" if test_ds is not None else ", no test split"
    return (
        f"vaecore train: {cfg['dataset']} (train {train_ds.num_examples} images{test}), "
        f"arch {arch['name']} (latent {arch['latent']}), {cfg['likelihood']} likelihood, "
        f"batch {cfg['batch_size']}, {device} -> {cfg['out']}"
    )


def _end_line(out: Path, history: dict[str, list[float]]) -> str:
    epochs = len(history.get("epoch", []))
    last = {k: v[-1] for k, v in history.items() if k in ("loss", "val_loss")}
    numbers = ", ".join(f"{k} {v:.3f}" for k, v in last.items())
    return f"done: {epochs} epochs ({numbers}); model in {out / 'model.keras'}"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def make_progress_bar(epochs: int, steps_per_epoch: int):
    """A Keras callback: one tqdm bar over all epochs * steps (with ETA) and a line per epoch."""
    import keras
    from tqdm.auto import tqdm

    class ProgressBar(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.bar = None
            self.seen = 0

        def on_epoch_begin(self, epoch, logs=None):
            if self.bar is None:  # created here: after a resume, epoch is the first new one
                total = epochs * steps_per_epoch
                self.bar = tqdm(
                    total=total, initial=epoch * steps_per_epoch, unit="batch", file=sys.stderr
                )
            self.seen = 0
            self.bar.set_description(f"epoch {epoch + 1}/{epochs}")

        def on_train_batch_end(self, batch, logs=None):
            # With steps_per_execution > 1 Keras calls this every few batches.
            done = min(batch + 1, steps_per_epoch)
            self.bar.update(max(done - self.seen, 0))
            self.seen = done
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.3f}", refresh=False)

        def on_epoch_end(self, epoch, logs=None):
            self.bar.update(max(steps_per_epoch - self.seen, 0))
            shown = [k for k in EPOCH_LINE_KEYS if k in (logs or {})]
            numbers = ", ".join(f"{EPOCH_LINE_KEYS[k]} {float(logs[k]):.3f}" for k in shown)
            seconds = (logs or {}).get("epoch_seconds")
            took = f" ({seconds:.1f} s)" if seconds is not None else ""
            self.bar.write(f"epoch {epoch + 1}/{epochs}: {numbers}{took}", file=sys.stderr)

        def on_train_end(self, logs=None):
            if self.bar is not None:
                self.bar.close()

    return ProgressBar()


# ---------------------------------------------------------------------------
# Using a trained model
# ---------------------------------------------------------------------------


def load_run(model_arg: str):
    """The model from a run folder or a ``.keras`` file, and the run's config ({} if none)."""
    import keras

    import vaecore.models  # noqa: F401 - registers VAE for load_model

    path = Path(model_arg)
    file = path / "model.keras" if path.is_dir() else path
    if not file.is_file():
        raise CliError(
            f"no model at {model_arg} (expected a run folder holding model.keras, or a .keras file)"
        )
    config_path = file.parent / CONFIG_FILE
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    try:
        model = keras.models.load_model(file, compile=False)
    except Exception as err:  # noqa: BLE001 - a corrupt or foreign file is a user error
        raise CliError(f"could not load the model {file}: {_one_line(str(err))}") from None
    return model, config


def _use_data_config(args: argparse.Namespace, run_cfg: dict[str, Any], model) -> dict[str, Any]:
    """Dataset settings for sample/reconstruct/...: flags, else the run's config, else the model's."""
    keys = ("dataset", "data_dir", "path", "column", "binarize", "resize_mode")
    cfg = {k: run_cfg.get(k) for k in keys}
    for key in keys:
        if getattr(args, key, None) is not None:
            cfg[key] = getattr(args, key)
    if cfg["dataset"] is None:
        raise CliError(
            f"--dataset is needed: {args.model} has no {CONFIG_FILE} saying which data it was trained on"
        )
    for key in ("data_dir", "path"):
        if getattr(args, key, None) is not None:
            cfg[key] = str(Path(getattr(args, key)).expanduser().resolve())
    _check_dataset(cfg)
    arch = {"name": model.name, "input": list(model.arch_def["input"])}
    cfg["image_size"], cfg["channels"] = _image_size_for(arch, args.image_size, args.channels)
    return cfg


def _images(args: argparse.Namespace, model, run_cfg: dict[str, Any], n: int | None):
    """The first ``n`` images (all with None) of ``--split``, as a float32 array."""
    import numpy as np

    cfg = _use_data_config(args, run_cfg, model)
    ds = load_split(cfg, args.split, limit=n, shuffle=False, batch_size=256, seed=args.seed)
    arrays = [np.asarray(batch[0] if isinstance(batch, tuple) else batch) for batch in ds]
    return np.concatenate(arrays, axis=0), cfg


def _save_grid(images, path: str, nrows: int | None, scale: int, ncols: int | None = None) -> None:
    from vaecore.callbacks import save_image
    from vaecore.plots import montage

    save_image(montage(images, nrows=nrows, ncols=ncols, pad=1), path, scale)
    print(f"wrote {path}")


def cmd_sample(args: argparse.Namespace) -> int:
    """``vaecore sample``: decode ``--num`` codes drawn from N(0, I) with ``--seed``."""
    import numpy as np

    model, _ = load_run(args.model)
    images = np.asarray(model.sample(args.num, seed=args.seed))
    _save_grid(images, args.out, None, args.scale)
    return 0


def cmd_reconstruct(args: argparse.Namespace) -> int:
    """``vaecore reconstruct``: a row of inputs above the row of their reconstructions."""
    import numpy as np

    model, run_cfg = load_run(args.model)
    x, _ = _images(args, model, run_cfg, args.num)
    recon = np.asarray(model.reconstruct(x))
    _save_grid(np.concatenate([x, recon]), args.out, 2, args.scale, ncols=len(x))
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    """``vaecore interpolate``: one row per pair of images, ``--steps`` images each."""
    import numpy as np

    from vaecore.toolbox import interpolate

    if args.steps < 2:
        raise CliError(f"--steps must be at least 2 (the two endpoints), got {args.steps}")
    model, run_cfg = load_run(args.model)
    x, _ = _images(args, model, run_cfg, 2 * args.pairs)
    pairs = len(x) // 2
    if pairs < 1:
        raise CliError(f"the {args.split} split has fewer than 2 images")
    rows = [
        interpolate(model, x[2 * i], x[2 * i + 1], args.steps, args.method) for i in range(pairs)
    ]
    _save_grid(np.concatenate(rows), args.out, pairs, args.scale, ncols=args.steps)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``vaecore evaluate``: mean test ELBO, importance-weighted NLL and its bits/dim."""
    model, run_cfg = load_run(args.model)
    x, cfg = _images(args, model, run_cfg, args.limit)
    results = evaluate_model(model, x, k=args.k, batch_size=args.batch_size, seed=args.seed)
    exact = model.likelihood == "discretized_logistic" or (
        model.likelihood == "bernoulli" and bool(cfg.get("binarize"))
    )
    results = {
        "model": str(args.model),
        "dataset": cfg["dataset"],
        "split": args.split,
        "binarized": bool(cfg.get("binarize")),
        "likelihood": model.likelihood,
        **results,
        "bits_per_dim_is_exact": exact,
    }
    print(_results_table(results))
    if not exact:
        print(
            "note: bits/dim is a true code length only for the discretized_logistic likelihood, "
            "or bernoulli on binarized data; for this model it is not comparable with published figures"
        )
    if args.json:
        _write_json(Path(args.json), results)
        print(f"wrote {args.json}")
    return 0


def evaluate_model(model, x, k: int, batch_size: int = 100, seed: int = 0) -> dict[str, Any]:
    """Mean ELBO (one sample per image), IWAE NLL with ``k`` samples, and bits/dim, in nats."""
    import keras
    import numpy as np
    from keras import ops

    from vaecore import losses

    keras.utils.set_random_seed(seed)
    elbos = []
    for start in range(0, len(x), batch_size):
        xb = ops.convert_to_tensor(x[start : start + batch_size], "float32")
        z_mean, z_log_var = model.encode(xb)
        z = model.reparameterize(z_mean, z_log_var)
        nll = model.reconstruction_nll(xb, model.decode_logits(z))
        elbos.append(np.asarray(-(nll + losses.gaussian_kl(z_mean, z_log_var))))
    log_px = model.importance_weighted_log_likelihood(
        x, num_samples=k, chunk_size=min(k, 100), batch_size=batch_size, seed=seed
    )
    nll = float(-np.mean(np.asarray(log_px)))
    dims = int(np.prod(x.shape[1:]))
    return {
        "num_images": int(len(x)),
        "elbo_nats": float(np.mean(np.concatenate(elbos))),
        "k": int(k),
        "nll_nats": nll,
        "bits_per_dim": float(losses.bits_per_dim(nll, dims)),
        "dims": dims,
    }


def _results_table(r: dict[str, Any]) -> str:
    rows = [
        ("images", f"{r['num_images']} ({r['dataset']} {r['split']}, binarized: {r['binarized']})"),
        ("likelihood", r["likelihood"]),
        ("ELBO (1 sample)", f"{r['elbo_nats']:.3f} nats"),
        (f"NLL (IWAE, k={r['k']})", f"{r['nll_nats']:.3f} nats"),
        ("NLL bits/dim", f"{r['bits_per_dim']:.4f} ({r['dims']} dims)"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
