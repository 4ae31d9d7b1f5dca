"""The VQ-VAE (vaecore.quantizer, vaecore.vq): quantizer, losses, usage, restarts, EMA, model.

The quantizer's numbers are checked against hand-worked cases (a 2-code codebook in
2-D), not against its own formulas. Backend-independent: run also with
KERAS_BACKEND=jax.
"""

import math

import keras
import numpy as np
import pytest
from keras import ops

import vaecore
from vaecore.arch import ArchDefError
from vaecore.quantizer import CodebookRestart, VectorQuantizer, perplexity
from vaecore.vq import VQVAE, build_vqvae, validate_vq_arch

ARCH = {
    "input": (8, 8, 1),
    "encode": [(8, 3, 2)],
    "latent": (4, 4, 2),
    "codebook": {"size": 8, "dim": 2},
    "name": "vq_tiny",
}


def np_(x) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(x))


def quantizer(codebook, **kwargs) -> VectorQuantizer:
    codebook = np.asarray(codebook, np.float32)
    q = VectorQuantizer(len(codebook), codebook.shape[1], **kwargs)
    q.build(None)
    q.codebook.assign(codebook)
    if q.uses_ema:
        q.ema_sum.assign(codebook)
    return q


def gradient(f, x):
    """d f(x) / d x for a scalar function, on the TensorFlow or the JAX backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = f(x)
        # zero, not None, where y does not depend on x (the codebook term and z_e)
        return np_(tape.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO))
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(f)(x))
    pytest.skip(f"no gradient helper for the {backend} backend")


def crosses(n: int = 256, seed: int = 0) -> np.ndarray:
    """8x8 binary images: one full row and one full column on."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 8, 8, 1), np.float32)
    for i, (r, c) in enumerate(rng.integers(0, 8, (n, 2))):
        x[i, r, :] = x[i, :, c] = 1.0
    return x


# ------------------------------------------------------------------ quantizer

CODES = [[0.0, 0.0], [1.0, 1.0]]
# Two images of a 1 x 2 grid. Image 1: (0.2, 0.1) -> code 0 (0.05 away), (0.9, 1.3) -> code 1
# (0.01 + 0.09 = 0.10). Image 2: (0.5, -0.5) -> code 0 (0.5; code 1 is 2.5 away), (2, 1) ->
# code 1 (1; code 0 is 5). Squared errors per image: 0.15 and 1.5, batch mean 0.825.
Z = np.array([[[[0.2, 0.1], [0.9, 1.3]]], [[[0.5, -0.5], [2.0, 1.0]]]], np.float32)


def test_each_vector_gets_its_nearest_code():
    q = quantizer([[0.0, 0.0], [1.0, 1.0], [-2.0, 3.0]])
    z = np.array([[[0.4, 0.4], [0.6, 0.6], [-1.0, 2.0], [5.0, -5.0], [-1.5, 2.0]]], np.float32)
    assert np_(q.indices(z)).tolist() == [[0, 1, 2, 0, 2]]
    out = q.vector_quantize(z)
    assert np_(out["indices"]).tolist() == [[0, 1, 2, 0, 2]]
    expected = np.array([[[0, 0], [1, 1], [-2, 3], [0, 0], [-2, 3]]], np.float32)
    np.testing.assert_array_equal(np_(out["quantized"]), expected)
    np.testing.assert_array_equal(np_(q(z)), expected)
    np.testing.assert_array_equal(np_(q.lookup(np.array([2, 0]))), [[-2, 3], [0, 0]])


def test_the_gradient_goes_straight_through_the_quantizer():
    """d(quantized)/d(z_e) is the identity: sum(w * out) has gradient w."""
    q = quantizer(CODES)
    w = np.arange(1, 9, dtype=np.float32).reshape(Z.shape)
    grad = gradient(lambda z: ops.sum(q(z) * w), Z)
    np.testing.assert_allclose(grad, w)


def test_codebook_and_commitment_losses_are_the_hand_worked_numbers():
    q = quantizer(CODES, commitment_weight=0.25)
    out = q.vector_quantize(Z)
    assert np_(out["indices"]).tolist() == [[[0, 1]], [[0, 1]]]
    assert float(np_(out["codebook_loss"])) == pytest.approx(0.825, abs=1e-6)
    assert float(np_(out["commitment_loss"])) == pytest.approx(0.825, abs=1e-6)
    assert float(np_(out["vq_loss"])) == pytest.approx(0.825 * 1.25, abs=1e-6)


