"""vaecore.image_stats: sharpness falls when an image is blurred; saturation of grey is 0."""

import numpy as np
import pytest

from vaecore import image_stats


def _box_blur(x):
    """3 x 3 mean filter with edge padding, per channel."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = x.shape[1:3]
    return sum(padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9


def test_blurring_lowers_sharpness_for_every_image():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(5, 16, 16, 3))
    before, after = image_stats.sharpness(x), image_stats.sharpness(_box_blur(x))
    assert before.shape == (5,)
    assert np.all(after < 0.5 * before)


def test_flat_images_have_zero_sharpness_and_a_checkerboard_the_most():
    flat = np.full((1, 8, 8, 1), 0.3)
    board = (np.indices((8, 8)).sum(0) % 2).astype(float)[None, ..., None]
    assert image_stats.sharpness(flat)[0] == 0
    # every interior pixel of a 0/1 checkerboard: |4 * 1 - 0| or |0 - 4 * 1| = 4
    assert image_stats.sharpness(board)[0] == pytest.approx(4.0)


def test_saturation_grey_is_zero_and_pure_colour_is_one():
    grey = np.full((2, 4, 4, 3), 0.6)
    red = np.zeros((1, 4, 4, 3))
    red[..., 0] = 0.8
    half = np.concatenate([np.full((1, 4, 2, 3), 0.5), np.tile([1.0, 0.0, 0.0], (1, 4, 2, 1))], axis=2)
    assert np.allclose(image_stats.saturation(grey), 0)
    assert image_stats.saturation(red)[0] == pytest.approx(1.0)
    assert image_stats.saturation(half)[0] == pytest.approx(0.5)
    assert np.allclose(image_stats.saturation(np.zeros((1, 4, 4, 3))), 0)  # black: 0, not NaN
    assert np.allclose(image_stats.saturation(np.full((3, 4, 4, 1), 0.2)), 0)


def test_bad_input_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        image_stats.sharpness(np.full((1, 4, 4, 3), 255.0))
    with pytest.raises(ValueError, match="shape"):
        image_stats.saturation(np.zeros((4, 4, 2, 2)))
    with pytest.raises(ValueError, match="3 x 3"):
        image_stats.sharpness(np.zeros((1, 2, 2, 1)))


def test_describe_puts_each_set_in_a_row():
    rng = np.random.default_rng(1)
    sharp = rng.uniform(size=(6, 8, 8, 3))
    table = image_stats.describe({("model", "sharp"): sharp, ("model", "blurred"): _box_blur(sharp)})
    assert list(table.columns) == ["images", "sharpness", "saturation"]
    assert table.loc[("model", "sharp"), "images"] == 6
    means = [float(v.split(" ± ")[0]) for v in table["sharpness"]]
    assert means[0] > 2 * means[1]
    with pytest.raises(ValueError):
        image_stats.describe({})
