"""Attribute scores that are chosen on one set of examples and measured on another (NumPy, SciPy).

(``vaecore.disentangle.heldout``; every name is also importable from ``vaecore.disentangle``.)

:func:`~vaecore.disentangle.attributes.attribute_scores` picks the best latent dimension
for an attribute and reports its AUROC on the *same* examples. With hundreds of
dimensions that maximum is inflated: the best of 256 uninformative dimensions scores
well above 0.5 on 1,000 faces. The functions here separate the choice from the
measurement, as a held-out evaluation should:

* :func:`heldout_attribute_scores`: the **SAP-style single-dimension score** (after the
  separated attribute predictability of Kumar et al. 2018). On the *training* codes, rank
  the dimensions of every attribute by their AUROC and keep the best and the second best,
  with their directions. On the *test* codes, score those two dimensions, signed by the
  direction found on the training codes. Since nothing is chosen on the test codes, an
  uninformative dimension scores 0.5 in expectation, for every attribute: ``best_auroc -
  0.5`` is the score above chance, and ``best_auroc - second_auroc`` is the SAP gap (one
  dimension carries the attribute alone when it is large).
* :func:`linear_probe`: the full code's linear read-out of each attribute (logistic
  regression fitted on the training codes): the *informativeness* of Eastwood & Williams'
  DCI framework (2018), for binary attributes, when scored by its test AUROC.
* :func:`bootstrap_auroc`: AUROCs over bootstrap resamples of the test examples, for
  confidence intervals of any of these scores.

Example::

    rows = heldout_attribute_scores(z_train, a_train, z_test, a_test, names)
    kept = [names.index(r["attribute"]) for r in rows]
    boot = bootstrap_auroc(selected_scores(z_test, rows), a_test[:, kept])  # (1000, K)
    probe = linear_probe(z_train, a_train, z_test)  # (n_test, K) logits
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize

from vaecore.disentangle.attributes import auroc_matrix

__all__ = ["bootstrap_auroc", "heldout_attribute_scores", "linear_probe", "selected_scores"]


def _codes_and_labels(codes: Any, labels: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(codes, dtype=np.float64)
    y = np.asarray(labels)
    y = y[:, None] if y.ndim == 1 else y
    if z.ndim != 2 or y.ndim != 2 or len(z) != len(y):
        raise ValueError(
            f"{what}: codes must be (n, latent) and labels (n, num_labels) with the same n, "
            f"got {z.shape} and {y.shape}"
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{what}: labels must be binary (0/1 or bool)")
    return z, y.astype(np.int64)


def heldout_attribute_scores(
    train_codes: Any,
    train_labels: Any,
    test_codes: Any,
    test_labels: Any,
    names: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Best and second-best single dimension per attribute, chosen on train, scored on test.

    Args:
        train_codes, train_labels: ``(n, latent)`` codes and ``(n, K)`` binary attributes on
            which the dimensions are ranked (by the direction-free AUROC ``max(a, 1 - a)``).
        test_codes, test_labels: ``(m, latent)`` and ``(m, K)`` on which they are scored.
        names: the ``K`` attribute names (default ``"attr_0"``, ...).

    Returns:
        One dict per attribute that varies in both sets: ``attribute``, ``positives`` (its
        share of the test examples), ``best_dim``, ``second_dim``, ``best_sign`` and
        ``second_sign`` (+1 when the dimension rises with the attribute on the training
        codes), ``train_best_auroc`` (the inflated in-sample maximum, for comparison),
        ``best_auroc`` and ``second_auroc`` (test AUROCs of the signed dimensions: 0.5 is
        chance, below 0.5 means the direction did not hold), ``score`` (``best_auroc -
        0.5``) and ``gap`` (``best_auroc - second_auroc``).
    """
    z_train, y_train = _codes_and_labels(train_codes, train_labels, "train")
    z_test, y_test = _codes_and_labels(test_codes, test_labels, "test")
    if z_train.shape[1] != z_test.shape[1] or y_train.shape[1] != y_test.shape[1]:
        raise ValueError(
            f"train and test disagree: codes {z_train.shape[1]} vs {z_test.shape[1]} dimensions, "
            f"labels {y_train.shape[1]} vs {y_test.shape[1]} attributes"
        )
    if z_train.shape[1] < 2:
        raise ValueError("need at least 2 latent dimensions for a best and a second best")
    num_attributes = y_train.shape[1]
    names = [f"attr_{k}" for k in range(num_attributes)] if names is None else list(names)
    if len(names) != num_attributes:
        raise ValueError(f"{len(names)} names for {num_attributes} attributes")
    train_auc = auroc_matrix(z_train, y_train)  # (K, latent)
    test_auc = auroc_matrix(z_test, y_test)
    rows = []
    for k, name in enumerate(names):
        if np.isnan(train_auc[k]).all() or np.isnan(test_auc[k]).all():
            continue  # the attribute is constant on one of the two sets
        folded = np.maximum(train_auc[k], 1.0 - train_auc[k])
        best, second = (int(d) for d in np.argsort(-folded, kind="stable")[:2])
        signs = [1 if train_auc[k, d] >= 0.5 else -1 for d in (best, second)]
        scored = [a if s > 0 else 1.0 - a for a, s in zip(test_auc[k, [best, second]], signs, strict=True)]
        rows.append(
            {
                "attribute": str(name),
                "positives": float(y_test[:, k].mean()),
                "best_dim": best,
                "second_dim": second,
                "best_sign": signs[0],
                "second_sign": signs[1],
                "train_best_auroc": float(folded[best]),
                "best_auroc": float(scored[0]),
                "second_auroc": float(scored[1]),
                "score": float(scored[0] - 0.5),
                "gap": float(scored[0] - scored[1]),
            }
        )
    return rows


