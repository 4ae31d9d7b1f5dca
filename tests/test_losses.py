"""Loss functions against closed forms and Monte Carlo estimates."""

import math

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


@pytest.mark.parametrize(
    "mean, log_scale",
    [(0.3, -3.0), (0.0, -5.0), (1.0, -1.0), (0.5, -7.0), (0.5, 2.0), (0.01, -6.0)],
)
def test_discretized_logistic_sums_to_one_over_256_values(mean, log_scale):
    values = np.arange(256, dtype="float32") / 255.0
    log_p = losses.discretized_logistic_log_probs(
        values, np.full(256, mean, "float32"), np.float32(log_scale)
    )
    total = np.exp(np.asarray(log_p, "float64")).sum()
    assert total == pytest.approx(1.0, abs=2e-5)


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
    """Where the bin mass underflows float32 the density stand-in stays close to the exact value."""
    x = np.array([[0.2, 0.4, 0.6]], "float32")
    mean, log_scale = np.float32(0.9), np.float32(-4.0)
    s, h = np.exp(np.float64(log_scale)), 0.5 / 255.0

    def log_sig(t):
        return -np.logaddexp(0.0, -t)

    hi, lo = (x.astype("float64") + h - 0.9) / s, (x.astype("float64") - h - 0.9) / s
    exact = -(log_sig(hi) + np.log1p(-np.exp(log_sig(lo) - log_sig(hi)))).sum()
    got = float(np.asarray(losses.discretized_logistic_nll(x, np.full_like(x, mean), log_scale))[0])
    assert got == pytest.approx(exact, rel=1e-3)
