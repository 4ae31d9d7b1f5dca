"""The PixelCNN prior over code grids (vaecore.pixelcnn): causal masks, a normalized likelihood,
training, sampling, saving, and its use as a VQ-VAE's prior. Backend-independent
(run also with KERAS_BACKEND=jax)."""

import itertools
import math

import keras
import numpy as np
import pytest
from keras import ops

from vaecore.pixelcnn import MaskedConv2D, PixelCNNPrior, causal_mask
from vaecore.vq import build_vqvae


def np_(x) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(x))


def test_the_masks_are_the_hand_written_ones():
    np.testing.assert_array_equal(causal_mask((3, 3), "A"), [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(causal_mask((3, 3), "B"), [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(
        causal_mask((3, 5), "A"), [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]]
    )


def changed_cells(net, grid: np.ndarray, cell: tuple[int, int], num_codes: int) -> np.ndarray:
    """``(h, w)`` max |logit change| at every cell when ``cell``'s code changes."""
    other = grid.copy()
    other[:, cell[0], cell[1]] = (other[:, cell[0], cell[1]] + 1) % num_codes
    return np.abs(np_(net(other)) - np_(net(grid))).max(axis=(0, 3))


@pytest.mark.parametrize("residual_blocks", [0, 2])
def test_the_pixelcnn_is_causal(residual_blocks):
    """Changing one cell leaves the logits of that cell and every earlier cell (raster
    order) unchanged, and changes a later cell's; for every cell of a 4 x 5 grid."""
    h, w, k = 4, 5, 6
    prior = PixelCNNPrior((h, w), k, filters=16, residual_blocks=residual_blocks)
    grid = np.random.default_rng(0).integers(0, k, (3, h, w)).astype(np.int32)
    order = np.arange(h * w).reshape(h, w)
    for i, j in itertools.product(range(h), range(w)):
        change = changed_cells(prior, grid, (i, j), k)
        assert change[order <= order[i, j]].max() < 1e-6, f"cell {(i, j)} leaks to itself or earlier"
        if order[i, j] < h * w - 1:
            assert change[order > order[i, j]].max() > 1e-4, f"cell {(i, j)} reaches no later cell"


def test_the_causality_check_catches_a_mask_b_first_layer():
    """The test above can fail: a first layer with mask B lets a cell see itself."""
    inputs = keras.Input((3, 3), dtype="int32")
    h = keras.layers.Embedding(4, 8)(inputs)
    net = keras.Model(inputs, MaskedConv2D(4, 3, "B")(h))
    grid = np.zeros((1, 3, 3), np.int32)
    assert changed_cells(net, grid, (1, 1), 4)[1, 1] > 1e-4


@pytest.mark.parametrize(("grid_shape", "k"), [((2, 2), 2), ((1, 3), 3)])
def test_the_likelihood_sums_to_one_over_every_grid(grid_shape, k):
    prior = PixelCNNPrior(grid_shape, k, filters=8, kernel_size=3, residual_blocks=1)
    cells = math.prod(grid_shape)
    grids = np.array(list(itertools.product(range(k), repeat=cells)), np.int32).reshape(-1, *grid_shape)
    assert len(grids) == k**cells
    total = np.exp(np_(prior.log_prob(grids)).astype(np.float64)).sum()
    assert total == pytest.approx(1.0, abs=1e-5)
    prior.compile(optimizer=keras.optimizers.Adam(5e-2))
    prior.fit(grids[:3], epochs=30, verbose=0)  # trained on three grids: still normalized
    probs = np.exp(np_(prior.log_prob(grids)).astype(np.float64))
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert probs[:3].sum() > 3.0 / len(grids) + 0.1  # and the three got likelier than uniform


def stripes(n: int = 512) -> np.ndarray:
    """4 x 4 grids whose rows all copy a random first row: later rows are predictable."""
    first = np.random.default_rng(0).integers(0, 4, (n, 1, 4))
    return np.repeat(first, 4, axis=1).astype(np.int32)


@pytest.fixture(scope="module")
def trained_prior():
    prior = PixelCNNPrior((4, 4), 4, filters=32, kernel_size=3, residual_blocks=2, seed=0)
    prior.compile(optimizer=keras.optimizers.Adam(3e-3))
    data = stripes()
    before = prior.evaluate(data, batch_size=128, verbose=0, return_dict=True)
    history = prior.fit(data, batch_size=64, epochs=8, verbose=0).history
    return prior, data, before, history


def test_training_lowers_the_nll_towards_the_first_row_alone(trained_prior):
    prior, data, before, history = trained_prior
    assert history["loss"][-1] < before["loss"] - 5
    # The data hold 4 log 4 nats per grid (the first row); uniform codes cost 16 log 4.
    assert history["nll"][-1] < 9 * math.log(4)
    assert history["bits_per_dim"][-1] == pytest.approx(history["nll"][-1] / (16 * math.log(2)), rel=1e-4)
    np.testing.assert_allclose(
        prior.bits_per_dim(data[:5]), -np_(prior.log_prob(data[:5])) / (16 * math.log(2)), rtol=1e-5
    )


def test_samples_are_reproducible_grids_that_follow_the_data(trained_prior):
    prior, *_ = trained_prior
    grids = prior.sample(32, seed=3)
    assert grids.shape == (32, 4, 4) and grids.dtype == np.int32
    assert grids.min() >= 0 and grids.max() < 4
    np.testing.assert_array_equal(grids, prior.sample(32, seed=3))
    assert (grids[:, 1:] == grids[:, :1]).mean() > 0.8  # the later rows copy the first
    cold = prior.sample(32, seed=3, temperature=0.5)
    assert (cold[:, 1:] == cold[:, :1]).mean() >= (grids[:, 1:] == grids[:, :1]).mean() - 0.05


def test_save_and_reload_give_identical_logits(trained_prior, tmp_path):
    prior, data, *_ = trained_prior
    prior.save(tmp_path / "prior.keras")
    loaded = keras.models.load_model(tmp_path / "prior.keras")
    assert isinstance(loaded, PixelCNNPrior) and loaded.get_config() == prior.get_config()
    np.testing.assert_array_equal(np_(loaded(data[:8])), np_(prior(data[:8])))


def test_the_prior_of_a_vq_vae_samples_and_scores_its_grids():
    model = build_vqvae(
        {"input": (8, 8, 1), "encode": [(8, 3, 2)], "latent": (4, 4, 2),
         "codebook": {"size": 4}, "name": "vq_prior"}, seed=0,
    )  # fmt: skip
    prior = PixelCNNPrior.for_model(model, filters=8, kernel_size=3, residual_blocks=1, seed=0)
    assert prior.grid_shape == (4, 4) and prior.num_codes == 4
    images = np_(model.sample(2, prior=prior, seed=5))
    np.testing.assert_allclose(images, np_(model.decode_indices(prior.sample(2, seed=5))), atol=1e-6)
    x = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).round().astype(np.float32)
    bound = model.likelihood_bound(x, prior)
    np.testing.assert_allclose(
        bound["prior_nll"], -np_(prior.log_prob(model.encode_indices(x))), rtol=1e-5
    )


@pytest.mark.parametrize(("kwargs", "words"), [({"kernel_size": 4}, "odd"), ({"mask_type": "C"}, "mask_type")])
def test_bad_masked_convolutions_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        MaskedConv2D(4, **{"kernel_size": 3, **kwargs})
