"""vaecore.disentangle's metrics on constructed codes whose answers are known.

Factors: 4 independent, uniform factors with 10 classes each (fewer than the 20 bins,
so binning loses nothing). Codes equal to the factors are perfectly disentangled; a
random rotation of them keeps all the information but spreads every factor over
every dimension; Gaussian noise carries none. Known partial answers: a factor copied
into two dimensions has a mutual-information gap of 0, so MIG = 3/4.
"""

from __future__ import annotations

import numpy as np
import pytest

from vaecore import disentangle as dis
from vaecore.data import dsprites

N, K, VALUES = 10_000, 4, 10
SIZES = (VALUES,) * K


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    return np.random.default_rng(0).integers(0, VALUES, (N, K)).astype(np.float64)


def rotation(seed: int = 1, dim: int = K) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def rotated(f: np.ndarray) -> np.ndarray:
    return (f - f.mean(axis=0)) / f.std(axis=0) @ rotation()


def noise(n: int = N, dim: int = K, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim))


def permuted_and_rescaled(z: np.ndarray) -> np.ndarray:
    """Code dimensions reordered, each multiplied by a different (also negative) factor and shifted."""
    order = np.array([2, 0, 3, 1])
    return z[:, order] * np.array([3.0, -0.01, 250.0, -7.0]) + np.array([1.0, -5.0, 0.0, 42.0])


# --- MIG -----------------------------------------------------------------------------------


def test_mig_known_answers(factors):
    assert dis.mig(factors, factors) > 0.99
    assert dis.mig(rotated(factors), factors) < 0.3
    assert dis.mig(noise(), factors) < 0.02
    doubled = np.column_stack([factors[:, 0], factors[:, 0], factors[:, 1:]])  # factor 0 twice
    np.testing.assert_allclose(dis.mig_per_factor(doubled, factors), [0, 1, 1, 1], atol=0.01)
    assert dis.mig(doubled, factors) == pytest.approx(0.75, abs=0.01)


def test_mig_is_invariant_to_permuting_and_rescaling_codes(factors):
    z = factors + noise() * 2.0  # partly informative
    assert 0.05 < dis.mig(z, factors) < 0.9
    assert dis.mig(permuted_and_rescaled(z), factors) == pytest.approx(
        dis.mig(z, factors), abs=1e-12
    )


def test_mutual_information_matrix(factors):
    mi = dis.mutual_information(factors, factors)
    assert mi.shape == (K, K)
    np.testing.assert_allclose(np.diag(mi), np.log(VALUES), atol=0.01)  # I(v; v) = H(v), uniform
    assert (mi[~np.eye(K, dtype=bool)] < 0.02).all()  # independent factors
    # the factor a dimension tracks is the row's largest entry, whatever the order
    z = np.column_stack([factors[:, 3], noise(dim=1)[:, 0], factors[:, 1] * -2])
    np.testing.assert_array_equal(
        np.argmax(dis.mutual_information(z, factors)[[0, 2]], axis=1), [3, 1]
    )


def test_discretize_bins_each_column_over_its_range():
    x = np.column_stack([np.linspace(0, 1, 101), np.full(101, 5.0), np.linspace(-3, 9, 101) ** 3])
    bins = dis.discretize(x, num_bins=20)
    assert bins[:, 0].min() == 0 and bins[:, 0].max() == 19 and len(np.unique(bins[:, 0])) == 20
    assert (bins[:, 1] == 0).all()  # a constant column is one bin
    assert (np.diff(bins[:, 2]) >= 0).all()


def test_mig_refuses_bad_input(factors):
    with pytest.raises(ValueError, match="rows"):
        dis.mig(factors[:10], factors[:11])
    with pytest.raises(ValueError, match="2 code dimensions"):
        dis.mig(factors[:, :1], factors)
    with pytest.raises(ValueError, match="constant"):
        dis.mig(factors, np.zeros((N, 2)))


# --- SAP ----------------------------------------------------------------------------------


def test_sap_known_answers(factors):
    assert dis.sap(factors, factors) > 0.99
    assert dis.sap(rotated(factors), factors) < 0.5
    assert dis.sap(noise(), factors) < 0.02
    doubled = np.column_stack([factors[:, 0], factors[:, 0], factors[:, 1:]])
    assert dis.sap(doubled, factors) == pytest.approx(0.75, abs=0.01)


def test_sap_is_invariant_to_permuting_and_rescaling_codes(factors):
    z = factors + noise() * 2.0
    assert dis.sap(permuted_and_rescaled(z), factors) == pytest.approx(
        dis.sap(z, factors), abs=1e-9
    )


