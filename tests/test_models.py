"""The VAE model: shapes, the loss it trains on, save/load and its errors."""

import re

import keras
import numpy as np
import pytest

from vaecore import build_vae, losses

DENSE = {"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "tiny_dense"}
CONV = {
    "input": (16, 16, 3),
    "latent": 4,
    "encode": [(4, 3, 2), (8, 3, 2)],
    "decode": None,
    "name": "tiny_conv",
}


@pytest.fixture(scope="module")
def images():
    return (np.random.default_rng(0).random((32, 8, 8, 1)) > 0.5).astype("float32")


@pytest.mark.parametrize("arch", [DENSE, CONV])
def test_shapes(arch):
    model = build_vae(arch, seed=0)
    x = np.random.default_rng(0).random((5,) + tuple(arch["input"])).astype("float32")
    z_mean, z_log_var = model.encode(x)
    assert z_mean.shape == (5, arch["latent"]) and z_log_var.shape == (5, arch["latent"])
    assert model.decode(z_mean).shape == x.shape
    assert model.reconstruct(x).shape == x.shape
    samples = np.asarray(model.sample(3, seed=1))
    assert samples.shape == (3,) + tuple(arch["input"])
    assert samples.min() >= 0.0 and samples.max() <= 1.0


def test_conv_with_explicit_decoder():
    arch = dict(CONV, decode=[(8, 3, 4), (4, 3, 1)])
    model = build_vae(arch)
    assert model.decode(np.zeros((1, 4), "float32")).shape == (1, 16, 16, 3)


@pytest.mark.parametrize("arch", [DENSE, CONV])
def test_layer_names_do_not_depend_on_how_many_models_were_built(arch):
    # layer tables in the book list these names: Keras' global counters (flatten_3, reshape_2)
    # would make them change with every model built earlier in the session
    first, second = build_vae(arch), build_vae(arch)
    for part in ("encoder", "decoder"):
        names = [layer.name for layer in getattr(first, part).layers]
        assert names == [layer.name for layer in getattr(second, part).layers]
        assert not [n for n in names if re.fullmatch(r"(flatten|reshape)_\d+", n)], names


def test_arch_def_is_stored_with_the_model():
    model = build_vae(DENSE)
    assert model.arch_def["hidden"] == (16,) and model.latent_dim == 2
    assert model.name == "tiny_dense"


def test_loss_terms_are_the_elbo_terms(images):
    model = build_vae(DENSE, beta=3.0, seed=0)
    terms = model.loss_terms(images)
    z_mean, z_log_var = model.encode(images)
    kl = float(np.mean(losses.gaussian_kl(z_mean, z_log_var)))
    assert float(terms["kl_loss"]) == pytest.approx(kl, rel=1e-5)
    expected = float(terms["reconstruction_loss"]) + 3.0 * kl
    assert float(terms["loss"]) == pytest.approx(expected, rel=1e-5)


def test_fit_reports_trackers_and_learns(images):
    keras.utils.set_random_seed(0)
    model = build_vae(DENSE, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(images, epochs=5, batch_size=8, verbose=0).history
    assert set(history) >= {"loss", "reconstruction_loss", "kl_loss", "elbo"}
    assert history["loss"][-1] < history["loss"][0]
    np.testing.assert_allclose(
        history["elbo"], -(np.array(history["reconstruction_loss"]) + history["kl_loss"]), rtol=1e-4
    )
    assert set(model.evaluate(images, verbose=0, return_dict=True)) >= {"loss", "elbo"}


def _epoch(model, images, **kwargs):
    return model.fit(images, epochs=1, batch_size=8, verbose=0, **kwargs).history


def test_setting_beta_between_epochs_changes_the_loss(images):
    """The KL weight is a variable read at every step: the issue that beta baked into
    the traced train function ignored ``model.beta = x`` must not come back."""
    model = build_vae(DENSE, beta=1.0, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=1)
    first = _epoch(model, images)
    assert first["kl_loss"][0] > 0 and first["kl_weight"] == [pytest.approx(1.0)]
    model.beta = 0.0
    second = _epoch(model, images, validation_data=images)
    assert second["kl_weight"] == [0.0] and second["kl_loss"][0] > 0
    assert second["loss"][0] == pytest.approx(second["reconstruction_loss"][0], rel=1e-6)
    model.beta = 5.0
    third = _epoch(model, images, validation_data=images)
    expected = third["reconstruction_loss"][0] + 5.0 * third["kl_loss"][0]
    assert third["loss"][0] == pytest.approx(expected, rel=1e-5)
    # validation is scored with the same weight
    val = third["val_reconstruction_loss"][0] + 5.0 * third["val_kl_loss"][0]
    assert third["val_loss"][0] == pytest.approx(val, rel=1e-5)
    assert third["val_kl_weight"] == [pytest.approx(5.0)]
    with pytest.raises(ValueError, match="beta"):
        model.beta = -1.0


def test_config_keeps_the_constructor_beta_while_the_variable_moves(tmp_path, images):
    model = build_vae(DENSE, beta=2.0, seed=0)
    model.compile(optimizer="adam")
    model.beta = 0.5
    assert model.get_config()["beta"] == 2.0  # a run folder's fingerprint stays the same
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.beta == 0.5 and loaded.get_config()["beta"] == 2.0


def test_free_bits_floor_each_dimension(images):
    model = build_vae(DENSE, beta=2.0, free_bits=0.0, seed=0)
    plain = model.loss_terms(images)
    kl_dims = np.asarray(plain["kl_per_dim"])
    assert kl_dims.shape == (2,) and float(plain["kl_loss"]) == pytest.approx(kl_dims.sum(), 1e-5)
    assert float(plain["loss"]) == pytest.approx(
        float(plain["reconstruction_loss"]) + 2.0 * kl_dims.sum(), rel=1e-5
    )
    model.free_bits = 50.0  # far above the KL of either dimension of a fresh model
    floored = model.loss_terms(images)
    assert float(floored["loss"]) - float(floored["reconstruction_loss"]) == pytest.approx(
        2.0 * 2 * 50.0, rel=1e-5
    )
    # between the two: only the dimension below lambda is lifted to it
    lam = float(kl_dims.min() + kl_dims.max()) / 2
    model.free_bits = lam
    mixed = model.loss_terms(images)
    kl_now = np.asarray(mixed["kl_per_dim"])
    expected = sum(max(lam, k) for k in kl_now)
    assert float(mixed["loss"]) - float(mixed["reconstruction_loss"]) == pytest.approx(
        2.0 * expected, rel=1e-4
    )


def test_capacity_penalizes_the_distance_to_c(images):
    model = build_vae(DENSE, beta=10.0, kl_capacity=0.0, seed=0)
    assert model.uses_capacity and model.kl_capacity == 0.0
    model.kl_capacity = 25.0
    terms = model.loss_terms(images)
    kl = float(terms["kl_loss"])
    assert kl < 25.0
    penalty = float(terms["loss"]) - float(terms["reconstruction_loss"])
    assert penalty == pytest.approx(10.0 * (25.0 - kl), rel=1e-5)
    with pytest.raises(ValueError, match="kl_capacity=0.0"):
        build_vae(DENSE).kl_capacity = 3.0


def test_model_saved_before_the_kl_weight_was_a_variable_loads():
    """Files written before beta became state hold only the trainable own variable
    (the discretized logistic's pixel scale); they load, keeping the constructor's beta."""
    model = build_vae(DENSE, likelihood="discretized_logistic", beta=3.0, sigma=0.2)
    model.load_own_variables({"0": np.array([-2.5], "float32")})
    assert float(np.asarray(model.log_scale)[0]) == -2.5 and model.beta == 3.0


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "discretized_logistic"])
def test_save_load_gives_the_same_numbers(tmp_path, images, likelihood):
    model = build_vae(DENSE, likelihood=likelihood, beta=2.0, sigma=0.2, seed=0)
    model.compile(optimizer="adam")
    model.fit(images, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for a, b in zip(model.encode(images), loaded.encode(images), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    z = np.random.default_rng(0).normal(size=(4, 2)).astype("float32")
    np.testing.assert_array_equal(np.asarray(model.decode(z)), np.asarray(loaded.decode(z)))
    assert (loaded.likelihood, loaded.beta, loaded.sigma) == (likelihood, 2.0, 0.2)
    assert loaded.arch_def == model.arch_def
    assert int(loaded.optimizer.iterations.numpy()) == 4  # the optimizer state came back too
    np.testing.assert_array_equal(
        np.asarray(model.reconstruction_nll(images, model.decode_logits(z[:1].repeat(32, 0)))),
        np.asarray(loaded.reconstruction_nll(images, loaded.decode_logits(z[:1].repeat(32, 0)))),
    )


def test_iwae_estimate_is_above_the_elbo_on_average(images):
    keras.utils.set_random_seed(0)
    model = build_vae(DENSE, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(images, epochs=3, batch_size=8, verbose=0)
    elbo = np.mean(
        [float(model.evaluate(images, verbose=0, return_dict=True)["elbo"]) for _ in range(3)]
    )
    iwae = float(np.mean(model.importance_weighted_log_likelihood(images, num_samples=200, seed=0)))
    assert iwae > elbo


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"likelihood": "poisson"}, "likelihood"),
        ({"beta": -1.0}, "beta"),
        ({"kl_warmup_steps": -5}, "kl_warmup_steps"),
        ({"free_bits": -0.5}, "free_bits"),
        ({"kl_capacity": float("nan")}, "kl_capacity"),
        ({"sigma": 0.0}, "sigma"),
    ],
)
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=words):
        build_vae(DENSE, **kwargs)


