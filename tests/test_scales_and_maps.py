"""Per-pixel and learned scales, the scale floor, and latent maps, on the VAE itself.

* A model saved before the exact discretized logistic (``tests/data``, written by
  vaecore at 890a111) loads and gives the same numbers.
* The floor of a learned scale is a constraint: the variable never goes below it, and
  leaves it again when the data ask for a larger scale.
* ``scale="pixel"`` / ``"shared"`` / ``"channel"``: saved and reloaded, learned (they
  shrink on easy data, per pixel where the pixels differ), exported as the mean head.
* Latent maps ``(h, w, c)``: flat codes outside the networks, KL and free bits per unit,
  save/reload, and an in-page export equal to Keras within the explorer's tolerance.
"""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from vaecore import build_vae, diagnostics, export, likelihoods

DATA = Path(__file__).parent / "data"
DENSE = {"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "tiny_dense"}
CONV = {"input": (8, 8, 3), "latent": 3, "encode": [(4, 3, 2)], "name": "tiny_conv"}
MAP = {"input": (16, 16, 3), "latent": (4, 4, 2), "encode": [(8, 3, 2), (8, 3, 2)],
       "name": "tiny_map"}  # fmt: skip


def test_a_model_saved_before_the_exact_form_loads_with_the_same_numbers():
    saved = json.loads((DATA / "dl_dense_before_exact.json").read_text())
    model = keras.models.load_model(DATA / "dl_dense_before_exact.keras")
    x, z = (np.asarray(saved[k], "float32") for k in ("x", "z"))
    assert model.scale_mode == "channel" and model.get_config()["scale"] is None
    np.testing.assert_array_equal(np.asarray(model.pixel_log_scale()), saved["log_scale"])
    # bit for bit on TensorFlow, which wrote them; JAX's kernels round differently (1 ulp)
    np.testing.assert_allclose(np.asarray(model.decode(z)), saved["decode"], rtol=5e-7, atol=1e-7)
    # -log P(x|z) changes a little, towards the exact value: the old log(sigmoid(b) -
    # sigmoid(a)) in float32 cancels where both edges lie in one tail (and switched to a
    # pdf-times-width stand-in below 1e-5); the float64 sum of the exact bin masses decides
    from scipy.stats import logistic

    mean = np.asarray(model.decode(z), "float64")
    s = np.exp(np.float64(saved["log_scale"][0]))
    k = np.round(x * 255.0).astype("float64")
    lo, hi = np.where(k == 0, -np.inf, (k - 0.5) / 255), np.where(k == 255, np.inf, (k + 0.5) / 255)
    upper, lower = (hi - mean) / s, (lo - mean) / s
    with np.errstate(all="ignore"):  # both sides are computed for every pixel
        log_p = np.where(
            k / 255 > mean,
            logistic.logsf(lower) + np.log1p(-np.exp(logistic.logsf(upper) - logistic.logsf(lower))),
            logistic.logcdf(upper) + np.log1p(-np.exp(logistic.logcdf(lower) - logistic.logcdf(upper))),
        )
    exact = -log_p.reshape(len(x), -1).sum(axis=1)
    new, old = np.asarray(model.nll_given_z(x, z), "float64"), np.asarray(saved["nll"])
    np.testing.assert_allclose(new, exact, rtol=2e-7)
    assert np.abs(new - exact).max() < np.abs(old - exact).max() / 10
    np.testing.assert_allclose(new, old, rtol=5e-5)  # the old were off by up to 2e-5 of ~500 nats


def test_the_scale_floor_is_a_constraint_with_a_gradient():
    model = build_vae(DENSE, likelihood="discretized_logistic", sigma=0.05, seed=0)
    assert isinstance(model.log_scale.constraint, likelihoods.MinValue)
    model.log_scale.assign([-6.95])
    step = keras.optimizers.SGD(1.0)
    step.apply_gradients([(np.array([0.5], "float32"), model.log_scale)])  # to -7.45, projected
    assert float(np.asarray(model.log_scale)[0]) == likelihoods.MIN_LOG_SCALE  # held at the floor
    noisy = np.random.default_rng(0).integers(0, 256, (32, 8, 8, 1)).astype("float32") / 255
    model.compile(optimizer=keras.optimizers.Adam(1e-2), steps_per_execution=1)
    model.fit(noisy, epochs=1, batch_size=8, verbose=0)
    assert float(np.asarray(model.log_scale)[0]) > likelihoods.MIN_LOG_SCALE + 0.02  # and leaves it


def test_keras_train_step_keeps_the_scale_at_the_floor():
    """In ``fit`` (TensorFlow's train step, JAX's stateless one): a decoder that predicts
    the pixels exactly wants an ever smaller scale; the constraint stops it at the floor."""
    model = build_vae(DENSE, likelihood="discretized_logistic", sigma=float(np.exp(-6.6)), seed=0)
    for w in model.decoder.weights:  # mean = 128/255 at every pixel, whatever z
        w.assign(np.zeros(w.shape, "float32"))
    bias = model.decoder.get_layer("pixel_logits").bias
    bias.assign(np.full(bias.shape, np.log(128 / 127), "float32"))
    model.encoder.trainable = model.decoder.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(0.3), steps_per_execution=1)
    model.fit(np.full((16, 8, 8, 1), 128 / 255, "float32"), epochs=2, batch_size=4, verbose=0)
    assert float(np.asarray(model.log_scale)[0]) == likelihoods.MIN_LOG_SCALE


