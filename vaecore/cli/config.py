"""``vaecore train``'s config: defaults, then a YAML/JSON file, then flags; the arch; the data.

:func:`resolve_train_config` gives the final settings, :func:`config_differences`
compares them with a run folder's ``config.json`` (the data settings, which
:func:`vaecore.train`'s model fingerprint cannot see), and :func:`load_split`
reads a split of the configured dataset.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vaecore.cli.flags import (
    FILE_DATASETS,
    RECORD_KEYS,
    RUNTIME_KEYS,
    CliError,
    _checked,
    _one_line,
    _train_keys,
)


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
        if key == "arch" and isinstance(value, dict):
            settings[key] = value  # an arch dict in the file: resolve_arch checks it
            continue
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
    _check_scale(cfg)
    arch = resolve_arch(cfg["arch"], cfg["latent"])
    _check_coupling(cfg, arch)
    from vaecore.cli.conditional import check_condition

    check_condition(cfg, arch)
    _check_vq_settings(cfg, arch)
    cfg["latent"] = arch["latent"]
    cfg["image_size"], cfg["channels"] = _image_size_for(arch, cfg["image_size"], cfg["channels"])
    kl_schedule_spec(cfg)  # a schedule missing its settings is a one-line error now, not later
    if isinstance(cfg["arch"], str) and Path(cfg["arch"]).suffix.lower() == ".json":
        cfg["arch"] = str(Path(cfg["arch"]).resolve())
    for key in ("data_dir", "path"):
        if cfg[key] is not None:
            cfg[key] = str(Path(cfg[key]).expanduser().resolve())
    out = cfg["out"] or Path("runs") / f"{cfg['dataset']}-{arch['name']}"
    cfg["out"] = str(Path(out).expanduser().resolve())
    return cfg, arch


def kl_schedule_spec(cfg: dict[str, Any]) -> dict[str, Any] | None:
    """The :func:`vaecore.schedules.from_spec` dict of the settings' KL schedule, or None.

    ``constant`` is no schedule (``--kl-warmup-steps``, if any, is the model's own
    warm-up); ``cyclical`` needs ``--kl-cycle-steps``; ``capacity`` needs
    ``--kl-capacity`` and ``--kl-capacity-steps`` and uses ``--beta`` as gamma.
    """
    kind = cfg.get("kl_schedule") or "constant"
    needs = {
        "constant": [],
        "cyclical": ["kl_cycle_steps"],
        "capacity": ["kl_capacity", "kl_capacity_steps"],
    }[kind]
    missing = [k for k in needs if cfg.get(k) is None]
    if missing:
        flags = " and ".join("--" + k.replace("_", "-") for k in missing)
        raise CliError(f"--kl-schedule {kind} needs {flags}")
    if kind != "constant" and cfg.get("kl_warmup_steps"):
        raise CliError(
            f"--kl-warmup-steps is a schedule of its own; it cannot be combined with "
            f"--kl-schedule {kind}"
        )
    if kind == "cyclical":
        return {
            "kind": "cyclical",
            "cycle_steps": cfg["kl_cycle_steps"],
            "cycles": cfg["kl_cycles"],
        }
    if kind == "capacity":
        return {
            "kind": "capacity",
            "c_max": cfg["kl_capacity"],
            "steps": cfg["kl_capacity_steps"],
            "gamma": cfg["beta"],
        }
    return None


def _check_coupling(cfg: dict[str, Any], arch: dict[str, Any]) -> None:
    """``--channel-coupling`` against the likelihood and the arch, before anything is written."""
    if not cfg.get("channel_coupling"):
        return
    from vaecore.likelihoods import check_coupling

    try:
        check_coupling(True, cfg["likelihood"], arch)
    except ValueError as err:
        raise CliError(f"--channel-coupling: {err}") from None


def _validate_any_arch(arch_def: Any) -> dict[str, Any]:
    """A VQ-VAE's arch dict (one with a ``codebook``: :func:`vaecore.vq.validate_vq_arch`) or a VAE's."""
    from vaecore.arch import validate_arch_def

    if isinstance(arch_def, dict) and "codebook" in arch_def:
        from vaecore.vq import validate_vq_arch

        return validate_vq_arch(arch_def)
    return validate_arch_def(arch_def)


# A VQ-VAE has no KL term and no condition: these settings must stay at their defaults.
_VAE_ONLY = {"beta": 1.0, "kl_warmup_steps": 0, "kl_schedule": "constant", "free_bits": 0.0,
             "tc_weight": None, "condition_column": None}  # fmt: skip


def _check_vq_settings(cfg: dict[str, Any], arch: dict[str, Any]) -> None:
    """The VQ-VAE settings only with a VQ arch, and the VAE-only ones not with it."""
    vq_set = [k for k in ("commitment_weight", "ema_decay", "restart_after") if cfg.get(k) is not None]
    if "codebook" not in arch:
        if vq_set:
            flags = ", ".join("--" + k.replace("_", "-") for k in vq_set)
            raise CliError(f"{flags}: for a VQ-VAE (an arch dict with a 'codebook'); this arch has none")
        return
    vae_set = [k for k, default in _VAE_ONLY.items() if cfg.get(k, default) not in (default, None)]
    if vae_set:
        flags = ", ".join("--" + k.replace("_", "-") for k in vae_set)
        raise CliError(f"{flags}: a VQ-VAE (this arch has a 'codebook') has no KL term or condition")
    if cfg.get("ema_decay") is not None and not 0 < cfg["ema_decay"] < 1:
        raise CliError(f"--ema-decay must lie in (0, 1), e.g. 0.99; got {cfg['ema_decay']}")


def _check_scale(cfg: dict[str, Any]) -> None:
    """``--scale`` against ``--likelihood`` (vaecore.likelihoods' table), before anything is written."""
    from vaecore.likelihoods import SCALES, resolve_scale

    def applies(scale: str | None) -> bool:
        try:
            resolve_scale(cfg["likelihood"], scale)
        except ValueError:
            return False
        return True

    if not applies(cfg.get("scale")):
        allowed = [s for s in SCALES if applies(s)]
        takes = (
            f"takes --scale {' | '.join(allowed)}" if allowed else "has no scale: leave --scale out"
        )
        raise CliError(
            f"--scale {cfg['scale']} does not apply to --likelihood {cfg['likelihood']}, which {takes}"
        ) from None


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


def resolve_arch(arch: str | dict[str, Any], latent: int | None = None) -> dict[str, Any]:
    """A named architecture, a JSON file's arch dict or an arch dict, with ``latent`` applied, checked."""
    from vaecore.arch import ArchDefError, to_jsonable
    from vaecore.architectures import get_architecture, list_architectures
    validate_arch_def = _validate_any_arch  # a VAE's dict, or a VQ-VAE's (with a 'codebook')

    changes = {} if latent is None else {"latent": latent}
    if isinstance(arch, dict):  # a config file's arch: mapping
        try:
            return to_jsonable(validate_arch_def({**arch, **changes}))
        except ArchDefError as err:
            raise CliError(f"the config file's arch: {_one_line(str(err))}") from None
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


ADDED_KEY_DEFAULTS: dict[str, Any] = {
    "augment": False,
    "resize_mode": "stretch",
    "kl_schedule": "constant",
    "kl_cycle_steps": None,
    "kl_cycles": None,
    "kl_capacity": None,
    "kl_capacity_steps": None,
    "free_bits": 0.0,
    "scale": None,
    "channel_coupling": False,
    "subset": None,
    "tc_weight": None,
    "condition_column": None,
    "commitment_weight": None,  # the VQ-VAE's settings (vaecore.cli.vq)
    "ema_decay": None,
    "restart_after": None,
}


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """``"key: old -> new"`` for each setting that changes what is trained.

    Settings that say how or where a run goes (``epochs``, ``out``, ``strategy``,
    ...) and the recorded versions and device may change between re-runs. A key
    added after a run was recorded counts as its default then (``augment`` is
    newer than some runs), so older run folders still resume.
    """
    from vaecore.runs import differences

    old = {**ADDED_KEY_DEFAULTS, **old}
    new = {**ADDED_KEY_DEFAULTS, **new}
    return differences(old, new, ignore=RUNTIME_KEYS | RECORD_KEYS)


def _dataset_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """load_dataset keyword arguments from the settings' data keys."""
    options: dict[str, Any] = {
        "data_dir": cfg.get("data_dir"),
        "image_size": cfg.get("image_size"),
        "channels": cfg.get("channels"),
        "binarize": bool(cfg.get("binarize")),
        "resize_mode": cfg.get("resize_mode") or "stretch",
        # a discretized likelihood scores 8-bit levels: resized or augmented pixels onto the grid
        "quantize": cfg.get("likelihood") == "discretized_logistic",
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
