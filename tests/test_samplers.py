"""vaecore.samplers and VAE.sample's temperature / sampler: known answers only.

The mixture is fitted to draws of a known mixture and must give its parameters
back; its log density is scipy's; its draws have the moments worked out by hand;
the prior gap of codes with known moments is the closed-form KL.
"""

import math

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from vaecore import build_vae
from vaecore.samplers import GaussianMixtureSampler, code_summary, fit_ex_post_gmm, prior_gap

WEIGHTS = np.array([0.2, 0.3, 0.5])
MEANS = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, -1.0]])
COVS = np.array(
    [
        [[1.0, 0.5], [0.5, 1.0]],
        [[0.5, 0.0], [0.0, 2.0]],
        [[1.5, -0.6], [-0.6, 0.8]],
    ]
)


def draws(n: int, seed: int = 0) -> np.ndarray:
    """n draws of the known 3-component mixture (numpy's own sampler, not the one under test)."""
    rng = np.random.default_rng(seed)
    which = rng.choice(3, size=n, p=WEIGHTS)
    return np.stack([rng.multivariate_normal(MEANS[k], COVS[k]) for k in which])


def by_first_mean(gmm: GaussianMixtureSampler):
    order = np.argsort(gmm.means[:, 0])
    return gmm.weights[order], gmm.means[order], gmm.covariances[order]


@pytest.mark.parametrize("seed", [0, 1])
def test_full_gmm_recovers_a_known_mixture(seed):
    gmm = fit_ex_post_gmm(draws(6000, seed), components=3, covariance="full", seed=seed)
    weights, means, covs = by_first_mean(gmm)
    np.testing.assert_allclose(weights, WEIGHTS, atol=0.02)
    np.testing.assert_allclose(means, MEANS, atol=0.1)
    np.testing.assert_allclose(covs, COVS, atol=0.15)
    assert gmm.info["converged"] and gmm.info["components"] == 3


def test_diag_gmm_recovers_the_variances_of_axis_aligned_components():
    rng = np.random.default_rng(3)
    sd = np.array([[0.5, 2.0], [1.5, 0.7]])
    centres = np.array([[-5.0, 0.0], [5.0, 2.0]])
    which = rng.choice(2, size=8000, p=[0.4, 0.6])
    x = centres[which] + sd[which] * rng.standard_normal((8000, 2))
    weights, means, variances = by_first_mean(fit_ex_post_gmm(x, 2, covariance="diag"))
    np.testing.assert_allclose(weights, [0.4, 0.6], atol=0.02)
    np.testing.assert_allclose(means, centres, atol=0.1)
    np.testing.assert_allclose(variances, sd**2, rtol=0.08)


def test_log_prob_of_one_full_component_is_scipys_logpdf():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    cov, mean = a @ a.T + 0.5 * np.eye(5), rng.standard_normal(5)
    gmm = GaussianMixtureSampler([1.0], mean[None], cov[None])
    z = rng.standard_normal((50, 5)) * 3
    np.testing.assert_allclose(
        gmm.log_prob(z), multivariate_normal(mean, cov).logpdf(z), rtol=1e-10
    )


def test_log_prob_of_a_mixture_is_the_log_of_the_weighted_densities_even_far_out():
    z = np.array([[0.0, 0.0], [3.0, -2.0], [300.0, 300.0]])  # the last: every density underflows
    logs = np.stack([multivariate_normal(MEANS[k], COVS[k]).logpdf(z) for k in range(3)], axis=1)
    expected = logsumexp(logs + np.log(WEIGHTS), axis=1)
    got = GaussianMixtureSampler(WEIGHTS, MEANS, COVS).log_prob(z)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    variances = np.array([[1.0, 2.0], [0.5, 0.5], [3.0, 1.0]])
    diag = GaussianMixtureSampler(WEIGHTS, MEANS, variances, covariance="diag")
    logs = np.stack(
        [multivariate_normal(MEANS[k], np.diag(variances[k])).logpdf(z) for k in range(3)], axis=1
    )
    np.testing.assert_allclose(
        diag.log_prob(z), logsumexp(logs + np.log(WEIGHTS), axis=1), rtol=1e-10
    )


