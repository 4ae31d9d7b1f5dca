"""vaecore.compare: paired differences see a small shift that unpaired means cannot."""

import numpy as np
import pytest

from vaecore import compare


def test_a_small_shift_under_large_image_noise_is_resolved_by_pairing():
    rng = np.random.default_rng(0)
    images = rng.normal(0, 100, size=400)  # images differ a lot from each other
    a = images + rng.normal(0, 1, size=400)
    b = images + 2 + rng.normal(0, 1, size=400)  # b is better by 2 on every image
    out = compare.paired_difference(a, b)
    unpaired_se = np.hypot(compare.standard_error(a), compare.standard_error(b))
    assert out["difference"] == pytest.approx(2, abs=0.3)
    assert out["se_images"] < 0.1 < 5 < unpaired_se
    assert out["fraction_b_higher"] > 0.85
    assert out["seeds"] == 1 and np.isnan(out["se_seeds"])


def test_seed_spread_comes_from_the_per_seed_means():
    a = np.zeros((3, 4))
    b = np.array([[1.0] * 4, [2.0] * 4, [6.0] * 4])  # per-seed differences 1, 2, 6
    out = compare.paired_difference(a, b)
    assert out["difference"] == pytest.approx(3.0)
    assert out["se_seeds"] == pytest.approx(np.std([1, 2, 6], ddof=1) / np.sqrt(3))
    assert out["se_images"] == pytest.approx(0.0)  # every image moved by the same amount
    assert out["seeds"] == 3 and out["images"] == 4


def test_mismatched_or_broken_scores_are_refused():
    with pytest.raises(ValueError, match="same seeds and images"):
        compare.paired_difference(np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="NaN or infinite"):
        compare.paired_difference(np.zeros(3), np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="per-image scores"):
        compare.paired_difference(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


def test_mean_pm_formats_mean_and_standard_error():
    assert compare.mean_pm([-9000.0, -9100.0, -9200.0]) == "-9,100 ± 58"
    assert compare.mean_pm([1.23456], decimals=2) == "1.23"
    with pytest.raises(ValueError):
        compare.mean_pm([])
