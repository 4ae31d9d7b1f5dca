"""vaecore.images: the shared image helpers, checked against values worked out by hand."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from vaecore import images
from vaecore.data import images as data_images


def test_to_uint8_rounds_to_nearest_and_clips():
    values = np.array([[-0.1, 0.0, 0.5 / 255, 0.499, 0.5, 1.0, 1.7]], np.float32)
    np.testing.assert_array_equal(images.to_uint8(values), [[0, 0, 1, 127, 128, 255, 255]])
    assert images.to_uint8(np.zeros((2, 3, 1))).shape == (2, 3)  # one channel: (H, W)
    assert images.to_uint8(np.zeros((2, 3, 3))).shape == (2, 3, 3)


def test_montage_places_each_image_and_pads_white():
    batch = np.stack([np.full((2, 2, 1), v, np.float32) for v in (0.1, 0.2, 0.3)])
    out = images.montage(batch, nrows=2, pad=1)  # 2 x 2 grid, the last cell empty
    expected = np.array(
        [
            [0.1, 0.1, 1.0, 0.2, 0.2],
            [0.1, 0.1, 1.0, 0.2, 0.2],
            [1.0, 1.0, 1.0, 1.0, 1.0],
            [0.3, 0.3, 1.0, 1.0, 1.0],
            [0.3, 0.3, 1.0, 1.0, 1.0],
        ],
        np.float32,
    )
    np.testing.assert_allclose(out[..., 0], expected)
    rows_cols = batch[:2].reshape(1, 2, 2, 2, 1)  # (rows, cols, H, W, C) keeps its layout
    np.testing.assert_allclose(images.montage(rows_cols)[..., 0], expected[:2, [0, 1, 3, 4]])
    with pytest.raises(ValueError, match="cannot hold"):
        images.montage(batch, nrows=1, ncols=2)


def test_png_bytes_enlarge_by_a_whole_factor():
    image = np.zeros((3, 4, 1), np.float32)
    image[0, 0] = 1.0
    decoded = np.asarray(Image.open(io.BytesIO(images.png_bytes(image, width=10))))
    assert decoded.shape == (6, 8)  # 10 // 4 = 2 times, nearest neighbour
    np.testing.assert_array_equal(decoded[:2, :2], 255)
    assert decoded[2:, :].max() == 0 and decoded[:, 2:].max() == 0
    assert np.asarray(Image.open(io.BytesIO(images.png_bytes(image)))).shape == (3, 4)


def test_save_image_round_trips_and_leaves_no_temporary(tmp_path):
    rgb = np.zeros((2, 3, 3), np.float32)
    rgb[1, 2] = [1.0, 0.5, 0.0]
    path = images.save_image(rgb, tmp_path / "sub" / "a.png", scale=2)
    back = np.asarray(Image.open(path))
    assert back.shape == (4, 6, 3)
    np.testing.assert_array_equal(back[2:, 4:], [[[255, 128, 0]] * 2] * 2)
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.png"]
    with pytest.raises(ValueError, match="scale"):
        images.save_image(rgb, tmp_path / "b.png", scale=0)


def test_luma_is_the_one_set_of_weights():
    assert images.LUMA == (0.299, 0.587, 0.114) and sum(images.LUMA) == pytest.approx(1.0)
    green = np.zeros((1, 1, 1, 3), np.float32)
    green[..., 1] = 1.0
    assert float(data_images.convert_channels(tf.constant(green), 1)[0, 0, 0, 0]) == pytest.approx(
        0.587
    )
    assert images.load_images(green, channels=1)[0, 0, 0, 0] == pytest.approx(0.587)


def test_decode_bytes_keeps_sixteen_bit_precision_and_is_the_data_layers(tmp_path):
    assert data_images.decode_bytes is images.decode_bytes
    values = np.array([[0, 1, 257, 65535]], np.uint16)  # 1/65535 is below 8-bit resolution
    Image.fromarray(values.astype(np.int32), mode="I").convert("I;16").save(tmp_path / "d.png")
    decoded = images.read_image_file(tmp_path / "d.png")
    np.testing.assert_allclose(decoded[..., 0], values / 65535.0, rtol=0, atol=1e-7)


def test_read_image_file_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="gone.png"):
        images.read_image_file(tmp_path / "gone.png")
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(ValueError, match="text.jpg"):
        images.read_image_file(tmp_path / "text.jpg")


def test_load_images_composites_grey_alpha_on_white():
    la = np.array([[[0, 255], [0, 0], [0, 51]]], np.uint8)  # black opaque, transparent, 20 %
    out = images.load_images(Image.fromarray(la, mode="LA"))
    np.testing.assert_allclose(out[0, 0, :, 0], [0.0, 1.0, 0.8], atol=1e-6)
