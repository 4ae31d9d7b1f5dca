"""vaecore.toolbox: image loading, interpolation, latent arithmetic, dataset encoding."""

import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from PIL import Image

from vaecore import build_vae
from vaecore import toolbox as tb

ARCH = {"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "tiny_toolbox"}


@pytest.fixture(scope="module")
def model():
    return build_vae(ARCH, seed=0)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((6, 8, 8, 1)).astype("float32")


class FillModel:
    """A model whose answers are known: each code is ``[mean, 2 * mean]`` of the image's
    pixels, and a code decodes to an image filled with its first entry. Its outputs are
    tensors of whichever Keras backend runs (JAX arrays under ``KERAS_BACKEND=jax``)."""

    latent_dim = 2
    arch_def = {"input": (4, 4, 1)}

    def encode(self, x):
        m = np.asarray(x, np.float32).mean(axis=(1, 2, 3))
        codes = np.stack([m, 2 * m], axis=1)
        return ops.convert_to_tensor(codes), ops.convert_to_tensor(np.zeros_like(codes))

    def decode(self, z):
        z = np.asarray(z, np.float32)
        return ops.convert_to_tensor(np.broadcast_to(z[:, :1, None, None], (len(z), 4, 4, 1)))


def fills(*values):
    """4 x 4 grey images, each filled with one value."""
    return np.stack([np.full((4, 4, 1), v, np.float32) for v in values])


def reconstruct(model, x):
    """Decode of the latent mean, computed straight from the model API."""
    return np.asarray(model.decode(model.encode(x)[0]))


# --------------------------------------------------------------------------- to_tensor


def test_to_tensor_png_grayscale_is_exact(tmp_path):
    pixels = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    Image.fromarray(pixels, mode="L").save(tmp_path / "g.png")
    t = tb.to_tensor(tmp_path / "g.png")
    assert t.dtype == tf.float32 and t.shape == (1, 6, 8, 1)
    np.testing.assert_allclose(t.numpy()[0, ..., 0], pixels / 255.0, atol=1e-7)


def test_to_tensor_jpeg_rgb(tmp_path):
    colour = np.zeros((16, 16, 3), np.uint8) + np.array([200, 100, 50], np.uint8)
    Image.fromarray(colour).save(tmp_path / "c.jpg", quality=95)
    t = tb.to_tensor(str(tmp_path / "c.jpg"))
    assert t.shape == (1, 16, 16, 3)
    np.testing.assert_allclose(t.numpy()[0, 8, 8], [200 / 255, 100 / 255, 50 / 255], atol=0.03)


def test_to_tensor_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = [255, 0, 0, 255]  # opaque red
    rgba[0, 1] = [0, 0, 0, 0]  # transparent -> white
    rgba[1, 0] = [0, 0, 0, 128]  # half-transparent black -> mid gray
    rgba[1, 1] = [0, 0, 255, 255]  # opaque blue
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    t = tb.to_tensor(tmp_path / "a.png").numpy()[0]
    assert t.shape == (2, 2, 3)
    np.testing.assert_allclose(t[0, 0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(t[0, 1], [1, 1, 1], atol=1e-6)
    np.testing.assert_allclose(t[1, 0], [127 / 255] * 3, atol=1e-6)
    np.testing.assert_allclose(t[1, 1], [0, 0, 1], atol=1e-6)


def test_to_tensor_from_arrays_and_pil():
    u8 = np.full((5, 7), 255, np.uint8)
    assert tb.to_tensor(u8).shape == (1, 5, 7, 1)
    assert float(tf.reduce_min(tb.to_tensor(u8))) == 1.0
    f = np.full((5, 7, 3), 0.25, np.float32)
    np.testing.assert_allclose(tb.to_tensor(f).numpy(), 0.25)
    batch = np.zeros((4, 5, 7, 1), np.float64)
    assert tb.to_tensor(batch).shape == (4, 5, 7, 1)  # a batch keeps N
    pil = Image.fromarray(np.full((3, 4, 3), 51, np.uint8))
    np.testing.assert_allclose(tb.to_tensor(pil).numpy(), 0.2, atol=1e-6)
    assert tb.to_tensor(tf.constant(f)).shape == (1, 5, 7, 3)


def test_to_tensor_resize_and_channels():
    rgb = np.zeros((20, 10, 3), np.uint8)
    rgb[..., 1] = 255  # pure green
    t = tb.to_tensor(rgb, size=(8, 8, 1))  # (H, W, C) sets channels too
    assert t.shape == (1, 8, 8, 1)
    np.testing.assert_allclose(t.numpy(), 0.587, atol=1e-5)  # luma of green
    gray = np.full((4, 4), 0.5, np.float32)
    t3 = tb.to_tensor(gray, size=(6, 6), channels=3)
    assert t3.shape == (1, 6, 6, 3)
    np.testing.assert_allclose(t3.numpy(), 0.5, atol=1e-6)
    assert float(tf.reduce_max(t3)) <= 1.0


def test_to_tensor_missing_file_names_path(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(FileNotFoundError, match="nope.png"):
        tb.to_tensor(missing)


def test_to_tensor_unreadable_file_names_path(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png"):
        tb.to_tensor(bad)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.full((4, 4), 2.0, np.float32), r"\[0, 1\]"),
        (np.full((4, 4), -0.5, np.float32), r"\[0, 1\]"),
        (np.full((4, 4), 300, np.int32), "0..255"),
        (np.zeros((4, 4, 7)), "C in 1, 3 or 4"),
        (np.zeros((2, 2, 4, 4, 1)), "HW, HWC or NHWC"),
        (np.full((4, 4), np.nan, np.float32), "NaN"),
    ],
)
def test_to_tensor_rejects_bad_arrays(bad, message):
    with pytest.raises(ValueError, match=message):
        tb.to_tensor(bad)


def test_to_tensor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="channels"):
        tb.to_tensor(np.zeros((4, 4)), channels=2)
    with pytest.raises(ValueError, match="size"):
        tb.to_tensor(np.zeros((4, 4)), size=(4,))
    with pytest.raises(TypeError, match="dict"):
        tb.to_tensor({"not": "an image"})


# --------------------------------------------------------------------------- latents


def test_linear_interpolation_midpoint_and_endpoints():
    a, b = np.array([1.0, -2.0, 3.0]), np.array([3.0, 2.0, -1.0])
    path = tb.interpolate_latents(a, b, steps=5)
    assert path.shape == (5, 3) and path.dtype == np.float32
    np.testing.assert_allclose(path[2], (a + b) / 2, atol=1e-6)
    np.testing.assert_array_equal(path[0], a.astype(np.float32))
    np.testing.assert_array_equal(path[-1], b.astype(np.float32))


def test_slerp_endpoints_exact_and_norm_constant():
    rng = np.random.default_rng(1)
    a = rng.normal(size=16).astype(np.float32)
    b = rng.normal(size=16).astype(np.float32)
    b *= np.linalg.norm(a) / np.linalg.norm(b)  # equal norms
    path = tb.interpolate_latents(a, b, steps=9, method="slerp")
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-5)
    linear_mid = tb.interpolate_latents(a, b, steps=9)[4]
    assert np.linalg.norm(linear_mid) < np.linalg.norm(a) - 1e-3  # the dip slerp avoids


