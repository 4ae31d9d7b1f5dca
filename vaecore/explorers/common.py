"""What every latent explorer (kernel or page) checks and picks the same way, kept once.

* :func:`pick_dims`: which latent dimensions get a slider by default;
* :func:`check_dims`, :func:`reference_codes`, :func:`base_code`: the arguments every
  explorer takes, validated with the same messages;
* :func:`condition_choice`: a conditional VAE's condition (:mod:`vaecore.conditional`) as
  the explorers' selector shows it: its kind, names, label and the values it starts at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaecore._shared import to_numpy

__all__ = ["base_code", "check_dims", "condition_choice", "pick_dims", "reference_codes"]


def pick_dims(latent: int, z_ref: np.ndarray | None, max_sliders: int) -> tuple[int, ...]:
    """All dimensions when few; else the ``max_sliders`` most used ones.

    "Most used" means the largest variance of ``z_ref`` across the data set: in a
    VAE, dimensions the model ignores collapse to the prior and their code means
    barely vary ("inactive units"), so their sliders would do nothing visible.
    Without ``z_ref``, the first ``max_sliders``.
    """
    if latent <= max_sliders:
        return tuple(range(latent))
    if z_ref is None:
        return tuple(range(max_sliders))
    order = np.argsort(-np.asarray(z_ref).var(axis=0), kind="stable")[:max_sliders]
    return tuple(int(d) for d in order)


def check_dims(dims: Sequence[int], latent: int, what: str = "dims") -> tuple[int, ...]:
    """``dims`` as ints: at least one, no repeats, each in ``0 .. latent - 1``."""
    dims = tuple(int(d) for d in dims)
    if not dims or len(set(dims)) != len(dims) or any(not 0 <= d < latent for d in dims):
        raise ValueError(
            f"{what} must be distinct latent indices from 0 to {latent - 1} "
            f"(latent_dim={latent}), got {dims}"
        )
    return dims


def reference_codes(z_ref: Any, latent: int) -> np.ndarray | None:
    """``z_ref`` as a float32 ``(n, latent)`` array (``None`` stays ``None``)."""
    if z_ref is None:
        return None
    codes = to_numpy(z_ref, np.float32)
    if codes.ndim != 2 or codes.shape[1] != latent:
        raise ValueError(f"z_ref must be (n, {latent}) codes of this model, got shape {codes.shape}")
    return codes


def base_code(base: Any, latent: int) -> np.ndarray:
    """The code the dimensions without a slider are held at: zeros, or ``base`` (length ``latent``)."""
    if base is None:
        return np.zeros(latent, np.float32)
    code = to_numpy(base, np.float32).reshape(-1)
    if code.shape != (latent,):
        raise ValueError(f"base must have length {latent}, got {code.size}")
    return code


def condition_choice(
    model: Any,
    condition: Any = None,
    names: Sequence[str] | None = None,
    label: str | None = None,
    default_class: int | None = None,
) -> dict[str, Any] | None:
    """A conditional VAE's condition as the explorers' selector shows it, or None for a plain VAE.

    Returns ``{"kind": "classes" | "binary", "size": K, "names": [K names], "label": ...,
    "start": [K values]}``. ``names``: the class or attribute names (default the arch
    dict's, else ``"0" .. "K-1"`` for classes and ``"attribute 1" ..`` for attributes);
    ``label``: what the selector is called (default ``"class"`` / ``"attributes"``);
    ``condition``: where it starts, for classes an index, a class name or a one-hot row
    (default ``default_class``, else class 0), for binary attributes K values in [0, 1],
    the names that are on, or ``{name: on}`` (default all off).

    Raises:
        ValueError: a condition, names or label given for a model without a condition;
            names that are not K distinct non-empty strings; a start the model cannot take.
    """
    if not getattr(model, "conditional", False):
        given = [k for k, v in (("condition", condition), ("condition_names", names), ("condition_label", label)) if v is not None]
        if given:
            raise ValueError(
                f"{', '.join(given)}: this model has no condition; the selector is for a conditional VAE "
                "(vaecore.conditional.build_cvae, an arch dict with a 'condition')"
            )
        return None
    kind, size = str(model.condition_kind), int(model.condition_size)
    what = "classes" if kind == "classes" else "binary attributes"
    if names is None:
        names = getattr(model, "condition_names", None)
    if names is None:
        names = [str(k) for k in range(size)] if kind == "classes" else [f"attribute {j + 1}" for j in range(size)]
    elif isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"condition_names must be a list of {size} names (the model's {size} {what}), got {names!r}")
    names = list(names)
    if len(names) != size:
        raise ValueError(
            f"condition_names has {len(names)} names but the model's condition has {size} {what}: give one name each"
        )
    if not all(isinstance(n, str) and n.strip() for n in names) or len({n.strip() for n in names}) != size:
        raise ValueError(f"condition_names must be {size} distinct non-empty strings, got {names!r}")
    names = [n.strip() for n in names]
    if label is None:
        label = "class" if kind == "classes" else "attributes"
    elif not isinstance(label, str) or not label.strip():
        raise ValueError(f"condition_label must be a non-empty string, got {label!r}")
    start = _start_condition(kind, size, names, condition, default_class)
    return {"kind": kind, "size": size, "names": names, "label": label.strip(), "start": start}


def _start_condition(kind: str, size: int, names: list[str], condition: Any, default_class: int | None) -> list[float]:
    if kind == "classes":
        if condition is None:
            condition = default_class if default_class is not None and 0 <= default_class < size else 0
        if isinstance(condition, str):
            if condition not in names:
                raise ValueError(f"condition={condition!r} is not one of the classes {names}")
            condition = names.index(condition)
        values = np.asarray(condition, np.float64)
        if values.ndim == 0:
            if values != np.round(values) or not 0 <= values < size:
                raise ValueError(f"condition={condition!r}: a class is an index 0..{size - 1} or one of {names}")
            row = np.zeros(size)
            row[int(values)] = 1.0
            return row.tolist()
        row = values.reshape(-1)
        if row.shape != (size,) or not np.isin(row, (0, 1)).all() or row.sum() != 1:
            raise ValueError(
                f"condition: a one-hot row of the model's {size} classes, an index or a class name, got {condition!r}"
            )
        return row.tolist()
    if condition is None:
        return [0.0] * size
    if isinstance(condition, Mapping) or (
        isinstance(condition, Sequence) and not isinstance(condition, str) and all(isinstance(c, str) for c in condition)
        and len(condition) > 0
    ):
        on = dict(condition) if isinstance(condition, Mapping) else dict.fromkeys(condition, True)
        unknown = [n for n in on if n not in names]
        if unknown:
            raise ValueError(f"condition names unknown attributes {unknown}; the attributes: {names}")
        return [1.0 if on.get(n) else 0.0 for n in names]
    row = np.asarray(condition, np.float64).reshape(-1)
    if row.shape != (size,) or not ((row >= 0) & (row <= 1)).all():
        raise ValueError(
            f"condition: {size} values in [0, 1] (one per attribute {names}), the names that are on, "
            f"or {{name: on}}; got {condition!r}"
        )
    return row.tolist()
