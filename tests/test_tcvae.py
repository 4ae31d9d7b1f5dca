"""beta-TCVAE (vaecore.tcvae): the total-correlation estimate, the loss, save and reload."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from vaecore import tcvae

ARCH = {"name": "tiny_tc", "input": (8, 8, 1), "latent": 3, "hidden": [16]}


def _codes(mean, log_var, seed=0):
    rng = np.random.default_rng(seed)
    return mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)


def _tc(mean, log_var, **kwargs):
    z = _codes(mean, log_var)
    return float(keras.ops.convert_to_numpy(tcvae.total_correlation(z, mean, log_var, **kwargs)))


def test_independent_codes_have_a_total_correlation_near_zero():
    rng = np.random.default_rng(1)
    mean = rng.standard_normal((1024, 4)).astype(np.float32)  # independent dimensions
    log_var = np.full_like(mean, np.log(0.25))
    assert abs(_tc(mean, log_var)) < 0.1  # nats; the finite-batch bias


def test_strongly_correlated_codes_have_a_clearly_positive_total_correlation():
    rng = np.random.default_rng(1)
    shared = rng.standard_normal((512, 1)).astype(np.float32)
    mean = np.repeat(shared, 4, axis=1)  # four copies of one number
    log_var = np.full_like(mean, np.log(0.01))
    independent = rng.standard_normal((512, 4)).astype(np.float32)
    tc_correlated = _tc(mean, log_var)
    assert tc_correlated > 2.0  # nats; three redundant copies of a well-resolved number
    assert tc_correlated > _tc(independent, log_var) + 2.0


def test_dataset_size_equal_to_the_batch_is_the_plain_batch_mixture():
    rng = np.random.default_rng(2)
    mean = rng.standard_normal((64, 3)).astype(np.float32)
    log_var = np.full_like(mean, -1.0)
    assert _tc(mean, log_var) == pytest.approx(_tc(mean, log_var, dataset_size=64), abs=1e-5)
    with pytest.raises(ValueError):
        _tc(mean, log_var, dataset_size=1)


def test_the_loss_adds_tc_weight_minus_beta_times_the_tc():
    x = (np.random.default_rng(3).random((16, 8, 8, 1)) > 0.5).astype(np.float32)
    model = tcvae.build_tcvae(ARCH, tc_weight=6.0, dataset_size=1000, beta=2.0, seed=0)
    outputs = model(x)
    terms = model.elbo_terms(x, outputs)
    plain = super(tcvae.TCVAE, model).elbo_terms(x, outputs)
    extra = float(terms["loss"] - plain["loss"])
    assert extra == pytest.approx(4.0 * float(terms["total_correlation"]), rel=1e-4, abs=1e-4)


def test_a_train_step_runs_and_logs_the_total_correlation():
    x = (np.random.default_rng(4).random((64, 8, 8, 1)) > 0.5).astype(np.float32)
    model = tcvae.build_tcvae(ARCH, tc_weight=6.0, dataset_size=64, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(x, batch_size=32, epochs=2, verbose=0)
    assert np.isfinite(history.history["total_correlation"]).all()
    assert np.isfinite(history.history["loss"]).all()


def test_save_and_reload_round_trip(tmp_path):
    x = (np.random.default_rng(5).random((8, 8, 8, 1)) > 0.5).astype(np.float32)
    model = tcvae.build_tcvae(ARCH, tc_weight=3.0, dataset_size=500, seed=0)
    path = tmp_path / "tc.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, tcvae.TCVAE)
    assert (loaded.tc_weight, loaded.dataset_size) == (3.0, 500)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded.reconstruct(x)),
        keras.ops.convert_to_numpy(model.reconstruct(x)),
        atol=1e-6,
    )


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="tc_weight"):
        tcvae.build_tcvae(ARCH, tc_weight=-1.0)
    with pytest.raises(ValueError, match="dataset_size"):
        tcvae.build_tcvae(ARCH, dataset_size=1)