def test_slerp_orthogonal_midpoint():
    path = tb.interpolate_latents([1.0, 0.0], [0.0, 1.0], steps=3, method="slerp")
    np.testing.assert_allclose(path[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)


@pytest.mark.parametrize(
    ("a", "b"),
    [([1.0, 2.0], [2.0, 4.0]), ([1.0, 2.0], [-1.0, -2.0]), ([0.0, 0.0], [1.0, 1.0])],
    ids=["parallel", "antiparallel", "zero"],
)
def test_slerp_falls_back_to_linear(a, b):
    slerp = tb.interpolate_latents(a, b, steps=4, method="slerp")
    linear = tb.interpolate_latents(a, b, steps=4, method="linear")
    assert np.all(np.isfinite(slerp))
    np.testing.assert_allclose(slerp, linear, atol=1e-6)


def test_interpolate_latents_errors():
    with pytest.raises(ValueError, match="same size"):
        tb.interpolate_latents([0, 1], [0, 1, 2])
    with pytest.raises(ValueError, match="at least 2"):
        tb.interpolate_latents([0, 1], [1, 0], steps=1)
    with pytest.raises(ValueError, match="method"):
        tb.interpolate_latents([0, 1], [1, 0], method="cubic")


def test_interpolate_images(model, images):
    frames = tb.interpolate(model, images[0], images[1], steps=5, method="slerp")
    assert frames.shape == (5, 8, 8, 1)
    assert frames.min() >= 0.0 and frames.max() <= 1.0
    np.testing.assert_allclose(frames[0], reconstruct(model, images[:1])[0], atol=1e-5)
    np.testing.assert_allclose(frames[-1], reconstruct(model, images[1:2])[0], atol=1e-5)
    with pytest.raises(ValueError, match="single image"):
        tb.interpolate(model, images[:2], images[2])


def test_interpolate_resizes_file_input(model, tmp_path):
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(tmp_path / "big.png")
    frames = tb.interpolate(model, tmp_path / "big.png", np.zeros((8, 8)), steps=3)
    assert frames.shape == (3, 8, 8, 1)


def test_interpolate_decodes_the_walk_between_two_codes():
    frames = tb.interpolate(FillModel(), fills(0.2)[0], fills(0.8)[0], steps=4)
    np.testing.assert_allclose(frames[:, 0, 0, 0], [0.2, 0.4, 0.6, 0.8], atol=1e-6)
    assert frames.shape == (4, 4, 4, 1) and frames.dtype == np.float32


def test_interpolate_with_inputs_puts_the_images_themselves_at_the_ends(tmp_path):
    half = fills(0.0)[0].copy()
    half[:, 2:] = 1.0  # mean 0.5: decodes to a flat 0.5, so the image and its reconstruction differ
    frames = tb.interpolate(FillModel(), half, fills(0.9)[0], steps=3, with_inputs=True)
    assert frames.shape == (5, 4, 4, 1)
    np.testing.assert_array_equal(frames[0], half)  # the input, not its flat reconstruction
    np.testing.assert_allclose(frames[1:4, 0, 0, 0], [0.5, 0.7, 0.9], atol=1e-6)
    np.testing.assert_allclose(frames[4], fills(0.9)[0])
    # a file is shown as the model sees it: resized and converted to its shape
    Image.fromarray(np.full((16, 16, 3), 51, np.uint8)).save(tmp_path / "grey.png")
    frames = tb.VAEToolbox(FillModel()).interpolate(tmp_path / "grey.png", half, steps=2, with_inputs=True)
    assert frames.shape == (4, 4, 4, 1)
    np.testing.assert_allclose(frames[0], np.full((4, 4, 1), 0.2), atol=1e-6)
    np.testing.assert_array_equal(frames[-1], half)


def test_latent_translate_moves_codes_by_scaled_vector():
    out = tb.latent_translate(FillModel(), fills(0.2, 0.4), [0.1, 0.0], scales=(0.0, 1.0, -2.0))
    assert out.shape == (2, 3, 4, 4, 1)
    np.testing.assert_allclose(out[..., 0, 0, 0], [[0.2, 0.3, 0.0], [0.4, 0.5, 0.2]], atol=1e-6)
    with pytest.raises(ValueError, match="vector must have length 2"):
        tb.latent_translate(FillModel(), fills(0.2), [1.0, 0.0, 0.0])


def test_latent_translate_on_a_vae_starts_at_the_reconstruction(model, images):
    out = tb.latent_translate(model, images[:3], [1.0, -0.5], scales=(0.0, 1.0))
    np.testing.assert_allclose(out[:, 0], reconstruct(model, images[:3]), atol=1e-5)
    assert np.abs(out[:, 1] - out[:, 0]).max() > 1e-4  # the vector moves the decoding


def test_attribute_vector_is_difference_of_means():
    with_, without = fills(0.6, 0.8), fills(0.2, 0.2, 0.2)
    np.testing.assert_allclose(tb.attribute_vector(FillModel(), with_, without), [0.5, 1.0], atol=1e-6)
    streamed = tf.data.Dataset.from_tensor_slices((with_, [1, 1])).batch(1)
    np.testing.assert_allclose(tb.attribute_vector(FillModel(), streamed, without), [0.5, 1.0], atol=1e-6)


def test_encode_dataset_with_labels():
    labels = np.arange(6)
    x = fills(0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
    ds = tf.data.Dataset.from_tensor_slices((x, labels)).batch(4)
    z, y = tb.encode_dataset(FillModel(), ds)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z, [[m, 2 * m] for m in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)], atol=1e-6)
    np.testing.assert_array_equal(y, labels)
    z1, y1 = tb.encode_dataset(FillModel(), ds, max_batches=1)
    np.testing.assert_allclose(z1[:, 0], [0.0, 0.1, 0.2, 0.3], atol=1e-6)
    np.testing.assert_array_equal(y1, labels[:4])
    assert tb.encode_dataset(FillModel(), ds, with_labels=False)[1] is None


