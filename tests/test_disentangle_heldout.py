"""vaecore.disentangle.heldout: attribute scores chosen on training codes, scored on test codes."""

import numpy as np
import pytest

from vaecore import disentangle


def _data(n, latent, rng):
    attrs = rng.integers(0, 2, (n, 2))
    z = rng.normal(size=(n, latent))
    z[:, 3] = attrs[:, 0] + 0.5 * rng.normal(size=n)  # dim 3 rises with attribute 0
    z[:, 5] = -attrs[:, 1] + 0.5 * rng.normal(size=n)  # dim 5 falls with attribute 1
    z[:, 6] = -attrs[:, 1] + 1.0 * rng.normal(size=n)  # a weaker second carrier of attribute 1
    return z, attrs


def test_the_carrying_dimension_is_chosen_on_train_and_scored_on_test():
    rng = np.random.default_rng(0)
    (z_tr, a_tr), (z_te, a_te) = _data(3000, 16, rng), _data(3000, 16, rng)
    rows = disentangle.heldout_attribute_scores(z_tr, a_tr, z_te, a_te, ["a", "b"])
    a, b = rows
    assert (a["best_dim"], a["best_sign"]) == (3, 1)
    assert (b["best_dim"], b["best_sign"], b["second_dim"], b["second_sign"]) == (5, -1, 6, -1)
    # noise sd 0.5 around a unit step: AUROC = Phi(1 / (0.5 * sqrt(2))) = 0.921
    assert a["best_auroc"] == pytest.approx(0.921, abs=0.015)
    assert a["score"] == pytest.approx(a["best_auroc"] - 0.5)
    assert a["gap"] > 0.35  # the second best of attribute a is noise
    assert 0.0 < b["gap"] < 0.25  # b has two carriers: a small gap
    assert a["positives"] == pytest.approx(a_te[:, 0].mean())


def test_noise_codes_score_chance_on_test_though_the_training_maximum_is_inflated():
    rng = np.random.default_rng(1)
    n, latent, k = 500, 256, 20
    z_tr, z_te = rng.normal(size=(n, latent)), rng.normal(size=(n, latent))
    a_tr, a_te = rng.integers(0, 2, (n, k)), rng.integers(0, 2, (n, k))
    rows = disentangle.heldout_attribute_scores(z_tr, a_tr, z_te, a_te)
    train_best = np.mean([r["train_best_auroc"] for r in rows])
    test_best = np.mean([r["best_auroc"] for r in rows])
    assert train_best > 0.56  # the best of 256 noise dimensions, in sample
    assert abs(test_best - 0.5) < 0.02  # held out: chance, within the noise of 20 x 500 examples
    inflated = np.mean([r["best_auroc"] for r in disentangle.attribute_scores(z_te, a_te)])
    assert inflated > 0.56


def test_selected_scores_reproduce_the_rows_test_aurocs():
    rng = np.random.default_rng(2)
    (z_tr, a_tr), (z_te, a_te) = _data(800, 8, rng), _data(800, 8, rng)
    rows = disentangle.heldout_attribute_scores(z_tr, a_tr, z_te, a_te)
    for which in ("best", "second"):
        cols = disentangle.selected_scores(z_te, rows, which)
        assert cols.shape == (800, 2)
        for k, r in enumerate(rows):
            assert disentangle.auroc(cols[:, k], a_te[:, k]) == pytest.approx(r[f"{which}_auroc"])
    with pytest.raises(ValueError, match="best"):
        disentangle.selected_scores(z_te, rows, "third")


def test_a_linear_probe_reads_an_attribute_spread_over_many_dimensions():
    rng = np.random.default_rng(3)
    n, latent = 2000, 32
    a = rng.integers(0, 2, (2 * n, 1))
    z = rng.normal(size=(2 * n, latent)) + 0.3 * a  # every dimension carries a little of it
    rows = disentangle.heldout_attribute_scores(z[:n], a[:n], z[n:], a[n:])
    probe = disentangle.linear_probe(z[:n], a[:n], z[n:])
    single, full = rows[0]["best_auroc"], disentangle.auroc(probe[:, 0], a[n:, 0])
    assert single < 0.62  # one dimension: d' = 0.3
    # all 32 together: d' = 0.3 * sqrt(32) = 1.7, AUROC = Phi(1.7 / sqrt(2)) = 0.885 at the optimum
    assert 0.85 < full < 0.9
    assert probe.shape == (n, 1)


def test_linear_probe_is_invariant_to_rescaling_a_dimension():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(600, 6))
    a = (z[:, 0] + z[:, 1] + 0.5 * rng.normal(size=600) > 0).astype(int)[:, None]
    scaled = z * np.array([100.0, 0.01, 1, 1, 1, 1])
    p1 = disentangle.linear_probe(z[:400], a[:400], z[400:])
    p2 = disentangle.linear_probe(scaled[:400], a[:400], scaled[400:])
    np.testing.assert_allclose(p1, p2, rtol=1e-3, atol=1e-3)


def test_bootstrap_auroc_is_centred_on_the_auroc_with_a_sensible_spread():
    rng = np.random.default_rng(5)
    n = 1000
    y = rng.integers(0, 2, n)
    s = y + rng.normal(size=n)
    boot = disentangle.bootstrap_auroc(s, y, num_resamples=400, seed=0)
    assert boot.shape == (400, 1)
    point = disentangle.auroc(s, y)
    assert boot.mean() == pytest.approx(point, abs=0.005)
    # Hanley & McNeil: the AUROC's standard error near 0.76 with 500 + 500 examples is about 0.015
    assert 0.008 < boot.std() < 0.025
    np.testing.assert_array_equal(boot, disentangle.bootstrap_auroc(s, y, num_resamples=400, seed=0))


def test_bad_input_is_named():
    z, a = np.zeros((10, 4)), np.zeros((10, 2), int)
    with pytest.raises(ValueError, match="binary"):
        disentangle.heldout_attribute_scores(z, a + 2, z, a)
    with pytest.raises(ValueError, match="disagree"):
        disentangle.heldout_attribute_scores(z, a, np.zeros((10, 5)), a)
    with pytest.raises(ValueError, match="same shape"):
        disentangle.bootstrap_auroc(np.zeros((10, 2)), np.zeros((10, 3), int))
    with pytest.raises(ValueError, match="names"):
        disentangle.heldout_attribute_scores(z, a, z, a, ["only one"])


def test_the_joint_probe_fits_each_attribute_as_its_own_logistic_regression():
    from scipy.optimize import minimize

    rng = np.random.default_rng(6)
    z = rng.normal(size=(500, 5))
    a = np.stack([z[:, 0] + rng.normal(size=500) > 0, z[:, 1] - z[:, 2] + rng.normal(size=500) > 0.5], 1)
    a = np.hstack([a.astype(int), np.ones((500, 1), int)])  # a third attribute, constant: no read-out
    probe = disentangle.linear_probe(z[:300], a[:300], z[300:], l2=0.1)
    xs = (z - z[:300].mean(0)) / z[:300].std(0)
    xb = np.hstack([xs, np.ones((500, 1))])
    for k in range(2):  # the same regression fitted alone, written out
        def loss(w, k=k):
            logits = xb[:300] @ w
            return np.mean(np.logaddexp(0, logits) - a[:300, k] * logits) + 0.05 * (w[:-1] ** 2).sum()
        w = minimize(loss, np.zeros(6), method="BFGS").x
        np.testing.assert_allclose(probe[:, k], xb[300:] @ w, atol=2e-3)
    assert (probe[:, 2] == 0).all()
