"""Test-set measurements: the ELBO terms, the IWAE NLL, bits/dim, KL per unit and active units."""

import math

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from vaecore import build_vae, diagnostics, losses
from vaecore.summary import layer_table

CONV = {
    "input": (8, 8, 3),
    "latent": 3,
    "encode": [(4, 3, 2)],
    "hidden": [8],
    "name": "tiny_diag",
}


@pytest.fixture(scope="module")
def model():
    return build_vae(CONV, likelihood="discretized_logistic", seed=0)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3)).astype("float32") / 255.0


def test_kl_per_dimension_known_posteriors(images):
    class Fake:  # in each batch, mean (1, 0, 0) and (3, 0, 0) by turns; log-variance (0, 0, log 2)
        def encode(self, x):
            n = len(x)
            mean = np.zeros((n, 3), "float32")
            mean[:, 0] = np.where(np.arange(n) % 2, 3.0, 1.0)
            log_var = np.zeros((n, 3), "float32")
            log_var[:, 2] = math.log(2.0)
            return mean, log_var

    # KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - 1 - log s^2) / 2
    expected = [(0.5 + 4.5) / 2, 0.0, (2.0 - 1.0 - math.log(2.0)) / 2]
    per_dim = diagnostics.kl_per_dimension(Fake(), images, batch_size=10)  # 2 even batches
    np.testing.assert_allclose(per_dim, expected, rtol=1e-6, atol=1e-7)
    assert diagnostics.top_kl_dims(Fake(), images, 2, batch_size=10) == [0, 2]


def test_kl_per_dimension_adds_up_to_the_models_kl_term(model, images):
    per_dim = diagnostics.kl_per_dimension(model, images, batch_size=7)
    mean, log_var = model.encode(images)
    total = float(np.mean(losses.gaussian_kl(mean, log_var)))
    assert per_dim.shape == (3,) and per_dim.sum() == pytest.approx(total, rel=1e-5)


def test_active_units_count_dimensions_whose_means_vary(images):
    class Fake:
        def encode(self, x):
            n = len(x)
            mean = np.stack([np.linspace(-1, 1, n), np.full(n, 0.3), np.linspace(0, 0.05, n)], 1)
            return mean.astype("float32"), np.zeros((n, 3), "float32")

    activity = diagnostics.unit_activity(Fake(), images)
    assert activity[0] > 0.01 and activity[1] < 1e-12 and activity[2] < 0.01
    assert diagnostics.active_units(Fake(), images) == 1


def test_evaluate_reports_consistent_numbers(model, images):
    result = diagnostics.evaluate(model, images, num_samples=20, batch_size=8, seed=0)
    assert result["num_images"] == 20 and result["num_samples"] == 20
    assert result["elbo"] == pytest.approx(-(result["reconstruction_nll"] + result["kl"]), rel=1e-5)
    # the k-sample bound is tighter than the ELBO (up to Monte Carlo noise)
    assert result["nll"] <= -result["elbo"] + 1.0
    assert result["bits_per_dim"] == pytest.approx(result["nll"] / (8 * 8 * 3 * math.log(2)))
    again = diagnostics.evaluate(model, images, num_samples=20, batch_size=8, seed=0)
    assert again == result  # seeded: repeatable


def test_per_image_scores_belong_to_their_images(model, images):
    """Each score is its own image's: flat grey images (near the untrained decoder's mean) cost
    fewer nats than noise images wherever they stand in the batch, and evaluate's numbers are
    these scores' means."""
    grey = np.full((6, 8, 8, 3), 128 / 255, "float32")
    mixed = np.empty((12, 8, 8, 3), "float32")
    mixed[0::2], mixed[1::2] = grey, images[:6]
    scores = diagnostics.per_image_scores(model, mixed, num_samples=10, batch_size=5, seed=0)
    assert set(scores) == {"reconstruction_nll", "kl", "elbo", "nll"}
    assert all(v.shape == (12,) and v.dtype == np.float64 for v in scores.values())
    is_grey = np.arange(12) % 2 == 0
    for key in ("nll", "reconstruction_nll"):
        assert scores[key][is_grey].max() < scores[key][~is_grey].min(), key
    np.testing.assert_allclose(scores["elbo"], -(scores["reconstruction_nll"] + scores["kl"]))
    summary = diagnostics.evaluate(model, mixed, num_samples=10, batch_size=5, seed=0)
    for key in ("elbo", "kl", "nll"):
        assert summary[key] == pytest.approx(scores[key].mean(), rel=1e-9)
    assert summary["nll_stderr"] == pytest.approx(scores["nll"].std() / math.sqrt(12), rel=1e-9)


