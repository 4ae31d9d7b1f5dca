"""Channel coupling: a pixel's colour channels depend linearly on the earlier ones given z.

Known answers: every conditional is a normalized distribution, so the joint
probabilities of one pixel's 256^3 values sum to one; coefficients of zero give
the independent likelihood; draws have the residual regression the coefficients
say; a model that can use the coupling scores correlated colour noise better.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from vaecore import build_vae, export, likelihoods

MAP = {"input": (8, 8, 3), "latent": (4, 4, 2), "encode": [(8, 3, 2)], "name": "tiny_map"}
CONV = {"input": (8, 8, 3), "latent": 4, "encode": [(8, 3, 2)], "name": "tiny_conv"}


def _joint_sum_over_green_and_blue(red_level, mean, log_scale, raw):
    """P(r) * sum over all (g, b) of P(g, b | r), for one pixel, with the library's likelihood."""
    levels = np.arange(256, dtype=np.float32) / 255
    g, b = np.meshgrid(levels, levels, indexing="ij")
    x = np.stack([np.full(g.size, red_level / 255, np.float32), g.ravel(), b.ravel()], -1)
    x = x.reshape(-1, 1, 1, 3)
    n = len(x)
    logits = np.log(mean / (1 - mean)).astype(np.float32)
    nll = likelihoods.negative_log_likelihood(
        "discretized_logistic",
        x,
        np.broadcast_to(logits, (n, 1, 1, 3)),
        np.broadcast_to(np.float32(log_scale), (n, 1, 1, 3)),
        coupling=np.broadcast_to(np.float32(raw), (n, 1, 1, 3)),
    )
    return float(np.exp(-np.asarray(nll, np.float64)).sum())


@pytest.mark.parametrize("raw", [[0.0, 0.0, 0.0], [2.0, -1.0, 0.5], [-6.0, 6.0, 6.0]])
def test_the_coupled_pixel_distribution_sums_to_one_given_red(raw):
    mean, log_scale = np.array([0.3, 0.6, 0.9]), np.log(0.04)
    for red in (0, 77, 255):
        red_probability = float(np.exp(np.asarray(likelihoods.losses.discretized_logistic_log_probs(
            np.float32(red / 255), np.float32(mean[0]), np.float32(log_scale)))))
        total = _joint_sum_over_green_and_blue(red, mean, log_scale, raw)
        np.testing.assert_allclose(total, red_probability, rtol=1e-4)


def test_zero_coefficients_are_the_independent_likelihood():
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 256, (4, 8, 8, 3)) / 255).astype(np.float32)
    logits = rng.normal(size=x.shape).astype(np.float32)
    log_scale = np.full(x.shape, -3.0, np.float32)
    independent = likelihoods.negative_log_likelihood("discretized_logistic", x, logits, log_scale)
    coupled = likelihoods.negative_log_likelihood(
        "discretized_logistic", x, logits, log_scale, coupling=np.zeros((4, 8, 8, 3), np.float32)
    )
    np.testing.assert_allclose(np.asarray(coupled), np.asarray(independent), rtol=1e-6)


def _coupled_model(bias_g_on_r: float):
    model = build_vae(MAP, likelihood="gaussian", scale="pixel", sigma=0.05,
                      channel_coupling=True, seed=0)
    layer = model.decoder.get_layer("coupling")
    kernel, bias = layer.get_weights()
    bias[:] = [np.arctanh(bias_g_on_r), 0.0, 0.0]  # a_gr = 0.8, b independent
    layer.set_weights([np.zeros_like(kernel), bias])
    return model


def test_draws_have_the_residual_regression_the_coefficients_say():
    model = _coupled_model(0.8)
    z = np.zeros((400, model.latent_dim), np.float32)
    draws = model.draw_pixels(z, seed=0)
    mean = np.asarray(model.decode(z))
    inside = (mean > 0.2) & (mean < 0.8)  # away from the clipping at 0 and 1
    keep = inside.all(-1)
    r = (draws - mean)[..., 0][keep]
    g = (draws - mean)[..., 1][keep]
    b = (draws - mean)[..., 2][keep]
    slope_g = float(np.sum(r * g) / np.sum(r * r))
    assert abs(slope_g - 0.8) < 0.03, slope_g
    assert abs(np.corrcoef(r, b)[0, 1]) < 0.05


def test_coupling_lowers_the_nll_of_correlated_colour_noise():
    """Grey images with noise shared by R, G, B: a coupled model can predict G and B from R."""
    rng = np.random.default_rng(1)
    base = rng.uniform(0.3, 0.7, (64, 8, 8, 1))
    x = np.clip(base + 0.02 * rng.standard_normal((64, 8, 8, 1)), 0, 1).repeat(3, -1)
    x = (np.round(x * 255) / 255).astype(np.float32)
    nll = {}
    for coupled in (False, True):
        keras.utils.set_random_seed(0)
        model = build_vae(CONV, likelihood="discretized_logistic", scale="pixel",
                          sigma=0.05, channel_coupling=coupled, seed=0)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        model.fit(x, epochs=30, batch_size=16, verbose=0)
        z = np.asarray(model.encode(x)[0])
        nll[coupled] = float(np.mean(np.asarray(model.nll_given_z(x, z))))
    # identical channels: G and B cost almost nothing once R is known
    assert nll[True] < 0.75 * nll[False], nll


def test_a_coupled_model_saves_reloads_and_exports_its_mean(tmp_path):
    model = _coupled_model(0.5)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.channel_coupling and loaded.get_config()["channel_coupling"] is True
    x = (np.random.default_rng(2).integers(0, 256, (3, 8, 8, 3)) / 255).astype(np.float32)
    z = np.random.default_rng(3).normal(size=(3, model.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(model.nll_given_z(x, z)), np.asarray(loaded.nll_given_z(x, z)))
    spec = export.decoder_spec(loaded, "float32")  # the page shows the mean: no coupling head
    np.testing.assert_allclose(export.run_network(spec, z[0]), np.asarray(loaded.decode_logits(z))[0], atol=1e-5)
    with pytest.raises(ValueError, match="nll_given_z"):
        loaded.reconstruction_nll(x, loaded.decode_logits(z), loaded.decoder_outputs(z)[1])


def test_an_uncoupled_config_has_no_coupling_key():
    assert "channel_coupling" not in build_vae(MAP, likelihood="discretized_logistic").get_config()


@pytest.mark.parametrize(
    "arch, likelihood, words",
    [(MAP, "bernoulli", "discretized_logistic or gaussian"),
     ({**CONV, "input": (8, 8, 1)}, "gaussian", "one channel"),
     ({"input": (8, 8, 3), "latent": 2, "hidden": [4], "name": "d"}, "gaussian", "conv decoder")],
)  # fmt: skip
def test_coupling_is_refused_where_it_means_nothing(arch, likelihood, words):
    with pytest.raises(ValueError, match=words):
        build_vae(arch, likelihood=likelihood, channel_coupling=True)