def test_a_scale_saved_below_the_floor_loads_as_the_floor_the_old_loss_used():
    model = build_vae(DENSE, likelihood="discretized_logistic", sigma=0.2)
    model.load_own_variables({"0": np.array([-9.0], "float32")})  # maximum(-9, -7) was used
    assert np.asarray(model.pixel_log_scale()).tolist() == [-7.0]


def test_defaults_are_unchanged():
    for likelihood, mode in [("bernoulli", None), ("gaussian", "fixed"), ("discretized_logistic", "channel")]:
        model = build_vae(CONV, likelihood=likelihood)
        assert model.scale_mode == mode and len(model.decoder.outputs) == 1
    dl = build_vae(CONV, likelihood="discretized_logistic")
    assert [w.name for w in dl._trainable_variables] == ["pixel_log_scale"]
    assert dl.log_scale.shape == (3,)
    assert build_vae(CONV, likelihood="gaussian", sigma=0.2).log_scale is None


@pytest.mark.parametrize(
    "likelihood, scale, words",
    [("bernoulli", "pixel", "bernoulli"), ("discretized_logistic", "fixed", "takes scale"),
     ("gaussian", "per-pixel", "takes scale"), ("poisson", None, "likelihood")],
)  # fmt: skip
def test_scales_a_likelihood_does_not_take_are_refused(likelihood, scale, words):
    with pytest.raises(ValueError, match=words):
        build_vae(DENSE, likelihood=likelihood, scale=scale)


def _easy_images(n=32, shape=(8, 8, 3)):
    """Left half of every image the same mid grey; right half noisy."""
    x = np.full((n,) + shape, 120 / 255, "float32")
    x[:, :, shape[1] // 2 :] = np.random.default_rng(0).integers(0, 256, (n, shape[0], shape[1] // 2, shape[2])) / 255
    return x


@pytest.mark.parametrize("arch", [DENSE, CONV])
@pytest.mark.parametrize("likelihood", ["discretized_logistic", "gaussian"])
def test_a_per_pixel_scale_is_learned_pixel_by_pixel(arch, likelihood):
    x = _easy_images(shape=arch["input"])
    model = build_vae(arch, likelihood=likelihood, scale="pixel", sigma=0.3, seed=0)
    z = np.zeros((4, model.latent_dim), "float32")
    start = np.exp(np.asarray(model.pixel_log_scale(z)))
    np.testing.assert_allclose(start, 0.3, rtol=1e-5)  # every pixel starts at sigma
    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(3e-2))  # 60 steps: room to get there on any backend
    model.fit(x, epochs=15, batch_size=8, verbose=0)
    scale = np.exp(np.asarray(model.pixel_log_scale(model.encode(x[:4])[0])))
    half = arch["input"][1] // 2
    constant, noisy = scale[:, :, :half].mean(), scale[:, :, half:].mean()
    assert constant < 0.15 and constant < noisy / 2  # halved, and small where pixels never change


@pytest.mark.parametrize("scale", ["shared", "channel"])
def test_a_learned_gaussian_sigma_shrinks_on_easy_data(scale):
    x = _easy_images(shape=CONV["input"])
    x[:, :, 4:] = 120 / 255 + 0.02 * np.random.default_rng(1).standard_normal((32, 8, 4, 3))
    model = build_vae(CONV, likelihood="gaussian", scale=scale, sigma=0.3, seed=0)
    assert model.log_scale.shape == ((1,) if scale == "shared" else (3,))
    model.compile(optimizer=keras.optimizers.Adam(3e-2))
    model.fit(x, epochs=10, batch_size=8, verbose=0)
    assert float(np.exp(np.asarray(model.pixel_log_scale())).max()) < 0.1