def test_encode_dataset_other_element_kinds(model, images):
    unbatched = tf.data.Dataset.from_tensor_slices(images)
    z, y = tb.encode_dataset(model, unbatched)
    assert z.shape == (6, 2) and y is None
    pairs = tf.data.Dataset.from_tensor_slices((images, images)).batch(3)
    assert tb.encode_dataset(model, pairs)[1] is None  # (x, x) is not labelled
    dicts = tf.data.Dataset.from_tensor_slices({"image": images, "label": np.arange(6)}).batch(3)
    np.testing.assert_array_equal(tb.encode_dataset(model, dicts)[1], np.arange(6))
    uint8 = tf.data.Dataset.from_tensor_slices((images * 255).astype(np.uint8)).batch(3)
    assert tb.encode_dataset(model, uint8)[0].shape == (6, 2)
    z_arr, y_arr = tb.encode_dataset(model, (images, np.arange(6)))
    np.testing.assert_allclose(z_arr, z, atol=1e-5)
    np.testing.assert_array_equal(y_arr, np.arange(6))
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        tb.encode_dataset(model, "images/")


def test_generate_from():
    one = tb.generate_from(FillModel(), [0.5, -1.0])
    np.testing.assert_allclose(one, fills(0.5), atol=1e-7)
    many = tb.generate_from(FillModel(), [[0.1, 0.0], [0.7, 3.0], [0.3, -3.0]])
    np.testing.assert_allclose(many, fills(0.1, 0.7, 0.3), atol=1e-7)
    model = FillModel()
    with pytest.raises(ValueError, match="length 2"):
        tb.generate_from(model, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        tb.generate_from(model, [np.nan, 0.0])


def test_decode_and_encode_in_batches_keep_the_order():
    z = np.array([[v, 0.0] for v in (0.1, 0.2, 0.3, 0.4, 0.5)], np.float32)
    np.testing.assert_allclose(tb.decode_latents(FillModel(), z, batch_size=2), fills(*z[:, 0]), atol=1e-7)
    codes = tb.encode_images(FillModel(), fills(0.1, 0.2, 0.3, 0.4, 0.5), batch_size=2)
    np.testing.assert_allclose(codes, [[v, 2 * v] for v in (0.1, 0.2, 0.3, 0.4, 0.5)], atol=1e-6)


def test_the_model_gets_numpy_whatever_the_input():
    """No TensorFlow tensor reaches the model, so the toolbox runs on any Keras backend."""
    seen = []

    class Recording(FillModel):
        def encode(self, x):
            seen.append(type(x))
            return super().encode(x)

        def decode(self, z):
            seen.append(type(z))
            return super().decode(z)

    model = Recording()
    x = fills(0.2, 0.6)
    tb.interpolate(model, tf.constant(x[0]), x[1], steps=3)
    tb.encode_dataset(model, tf.data.Dataset.from_tensor_slices((x, [0, 1])).batch(1))
    tb.attribute_vector(model, tf.data.Dataset.from_tensor_slices(x).batch(2), x)
    assert seen and set(seen) == {np.ndarray}


def test_toolbox_class_matches_functions(model, images):
    box = tb.VAEToolbox(model)
    assert box.input_shape == (8, 8, 1) and box.latent_dim == 2
    assert box.to_tensor(np.zeros((16, 16, 3), np.uint8)).shape == (1, 8, 8, 1)
    np.testing.assert_allclose(
        box.reconstruct(images[:2]), reconstruct(model, images[:2]), atol=1e-5
    )
    np.testing.assert_allclose(
        box.interpolate(images[0], images[1], steps=3),
        tb.interpolate(model, images[0], images[1], steps=3),
    )
    assert box.latent_translate(images[:1], [1.0, 0.0], scales=[0, 1]).shape == (1, 2, 8, 8, 1)