def test_samples_have_the_mixtures_moments():
    # worked out by hand: mean = sum w_k mu_k; cov = sum w_k Sigma_k + sum w_k (mu_k - m)(mu_k - m)^T
    weights = np.array([0.25, 0.75])
    means = np.array([[-2.0, 0.0], [2.0, 1.0]])
    covs = np.array([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 1.0], [1.0, 1.0]]])
    mean = np.array([1.0, 0.75])
    # within: 0.25 I + 0.75 [[2, 1], [1, 1]] = [[1.75, 0.75], [0.75, 1.0]]
    # between: 0.25 (-3, -0.75)(-3, -0.75)^T + 0.75 (1, 0.25)(1, 0.25)^T = [[3.0, 0.75], [0.75, 0.1875]]
    cov = np.array([[4.75, 1.5], [1.5, 1.1875]])
    gmm = GaussianMixtureSampler(weights, means, covs)
    m, c = gmm.moments()
    np.testing.assert_allclose(m, mean, atol=1e-12)
    np.testing.assert_allclose(c, cov, atol=1e-12)
    z = gmm.sample(400_000, seed=0)
    assert z.shape == (400_000, 2) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=0), mean, atol=0.015)
    np.testing.assert_allclose(np.cov(z.T), cov, atol=0.03)
    np.testing.assert_array_equal(gmm.sample(10, seed=5), gmm.sample(10, seed=5))
    diag = GaussianMixtureSampler(weights, means, [[1.0, 4.0], [0.25, 1.0]], covariance="diag")
    zd = diag.sample(400_000, seed=1)
    # variances: 0.25 * 1 + 0.75 * 0.25 + 3.0 = 3.4375 and 0.25 * 4 + 0.75 * 1 + 0.1875 = 1.9375
    np.testing.assert_allclose(zd.var(axis=0), [3.4375, 1.9375], rtol=0.01)


def test_save_and_load_give_the_same_mixture(tmp_path):
    gmm = fit_ex_post_gmm(draws(2000), components=3, seed=0)
    path = gmm.save(tmp_path / "gmm.npz")
    back = GaussianMixtureSampler.load(path)
    z = draws(20, seed=9)
    np.testing.assert_array_equal(back.log_prob(z), gmm.log_prob(z))
    np.testing.assert_array_equal(back.sample(7, seed=1), gmm.sample(7, seed=1))
    assert back.info == gmm.info and back.covariance == "full"
    again = GaussianMixtureSampler.from_config(gmm.get_config())
    np.testing.assert_array_equal(again.log_prob(z), gmm.log_prob(z))


def test_high_dimensional_codes_fit_with_both_covariances():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1500, 96)) * 0.3
    x[:, :2] += rng.choice([-3.0, 3.0], size=(1500, 1))  # two clusters, flat in 94 dims
    x[:, 50:] *= 1e-4  # nearly constant dimensions: reg keeps the covariances invertible
    for covariance in ("full", "diag"):
        gmm = fit_ex_post_gmm(x, components=2, covariance=covariance)
        assert np.isfinite(gmm.log_prob(x)).all()
        np.testing.assert_allclose(np.sort(gmm.weights), [0.5, 0.5], atol=0.05)


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="components"):
        fit_ex_post_gmm(np.zeros((3, 2)), components=5)
    with pytest.raises(ValueError, match="covariance"):
        fit_ex_post_gmm(np.zeros((3, 2)), components=1, covariance="spherical")
    with pytest.raises(ValueError, match="NaN"):
        fit_ex_post_gmm(np.full((3, 2), np.nan), components=1)
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixtureSampler([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]])


