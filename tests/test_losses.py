"""Loss functions against closed forms and Monte Carlo estimates."""

import math

import keras
import numpy as np
import pytest

from vaecore import losses


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(3, 4)).astype("float32")
    log_var = rng.normal(scale=0.5, size=(3, 4)).astype("float32")
    closed = np.asarray(losses.gaussian_kl(mean, log_var))
    z = mean + np.exp(0.5 * log_var) * rng.normal(size=(200_000, 3, 4))
    log_q = -0.5 * (np.log(2 * np.pi) + log_var + (z - mean) ** 2 / np.exp(log_var))
    log_p = -0.5 * (np.log(2 * np.pi) + z**2)
    mc = (log_q - log_p).sum(-1).mean(0)
    np.testing.assert_allclose(closed, mc, atol=0.03)


def test_gaussian_kl_is_zero_at_prior():
    assert np.allclose(losses.gaussian_kl(np.zeros((2, 5)), np.zeros((2, 5))), 0.0)


def test_bernoulli_nll_equals_binary_cross_entropy_sum():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 4, 4, 1)).astype("float32")
    x = (rng.random((2, 4, 4, 1)) > 0.5).astype("float32")
    p = 1 / (1 + np.exp(-logits))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(losses.bernoulli_nll(x, logits), expected, rtol=1e-5)


def test_bernoulli_nll_is_stable_for_large_logits():
    x = np.ones((1, 2), "float32")
    out = np.asarray(losses.bernoulli_nll(x, np.array([[-200.0, 200.0]], "float32")))
    np.testing.assert_allclose(out, [200.0], rtol=1e-6)


def test_gaussian_nll_is_a_normalized_log_density():
    from scipy.stats import norm

    x = np.array([[0.2, 0.9]], "float32")
    mean = np.array([[0.25, 0.5]], "float32")
    expected = -norm.logpdf(x, mean, 0.1).sum()
    np.testing.assert_allclose(losses.gaussian_nll(x, mean, 0.1), [expected], rtol=1e-5)


def test_elbo_and_bits_per_dim():
    assert float(losses.elbo(10.0, 2.0, beta=3.0)) == -16.0
    np.testing.assert_allclose(losses.bits_per_dim(784 * math.log(2), 784), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="num_dims"):
        losses.bits_per_dim(1.0, 0)


def _linear_gaussian_model(x_value: float, s: float):
    """z ~ N(0,1), x|z ~ N(z, s^2): log p(x) = log N(x; 0, 1 + s^2) in closed form."""

    def decode_nll(x, z):
        return 0.5 * ((x - z) / s) ** 2 + math.log(s) + 0.5 * math.log(2 * math.pi)

    return decode_nll


def test_iwae_bound_is_exact_with_the_true_posterior_and_tightens_with_k():
    from scipy.stats import norm

    s, x_value = 0.5, 1.3
    x = np.array([[x_value]], "float32")
    true_log_px = norm.logpdf(x_value, 0.0, math.sqrt(1 + s**2))
    decode_nll = _linear_gaussian_model(x_value, s)
    post_var = s**2 / (1 + s**2)
    post_mean = x_value / (1 + s**2)

    def exact_encode(_):
        return np.array([[post_mean]], "float32"), np.array([[math.log(post_var)]], "float32")

    def poor_encode(_):
        return np.array([[0.0]], "float32"), np.array([[0.0]], "float32")

    def sum_nll(xs, z):
        import keras

        return keras.ops.sum(decode_nll(xs, z), axis=-1)

    exact = float(
        losses.importance_weighted_log_likelihood(x, exact_encode, sum_nll, 10, seed=0)[0]
    )
    assert exact == pytest.approx(true_log_px, abs=1e-4)  # zero variance weights: exact
    k1 = np.mean(
        [
            float(losses.importance_weighted_log_likelihood(x, poor_encode, sum_nll, 1, seed=i)[0])
            for i in range(200)
        ]
    )
    k2000 = np.mean(
        [
            float(
                losses.importance_weighted_log_likelihood(x, poor_encode, sum_nll, 2000, seed=i)[0]
            )
            for i in range(5)
        ]
    )
    assert k1 < k2000 - 0.1  # a loose posterior: the k-sample bound is much tighter
    assert k2000 == pytest.approx(true_log_px, abs=0.05)


def test_iwae_rejects_zero_samples():
    with pytest.raises(ValueError, match="num_samples"):
        losses.importance_weighted_log_likelihood(np.zeros((1, 1)), None, None, 0)


LEVELS = np.arange(256, dtype="float32") / 255.0


def _reference_log_probs(mean: float, log_scale: float) -> np.ndarray:
    """log P(k) of the 256 bins in float64, by another route: differences of the logistic's
    log CDF (left of the mean) or log survival function (right of it), from scipy.stats,
    ``log(F(b) - F(a)) = log F(b) + log1p(-exp(log F(a) - log F(b)))``."""

    m, s = np.float64(np.float32(mean)), np.exp(np.float64(np.float32(log_scale)))
    k = np.arange(256, dtype=np.float64)
    lo, hi = (k - 0.5) / 255.0, (k + 0.5) / 255.0
    # both branches are computed for every bin; the one not used may overflow
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _pick(k, m, s, lo, hi)


