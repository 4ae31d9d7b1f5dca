"""Small helpers that several vaecore modules need, kept here once (NumPy only).

* :func:`to_numpy`: a tensor of any Keras backend (TensorFlow, JAX, torch on the
  CPU) or an array-like as a NumPy array;
* :func:`class_name` / :func:`class_names_list`: readable names of class labels,
  for legends (plots, plotly scatters) and the in-page map;
* :func:`checked_weight`: a loss weight (beta, free bits, capacity) as a finite float >= 0.

The explorers' own shared checks are in :mod:`vaecore.explorers.common`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

ClassNames = Sequence[str] | Mapping | None


def to_numpy(x: Any, dtype: Any = None) -> np.ndarray:
    """A tensor (TensorFlow, JAX, torch) or array-like as a NumPy array, optionally cast."""
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()  # tf.Tensor / tf.Variable (eager) and torch tensors
    return np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)


def class_name(value: Any, class_names: ClassNames) -> str:
    """Readable name of class ``value``: looked up in a mapping or by index, else ``str``."""
    if class_names is None:
        return str(value)
    if isinstance(class_names, Mapping):
        return str(class_names.get(value, value))
    try:
        return str(class_names[int(value)])
    except (ValueError, TypeError, IndexError):
        return str(value)


def class_names_list(labels: np.ndarray, class_names: ClassNames) -> list[str]:
    """The names of integer classes ``0 .. labels.max()``, one per class index."""
    top = int(labels.max()) + 1 if labels.size else 0
    return [class_name(i, class_names) for i in range(top)]


def checked_weight(name: str, value: Any) -> float:
    """``value`` as a float, or a ValueError naming ``name`` unless it is a finite number >= 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}") from None
    if not (number >= 0 and np.isfinite(number)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number