def test_prior_gap_is_the_closed_form_kl():
    rng = np.random.default_rng(0)
    eps = rng.standard_normal((400_000, 3))
    assert prior_gap(eps) == pytest.approx(0.0, abs=2e-4)
    mu, s = np.array([1.0, -2.0, 0.5]), 0.5
    # KL(N(mu, s^2 I) || N(0, I)) = 0.5 (d s^2 + |mu|^2 - d - 2 d log s)
    expected = 0.5 * (3 * s**2 + mu @ mu - 3 - 6 * math.log(s))
    assert prior_gap(mu + s * eps) == pytest.approx(expected, rel=2e-3)
    summary = code_summary(mu + s * eps)
    assert summary["mean_norm"] == pytest.approx(np.linalg.norm(mu), abs=0.01)
    assert summary["variance_mean"] == pytest.approx(0.25, rel=0.01)
    assert summary["prior_gap_nats"] == prior_gap(mu + s * eps) and summary["dims"] == 3


def test_prior_gap_with_log_var_is_the_aggregate_posteriors():
    # posterior means all 0, variances all 1: q(z) is the prior itself, gap exactly 0;
    # the means alone have covariance 0 (singular), an infinite gap
    means, log_var = np.zeros((100, 4)), np.zeros((100, 4))
    assert prior_gap(means, log_var) == pytest.approx(0.0, abs=1e-12)
    assert prior_gap(means) == math.inf
    # means +-1 (the 4 bits of 0..15: mean 0, covariance I exactly) with sigma^2 = 0.5:
    # aggregate covariance 1.5 I
    i = np.arange(160)[:, None] % 16
    signs = 1.0 - 2.0 * ((i >> np.arange(4)) & 1)
    expected = 0.5 * (4 * 1.5 - 4 - 4 * math.log(1.5))
    assert prior_gap(signs, np.full((160, 4), math.log(0.5))) == pytest.approx(expected, rel=1e-9)


@pytest.fixture(scope="module")
def tiny():
    return build_vae({"input": (4, 4, 1), "latent": 3, "hidden": [8], "name": "tiny"}, seed=0)


def test_temperature_scales_the_prior_codes(tiny, monkeypatch):
    zero = np.asarray(tiny.decode(np.zeros((1, 3), np.float32)))
    cold = np.asarray(tiny.sample(5, seed=0, temperature=0.0))
    np.testing.assert_allclose(cold, np.repeat(zero, 5, axis=0), atol=1e-6)
    monkeypatch.setattr(tiny, "decode", lambda z: z)  # sample returns its codes
    for t in (0.5, 1.0, 2.0):
        codes = np.asarray(tiny.sample(20_000, seed=1, temperature=t))
        assert codes.shape == (20_000, 3)
        np.testing.assert_allclose(codes.std(axis=0), t, rtol=0.03)
        np.testing.assert_allclose(codes.mean(axis=0), 0.0, atol=0.05 * t)
    with pytest.raises(ValueError, match="temperature"):
        tiny.sample(2, temperature=-1.0)


def test_sample_decodes_a_samplers_codes(tiny):
    class Fixed:
        def sample(self, n, seed=None):
            return np.full((n, 3), 0.7, np.float32)

    got = np.asarray(tiny.sample(4, seed=0, sampler=Fixed()))
    want = np.asarray(tiny.decode(np.full((4, 3), 0.7, np.float32)))
    np.testing.assert_allclose(got, want, atol=1e-6)
    gmm = GaussianMixtureSampler([1.0], [[5.0, 5.0, 5.0]], [np.eye(3) * 1e-8])
    np.testing.assert_allclose(
        np.asarray(tiny.sample(2, seed=0, sampler=gmm)),
        np.asarray(tiny.decode(np.full((2, 3), 5.0, np.float32))),
        atol=1e-4,
    )
    with pytest.raises(ValueError, match="temperature"):
        tiny.sample(2, sampler=Fixed(), temperature=0.5)
    wrong = GaussianMixtureSampler([1.0], [[0.0, 0.0]], [np.eye(2)])
    with pytest.raises(ValueError, match="codes"):
        tiny.sample(2, sampler=wrong)