def test_each_loss_sends_its_gradient_where_the_paper_says():
    """Commitment -> encoder only; codebook term -> codes only (d/de_k = -2 sum(z - e_k) / B)."""
    q = quantizer(CODES)
    to_z = gradient(lambda z: q.vector_quantize(z)["codebook_loss"], Z)
    np.testing.assert_allclose(to_z, 0.0)
    to_z = gradient(lambda z: q.vector_quantize(z)["commitment_loss"], Z)
    np.testing.assert_allclose(to_z, 2 * (Z - np.array([[[[0, 0], [1, 1]]]])) / 2, atol=1e-6)
    # The codebook term's gradient with respect to the codebook variable itself:
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = q.vector_quantize(Z)["codebook_loss"]
        to_codes = np_(tape.gradient(loss, q.codebook.value))
    else:

        def codebook_term(e):  # the variable's value replaced by e, as Keras' JAX trainer does
            with keras.StatelessScope(state_mapping=[(q.codebook, e)]):
                return q.vector_quantize(Z)["codebook_loss"]

        to_codes = gradient(codebook_term, np.asarray(CODES, np.float32))
    np.testing.assert_allclose(to_codes, [[-0.7, 0.4], [-0.9, -0.3]], atol=1e-6)


def test_ema_updates_move_codes_to_the_mean_of_their_vectors():
    """decay 0.5, codes [0] and [10], vectors 1 and 3 (both nearest 0): count 0.5 + 0.5 * 2,
    sum 0.5 * 0 + 0.5 * 4, so code 0 -> 2 / 1.5; code 1 (count 0.5, sum 5) stays at 10."""
    q = quantizer([[0.0], [10.0]], ema_decay=0.5, epsilon=1e-9)
    assert q.codebook not in q.trainable_weights
    out = q.vector_quantize(np.array([[[1.0], [3.0]]], np.float32), training=True)
    np.testing.assert_allclose(np_(q.codebook)[:, 0], [2 / 1.5, 10.0], rtol=1e-5)
    assert float(np_(out["vq_loss"])) == pytest.approx(0.25 * (1 + 9))  # no codebook term
    q.vector_quantize(np.array([[[1.0], [3.0]]], np.float32))  # not training: no update
    np.testing.assert_allclose(np_(q.codebook)[:, 0], [2 / 1.5, 10.0], rtol=1e-5)


def test_perplexity_and_codes_used_on_known_assignments():
    assert float(np_(perplexity(np.array([7, 0, 0, 0])))) == pytest.approx(1.0)
    assert float(np_(perplexity(np.array([5, 5, 0, 5])))) == pytest.approx(3.0, rel=1e-5)
    assert float(np_(perplexity(np.array([1, 3])))) == pytest.approx(
        math.exp(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75))), rel=1e-5
    )
    q = quantizer([[0.0, 0.0], [1.0, 1.0], [-2.0, 3.0], [9.0, 9.0]])
    one = q.vector_quantize(np.full((2, 3, 3, 2), 0.1, np.float32))
    assert float(np_(one["perplexity"])) == pytest.approx(1.0)
    assert float(np_(one["codes_used"])) == 1.0
    three = np.array([[0, 0], [1, 1], [-2, 3]] * 4, np.float32).reshape(2, 2, 3, 2)
    out = q.vector_quantize(three)
    assert float(np_(out["perplexity"])) == pytest.approx(3.0, rel=1e-5)
    assert float(np_(out["codes_used"])) == 3.0


def test_a_dead_code_is_restarted_onto_an_encoder_output():
    q = quantizer([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]], restart_after=2, restart_buffer=16, seed=0)
    batch = np.random.default_rng(0).normal(0.0, 0.1, (4, 2, 2, 2)).astype(np.float32)
    assert q.restart_dead_codes() == 0  # nothing seen yet
    q.vector_quantize(batch, training=True)
    assert q.dead_codes().tolist() == [] and q.restart_dead_codes() == 0  # unused once only
    q.vector_quantize(batch, training=True)
    assert q.dead_codes().tolist() == [1, 2]
    assert q.restart_dead_codes() == 2
    codebook = np_(q.codebook)
    np.testing.assert_array_equal(codebook[0], [0.0, 0.0])  # a used code stays
    vectors = batch.reshape(-1, 2)
    for k in (1, 2):  # each moved onto one of the batch's encoder outputs
        assert np.min(np.abs(vectors - codebook[k]).sum(axis=1)) < 1e-6
    assert q.dead_codes().tolist() == [] and float(np_(q.restarts)) == 2.0
    assert float(np_(q.vector_quantize(batch)["codes_used"])) > 1  # the restarted codes get used


