"""Decoding and preprocessing of image files: alpha, palette, grey, 16-bit, resize modes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_data_fixtures import isolate, random_pixels, save_image
from vaecore.data import load_dataset


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)


def one(path, **kwargs):
    """The single image of a one-file ``paths`` dataset, as a numpy array."""
    ds = load_dataset("paths", "all", paths=[path], batch_size=None, shuffle=False, **kwargs)
    return next(iter(ds)).numpy()


def test_rgba_is_alpha_blended_onto_background(tmp_path):
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255  # red ...
    rgba[:, :4, 3] = 0  # ... transparent on the left
    rgba[:, 4:6, 3] = 255  # opaque
    rgba[:, 6:, 3] = 128  # half transparent
    path = save_image(tmp_path / "a.png", rgba)
    x = one(path, background=(0, 0, 255))
    assert x.shape == (8, 8, 3)
    np.testing.assert_allclose(x[0, 0], [0, 0, 1], atol=1e-6)  # background shows through
    np.testing.assert_allclose(x[0, 4], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(x[0, 7], [128 / 255, 0, 127 / 255], atol=1e-6)
    white = one(path)  # default background is white
    np.testing.assert_allclose(white[0, 0], [1, 1, 1], atol=1e-6)


def test_grey_alpha_png(tmp_path):
    la = np.zeros((4, 4, 2), np.uint8)
    la[..., 0] = 100
    la[:, :2, 1] = 255
    path = tmp_path / "la.png"
    Image.fromarray(la, mode="LA").save(path)
    x = one(path, background=(0, 0, 0))
    np.testing.assert_allclose(x[0, 0], [100 / 255] * 3, atol=1e-6)
    np.testing.assert_allclose(x[0, 3], [0, 0, 0], atol=1e-6)


def test_palette_png_decodes_to_palette_colours_with_transparency(tmp_path):
    index = np.array([[0, 1], [2, 3]], np.uint8)
    im = Image.fromarray(index, mode="P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30] + [0] * (252 * 3))
    path = tmp_path / "p.png"
    im.save(path, transparency=3)  # palette entry 3 is fully transparent
    assert Image.open(path).mode == "P"
    x = one(path, background=(255, 255, 0))
    np.testing.assert_allclose(x[0, 0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(x[0, 1], [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(x[1, 0], [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(x[1, 1], [1, 1, 0], atol=1e-6)  # transparent -> background


def test_sixteen_bit_png_is_scaled_by_65535(tmp_path):
    values = np.array([[0, 257, 32768, 65535]], np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    x = one(path, channels=1)
    np.testing.assert_allclose(x[0, :, 0], values[0] / 65535.0, atol=1e-6)


def test_grey_to_rgb_and_rgb_to_grey(tmp_path):
    grey = save_image(tmp_path / "g.jpg", np.full((6, 6), 200, np.uint8))
    x = one(grey)
    assert x.shape == (6, 6, 3)
    np.testing.assert_allclose(x[..., 0], x[..., 1])
    colour = save_image(tmp_path / "c.png", np.tile(np.array([255, 0, 0], np.uint8), (5, 5, 1)))
    g = one(colour, channels=1)
    assert g.shape == (5, 5, 1)
    np.testing.assert_allclose(g, 0.299, atol=1e-5)
    grey_png = save_image(tmp_path / "g.png", np.full((4, 4), 77, np.uint8))
    np.testing.assert_allclose(one(grey_png, channels=1), 77 / 255, atol=1e-6)  # grey round-trips


def test_gif_bmp_webp_decode(tmp_path):
    pixels = random_pixels((10, 12, 3), 7)
    for fmt in ("gif", "bmp", "webp"):
        x = one(save_image(tmp_path / f"x.{fmt}", pixels))
        assert x.shape == (10, 12, 3) and 0 <= x.min() and x.max() <= 1


def wide_image(tmp_path):
    """A 10x40 image: black left quarter, white middle half, black right quarter."""
    pixels = np.zeros((10, 40, 3), np.uint8)
    pixels[:, 10:30] = 255
    return save_image(tmp_path / "wide.png", pixels)


def test_resize_stretch(tmp_path):
    x = one(wide_image(tmp_path), image_size=(20, 20))
    assert x.shape == (20, 20, 3)
    assert x[:, 0].max() < 0.05 and x[:, 10].min() > 0.95  # the black sides are squeezed in


def test_resize_crop_keeps_the_centre(tmp_path):
    x = one(wide_image(tmp_path), image_size=(20, 20), resize_mode="crop")
    assert x.shape == (20, 20, 3)
    assert x.min() > 0.95  # centre 10x10 window is the white part


def test_resize_pad_letterboxes_with_background(tmp_path):
    x = one(wide_image(tmp_path), image_size=(20, 20), resize_mode="pad", background=(0, 255, 0))
    assert x.shape == (20, 20, 3)
    np.testing.assert_allclose(x[0, 10], [0, 1, 0], atol=1e-6)  # top bar is background
    np.testing.assert_allclose(x[19, 10], [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(x[10, 10], [1, 1, 1], atol=1e-3)  # image in the middle rows
    assert x[10, 0].max() < 0.05  # its black left side still there


def test_pad_background_in_grey(tmp_path):
    x = one(
        wide_image(tmp_path),
        image_size=(20, 20),
        resize_mode="pad",
        channels=1,
        background=(255, 255, 255),
    )
    assert x.shape == (20, 20, 1)
    np.testing.assert_allclose(x[0, 10, 0], 1.0, atol=1e-5)


def test_non_square_image_size_and_batch(tmp_path):
    files = [save_image(tmp_path / f"{i}.jpg", random_pixels((30 + i, 25, 3), i)) for i in range(5)]
    ds = load_dataset("paths", "all", paths=files, image_size=(16, 24), batch_size=2)
    shapes = [b.shape for b in ds]
    assert shapes == [(2, 16, 24, 3), (2, 16, 24, 3), (1, 16, 24, 3)]


def test_mixed_sizes_without_image_size_is_a_clear_error(tmp_path):
    files = [save_image(tmp_path / f"{i}.jpg", random_pixels((30 + i, 25, 3), i)) for i in range(3)]
    with pytest.raises(ValueError, match="different sizes.*image_size"):
        load_dataset("paths", "all", paths=files)
    ds = load_dataset("paths", "all", paths=files, batch_size=None, shuffle=False)
    assert [x.shape[0] for x in ds] == [30, 31, 32]


def test_same_sized_files_keep_their_size(tmp_path):
    files = [save_image(tmp_path / f"{i}.png", random_pixels((12, 18, 3), i)) for i in range(3)]
    batch = next(iter(load_dataset("paths", "all", paths=files, shuffle=False)))
    assert batch.shape == (3, 12, 18, 3)
    np.testing.assert_allclose(
        batch[0].numpy(), np.asarray(Image.open(files[0])) / 255.0, atol=1e-6
    )
