"""How well single latent dimensions predict binary attributes (NumPy and SciPy).

(``vaecore.disentangle.attributes``; every name is also importable from
``vaecore.disentangle``.)

A simple, label-based look at disentanglement: for each binary attribute (e.g.
CelebA's "Smiling"), score every latent dimension on its own by the AUROC of
its code value as a predictor of the attribute, and keep the best and the
second-best dimension. If one dimension carries the attribute and the others
do not, the best score is high and the gap to the second is large.

The AUROC of one dimension is direction-free here: a dimension whose value
*falls* with the attribute is as informative as one that rises, so each score
is ``max(auc, 1 - auc)``, between 0.5 (no information) and 1 (a perfect split).

Example::

    scores = attribute_scores(z_test, attributes_test, names)
    summary = summarize(scores)   # mean best AUROC, mean gap, ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

__all__ = ["attribute_scores", "auroc", "auroc_matrix", "summarize"]


def auroc_matrix(codes: Any, labels: Any) -> np.ndarray:
    """AUROC of every code dimension for every binary label, as ``(num_labels, latent)``.

    Entry ``[k, d]`` is the probability that a random example *with* label ``k``
    has a larger ``codes[:, d]`` than a random example without it (ties count a
    half): the Mann-Whitney U statistic divided by ``n_pos * n_neg``. It is 0.5
    for an uninformative dimension, 1 when the dimension separates the two groups
    perfectly and 0 when it separates them in the opposite direction.

    Args:
        codes: ``(n, latent)`` latent codes (e.g. posterior means of test images).
        labels: ``(n, num_labels)`` or ``(n,)`` binary labels (0/1 or bool).

    Returns:
        ``(num_labels, latent)`` float64 array; a label that is constant over
        the ``n`` examples gets NaN (no AUROC without both groups).
    """
    z = np.asarray(codes, dtype=np.float64)
    y = np.asarray(labels)
    if z.ndim != 2:
        raise ValueError(f"codes must be (n, latent), got shape {z.shape}")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != z.shape[0]:
        raise ValueError(
            f"labels must be (n,) or (n, num_labels) with n = {z.shape[0]}, got {y.shape}"
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be binary (0/1 or bool)")
    y = y.astype(bool)
    ranks = rankdata(z, axis=0)  # (n, latent), ties get their average rank
    n_pos = y.sum(axis=0).astype(np.float64)  # (num_labels,)
    n_neg = y.shape[0] - n_pos
    rank_sum = y.T.astype(np.float64) @ ranks  # (num_labels, latent)
    u = rank_sum - (n_pos * (n_pos + 1) / 2.0)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = u / (n_pos * n_neg)[:, None]
    out[(n_pos == 0) | (n_neg == 0)] = np.nan
    return out


def auroc(scores: Any, labels: Any) -> float:
    """AUROC of one score vector for one binary label (see :func:`auroc_matrix`)."""
    return float(auroc_matrix(np.asarray(scores, dtype=np.float64).reshape(-1, 1), labels)[0, 0])


def attribute_scores(
    codes: Any, labels: Any, names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """For each attribute: the best and second-best single dimension and their AUROCs.

    Args:
        codes: ``(n, latent)`` latent codes.
        labels: ``(n, num_labels)`` binary attributes.
        names: the attribute names (default ``"attr_0"``, ...).

    Returns:
        One dict per attribute (in label order) with ``attribute``, ``positives``
        (fraction of examples with it), ``best_dim``, ``best_auroc``,
        ``second_dim``, ``second_auroc``, ``gap`` (best minus second) and
        ``direction`` (+1 if the best dimension rises with the attribute, -1 if
        it falls). AUROCs are direction-free, ``max(auc, 1 - auc)``. Attributes
        that are constant over the examples are left out.
    """
    raw = auroc_matrix(codes, labels)
    if raw.shape[1] < 2:
        raise ValueError("need at least 2 latent dimensions for a best and a second-best")
    y = np.asarray(labels)
    y = y[:, None] if y.ndim == 1 else y
    if names is None:
        names = [f"attr_{k}" for k in range(raw.shape[0])]
    if len(names) != raw.shape[0]:
        raise ValueError(f"{len(names)} names for {raw.shape[0]} attributes")
    folded = np.maximum(raw, 1.0 - raw)
    rows = []
    for k, name in enumerate(names):
        if np.isnan(raw[k]).all():
            continue
        order = np.argsort(-folded[k], kind="stable")
        best, second = int(order[0]), int(order[1])
        rows.append(
            {
                "attribute": str(name),
                "positives": float(np.mean(y[:, k])),
                "best_dim": best,
                "best_auroc": float(folded[k, best]),
                "second_dim": second,
                "second_auroc": float(folded[k, second]),
                "gap": float(folded[k, best] - folded[k, second]),
                "direction": 1 if raw[k, best] >= 0.5 else -1,
            }
        )
    return rows


def summarize(scores: Sequence[dict[str, Any]]) -> dict[str, float]:
    """One model's summary of :func:`attribute_scores`: means over the attributes.

    Returns:
        ``mean_best_auroc``, ``mean_second_auroc``, ``mean_gap``, ``median_gap``,
        ``distinct_best_dims`` (how many different dimensions are the best for
        some attribute) and ``num_attributes``.
    """
    if not scores:
        raise ValueError("no attribute scores to summarize")
    best = np.array([s["best_auroc"] for s in scores])
    second = np.array([s["second_auroc"] for s in scores])
    gap = best - second
    return {
        "mean_best_auroc": float(best.mean()),
        "mean_second_auroc": float(second.mean()),
        "mean_gap": float(gap.mean()),
        "median_gap": float(np.median(gap)),
        "distinct_best_dims": float(len({s["best_dim"] for s in scores})),
        "num_attributes": float(len(scores)),
    }