def test_sap_categorical_factor_uses_a_classifier():
    rng = np.random.default_rng(5)
    shape = rng.integers(0, 3, (N, 1)).astype(float)
    codes = np.column_stack(
        [rng.normal(size=N), rng.permutation([2.0, -1.0, 7.0])[shape[:, 0].astype(int)]]
    )
    # the second dimension names the class exactly (in a scrambled order, which R^2 would miss);
    # the first is noise, accuracy at chance (1/3): the gap is about 2/3
    assert dis.sap(codes, shape, discrete=True) == pytest.approx(2 / 3, abs=0.03)
    scores = dis.sap_matrix(codes, shape, discrete=True)
    assert scores[1, 0] == 1.0 and abs(scores[0, 0] - 1 / 3) < 0.03


# --- DCI -----------------------------------------------------------------------------------


def test_dci_known_answers(factors):
    ideal = dis.dci(factors, factors)
    assert ideal["disentanglement"] > 0.99 and ideal["completeness"] > 0.99
    assert ideal["informativeness"] > 0.99
    np.testing.assert_array_equal(np.argmax(ideal["importance"], axis=0), np.arange(K))
    turned = dis.dci(rotated(factors), factors)
    assert turned["disentanglement"] < 0.4 and turned["completeness"] < 0.4
    assert turned["informativeness"] > 0.95  # all the information is still there, linearly
    empty = dis.dci(noise(), factors)
    assert empty["disentanglement"] < 0.05 and empty["completeness"] < 0.05
    assert empty["informativeness"] < 0.02
    # factor 0 in two noisy copies: each copy serves one factor (D stays high), but the
    # factor is spread over two dimensions (C drops). (Two *identical* copies would not
    # show it: the lasso puts all the weight on one of two equal columns.)
    e = noise(dim=2, seed=8)
    copies = np.column_stack([factors[:, :1] + e, factors[:, 1:]])
    doubled = dis.dci(copies, factors)
    assert doubled["disentanglement"] > 0.95 and doubled["completeness"] < 0.9


def test_dci_is_invariant_to_permuting_and_rescaling_codes(factors):
    z = factors + noise() * 2.0
    a, b = dis.dci(z, factors), dis.dci(permuted_and_rescaled(z), factors)
    for key in ("disentanglement", "completeness", "informativeness"):
        assert b[key] == pytest.approx(a[key], abs=1e-6)


def test_lasso_recovers_a_sparse_linear_model():
    x = noise(n=20_000, dim=6, seed=7)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    y = (0.5 * x[:, 0] - 0.3 * x[:, 4])[:, None]
    w = dis.lasso(x, y, alpha=0.05)[:, 0]
    # nearly orthogonal standardized inputs: each weight is the true one shrunk by alpha
    np.testing.assert_allclose(w, [0.45, 0, 0, 0, -0.25, 0], atol=0.02)
    assert (w[[1, 2, 3, 5]] == 0).all()


# --- FactorVAE and beta-VAE scores ---------------------------------------------------------


def identity(classes: np.ndarray) -> np.ndarray:
    return classes.astype(np.float64)


def turned_45(classes: np.ndarray) -> np.ndarray:
    z = classes.astype(np.float64)
    return np.column_stack([z[:, 0] + z[:, 1], z[:, 0] - z[:, 1], z[:, 2:]]) / np.sqrt(2)


def noisy_codes(classes: np.ndarray) -> np.ndarray:
    return np.random.default_rng(len(classes) + int(classes.sum())).normal(size=(len(classes), K))


SMALL = {"num_train": 800, "num_eval": 400}


def test_factor_vae_score_known_answers():
    ideal = dis.factor_vae_score(identity, SIZES, num_variance_estimate=2000, **SMALL)
    assert (
        ideal["eval_accuracy"] == 1.0
        and ideal["train_accuracy"] == 1.0
        and ideal["num_active_dims"] == K
    )
    np.testing.assert_array_equal(np.argmax(ideal["votes"], axis=1), np.arange(K))
    # factors 0 and 1 turned by 45 degrees: fixing either leaves both dimensions equally
    # variable, so the votes for these two factors split: about (0.5 + 0.5 + 1 + 1) / 4
    turned = dis.factor_vae_score(turned_45, SIZES, num_variance_estimate=2000, **SMALL)
    assert turned["eval_accuracy"] == pytest.approx(0.75, abs=0.06)
    chance = dis.factor_vae_score(noisy_codes, SIZES, num_variance_estimate=2000, **SMALL)
    assert abs(chance["eval_accuracy"] - 1 / K) < 0.08


def test_factor_vae_score_is_invariant_to_permuting_and_rescaling_codes():
    def partly(classes):
        return classes + np.random.default_rng(int(classes.sum())).normal(size=classes.shape) * 3.0

    def changed(classes):
        return permuted_and_rescaled(partly(classes))

    a = dis.factor_vae_score(partly, SIZES, num_variance_estimate=2000, **SMALL)
    b = dis.factor_vae_score(changed, SIZES, num_variance_estimate=2000, **SMALL)
    assert 0.3 < a["eval_accuracy"] < 1.0
    assert b["eval_accuracy"] == a["eval_accuracy"] and b["train_accuracy"] == a["train_accuracy"]


