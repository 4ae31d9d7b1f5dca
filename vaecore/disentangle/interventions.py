"""Scores that intervene on the generative process: the beta-VAE score (Higgins et al. 2017)
and the FactorVAE score (Kim & Mnih 2018).

Both sample factor configurations, hold one factor fixed across a batch, encode the
batch and ask whether the codes reveal *which* factor was held fixed. They need the
generative process, given as

* ``represent``: a function from factor classes ``(n, K)`` to codes ``(n, D)``; or
* a model (anything with ``encode(images)`` returning ``(mean, log_var)`` or the
  codes, or a plain function of images) together with ``images``, a function from
  factor classes ``(n, K)`` to model inputs (for dSprites:
  :func:`vaecore.data.dsprites.model_inputs`), the codes being the posterior means;

and ``factor_sizes``, the number of classes of each factor (dSprites:
``(3, 6, 40, 32, 32)``); or

* already encoded examples: ``codes`` ``(n, D)`` as the first argument with their
  ``factors=`` ``(n, K)``. "Factor k fixed" then draws among the rows that share a value
  of factor k, so encode a sample that holds many rows per value (e.g. 50,000 random
  dSprites images): the cheap way on a CPU, one encoding for all five metrics.

Factors with a single class are never chosen. Codes can be constructed from the
factors directly, so the scores are testable without a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize

Represent = Callable[[np.ndarray], np.ndarray]


def representation(
    model: Any, images: Callable[[np.ndarray], Any] | None = None, *, batch_size: int = 1024
) -> Represent:
    """A function factor classes ``(n, K)`` -> codes ``(n, D)`` (float64 NumPy).

    Without ``images``, ``model`` is taken to be that function already. With it,
    ``images(classes)`` makes the inputs and the model encodes them in batches of
    ``batch_size``: ``model.encode(x)`` (its first output, the posterior mean, when it
    returns several) or ``model(x)`` for a plain function.
    """
    if images is None:
        return lambda classes: np.asarray(model(classes), dtype=np.float64)

    def encode(x: Any) -> np.ndarray:
        out = model.encode(x) if hasattr(model, "encode") else model(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        try:
            return np.asarray(out, dtype=np.float64)
        except (TypeError, RuntimeError):  # e.g. a torch tensor that carries gradients
            import keras

            return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)

    def represent(classes: np.ndarray) -> np.ndarray:
        parts = [
            encode(images(classes[i : i + batch_size])) for i in range(0, len(classes), batch_size)
        ]
        return np.concatenate(parts).reshape(len(classes), -1)

    return represent


class _Process:
    """Where the scores' codes come from: a generative process, or a table of encoded examples.

    * process: ``represent`` (factor classes -> codes) and ``sizes``; configurations are
      drawn uniformly from the grid, one factor held fixed where asked.
    * table: ``codes`` ``(n, D)`` with their ``factors`` ``(n, K)``; examples are drawn
      from the table, and "factor k fixed at v" draws among the rows whose factor k is v
      (the value itself drawn as the table's rows have it).
    """

    def __init__(self, model, factor_sizes, images, factors, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        if factors is not None:
            if images is not None:
                raise ValueError("pass either images= (with a model) or factors= (with codes)")
            self.codes = np.asarray(model, dtype=np.float64)
            self.factors = np.asarray(factors)
            if (
                self.codes.ndim != 2
                or self.factors.ndim != 2
                or len(self.codes) != len(self.factors)
            ):
                raise ValueError("codes must be (n, D) and factors (n, K) with the same n")
            self.sizes = np.array([len(np.unique(col)) for col in self.factors.T], dtype=np.int64)
            self.order = [np.argsort(col, kind="stable") for col in self.factors.T]
            self.sorted = [col[o] for col, o in zip(self.factors.T, self.order, strict=True)]
        else:
            if factor_sizes is None:
                raise ValueError("factor_sizes is needed unless codes come with factors=")
            self.codes = None
            self.represent = representation(model, images)
            self.sizes = np.asarray(factor_sizes, dtype=np.int64).reshape(-1)
            if (self.sizes < 1).any():
                raise ValueError(f"factor_sizes must be positive, got {tuple(self.sizes)}")
        self.varying = np.flatnonzero(self.sizes > 1)
        if len(self.varying) < 2:
            raise ValueError("need at least 2 factors with more than one value")

    def _grid(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.stack([self.rng.integers(0, s, shape) for s in self.sizes], axis=-1)

    def _encode(self, classes: np.ndarray) -> np.ndarray:
        flat = self.represent(classes.reshape(-1, len(self.sizes)))
        return flat.reshape(*classes.shape[:-1], -1)

    def _same(self, k: np.ndarray, rows: np.ndarray, batch: int) -> np.ndarray:
        """Row indices ``(len(k), batch)``: rows whose factor ``k[i]`` equals that of ``rows[i]``."""
        out = np.empty((len(k), batch), dtype=np.int64)
        for f in np.unique(k):
            sel = np.flatnonzero(k == f)
            value = self.factors[rows[sel], f]
            lo = np.searchsorted(self.sorted[f], value, side="left")
            hi = np.searchsorted(self.sorted[f], value, side="right")
            pick = lo[:, None] + (self.rng.random((len(sel), batch)) * (hi - lo)[:, None]).astype(
                np.int64
            )
            out[sel] = self.order[f][pick]
        return out

    def random(self, n: int) -> np.ndarray:
        """Codes of ``n`` random examples."""
        if self.codes is not None:
            return self.codes[self.rng.integers(0, len(self.codes), n)]
        return self._encode(self._grid((n,)))

    def fixed(self, k: np.ndarray, batch: int) -> np.ndarray:
        """Codes ``(len(k), batch, D)``: batch ``i`` shares one random value of factor ``k[i]``."""
        if self.codes is not None:
            seeds = self.rng.integers(0, len(self.codes), len(k))
            return self.codes[self._same(k, seeds, batch)]
        classes = self._grid((len(k), batch))
        values = np.array([self.rng.integers(0, self.sizes[f]) for f in k])
        classes[np.arange(len(k)), :, k] = values[:, None]
        return self._encode(classes)

    def pairs(self, k: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
        """Codes of ``batch`` pairs per entry of ``k``, the two of a pair sharing factor ``k[i]``."""
        if self.codes is not None:
            first = self.rng.integers(0, len(self.codes), (len(k), batch))
            second = np.stack([self._same(k, first[:, j], 1)[:, 0] for j in range(batch)], axis=1)
            return self.codes[first], self.codes[second]
        first, second = self._grid((len(k), batch)), self._grid((len(k), batch))
        second[np.arange(len(k)), :, k] = first[np.arange(len(k)), :, k]
        both = self._encode(np.concatenate([first, second], axis=1))
        return both[:, :batch], both[:, batch:]


def _chunks(total: int, batch_size: int, images_per_chunk: int = 8192) -> list[int]:
    per = max(1, images_per_chunk // batch_size)
    return [min(per, total - start) for start in range(0, total, per)]


def factor_vae_score(
    model: Any,
    factor_sizes: Sequence[int] | None = None,
    images: Callable[[np.ndarray], Any] | None = None,
    *,
    factors: Any = None,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    num_variance_estimate: int = 10000,
    active_threshold: float = 0.0,
    seed: int = 0,
) -> dict[str, Any]:
    """The FactorVAE disentanglement score (Kim & Mnih, ICML 2018, "Disentangling by Factorising").

    1. Scale each code dimension by its standard deviation over ``num_variance_estimate``
       random images; dimensions whose variance is not above ``active_threshold`` (collapsed
       to the prior) are pruned.
    2. One *vote*: choose a factor ``k`` at random, draw ``batch_size`` configurations that
       share one random value of ``k``, encode them, and take the (scaled) dimension with
       the *smallest* variance over the batch: the vote is ``(that dimension, k)``.
    3. The classifier is a majority vote: each dimension predicts the factor it was most
       often the argmin for, on ``num_train`` votes. The score is its accuracy on
       ``num_eval`` fresh votes (the paper reports this; ``train_accuracy`` beside it).

    1 when each factor has a dimension that is constant exactly when the factor is;
    ``1/K`` (chance) for codes that ignore the factors. Invariant to permuting and
    rescaling the code dimensions (step 1 divides the scale out). Not to rotations, but
    not strongly either: a rotated code keeps the score as long as each factor still has
    its own least-variable dimension (a 45-degree turn of two factors, which ties them,
    costs those two factors half their votes). Cost: ``batch_size *
    (num_train + num_eval) + num_variance_estimate`` encoded images (970,000 at the
    defaults, which are disentanglement_lib's; a CPU run would use fewer).

    Args:
        model: a model or function with ``images``, a function of factor classes, or
            codes ``(n, D)`` with ``factors=`` (see the module docstring).
        factor_sizes: classes per factor (not with ``factors=``).

    Returns:
        ``eval_accuracy``, ``train_accuracy``, ``num_active_dims`` and ``votes``
        (``(D, K)`` training vote counts).
    """
    process = _Process(model, factor_sizes, images, factors, seed)
    z = process.random(num_variance_estimate)
    variances = z.var(axis=0, ddof=1)
    active = variances > active_threshold
    width = len(process.sizes)
    if not active.any():
        return {
            "eval_accuracy": 0.0,
            "train_accuracy": 0.0,
            "num_active_dims": 0,
            "votes": np.zeros((z.shape[1], width), np.int64),
        }
    scale = np.sqrt(np.where(active, variances, 1.0))

    def votes(count: int) -> np.ndarray:
        table = np.zeros((z.shape[1], width), dtype=np.int64)
        for chunk in _chunks(count, batch_size):
            k = process.rng.choice(process.varying, chunk)
            spread = (process.fixed(k, batch_size) / scale).var(axis=1, ddof=1)
            spread[:, ~active] = np.inf
            np.add.at(table, (np.argmin(spread, axis=1), k), 1)
        return table

    train, test = votes(num_train), votes(num_eval)
    classifier = np.argmax(train, axis=1)
    return {
        "eval_accuracy": float(test[np.arange(len(test)), classifier].sum() / num_eval),
        "train_accuracy": float(train.max(axis=1).sum() / num_train),
        "num_active_dims": int(active.sum()),
        "votes": train,
    }


def _softmax_regression(x: np.ndarray, y: np.ndarray, classes: int, l2: float) -> np.ndarray:
    """Multinomial logistic regression weights ``(D + 1, classes)`` (last row: biases),
    mean cross-entropy plus ``l2/2 |W|^2``, fitted with SciPy's L-BFGS."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    onehot = np.eye(classes)[y]

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(xb.shape[1], classes)
        logits = xb @ w
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        value = -(onehot * logp).sum() / len(x) + 0.5 * l2 * (w[:-1] ** 2).sum()
        grad = xb.T @ (np.exp(logp) - onehot) / len(x)
        grad[:-1] += l2 * w[:-1]
        return value, grad.ravel()

    start = np.zeros(xb.shape[1] * classes)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x.reshape(xb.shape[1], classes)


def beta_vae_score(
    model: Any,
    factor_sizes: Sequence[int] | None = None,
    images: Callable[[np.ndarray], Any] | None = None,
    *,
    factors: Any = None,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    l2: float = 1e-4,
    seed: int = 0,
) -> dict[str, float]:
    """The beta-VAE disentanglement score (Higgins et al., ICLR 2017, "beta-VAE: Learning Basic
    Visual Concepts with a Constrained Variational Framework").

    One training point: choose a factor ``k`` at random; draw ``batch_size`` pairs of
    configurations, the two of each pair sharing the value of ``k`` (all else drawn
    independently); encode both; the point is the mean absolute difference of the pairs'
    codes, ``z_diff = 1/L sum_l |z_1^l - z_2^l|``, labelled ``k``. A linear classifier
    (multinomial logistic regression on standardized ``z_diff``, fitted by L-BFGS; the
    paper's low-capacity linear classifier) learns ``k`` from ``num_train`` points; the
    score is its accuracy on ``num_eval`` fresh points.

    High when the fixed factor shows as a near-zero entry of ``z_diff``; chance ``1/K``
    for codes that ignore the factors. Being linear in ``z_diff`` it does not need one
    dimension per factor, so a rotation of disentangled codes can still score high
    (the weakness Kim & Mnih's score addresses). Cost: ``2 * batch_size * (num_train +
    num_eval)`` encoded images.

    Args: as :func:`factor_vae_score` (``model``, ``factor_sizes``, ``images`` or
        ``factors``).

    Returns:
        ``eval_accuracy`` and ``train_accuracy``.
    """
    process = _Process(model, factor_sizes, images, factors, seed)

    def points(count: int) -> tuple[np.ndarray, np.ndarray]:
        feats, targets = [], []
        for chunk in _chunks(count, 2 * batch_size):
            k = process.rng.choice(process.varying, chunk)
            first, second = process.pairs(k, batch_size)
            feats.append(np.abs(first - second).mean(axis=1))
            targets.append(np.searchsorted(process.varying, k))
        return np.concatenate(feats), np.concatenate(targets)

    x_train, y_train = points(num_train)
    x_eval, y_eval = points(num_eval)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x_train, x_eval = (x_train - mean) / std, (x_eval - mean) / std
    w = _softmax_regression(x_train, y_train, len(process.varying), l2)

    def accuracy(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(np.argmax(np.hstack([x, np.ones((len(x), 1))]) @ w, axis=1) == y))

    return {"eval_accuracy": accuracy(x_eval, y_eval), "train_accuracy": accuracy(x_train, y_train)}
