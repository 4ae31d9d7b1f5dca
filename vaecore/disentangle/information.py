"""Discrete mutual information between codes and factors, and MIG (Chen et al. 2018).

Codes are continuous, so they are discretized first, as disentanglement_lib does:
each code dimension is cut into ``num_bins`` (default 20) equal-width bins between its
own minimum and maximum. Factors are read as discrete labels (each distinct value one
class), which suits dSprites' factor classes; continuous factors can be binned the
same way with ``discretize_factors=True``. All in NumPy; entropies in nats.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUM_BINS = 20


def as_matrix(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 ``(n, d)`` array (a 1-D array is one column)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{name} must be (n, d), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return x


def check_pair(codes: Any, factors: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes ``(n, D)`` and factors ``(n, K)`` as float64 matrices with the same ``n``."""
    z, y = as_matrix(codes, "codes"), as_matrix(factors, "factors")
    if len(z) != len(y):
        raise ValueError(f"codes has {len(z)} rows but factors {len(y)}")
    if len(z) < 2:
        raise ValueError("need at least 2 examples")
    return z, y


def discretize(x: Any, num_bins: int = NUM_BINS) -> np.ndarray:
    """Each column cut into ``num_bins`` equal-width bins over its range: int labels ``(n, d)``.

    Invariant to shifting and rescaling a column (a negative scale reverses the bin
    order, which mutual information does not see). A constant column is one bin.
    """
    x = as_matrix(x, "x")
    out = np.zeros(x.shape, dtype=np.int64)
    for j in range(x.shape[1]):
        lo, hi = x[:, j].min(), x[:, j].max()
        if hi > lo:
            out[:, j] = np.minimum(
                ((x[:, j] - lo) / (hi - lo) * num_bins).astype(np.int64), num_bins - 1
            )
    return out


def labels(x: Any) -> np.ndarray:
    """Each column's distinct values as labels ``0..m-1`` (int ``(n, d)``)."""
    x = as_matrix(x, "x")
    return np.stack(
        [np.unique(x[:, j], return_inverse=True)[1].reshape(-1) for j in range(x.shape[1])], axis=1
    )


def entropy(labels_1d: Any) -> float:
    """Entropy (nats) of the empirical distribution of integer labels."""
    counts = np.bincount(np.asarray(labels_1d, dtype=np.int64))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def mutual_information_discrete(a: Any, b: Any) -> np.ndarray:
    """Mutual information (nats) between every column of ``a`` ``(n, D)`` and of ``b`` ``(n, K)``,
    both integer labels, from their contingency tables: ``(D, K)``."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    a, b = (a[:, None] if a.ndim == 1 else a), (b[:, None] if b.ndim == 1 else b)
    n = len(a)
    out = np.zeros((a.shape[1], b.shape[1]))
    for j in range(b.shape[1]):
        nb = int(b[:, j].max()) + 1
        pb = np.bincount(b[:, j], minlength=nb) / n
        for i in range(a.shape[1]):
            na = int(a[:, i].max()) + 1
            joint = np.bincount(a[:, i] * nb + b[:, j], minlength=na * nb).reshape(na, nb) / n
            pa = joint.sum(axis=1)
            nz = joint > 0
            out[i, j] = float((joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])).sum())
    return np.maximum(out, 0.0)


def mutual_information(
    codes: Any, factors: Any, *, num_bins: int = NUM_BINS, discretize_factors: bool = False
) -> np.ndarray:
    """``(D, K)`` mutual information (nats) of each binned code dimension with each factor.

    The chapter names the factor a latent dimension tracks by the row's largest entry.
    """
    z, y = check_pair(codes, factors)
    factor_labels = discretize(y, num_bins) if discretize_factors else labels(y)
    return mutual_information_discrete(discretize(z, num_bins), factor_labels)


def mig_per_factor(
    codes: Any, factors: Any, *, num_bins: int = NUM_BINS, discretize_factors: bool = False
) -> np.ndarray:
    """The mutual-information gap of each factor, ``(K,)``; NaN for a constant factor."""
    z, y = check_pair(codes, factors)
    if z.shape[1] < 2:
        raise ValueError("MIG needs at least 2 code dimensions (a best and a second best)")
    factor_labels = discretize(y, num_bins) if discretize_factors else labels(y)
    mi = mutual_information_discrete(discretize(z, num_bins), factor_labels)
    h = np.array([entropy(factor_labels[:, k]) for k in range(factor_labels.shape[1])])
    top = -np.sort(-mi, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = (top[0] - top[1]) / h
    gap[h == 0] = np.nan
    return gap


def mig(
    codes: Any, factors: Any, *, num_bins: int = NUM_BINS, discretize_factors: bool = False
) -> float:
    """Mutual Information Gap (Chen, Li, Grosse, Duvenaud, NeurIPS 2018, "Isolating Sources of
    Disentanglement in VAEs").

    For each factor ``v_k``, the gap between the largest and the second-largest mutual
    information of a single code dimension with it, divided by the factor's entropy:

        MIG = 1/K sum_k (I(z_j(k); v_k) - max_{j != j(k)} I(z_j; v_k)) / H(v_k),

    where ``j(k)`` is the dimension with the most information about ``v_k``. It is 1 when
    each factor is carried, completely, by one dimension and by no other, and 0 when
    the information is shared equally (or absent). Chen et al. estimate ``I`` from the
    encoder's distribution; this is the histogram estimate of disentanglement_lib
    (Locatello et al. 2019): codes (posterior means) binned into ``num_bins`` bins per
    dimension, factors as discrete labels. Binning limits it: a factor with more
    values than bins scores below 1 even when a dimension equals it.

    Invariant to permuting the code dimensions and to shifting or rescaling each
    (any nonzero factor, also negative). Constant factors are left out.

    Args:
        codes: ``(n, D)`` codes (e.g. posterior means), ``D >= 2``.
        factors: ``(n, K)`` ground-truth factors (dSprites: the factor classes).
        num_bins: bins per code dimension (20, as disentanglement_lib).
        discretize_factors: bin the factors too (for continuous factors).
    """
    gaps = mig_per_factor(codes, factors, num_bins=num_bins, discretize_factors=discretize_factors)
    if np.isnan(gaps).all():
        raise ValueError("every factor is constant over these examples")
    return float(np.nanmean(gaps))