def selected_scores(codes: Any, rows: Sequence[dict[str, Any]], which: str = "best") -> np.ndarray:
    """The signed code values behind :func:`heldout_attribute_scores`: ``(n, len(rows))``.

    Column ``k`` is ``sign * codes[:, dim]`` for row ``k``'s ``which`` ("best" or "second")
    dimension, ready for :func:`bootstrap_auroc` with the rows' attributes as labels.
    """
    if which not in ("best", "second"):
        raise ValueError(f"which must be 'best' or 'second', got {which!r}")
    z = np.asarray(codes, dtype=np.float64)
    dims = [r[f"{which}_dim"] for r in rows]
    signs = np.array([r[f"{which}_sign"] for r in rows], dtype=np.float64)
    return z[:, dims] * signs


def linear_probe(train_codes: Any, train_labels: Any, test_codes: Any, l2: float = 1e-2) -> np.ndarray:
    """Logistic regression from the whole code to each attribute; test scores ``(m, K)``.

    One binary logistic regression per attribute on the standardized training codes (mean
    cross-entropy plus ``l2 / 2 |w|^2``), applied to the test codes with the training mean
    and spread. The ``K`` regressions share nothing, so they are fitted together as one sum
    of losses by SciPy's L-BFGS (its minimum is each regression's own minimum), which is
    much faster than ``K`` separate fits. The returned logits rank the test examples: their
    AUROC is the attribute's linear informativeness (DCI's informativeness, Eastwood &
    Williams 2018, with a linear read-out and the AUROC as its accuracy). An attribute that
    is constant on the training codes gets all-zero scores.
    """
    z_train, y_train = _codes_and_labels(train_codes, train_labels, "train")
    z_test = np.asarray(test_codes, dtype=np.float64)
    if z_test.ndim != 2 or z_test.shape[1] != z_train.shape[1]:
        raise ValueError(f"test codes must be (m, {z_train.shape[1]}), got {z_test.shape}")
    mean, std = z_train.mean(axis=0), z_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    xb = np.hstack([(z_train - mean) / std, np.ones((len(z_train), 1))])  # last column: the bias
    test_b = np.hstack([(z_test - mean) / std, np.ones((len(z_test), 1))])
    varies = y_train.min(axis=0) != y_train.max(axis=0)
    y = y_train[:, varies].astype(np.float64)
    n, shape = len(xb), (xb.shape[1], y.shape[1])

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(shape)
        logits = xb @ w
        # mean over examples of the cross-entropy, summed over attributes: log(1 + e^l) - y l
        value = (np.logaddexp(0.0, logits) - y * logits).sum() / n + 0.5 * l2 * (w[:-1] ** 2).sum()
        grad = xb.T @ (0.5 * (1.0 + np.tanh(0.5 * logits)) - y) / n  # sigmoid, overflow-free
        grad[:-1] += l2 * w[:-1]
        return float(value), grad.ravel()

    result = minimize(loss, np.zeros(shape).ravel(), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    out = np.zeros((len(z_test), y_train.shape[1]))
    out[:, varies] = test_b @ result.x.reshape(shape)
    return out


def bootstrap_auroc(scores: Any, labels: Any, num_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """AUROC of score column ``k`` for label ``k``, over bootstrap resamples of the examples.

    Args:
        scores: ``(n, K)`` one score column per attribute (e.g. :func:`selected_scores`,
            :func:`linear_probe`, or codes projected on attribute vectors).
        labels: ``(n, K)`` the matching binary attributes.
        num_resamples: how many resamples of the ``n`` examples, with replacement.
        seed: the resampling seed.

    Returns:
        ``(num_resamples, K)``: percentiles over axis 0 give confidence intervals, and
        ``.mean(axis=1)`` the resampled mean over attributes.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    s = s[:, None] if s.ndim == 1 else s
    y = y[:, None] if y.ndim == 1 else y
    if s.shape != y.shape:
        raise ValueError(f"scores {s.shape} and labels {y.shape} must have the same shape (n, K)")
    if num_resamples < 1:
        raise ValueError(f"num_resamples must be >= 1, got {num_resamples}")
    rng = np.random.default_rng(seed)
    out = np.empty((num_resamples, s.shape[1]))
    k = np.arange(s.shape[1])
    for r in range(num_resamples):
        idx = rng.integers(0, len(s), len(s))
        out[r] = auroc_matrix(s[idx], y[idx])[k, k]
    return out