@pytest.mark.parametrize(
    "arch, likelihood, scale",
    [(DENSE, "discretized_logistic", "pixel"), (CONV, "gaussian", "pixel"),
     (CONV, "gaussian", "shared"), (MAP, "discretized_logistic", "pixel"), (MAP, "bernoulli", None)],
)  # fmt: skip
def test_save_and_reload_give_the_same_numbers(tmp_path, arch, likelihood, scale):
    x = (np.random.default_rng(0).integers(0, 256, (8,) + arch["input"]) / 255).astype("float32")
    model = build_vae(arch, likelihood=likelihood, scale=scale, sigma=0.2, seed=0)
    model.compile(optimizer="adam")
    model.fit(x, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert (loaded.scale, loaded.scale_mode, loaded.latent_shape) == (scale, model.scale_mode, model.latent_shape)
    z = np.random.default_rng(1).normal(size=(8, model.latent_dim)).astype("float32")
    for a, b in zip(model.encode(x), loaded.encode(x), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(model.decode(z)), np.asarray(loaded.decode(z)))
    np.testing.assert_array_equal(np.asarray(model.nll_given_z(x, z)), np.asarray(loaded.nll_given_z(x, z)))


@pytest.mark.parametrize("arch, scale", [(DENSE, "pixel"), (CONV, "pixel"), (MAP, "pixel"), (MAP, None)])
def test_the_exported_decoder_is_the_mean_head(arch, scale):
    model = build_vae(arch, likelihood="discretized_logistic", scale=scale, seed=0)
    spec = export.decoder_spec(model, "float32")
    assert spec["input_shape"] == list(model.latent_shape) and spec["output_shape"] == list(arch["input"])
    z = np.random.default_rng(2).normal(size=(3, model.latent_dim)).astype("float32")
    keras_logits = np.asarray(model.decode_logits(z))
    for i in range(3):  # the runtime takes the flat code, as the page does
        np.testing.assert_allclose(export.run_network(spec, z[i]), keras_logits[i], atol=1e-5)
    if scale == "pixel":
        with pytest.raises(ValueError, match="nll_given_z"):
            model.reconstruction_nll(np.zeros((1,) + arch["input"], "float32"), keras_logits[:1])


def test_a_latent_map_has_flat_codes_outside_the_networks():
    model = build_vae(MAP, seed=0)
    x = np.random.default_rng(0).random((5, 16, 16, 3)).astype("float32")
    z_mean, z_log_var = model.encode(x)
    assert model.latent_shape == (4, 4, 2) and model.latent_dim == 32
    assert z_mean.shape == (5, 32) and z_log_var.shape == (5, 32)
    assert model.encoder.outputs[0].shape[1:] == (4, 4, 2)
    maps = np.asarray(z_mean).reshape(5, 4, 4, 2)
    np.testing.assert_array_equal(np.asarray(model.decode(z_mean)), np.asarray(model.decode(maps)))
    assert np.asarray(model.sample(3, seed=1)).shape == (3, 16, 16, 3)
    assert not [layer for layer in model.decoder.layers if isinstance(layer, keras.layers.Dense)]


def test_kl_and_free_bits_of_a_latent_map_are_per_unit():
    model = build_vae(MAP, beta=2.0, seed=0)
    x = np.random.default_rng(0).random((6, 16, 16, 3)).astype("float32")
    terms = model.loss_terms(x)
    mean, log_var = (np.asarray(t, "float64") for t in model.encode(x))
    expected = ((mean**2 + np.exp(log_var) - 1 - log_var) / 2).mean(axis=0)  # per unit, closed form
    np.testing.assert_allclose(np.asarray(terms["kl_per_dim"]), expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(diagnostics.kl_per_unit_map(model, x), expected.reshape(4, 4, 2), rtol=1e-4, atol=1e-7)
    model.free_bits = 10.0  # far above any unit's KL: 32 units, each lifted to 10
    floored = model.loss_terms(x)
    penalty = float(floored["loss"]) - float(floored["reconstruction_loss"])
    assert penalty == pytest.approx(2.0 * 32 * 10.0, rel=1e-5)


def test_active_units_of_a_latent_map_are_counted_per_channel():
    class Fake:  # a 2x2x3 map; channel 0 varies in every position, channel 2 in one, channel 1 never
        latent_shape = (2, 2, 3)

        def encode(self, x):
            n = len(x)
            mean = np.zeros((n, 2, 2, 3), "float32")
            mean[..., 0] = np.linspace(-1, 1, n)[:, None, None]
            mean[:, 1, 0, 2] = np.linspace(-1, 1, n)
            return mean.reshape(n, -1), np.zeros((n, 12), "float32")

    x = np.zeros((10, 4, 4, 1), "float32")
    assert diagnostics.active_units_per_channel(Fake(), x).tolist() == [4, 0, 1]
    assert diagnostics.active_units(Fake(), x) == 5
