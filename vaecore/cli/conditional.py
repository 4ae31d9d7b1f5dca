"""The command line's conditional VAE: which labels are the condition, and ``--condition``.

``vaecore train`` trains a :class:`vaecore.conditional.ConditionalVAE` when the arch
has a ``"condition"``, on the dataset's labels (``load_dataset(..., labels=True)``):

* ``"condition": K`` (classes): the class indices (MNIST's digits, a folder's
  sub-folders), or one named label column with ``--condition-column NAME``;
* ``"condition": {"binary": K}``: K 0/1 columns, picked by name with
  ``--condition-column Smiling,Eyeglasses`` (CelebA's attributes) or named in the
  arch itself (``{"binary": ["Smiling", "Eyeglasses"]}``); the names go into the
  saved arch, so ``sample --condition Smiling`` and the web export know them.

``sample --condition`` and ``interpolate --condition`` read one condition
(:func:`parse_condition`); ``reconstruct`` and ``evaluate`` use each image's own
labels, so ``evaluate`` scores log p(x | y).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaecore.cli.flags import CliError


def _names(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def check_condition(cfg: dict[str, Any], arch: dict[str, Any]) -> None:
    """``--condition-column`` against the arch's condition, before anything is written.

    For binary attributes the column names become the arch's ``names`` (and the
    names of the arch become the columns when the flag is left out).
    """
    from vaecore.arch import condition_spec

    spec = condition_spec(arch)
    names = _names(cfg.get("condition_column"))
    if spec is None:
        if names:
            raise CliError(
                "--condition-column is for a conditional VAE: the arch has no 'condition' "
                "(add e.g. \"condition\": 10 or {\"binary\": 2} to the arch dict)"
            )
        return
    if cfg.get("tc_weight") is not None:
        raise CliError("--tc-weight trains a beta-TCVAE, which has no condition; this arch has one")
    if "classes" in spec:
        if names is not None and len(names) != 1:
            raise CliError(
                f"--condition-column: a class condition reads one label column, got {names}"
            )
        return
    size, arch_names = spec["binary"], spec.get("names")
    if names is None:
        names = list(arch_names) if arch_names else None
    elif arch_names and list(arch_names) != names:
        raise CliError(
            f"--condition-column {','.join(names)} differs from the arch's condition names "
            f"{list(arch_names)}; leave one of them out"
        )
    if names is None:
        return
    if len(names) != size:
        raise CliError(
            f"--condition-column names {len(names)} attribute(s) ({','.join(names)}) but the "
            f"arch's condition has {size} binary attributes"
        )
    arch["condition"] = {"binary": size, "names": names}
    cfg["condition_column"] = ",".join(names)


def labelled(ds, cfg: dict[str, Any], spec: dict[str, Any]):
    """A ``labels=True`` split as ``(images, condition labels)``: the columns the condition takes."""
    import tensorflow as tf

    names = _names(cfg.get("condition_column"))
    table = getattr(ds, "attribute_names", None) or getattr(ds, "factor_names", None)
    label_spec = ds.element_spec[1]
    width = label_spec.shape[-1] if label_spec.shape.rank == 2 else None
    size = spec.get("classes", spec.get("binary"))
    what = cfg["dataset"]
    if names is not None:
        if not table:
            raise CliError(
                f"--condition-column: the labels of {what!r} are class indices, not named "
                "columns; leave --condition-column out"
            )
        unknown = [n for n in names if n not in table]
        if unknown:
            raise CliError(
                f"--condition-column: {what!r} has no label column(s) {unknown}; it has: "
                f"{', '.join(table)}"
            )
        index = [list(table).index(n) for n in names]
        pick = index[0] if "classes" in spec else index
        out = ds.map(lambda x, y: (x, tf.gather(y, pick, axis=-1)))
    elif "classes" in spec:
        if width is not None:
            raise CliError(
                f"the labels of {what!r} are {width} columns; a class condition takes one: "
                "pick it with --condition-column NAME"
            )
        classes = getattr(ds, "class_names", None)
        if classes and len(classes) > size:
            raise CliError(
                f"{what!r} has {len(classes)} classes but the arch's condition has {size}; set "
                f"\"condition\": {len(classes)} in the arch"
            )
        out = ds
    else:
        if width != size:
            raise CliError(
                f"the arch's condition has {size} binary attributes but the labels of {what!r} "
                f"have {width or 'no'} columns; pick {size} with --condition-column A,B,..."
            )
        out = ds
    for attr in ("class_names", "attribute_names", "factor_names", "factors", "num_examples"):
        setattr(out, attr, getattr(ds, attr, None))
    return out


def parse_condition(text: str | None, model: Any, n: int):
    """``--condition`` as labels or rows for ``n`` images (None: the model's default).

    Classes: ``3`` (all the same) or ``0,1,2`` (in turn), or class names where the
    arch has them. Binary: K values ``1,0,...``, or the names of the attributes that
    are on (the others off), ``none`` for all off.
    """
    if not getattr(model, "conditional", False):
        if text is not None:
            raise CliError("--condition is for a conditional VAE; this model has no condition")
        return None
    if text is None:
        return None
    items = _names(text) or []
    known = list(model.condition_names or [])
    k = model.condition_size
    if model.condition_kind == "classes":
        labels = []
        for item in items:
            if item in known:
                labels.append(known.index(item))
            elif item.lstrip("-").isdigit() and 0 <= int(item) < k:
                labels.append(int(item))
            else:
                names = f" or one of {known}" if known else ""
                raise CliError(f"--condition {item!r}: a class label is 0..{k - 1}{names}")
        if not labels:
            raise CliError("--condition: give a class label")
        return np.resize(np.asarray(labels), n)
    if text.strip().lower() == "none":
        return np.zeros((k,), np.float32)
    try:
        values = np.asarray([float(v) for v in items], np.float32)
    except ValueError:
        unknown = [v for v in items if v not in known]
        if unknown:
            names = f"; the attributes are {known}" if known else ""
            raise CliError(
                f"--condition: {unknown} are not attributes of this model{names} (or give "
                f"{k} values 0/1)"
            ) from None
        return np.asarray([float(name in items) for name in known], np.float32)
    if len(values) != k or not np.all((values >= 0) & (values <= 1)):
        raise CliError(
            f"--condition {text}: this model takes {k} attribute values in [0, 1] (e.g. "
            f"{','.join(['1'] + ['0'] * (k - 1))}), or the names of those that are on"
        )
    return values