def _pick(k, m, s, lo, hi):
    from scipy.stats import logistic

    left = logistic.logcdf(hi, m, s) + np.log1p(-np.exp(logistic.logcdf(lo, m, s) - logistic.logcdf(hi, m, s)))
    right = logistic.logsf(lo, m, s) + np.log1p(-np.exp(logistic.logsf(hi, m, s) - logistic.logsf(lo, m, s)))
    out = np.where(k / 255.0 > m, right, left)
    out[0], out[255] = logistic.logcdf(hi[0], m, s), logistic.logsf(lo[255], m, s)  # open edge bins
    return out


def _log_probs(mean: float, log_scale: float) -> np.ndarray:
    got = losses.discretized_logistic_log_probs(LEVELS, np.full(256, mean, "float32"), np.float32(log_scale))
    return np.asarray(got, "float64")


CASES = [(0.3, -3.0), (0.0, -5.0), (1.0, -1.0), (0.5, 2.0), (0.01, -6.0), (0.77, -4.5),
         (0.5, -7.0), (0.499, -7.0), (0.123, -6.9), (1.3, -7.0), (-0.2, -5.0), (-1.0, 0.5), (2.0, -2.0)]  # fmt: skip


@pytest.mark.parametrize("mean, log_scale", CASES)
def test_discretized_logistic_sums_to_one_over_256_values(mean, log_scale):
    """Any mean (also outside [0, 1]) and scale (also at the floor, -7: 0.23 levels)."""
    total = np.exp(_log_probs(mean, log_scale)).sum()
    assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("mean, log_scale", CASES)
def test_discretized_logistic_matches_a_float64_reference(mean, log_scale):
    """Every bin, against scipy's logistic in float64 (a different formula): to 1e-6 of
    max(1, |log P|), plus what float32 cannot avoid: each bin edge (k +- 1/2) / 255 is
    rounded to float32 (2**-24 at most), an error the standardized edge carries times 1/s
    (about 1e-4 nats at the floor, where 1/s = 1097; nothing for s >= 0.02)."""
    got, ref = _log_probs(mean, log_scale), _reference_log_probs(mean, log_scale)
    assert np.isfinite(got).all() and np.isfinite(ref).all()
    edge_rounding = 2 * 2.0**-24 * np.exp(-np.float64(log_scale))
    np.testing.assert_array_less(np.abs(got - ref), 1e-6 * np.maximum(1.0, np.abs(ref)) + edge_rounding)
    if log_scale >= -4.0:
        np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


def test_discretized_logistic_scores_off_grid_values_as_their_bin():
    off = np.array([[0.3 / 255, 100.4 / 255, 200.6 / 255, 1.2, -0.1]], "float32")
    on = np.array([[0.0, 100 / 255, 201 / 255, 1.0, 0.0]], "float32")
    mean, log_scale = np.full_like(off, 0.4), np.float32(-3.0)
    np.testing.assert_array_equal(
        np.asarray(losses.discretized_logistic_log_probs(off, mean, log_scale)),
        np.asarray(losses.discretized_logistic_log_probs(on, mean, log_scale)),
    )
    # (XLA may divide by 255 as a multiply by 1/255: one float32 ulp)
    np.testing.assert_allclose(np.asarray(losses.quantize_to_grid(off)), on, rtol=2e-7, atol=0)
    assert losses.is_on_grid(on) and not losses.is_on_grid(off)
    assert losses.is_on_grid(np.arange(256, dtype="float64") / 255) and not losses.is_on_grid([1.5])
    with pytest.raises(ValueError, match="levels"):
        losses.discretized_logistic_log_probs(on, mean, log_scale, levels=1)


def _gradients(fn, *args):
    """d fn / d args on the backend in use (TensorFlow or JAX)."""
    args = [np.asarray(a, "float32") for a in args]
    if keras.backend.backend() == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(fn, argnums=tuple(range(len(args))))(*args)]
    import tensorflow as tf

    variables = [tf.Variable(a) for a in args]
    with tf.GradientTape() as tape:
        out = fn(*variables)
    return [np.asarray(g) for g in tape.gradient(out, variables)]


