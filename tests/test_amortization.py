"""vaecore.amortization: per-image posteriors optimized where the best answer is known."""

import keras
import numpy as np
import pytest

import vaecore
from vaecore import amortization

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="gradient steps use TensorFlow")

ARCH = {"input": (6, 6, 1), "latent": 3, "hidden": [16], "name": "tiny_dense"}


def _images(n=12, seed=0):
    return (np.random.default_rng(seed).uniform(size=(n, 6, 6, 1)) > 0.5).astype("float32")


def _deaf_decoder_model():
    """A VAE whose decoder ignores z: its first dense layer's kernel is zero."""
    model = vaecore.build_vae(ARCH, likelihood="bernoulli", seed=0)
    first = next(layer for layer in model.decoder.layers if layer.weights and len(layer.weights[0].shape) == 2)
    kernel, bias = first.get_weights()
    first.set_weights([np.zeros_like(kernel), bias])
    return model


def test_when_the_decoder_ignores_z_the_best_posterior_is_the_prior():
    model, x = _deaf_decoder_model(), _images()
    before = amortization.optimize_posteriors(model, x, steps=0, eval_samples=4)
    assert np.all(before["kl_encoder"] > 1e-3)  # an untrained encoder says something
    result = amortization.optimize_posteriors(model, x, steps=200, learning_rate=0.1, eval_samples=4)
    # log p(x|z) is the same for every z, so ELBO = const - KL, maximized by q = N(0, I)
    assert np.all(result["kl_optimized"] < 1e-3)
    assert np.abs(result["z_mean"]).max() < 0.05 and np.abs(result["z_log_var"]).max() < 0.05
    gap = result["elbo_optimized"] - result["elbo_encoder"]
    np.testing.assert_allclose(gap, result["kl_encoder"] - result["kl_optimized"], atol=1e-3)


def test_the_gap_of_an_untrained_model_is_positive_and_summarized():
    model, x = vaecore.build_vae(ARCH, likelihood="bernoulli", seed=1), _images(seed=3)
    out = amortization.amortization_gap(model, x, steps=60, learning_rate=0.05, eval_samples=64, batch_size=6)
    assert out["num_images"] == 12 and out["per_image"]["z_mean"].shape == (12, 3)
    assert out["gap"] > 3 * out["gap_stderr"] > 0
    assert out["elbo_optimized"] == pytest.approx(out["elbo_encoder"] + out["gap"])
    assert np.all(np.isfinite(out["per_image"]["elbo_optimized"]))


def test_zero_steps_give_a_zero_gap_and_bad_arguments_are_refused():
    model, x = vaecore.build_vae(ARCH, likelihood="bernoulli", seed=2), _images(4)
    out = amortization.optimize_posteriors(model, x, steps=0, eval_samples=8)
    np.testing.assert_allclose(out["elbo_optimized"], out["elbo_encoder"])  # the same noise for both
    with pytest.raises(ValueError, match="num_samples"):
        amortization.optimize_posteriors(model, x, num_samples=0)


def test_the_bound_with_the_encoders_gaussians_is_the_models_own_estimate():
    model, x = vaecore.build_vae(ARCH, likelihood="bernoulli", seed=4), _images(10, seed=5)
    mean, log_var = (np.asarray(t) for t in model.encode(x))
    ours = amortization.log_likelihood_bound(model, x, mean, log_var, num_samples=30, batch_size=4, seed=3)
    theirs = np.asarray(model.importance_weighted_log_likelihood(x, num_samples=30, batch_size=4, seed=3))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    # the prior as the proposal: a valid (looser) bound, one finite value per image
    wide = amortization.log_likelihood_bound(model, x, np.zeros_like(mean), np.zeros_like(log_var), 30)
    assert wide.shape == (10,) and np.all(np.isfinite(wide))
    with pytest.raises(ValueError, match="one z_mean"):
        amortization.log_likelihood_bound(model, x, mean[:3], log_var[:3])
