"""vaecore.disentangle: single-dimension AUROCs against binary attributes."""

import numpy as np
import pytest

from vaecore import disentangle


def test_auroc_known_values():
    # positives score 2, 3; negatives 1, 2: pairs (2>1, 2=2, 3>1, 3>2) -> (1 + 0.5 + 1 + 1) / 4
    assert disentangle.auroc([1, 2, 2, 3], [0, 0, 1, 1]) == pytest.approx(0.875)
    assert disentangle.auroc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert disentangle.auroc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0


def test_auroc_matches_pairwise_count():
    rng = np.random.default_rng(1)
    s = rng.integers(0, 5, 60).astype(float)  # many ties
    y = rng.integers(0, 2, 60)
    pos, neg = s[y == 1], s[y == 0]
    expected = ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (
        len(pos) * len(neg)
    )
    assert disentangle.auroc(s, y) == pytest.approx(expected)


def test_dimension_equal_to_the_attribute_is_found():
    rng = np.random.default_rng(0)
    n, latent = 2000, 8
    attrs = rng.integers(0, 2, (n, 2))
    z = rng.normal(size=(n, latent))
    z[:, 3] = attrs[:, 0]  # dim 3 is attribute 0
    z[:, 5] = -attrs[:, 1] + 0.1 * rng.normal(size=n)  # dim 5 falls with attribute 1
    rows = disentangle.attribute_scores(z, attrs, ["a", "b"])
    assert [r["attribute"] for r in rows] == ["a", "b"]
    assert rows[0]["best_dim"] == 3 and rows[0]["best_auroc"] == pytest.approx(1.0)
    assert rows[0]["direction"] == 1
    assert rows[1]["best_dim"] == 5 and rows[1]["best_auroc"] > 0.99 and rows[1]["direction"] == -1
    for r in rows:
        assert r["second_auroc"] < 0.56 and r["gap"] > 0.4
    summary = disentangle.summarize(rows)
    assert summary["mean_best_auroc"] > 0.99 and summary["distinct_best_dims"] == 2


def test_random_code_scores_about_one_half():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(4000, 16))
    attrs = rng.integers(0, 2, (4000, 5))
    raw = disentangle.auroc_matrix(z, attrs)
    assert raw.shape == (5, 16)
    assert np.abs(raw - 0.5).max() < 0.05
    summary = disentangle.summarize(disentangle.attribute_scores(z, attrs))
    assert 0.5 <= summary["mean_best_auroc"] < 0.55 and summary["mean_gap"] < 0.03


def test_constant_attribute_is_skipped_and_bad_input_rejected():
    z = np.random.default_rng(3).normal(size=(10, 3))
    attrs = np.zeros((10, 2), int)
    attrs[:5, 1] = 1
    assert np.isnan(disentangle.auroc_matrix(z, attrs)[0]).all()
    rows = disentangle.attribute_scores(z, attrs, ["never", "half"])
    assert [r["attribute"] for r in rows] == ["half"]
    with pytest.raises(ValueError, match="binary"):
        disentangle.auroc_matrix(z, np.full((10, 1), 2))
    with pytest.raises(ValueError, match="labels"):
        disentangle.auroc_matrix(z, np.zeros((9, 1)))
    with pytest.raises(ValueError, match="names"):
        disentangle.attribute_scores(z, attrs, ["one"])
    with pytest.raises(ValueError):
        disentangle.summarize([])