@pytest.mark.parametrize("log_scale", [-7.0, -3.0, 2.0])
def test_discretized_logistic_gradients_are_finite_at_the_edges_and_the_floor(log_scale):
    x = np.array([0.0, 1.0, 0.0, 1.0, 128 / 255, 0.0, 1.0], "float32")  # edge bins, far means
    mean = np.array([0.0, 1.0, 1.5, -0.5, 0.5, 0.9, 0.1], "float32")
    ls = np.full(7, log_scale, "float32")

    def total(m, s):
        return keras.ops.sum(losses.discretized_logistic_log_probs(x, m, s))

    d_mean, d_scale = _gradients(total, mean, ls)
    assert np.isfinite(d_mean).all() and np.isfinite(d_scale).all()
    # and right: a central difference of the float64 reference, bin by bin
    from scipy.stats import logistic

    def ref(i, m, s):
        k = round(255 * float(x[i]))
        lo, hi = (k - 0.5) / 255, (k + 0.5) / 255
        if x[i] == 0:
            return logistic.logcdf(hi, m, np.exp(s))
        if x[i] == 1:
            return logistic.logsf(lo, m, np.exp(s))
        return np.log(logistic.cdf(hi, m, np.exp(s)) - logistic.cdf(lo, m, np.exp(s)))

    eps = 1e-6
    for i in range(7):
        m, s = float(mean[i]), float(ls[i])
        fd_mean = (ref(i, m + eps, s) - ref(i, m - eps, s)) / (2 * eps)
        fd_scale = (ref(i, m, s + eps) - ref(i, m, s - eps)) / (2 * eps)
        assert d_mean[i] == pytest.approx(fd_mean, rel=1e-3, abs=1e-3)
        assert d_scale[i] == pytest.approx(fd_scale, rel=1e-3, abs=1e-3)


def test_gaussian_with_a_learned_log_scale_is_a_normalized_density():
    from scipy.stats import norm

    x = np.array([[[0.2, 0.9], [0.4, 0.0]]], "float32")[..., None]  # (1, 2, 2, 1)
    mean = np.array([[[0.25, 0.5], [0.4, 0.3]]], "float32")[..., None]
    log_sigma = np.log(np.array([[[0.1, 0.3], [0.05, 1.0]]], "float32"))[..., None]
    expected = -norm.logpdf(x, mean, np.exp(log_sigma.astype("float64"))).sum()
    got = losses.gaussian_nll_log_scale(x, mean, log_sigma)
    np.testing.assert_allclose(np.asarray(got), [expected], rtol=1e-5)
    # one shared value equals the fixed-sigma form
    np.testing.assert_allclose(
        np.asarray(losses.gaussian_nll_log_scale(x, mean, np.log(np.float32(0.2)))),
        np.asarray(losses.gaussian_nll(x, mean, 0.2)), rtol=1e-6,
    )


def test_gaussian_kl_of_a_latent_map_sums_every_unit():
    rng = np.random.default_rng(3)
    mean, log_var = rng.normal(size=(2, 3, 3, 4)), rng.normal(size=(2, 3, 3, 4))
    per_unit = np.asarray(losses.gaussian_kl_per_dim(mean, log_var))
    # KL(N(m, v) || N(0, 1)) = (m^2 + v - 1 - log v) / 2, unit by unit
    np.testing.assert_allclose(per_unit, (mean**2 + np.exp(log_var) - 1 - log_var) / 2, rtol=1e-5)
    flat = np.asarray(losses.gaussian_kl(mean.reshape(2, -1), log_var.reshape(2, -1)))
    np.testing.assert_allclose(np.asarray(losses.gaussian_kl(mean, log_var)), flat, rtol=1e-6)


def test_discretized_logistic_matches_cdf_differences():
    """Inside the range: P(x) = sigmoid((x + h - m) / s) - sigmoid((x - h - m) / s)."""
    x = np.array([[10, 128, 200]], "float32") / 255.0
    mean, scale = np.float32(0.5), 0.05
    h = 0.5 / 255.0
    sig = lambda t: 1.0 / (1.0 + np.exp(-t))  # noqa: E731
    expected = -np.log(sig((x + h - mean) / scale) - sig((x - h - mean) / scale)).sum()
    got = losses.discretized_logistic_nll(x, np.full_like(x, mean), np.float32(math.log(scale)))
    np.testing.assert_allclose(np.asarray(got), [expected], rtol=1e-4)


def test_discretized_logistic_is_finite_far_from_the_mean():
    x = np.array([[0.0, 1.0, 0.5]], "float32")
    got = np.asarray(
        losses.discretized_logistic_nll(x, np.array([[1.0, 0.0, 0.0]], "float32"), np.float32(-7.0))
    )
    assert np.isfinite(got).all() and got[0] > 100.0


def test_discretized_logistic_matches_float64_reference_in_the_tails():
    """Where the bin mass underflows a difference of float32 CDFs, the exact form still holds."""
    x = np.array([[0.2, 0.4, 0.6]], "float32")
    mean, log_scale = np.float32(0.9), np.float32(-4.0)
    s, h = np.exp(np.float64(log_scale)), 0.5 / 255.0

    def log_sig(t):
        return -np.logaddexp(0.0, -t)

    hi, lo = (x.astype("float64") + h - 0.9) / s, (x.astype("float64") - h - 0.9) / s
    exact = -(log_sig(hi) + np.log1p(-np.exp(log_sig(lo) - log_sig(hi)))).sum()
    got = float(np.asarray(losses.discretized_logistic_nll(x, np.full_like(x, mean), log_scale))[0])
    assert got == pytest.approx(exact, rel=1e-6)
