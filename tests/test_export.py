"""vaecore.export: specs of networks whose outputs are known by hand, at every precision."""

import keras
import numpy as np
import pytest

from vaecore import export


def _dense(kernel, bias, activation=None):
    net = keras.Sequential([keras.Input((len(kernel),)), keras.layers.Dense(len(bias), activation=activation)])
    net.layers[-1].set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])
    return net


def test_dense_float32_is_exact_and_int8_quantizes_per_output_column():
    net = _dense([[1.0, -2.0], [0.5, 4.0]], [0.25, -1.0])
    x = np.array([1.0, 1.0], np.float32)
    np.testing.assert_array_equal(export.run_network(export.export_network(net, "float32"), x), [1.75, 1.0])
    spec = export.export_network(net, "int8")
    # column scales max|w| / 127: 1/127 and 4/127; -2 -> round(-63.5) = -64 steps, 0.5 -> 64 steps
    assert spec["tensors"][0]["scale"] == pytest.approx([1 / 127, 4 / 127])
    expected = [1.0 + 64 / 127 + 0.25, -64 * 4 / 127 + 4.0 - 1.0]
    np.testing.assert_allclose(export.run_network(spec, x), expected, rtol=1e-6)
    assert spec["tensors"][1]["dtype"] == "f32"  # biases stay float32


def test_float16_rounds_weights_to_half_precision():
    net = _dense([[1.0 / 3.0]], [0.0])
    out = export.run_network(export.export_network(net, "float16"), np.ones(1, np.float32))
    assert out[0] == np.float32(np.float16(1.0 / 3.0)) != np.float32(1.0 / 3.0)


@pytest.mark.parametrize(
    ("activation", "x", "expected"),
    [
        ("relu", [-2.0, 3.0], [0.0, 3.0]),
        ("sigmoid", [0.0, np.log(3.0)], [0.5, 0.75]),
        ("tanh", [0.0, 0.0], [0.0, 0.0]),
        ("softplus", [0.0, 0.0], [np.log(2.0), np.log(2.0)]),
        ("silu", [0.0, np.log(3.0)], [0.0, 0.75 * np.log(3.0)]),
    ],
)
def test_activations_give_their_known_values(activation, x, expected):
    net = _dense(np.eye(2), [0.0, 0.0], activation)
    out = export.run_network(export.export_network(net, "float32"), np.asarray(x, np.float32))
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


def test_same_conv_of_a_constant_image_counts_the_kernel_taps_inside():
    net = keras.Sequential([keras.Input((3, 3, 1)), keras.layers.Conv2D(1, 3, padding="same")])
    net.layers[-1].set_weights([np.ones((3, 3, 1, 1), np.float32), np.zeros(1, np.float32)])
    out = export.run_network(export.export_network(net, "float32"), np.ones((3, 3, 1), np.float32))
    np.testing.assert_array_equal(out[..., 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])  # zero padding


def test_strided_transpose_conv_places_each_pixel_in_its_block():
    net = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Conv2DTranspose(1, 2, strides=2, padding="same")])
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32).reshape(2, 2, 1, 1)
    net.layers[-1].set_weights([kernel, np.zeros(1, np.float32)])
    x = np.array([[1.0, 10.0], [100.0, 0.0]], np.float32).reshape(2, 2, 1)
    out = export.run_network(export.export_network(net, "float32"), x)[..., 0]
    expected = np.kron(x[..., 0], kernel[..., 0, 0])  # each pixel times the kernel, in its 2 x 2 block
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(out, np.asarray(net(x[None]))[0, ..., 0], atol=1e-6)


def test_batch_norm_is_folded_into_scale_and_shift():
    net = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization(epsilon=0.0)])
    # gamma, beta, moving mean, moving variance
    net.layers[-1].set_weights([np.array(v, np.float32) for v in ([2.0, 1.0], [0.5, 0.0], [1.0, -1.0], [4.0, 1.0])])
    out = export.run_network(export.export_network(net, "float32"), np.array([3.0, 1.0], np.float32))
    np.testing.assert_allclose(out, [2.0 * (3.0 - 1.0) / 2.0 + 0.5, (1.0 + 1.0) / 1.0], rtol=1e-6)


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision must be one of"):
        export.export_network(_dense([[1.0]], [0.0]), "bfloat16")


def test_a_latent_map_decoder_in_the_page_matches_keras():
    """The in-page explorer of a fully convolutional VAE with a per-pixel scale: flat codes,
    the mean head only, within the explorer's own tolerance of Keras (check_error, /255)."""
    from vaecore import build_vae
    from vaecore.explorers import page

    arch = {"input": (16, 16, 3), "latent": (4, 4, 2), "encode": [(8, 3, 2), (8, 3, 2)], "name": "map"}
    model = build_vae(arch, likelihood="discretized_logistic", scale="pixel", seed=0)
    from vaecore import diagnostics

    x = np.random.default_rng(0).integers(0, 256, (20, 16, 16, 3)).astype(np.float32) / 255
    top = diagnostics.top_kl_dims(model, x, 4)  # flat unit indices into the map's h * w * c
    z_ref = np.asarray(model.encode(x)[0])
    explorer = page.latent_explorer(model, z_ref=z_ref, dims=top)
    assert explorer.spec["dims"] == top and explorer.spec["decoder"]["input_shape"] == [4, 4, 2]
    assert explorer.check_error <= 2