def test_constant_factors_are_never_chosen():
    result = dis.factor_vae_score(
        identity, (1, 5, 5), num_variance_estimate=1000, num_train=300, num_eval=100
    )
    assert result["votes"][:, 0].sum() == 0 and result["eval_accuracy"] == 1.0
    with pytest.raises(ValueError, match="2 factors"):
        dis.factor_vae_score(identity, (1, 5), num_train=10, num_eval=10)


def test_beta_vae_score_known_answers():
    assert dis.beta_vae_score(identity, SIZES, **SMALL)["eval_accuracy"] > 0.97
    chance = dis.beta_vae_score(noisy_codes, SIZES, **SMALL)["eval_accuracy"]
    assert abs(chance - 1 / K) < 0.08


def test_scores_encode_images_with_a_models_posterior_mean():
    """A stand-in model: encode() returns (mean, log_var); the score uses the mean."""

    class Model:
        def encode(self, x):
            return x[:, ::-1] * 2.0, np.full(x.shape, -50.0)

    def images(classes):
        return classes.astype(np.float32) + 0.5

    direct = dis.factor_vae_score(
        lambda c: (c[:, ::-1] + 0.5) * 2.0, SIZES, num_variance_estimate=500, **SMALL
    )
    via_model = dis.factor_vae_score(Model(), SIZES, images, num_variance_estimate=500, **SMALL)
    assert via_model["eval_accuracy"] == direct["eval_accuracy"] == 1.0
    np.testing.assert_array_equal(via_model["votes"], direct["votes"])


def test_metrics_on_dsprites_with_hand_made_codes():
    """Codes read off the pixels (centroid column, centroid row, area) track posX, posY and scale."""
    data = dsprites.load_dsprites(subset=3000, subset_seed=0)
    rows, cols = np.mgrid[0:64, 0:64]
    area = data.images.sum(axis=(1, 2)).astype(np.float64)
    codes = np.column_stack(
        [
            (data.images * cols).sum(axis=(1, 2)) / area,
            (data.images * rows).sum(axis=(1, 2)) / area,
            area,
        ]
    )
    mi = dis.mutual_information(codes, data.classes)
    np.testing.assert_array_equal(np.argmax(mi, axis=1), [3, 4, 1])  # posX, posY, scale
    gaps = dis.mig_per_factor(codes, data.classes)
    assert gaps[3] > 0.5 and gaps[4] > 0.5 and gaps[2] < 0.1  # orientation is in none of them
    # the FactorVAE score from this table: the three dimensions are each the least variable
    # when their factor is fixed; shape and orientation have no dimension of their own
    codes = np.column_stack([codes, np.random.default_rng(9).normal(size=len(codes))])
    result = dis.factor_vae_score(
        codes, factors=data.classes, num_train=500, num_eval=300, num_variance_estimate=3000
    )
    np.testing.assert_array_equal(np.argmax(result["votes"][:3], axis=1), [3, 4, 1])
    assert 0.55 < result["eval_accuracy"] < 0.85


def test_scores_from_a_table_of_encoded_examples(factors):
    """codes + factors= draws batches from the rows that share the fixed factor's value."""
    ideal = dis.factor_vae_score(
        factors * 3.0, factors=factors, num_variance_estimate=2000, **SMALL
    )
    assert ideal["eval_accuracy"] == 1.0 and ideal["votes"].shape == (K, K)
    chance = dis.factor_vae_score(noise(), factors=factors, num_variance_estimate=2000, **SMALL)
    assert abs(chance["eval_accuracy"] - 1 / K) < 0.08
    turned = dis.factor_vae_score(
        turned_45(factors), factors=factors, num_variance_estimate=2000, **SMALL
    )
    assert turned["eval_accuracy"] == pytest.approx(0.75, abs=0.06)
    assert dis.beta_vae_score(factors, factors=factors, **SMALL)["eval_accuracy"] > 0.97
    assert (
        abs(dis.beta_vae_score(noise(), factors=factors, **SMALL)["eval_accuracy"] - 1 / K) < 0.08
    )
    with_constant = np.column_stack([np.zeros(N), factors[:, :2]])
    result = dis.factor_vae_score(
        factors[:, :2],
        factors=with_constant,
        num_train=200,
        num_eval=100,
        num_variance_estimate=500,
    )
    assert result["votes"][:, 0].sum() == 0 and result["eval_accuracy"] == 1.0
    with pytest.raises(ValueError, match="either"):
        dis.factor_vae_score(factors, factors=factors, images=lambda c: c)
