"""SAP (Kumar et al. 2018) and DCI (Eastwood & Williams 2018): scores from predicting factors.

Both fit predictors of each factor from the codes and read disentanglement off how
the predictive power is spread over the code dimensions. In NumPy, with no
scikit-learn: SAP's per-dimension scores are a squared correlation (continuous
factors) or a binned one-dimensional classifier (categorical ones); DCI's importance
matrix comes from a lasso fitted by coordinate descent, the regressor Eastwood &
Williams themselves used (beside a random forest; disentanglement_lib uses
gradient-boosted trees, so its numbers differ somewhat from these).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vaecore.disentangle.information import NUM_BINS, check_pair, discretize, labels


def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random train/test split of ``range(n)``."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(test_fraction * n)))
    if n_test >= n:
        raise ValueError(f"{n} examples are too few to split")
    return order[n_test:], order[:n_test]


def _squared_correlation(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(D, K)`` squared Pearson correlations (R^2 of a 1-D linear fit); 0 where constant."""
    zc, yc = z - z.mean(axis=0), y - y.mean(axis=0)
    zs, ys = np.sqrt((zc**2).sum(axis=0)), np.sqrt((yc**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (zc.T @ yc) / np.outer(zs, ys)
    return np.nan_to_num(r, nan=0.0) ** 2


def _binned_accuracy(
    z: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, num_bins: int
) -> np.ndarray:
    """``(D,)`` test accuracy of a 1-D classifier per code dimension: the code binned into
    ``num_bins`` equal-width bins, each bin predicting its most frequent training class."""
    classes = labels(y)[:, 0]
    bins = discretize(z, num_bins)
    m = int(classes.max()) + 1
    out = np.zeros(z.shape[1])
    for d in range(z.shape[1]):
        votes = np.zeros((num_bins, m))
        np.add.at(votes, (bins[train, d], classes[train]), 1)
        fallback = np.argmax(votes.sum(axis=0))  # bins never seen in training
        predict = np.where(votes.sum(axis=1) > 0, np.argmax(votes, axis=1), fallback)
        out[d] = float(np.mean(predict[bins[test, d]] == classes[test]))
    return out


def sap_matrix(
    codes: Any,
    factors: Any,
    *,
    discrete: bool | Sequence[bool] = False,
    num_bins: int = NUM_BINS,
    test_fraction: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """SAP's score matrix ``(D, K)``: how well each code dimension alone predicts each factor.

    Continuous (ordinal) factors: the R^2 of a linear regression of the factor on the
    dimension (its squared correlation). Categorical factors (``discrete``): the test
    accuracy of a one-dimensional classifier (here: ``num_bins`` bins, each voting
    for its most frequent class; Kumar et al. threshold the dimension, disentanglement_lib
    uses a linear SVM), trained and scored on a seeded ``test_fraction`` split.
    """
    z, y = check_pair(codes, factors)
    flags = [discrete] * y.shape[1] if isinstance(discrete, bool) else list(discrete)
    if len(flags) != y.shape[1]:
        raise ValueError(f"discrete has {len(flags)} entries for {y.shape[1]} factors")
    scores = _squared_correlation(z, y)
    if any(flags):
        train, test = _split(len(z), test_fraction, seed)
        for k, flag in enumerate(flags):
            if flag:
                scores[:, k] = _binned_accuracy(z, y[:, k : k + 1], train, test, num_bins)
    return scores


def sap(
    codes: Any,
    factors: Any,
    *,
    discrete: bool | Sequence[bool] = False,
    num_bins: int = NUM_BINS,
    test_fraction: float = 0.5,
    seed: int = 0,
) -> float:
    """Separated Attribute Predictability (Kumar, Sattigeri, Balakrishnan, ICLR 2018,
    "Variational Inference of Disentangled Latent Concepts from Unlabeled Observations").

    Score every (code dimension, factor) pair by how well the dimension *alone* predicts
    the factor (:func:`sap_matrix`: R^2 for continuous factors, a 1-D classifier's
    accuracy for categorical ones); for each factor take the difference between the
    best and the second-best dimension; SAP is the mean of these gaps over the
    factors. High when each factor is predicted by one dimension and not by any other;
    0 for a factor two dimensions predict equally well, or none. Constant factors
    (no variance) are left out.

    Invariant to permuting the code dimensions and to an affine rescaling of each.

    Args:
        codes: ``(n, D)`` codes, ``D >= 2``.
        factors: ``(n, K)`` factors (values or classes).
        discrete: which factors are categorical (one bool for all, or one per factor);
            dSprites' ``shape`` is, the others are ordinal.
    """
    z, y = check_pair(codes, factors)
    if z.shape[1] < 2:
        raise ValueError("SAP needs at least 2 code dimensions")
    scores = sap_matrix(
        z, y, discrete=discrete, num_bins=num_bins, test_fraction=test_fraction, seed=seed
    )
    varying = y.std(axis=0) > 0
    if not varying.any():
        raise ValueError("every factor is constant over these examples")
    top = -np.sort(-scores[:, varying], axis=0)
    return float(np.mean(top[0] - top[1]))


def lasso(
    x: np.ndarray, y: np.ndarray, alpha: float, *, max_iter: int = 1000, tol: float = 1e-7
) -> np.ndarray:
    """Lasso weights ``(D, K)`` for each column of ``y`` ``(n, K)`` on ``x`` ``(n, D)``.

    Minimizes ``1/(2n) |y_k - x w_k|^2 + alpha |w_k|_1`` per column by cyclic coordinate
    descent on the Gram matrix (no intercept: centre ``x`` and ``y`` first).
    """
    n = len(x)
    gram = x.T @ x / n
    corr = x.T @ y / n
    w = np.zeros((x.shape[1], y.shape[1]))
    diag = np.diag(gram)
    for _ in range(max_iter):
        biggest = 0.0
        for j in range(x.shape[1]):
            if diag[j] <= 0:
                continue
            rho = corr[j] - gram[j] @ w + diag[j] * w[j]
            new = np.sign(rho) * np.maximum(np.abs(rho) - alpha, 0.0) / diag[j]
            biggest = max(biggest, float(np.abs(new - w[j]).max()))
            w[j] = new
        if biggest < tol:
            break
    return w


def _standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in (train, *others)]


def _one_minus_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """``1 - H(p) / log(base)`` per row of non-negative weights ``p`` (rows summing to 0 give 0)."""
    total = p.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(total > 0, p / total, 0.0)
        h = -np.where(q > 0, q * np.log(q), 0.0).sum(axis=1) / np.log(base)
    return np.where(total[:, 0] > 0, 1.0 - h, 0.0)


def dci(
    codes: Any,
    factors: Any,
    *,
    alpha: float = 0.05,
    test_fraction: float = 0.25,
    seed: int = 0,
) -> dict[str, Any]:
    """Disentanglement, completeness and informativeness (Eastwood & Williams, ICLR 2018,
    "A Framework for the Quantitative Evaluation of Disentangled Representations").

    Fit one regressor per factor from all the codes and read off the importance
    ``R[i, k]`` of code dimension ``i`` for factor ``k`` (here: the absolute lasso weight,
    codes and factors standardized on the training part, as in the paper's lasso
    variant). Then

    * **disentanglement** ``D = sum_i rho_i (1 - H_K(P_i.))``: ``P_ik = R_ik / sum_k R_ik``
      is dimension ``i``'s distribution of importance over the K factors, ``H_K`` its
      entropy in base K, and ``rho_i = sum_k R_ik / sum R`` weighs dimensions by their
      total importance (unused dimensions do not count). 1 when each dimension
      serves one factor.
    * **completeness** ``C = sum_k rho_k (1 - H_D(P~_.k))``: the same for each factor's
      distribution of importance over the D dimensions, weighted by factor importance
      (as disentanglement_lib does). 1 when each factor is captured by one dimension.
    * **informativeness**: the mean, over the factors, of the lasso's R^2 on the held-out
      ``test_fraction`` (the paper reports the prediction error; 1 - normalized MSE is
      the same number turned into a score, higher is better).

    The lasso's ``alpha`` (on standardized data) zeroes weights below the noise level
    of the sample: with codes that carry no information no weight survives and D = C = 0,
    where tiny random weights would otherwise look "disentangled". Invariant to
    permuting and rescaling the code dimensions.

    Returns:
        ``disentanglement``, ``completeness``, ``informativeness`` (floats),
        ``informativeness_per_factor`` ``(K,)`` and ``importance`` ``(D, K)``.
    """
    z, y = check_pair(codes, factors)
    train, test = _split(len(z), test_fraction, seed)
    z_train, z_test = _standardize(z[train], z[test])
    y_train, y_test = _standardize(y[train], y[test])
    weights = lasso(z_train, y_train, alpha)
    importance = np.abs(weights)
    varying = y[train].std(axis=0) > 0
    importance[:, ~varying] = 0.0
    total = importance.sum()
    d_per_code = _one_minus_entropy(importance, max(int(varying.sum()), 2))
    c_per_factor = _one_minus_entropy(importance.T, max(z.shape[1], 2))
    if total > 0:
        disentanglement = float((importance.sum(axis=1) / total) @ d_per_code)
        completeness = float((importance.sum(axis=0) / total) @ c_per_factor)
    else:
        disentanglement = completeness = 0.0
    residual = ((y_test - z_test @ weights) ** 2).mean(axis=0)
    spread = y_test.var(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.clip(1.0 - residual / spread, 0.0, 1.0)
    r2 = np.where(varying & (spread > 0), r2, np.nan)
    return {
        "disentanglement": disentanglement,
        "completeness": completeness,
        "informativeness": float(np.nanmean(r2)),
        "informativeness_per_factor": r2,
        "importance": importance,
    }