def test_without_restart_after_no_code_moves():
    q = quantizer([[0.0, 0.0], [5.0, 5.0]])
    for _ in range(3):
        q.vector_quantize(np.zeros((2, 2, 2, 2), np.float32), training=True)
    assert q.restart_dead_codes() == 0
    np.testing.assert_array_equal(np_(q.codebook), [[0, 0], [5, 5]])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [({"num_codes": 0, "code_dim": 2}, "num_codes"), ({"num_codes": 4, "code_dim": 2, "ema_decay": 1.0}, "ema_decay"),
     ({"num_codes": 4, "code_dim": 2, "restart_after": 0}, "restart_after")],
)  # fmt: skip
def test_bad_quantizer_settings_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        VectorQuantizer(**kwargs)


# ------------------------------------------------------------------- arch dict


def test_the_vq_arch_is_normalized_and_validates_again():
    arch = validate_vq_arch({**ARCH, "codebook": {"size": 8}})
    assert arch["codebook"] == {"size": 8, "dim": 2} and arch["latent"] == (4, 4, 2)
    assert validate_vq_arch(arch) == arch


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"codebook": None}, "missing field 'codebook'"),
        ({"codebook": {"size": 1}}, "'size' \\(K\\) must be an int >= 2"),
        ({"codebook": {"size": 8, "dim": 3}}, "'dim' 3 differs from the latent map's channels 2"),
        ({"codebook": {"size": 8, "width": 3}}, "expected \\{'size': K"),
        ({"latent": 4}, "needs a conv dict \\('encode'\\) with a latent map"),
        ({"latent": (2, 2, 2)}, "encoder's last feature map is 4x4"),
        ({"condition": 10}, "unconditional"),
    ],
)
def test_a_bad_vq_arch_names_its_field(change, words):
    arch = {**ARCH, **change}
    arch = {k: v for k, v in arch.items() if v is not None}
    with pytest.raises(ArchDefError, match=words):
        validate_vq_arch(arch)


def test_a_plain_vae_refuses_a_codebook_and_points_to_build_vqvae():
    with pytest.raises(ArchDefError, match="build_vqvae"):
        vaecore.build_vae(ARCH)


# ---------------------------------------------------------------------- model


def test_shapes_of_the_api():
    model = build_vqvae(ARCH, seed=0)
    x = crosses(5)
    assert model.grid_shape == (4, 4) and model.num_codes == 8 and model.latent_shape == (4, 4, 2)
    idx = np_(model.encode_indices(x))
    assert idx.shape == (5, 4, 4) and idx.dtype == np.int32 and 0 <= idx.min() and idx.max() < 8
    assert np_(model.encode(x)).shape == (5, 4, 4, 2)
    np.testing.assert_allclose(np_(model.reconstruct(x)), np_(model.decode_indices(idx)))
    assert np_(model.sample(3, seed=1)).shape == (3, 8, 8, 1)
    np.testing.assert_array_equal(np_(model.sample(3, seed=1)), np_(model.sample(3, seed=1)))
    np.testing.assert_array_equal(model.index_grids(x, batch_size=2), idx)
    usage = model.code_usage(x, batch_size=2)
    assert usage["counts"].sum() == 5 * 16 and usage["counts"].tolist() == np.bincount(idx.ravel(), minlength=8).tolist()
    assert usage["codes_used"] == len(np.unique(idx))
    assert usage["perplexity"] == pytest.approx(float(np_(perplexity(usage["counts"]))), rel=1e-5)
    # conv 3*3*1*8 + 8, z_e 3*3*8*2 + 2, deconv 3*3*2*8 + 8, logits 3*3*8*1 + 1, codebook 8*2
    assert model.count_params() == 80 + 146 + 152 + 73 + 16
    with pytest.raises(NotImplementedError, match="likelihood_bound"):
        model.importance_weighted_log_likelihood(x)


class FixedPrior:
    """A stand-in prior: always the same grid, log p = -3 nats."""

    def __init__(self, grid):
        self.grid = np.asarray(grid, np.int32)

    def sample(self, n, seed=None):
        return np.repeat(self.grid[None], n, axis=0)

    def log_prob(self, indices):
        return np.full(int(ops.shape(indices)[0]), -3.0, np.float32)