def test_compile_defaults_depend_on_the_architecture():
    dense, conv = build_vae(DENSE), build_vae(CONV)
    dense.compile()
    conv.compile()
    assert dense.jit_compile is True and dense.steps_per_execution == 32
    # conv: Keras' own rule under TensorFlow (XLA with a GPU, not on a CPU-only machine,
    # where it trains the CIFAR model 0.57x as fast); the JAX backend always compiles
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        expected = bool(tf.config.list_physical_devices("GPU"))
    else:
        expected = True
    assert conv.steps_per_execution == 16 and conv.jit_compile is expected
    custom = build_vae(DENSE)
    custom.compile(jit_compile=False, steps_per_execution=4)
    assert custom.jit_compile is False and custom.steps_per_execution == 4


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute")
def test_compile_inside_a_strategy_scope_turns_xla_and_multi_step_calls_off():
    import tensorflow as tf

    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        model = build_vae(DENSE)
        model.compile()
    assert model.jit_compile is False and model.steps_per_execution == 1


def test_iwae_in_batches_equals_per_batch_calls(images):
    model = build_vae(DENSE, seed=0)
    whole = np.asarray(
        model.importance_weighted_log_likelihood(images, num_samples=20, batch_size=10, seed=3)
    )
    parts = [
        np.asarray(
            model.importance_weighted_log_likelihood(images[i : i + 10], num_samples=20, seed=3 + i)
        )
        for i in range(0, len(images), 10)
    ]
    assert whole.shape == (len(images),)
    np.testing.assert_allclose(whole, np.concatenate(parts), rtol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        model.importance_weighted_log_likelihood(images, batch_size=0)


def test_discretized_logistic_learns_its_pixel_scale():
    x = np.random.default_rng(1).integers(100, 156, (32, 8, 8, 1)).astype("float32") / 255.0
    model = build_vae(DENSE, likelihood="discretized_logistic", sigma=0.3, seed=0)
    assert np.allclose(np.asarray(model.pixel_log_scale()), np.log(0.3))
    model.compile(optimizer=keras.optimizers.Adam(3e-2))
    model.fit(x, epochs=5, batch_size=8, verbose=0)
    # the pixels spread over about 0.2: the learned scale shrinks from 0.3 towards it
    assert float(np.exp(np.asarray(model.pixel_log_scale()))[0]) < 0.2
    assert any("pixel_log_scale" in w.name for w in model.trainable_weights)
    with pytest.raises(ValueError, match="no learned pixel scale"):
        build_vae(DENSE).pixel_log_scale()


def test_conv_model_with_hidden_dense_layers():
    arch = dict(CONV, hidden=[16], decode_hidden=[])
    model = build_vae(arch, seed=0)
    names = [layer.name for layer in model.encoder.layers]
    assert "hidden_0" in names and model.encoder.get_layer("hidden_0").units == 16
    assert "hidden_0" not in [layer.name for layer in model.decoder.layers]
    mirrored = build_vae(dict(CONV, hidden=[16]), seed=0)
    assert mirrored.decoder.get_layer("hidden_0").units == 16
    x = np.random.default_rng(0).random((2, 16, 16, 3)).astype("float32")
    assert model.reconstruct(x).shape == x.shape


def test_mixed_float16_step_matches_float32(images):
    """Under mixed_float16 Keras wraps the optimizer in a LossScaleOptimizer, which divides
    the gradients by its loss scale: the train step must scale the loss, or the update shrinks
    by that factor (32768). One SGD step in both precisions must move the weights alike."""

    def one_step(policy):
        keras.mixed_precision.set_global_policy(policy)
        try:
            keras.utils.set_random_seed(0)
            model = build_vae(DENSE, seed=0)
            model.compile(optimizer=keras.optimizers.SGD(1e-3))
        finally:
            keras.mixed_precision.set_global_policy("float32")
        before = [np.array(w, dtype="float32") for w in model.get_weights()]
        model.fit(images, epochs=1, batch_size=32, verbose=0)
        return model, [
            np.array(w, dtype="float32") - b
            for w, b in zip(model.get_weights(), before, strict=True)
        ]

    mixed, mixed_delta = one_step("mixed_float16")
    assert isinstance(mixed.optimizer, keras.optimizers.LossScaleOptimizer)
    _, full_delta = one_step("float32")
    total = sum(np.abs(d).sum() for d in full_delta)
    diff = sum(np.abs(a - b).sum() for a, b in zip(mixed_delta, full_delta, strict=True))
    assert total > 0 and diff / total < 0.05


def test_the_backend_is_the_one_asked_for():
    """CI runs this file again under KERAS_BACKEND=jax: it must really be JAX then."""
    import os

    asked = os.environ.get("KERAS_BACKEND")
    if asked is None:
        pytest.skip("KERAS_BACKEND not set: Keras' default backend")
    assert keras.backend.backend() == asked


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        # encoder 64*16+16 + 2*(16*2+2) = 1,108; decoder 2*16+16 + 16*64+64 = 1,136
        ({}, 2_244),
        # the same networks and one learned log-scale for every pixel
        ({"likelihood": "discretized_logistic", "scale": "shared"}, 2_245),
    ],
)
def test_count_params_counts_the_networks_not_the_kl_state(kwargs, expected):
    model = build_vae(DENSE, beta=4.0, kl_capacity=10.0, **kwargs)
    assert model.count_params() == expected
    assert model.encoder.count_params() + model.decoder.count_params() == 2_244