def test_evaluate_chunk_size_bounds_decodes_not_the_estimate(model, images):
    whole = diagnostics.evaluate(model, images, num_samples=40, batch_size=10, seed=0)
    chunked = diagnostics.evaluate(model, images, num_samples=40, batch_size=10, seed=0, chunk_size=3)
    # other random draws, the same estimator: the ELBO terms are identical, the bound agrees to noise
    assert chunked["elbo"] == whole["elbo"] and chunked["kl"] == whole["kl"]
    assert chunked["nll"] != whole["nll"]
    assert chunked["nll"] == pytest.approx(whole["nll"], abs=3 * (whole["nll_stderr"] + 0.5))
    with pytest.raises(ValueError, match="chunk_size"):
        diagnostics.evaluate(model, images, num_samples=4, chunk_size=0)


def test_evaluate_reads_labelled_datasets(model, images):
    ds = tf.data.Dataset.from_tensor_slices((images, np.zeros(20, "int32"))).batch(6)
    from_ds = diagnostics.evaluate(model, ds, num_samples=5, batch_size=8)
    from_array = diagnostics.evaluate(model, images, num_samples=5, batch_size=8)
    assert from_ds == from_array


def test_evaluate_rejects_bad_input(model):
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        diagnostics.evaluate(model, np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="batch_size"):
        diagnostics.kl_per_dimension(model, np.zeros((2, 8, 8, 3)), batch_size=0)


def test_layer_table_lists_layers_shapes_and_params(model):
    table = layer_table(model.encoder)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["layer", "type", "output shape", "params"]
    rows = table.set_index("layer")
    assert rows.loc["conv_0", "output shape"] == "(batch, 4, 4, 4)"
    assert rows.loc["conv_0", "params"] == 3 * 3 * 3 * 4 + 4
    assert rows.loc["hidden_0", "params"] == 64 * 8 + 8
    assert rows.loc["total", "params"] == model.encoder.count_params()
    decoder = layer_table(model.decoder, include_input=False).set_index("layer")
    assert "z" not in decoder.index and decoder.loc["hidden_0", "output shape"] == "(batch, 8)"
    with pytest.raises(TypeError, match="Keras model"):
        layer_table("encoder")


def test_evaluate_says_whether_its_bits_are_a_code_length(model, images):
    on_grid = diagnostics.evaluate(model, images[:4], num_samples=2)
    assert on_grid["bits_per_dim_exact"] is True
    resized = np.clip(images[:4] + 0.3 / 255, 0, 1)  # off the k/255 grid, as after a resize
    off = diagnostics.evaluate(model, resized, num_samples=2)
    assert off["bits_per_dim_exact"] is False and "quantize_to_grid" in off["bits_per_dim_note"]
    # scored as the nearest 8-bit level: -log p(x|z) of the rounded images, for the same codes
    z = np.asarray(model.encode(images[:4])[0])
    rounded = np.asarray(losses.quantize_to_grid(resized))
    np.testing.assert_array_equal(
        np.asarray(model.nll_given_z(resized, z)), np.asarray(model.nll_given_z(rounded, z))
    )
    cases = [("bernoulli", (images > 0.5).astype("float32"), True), ("bernoulli", images, False),
             ("gaussian", images, False)]  # fmt: skip
    for likelihood, x, exact in cases:
        assert diagnostics.bits_per_dim_is_exact(likelihood, x)[0] is exact


def test_evaluate_a_per_pixel_scale_latent_map_model():
    arch = {"input": (8, 8, 3), "latent": (4, 4, 2), "encode": [(4, 3, 2)], "name": "tiny_map"}
    m = build_vae(arch, likelihood="discretized_logistic", scale="pixel", seed=0)
    x = np.random.default_rng(0).integers(0, 256, (6, 8, 8, 3)).astype("float32") / 255.0
    r = diagnostics.evaluate(m, x, num_samples=3, batch_size=4)
    assert r["elbo"] == pytest.approx(-(r["reconstruction_nll"] + r["kl"]), rel=1e-5)
    assert r["bits_per_dim_exact"] and np.isfinite(r["nll"]) and r["active_units"] <= 32
    assert diagnostics.kl_per_unit_map(m, x).shape == (4, 4, 2)
    assert diagnostics.active_units_per_channel(m, x).shape == (2,)


def test_posterior_samples_have_the_posteriors_mean_and_spread():
    class Fake:  # every image: mean (2, 0), standard deviation (0.5, 1)
        def encode(self, x):
            n = len(x)
            mean = np.tile(np.array([[2.0, 0.0]], "float32"), (n, 1))
            log_var = np.tile(np.log(np.array([[0.25, 1.0]], "float32")), (n, 1))
            return mean, log_var

    x = np.zeros((4000, 2, 2, 1), "float32")
    z = diagnostics.posterior_samples(Fake(), x, seed=3, batch_size=1000)
    assert z.shape == (4000, 2)
    np.testing.assert_allclose(z.mean(axis=0), [2.0, 0.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [0.5, 1.0], rtol=0.05)
    np.testing.assert_array_equal(z, diagnostics.posterior_samples(Fake(), x, seed=3))  # the seed fixes eps
    assert not np.array_equal(z, diagnostics.posterior_samples(Fake(), x, seed=4))