def test_sampling_decodes_the_prior_grids_and_the_bound_adds_its_two_terms():
    model = build_vqvae(ARCH, likelihood="discretized_logistic", seed=0)
    grid = np.arange(16).reshape(4, 4) % 8
    prior = FixedPrior(grid)
    np.testing.assert_allclose(np_(model.sample(2, prior=prior)), np_(model.decode_indices(prior.sample(2))))
    x = np.round(crosses(3) * 255) / 255
    bound = model.likelihood_bound(x)  # uniform prior: 16 cells * log 8
    np.testing.assert_allclose(bound["prior_nll"], 16 * math.log(8))
    recon = np_(model.nll_given_z(x, model.codes(model.encode_indices(x))))
    np.testing.assert_allclose(bound["reconstruction_nll"], recon, rtol=1e-5)
    np.testing.assert_allclose(bound["nll"], bound["prior_nll"] + recon, rtol=1e-5)
    np.testing.assert_allclose(bound["bits_per_dim"], bound["nll"] / (64 * math.log(2)))
    np.testing.assert_allclose(model.likelihood_bound(x, prior)["prior_nll"], 3.0)


@pytest.fixture(scope="module")
def trained():
    x = crosses(256)
    model = build_vqvae(ARCH, restart_after=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), steps_per_execution=1)
    before = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    history = model.fit(x, batch_size=32, epochs=4, verbose=0)
    after = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    return model, x, before, after, history.history


def test_a_tiny_vq_vae_trains_and_uses_several_codes(trained):
    model, _, before, after, history = trained
    assert after["loss"] < before["loss"] - 1.0
    assert history["loss"][-1] < history["loss"][0]
    assert after["codes_used"] > 1 and after["perplexity"] > 1.5
    for name in ("reconstruction_loss", "vq_loss", "commitment_loss", "perplexity", "codes_used"):
        assert name in history
    assert float(np_(model.quantizer.restarts)) > 0  # fit added the CodebookRestart callback


def test_save_and_reload_give_identical_outputs(trained, tmp_path):
    model, x, *_ = trained
    model.save(tmp_path / "vq.keras")
    loaded = keras.models.load_model(tmp_path / "vq.keras")
    assert isinstance(loaded, VQVAE) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(np_(loaded.encode_indices(x[:16])), np_(model.encode_indices(x[:16])))
    np.testing.assert_array_equal(np_(loaded.reconstruct(x[:16])), np_(model.reconstruct(x[:16])))
    np.testing.assert_array_equal(loaded.codebook, model.codebook)
    np.testing.assert_array_equal(np_(loaded.quantizer.unused_steps), np_(model.quantizer.unused_steps))


def test_ema_model_trains_with_a_non_trainable_codebook_and_reloads(tmp_path):
    model = build_vqvae(ARCH, ema_decay=0.9, restart_after=2, seed=1)
    assert not any(v is model.quantizer.codebook for v in model.trainable_variables)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), steps_per_execution=1)
    start = model.codebook.copy()
    model.fit(crosses(64), batch_size=32, epochs=1, verbose=0, callbacks=[CodebookRestart()])
    assert not np.allclose(model.codebook, start)  # the EMA moved the codes
    model.save(tmp_path / "ema.keras")
    loaded = keras.models.load_model(tmp_path / "ema.keras")
    assert loaded.quantizer.uses_ema
    np.testing.assert_array_equal(loaded.codebook, model.codebook)


def test_vaecore_train_resumes_a_vq_run_bit_for_bit(tmp_path):
    """Two epochs then one more (a new process would build the model again) equal three at once,
    dead-code restarts included: their draws are saved state (buffer, counters, seed state)."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(crosses(96)).batch(32)

    def run(folder, epochs):
        keras.utils.set_random_seed(0)
        model = build_vqvae(ARCH, seed=0, restart_after=1)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        vaecore.train(model, data, epochs=epochs, run_dir=folder, verbose=0)
        return model

    whole = run(tmp_path / "whole", 3)
    run(tmp_path / "parts", 2)
    resumed = run(tmp_path / "parts", 3)
    assert float(np_(whole.quantizer.restarts)) > 0
    assert vaecore.read_history(tmp_path / "parts")["epoch"] == [0, 1, 2]
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
