"""vaecore.data.dsprites: the factor grid, the rendering (against numbers measured on the
original's frames), the packed cache, subsets and splits, and load_dataset("dsprites").

The pixel counts and bounding boxes quoted below were measured on the frames of
the original dataset's README animation (github.com/deepmind/dsprites-dataset,
``dsprites.gif``): rows and columns are 0-based pixel indices, inclusive.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_data_fixtures import isolate
from vaecore.data import dsprites as ds
from vaecore.data import load_dataset


@pytest.fixture
def cache(tmp_path, monkeypatch):
    return isolate(monkeypatch, tmp_path)


def one(shape=0, scale=5, orientation=0, pos_x=0, pos_y=0) -> np.ndarray:
    return ds.render([[shape, scale, orientation, pos_x, pos_y]])[0]


def bbox(image: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(image)
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


def centroid(image: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(image)
    return np.array([rows.mean(), cols.mean()])


# --- the factor grid ------------------------------------------------------------------


def test_factor_grid_has_the_originals_sizes_and_ranges():
    values = ds.factor_values()
    assert tuple(values) == ds.FACTOR_NAMES == ("shape", "scale", "orientation", "posX", "posY")
    assert tuple(len(v) for v in values.values()) == ds.FACTOR_SIZES == (3, 6, 40, 32, 32)
    assert ds.NUM_IMAGES == 737_280
    np.testing.assert_allclose(values["scale"], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert values["orientation"][0] == 0 and values["orientation"][-1] == pytest.approx(2 * np.pi)
    assert np.diff(values["orientation"]) == pytest.approx(0.16110732)  # the original's step
    for pos in ("posX", "posY"):
        assert (
            values[pos][0] == 0
            and values[pos][-1] == 1
            and values[pos][1] == pytest.approx(0.03225806)
        )
    np.testing.assert_array_equal(values["shape"], [1, 2, 3])


def test_flat_index_follows_the_originals_order():
    # posY varies fastest, then posX, orientation, scale, shape
    np.testing.assert_array_equal(
        ds.factor_classes([0, 1, 32, 1024, 40960, 245760, 737279]),
        [
            [0, 0, 0, 0, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 1, 0],
            [0, 0, 1, 0, 0],
            [0, 1, 0, 0, 0],
            [1, 0, 0, 0, 0],
            [2, 5, 39, 31, 31],
        ],
    )
    index = np.random.default_rng(0).integers(0, ds.NUM_IMAGES, 1000)
    np.testing.assert_array_equal(ds.factor_index(ds.factor_classes(index)), index)
    table = ds.factor_table(ds.factor_classes([737279]))
    np.testing.assert_allclose(table, [[3.0, 1.0, 2 * np.pi, 1.0, 1.0]])
    with pytest.raises(ValueError):
        ds.factor_classes([ds.NUM_IMAGES])
    with pytest.raises(ValueError):
        ds.factor_index([[3, 0, 0, 0, 0]])


def test_sample_factors_covers_the_grid():
    classes = ds.sample_factors(5000, rng=1)
    assert classes.shape == (5000, 5)
    assert (classes.min(axis=0) == 0).all()
    np.testing.assert_array_equal(classes.max(axis=0), np.array(ds.FACTOR_SIZES) - 1)


# --- rendering ------------------------------------------------------------------------


def test_square_at_scale_1_matches_the_original():
    image = one(shape=0, scale=5)
    assert image.dtype == np.uint8 and image.shape == (64, 64) and set(np.unique(image)) == {0, 1}
    assert image.sum() == 400  # 20 x 20, as in the original
    assert bbox(image) == (6, 25, 6, 25)  # centred on pixel corner (16, 16) at posX = posY = 0
    assert bbox(one(shape=0, scale=5, pos_x=31, pos_y=31)) == (38, 57, 38, 57)


def test_square_side_grows_linearly_with_scale():
    # the original: 10, 12, 14, 16, 18, 20 pixels a side
    assert [int(one(shape=0, scale=s).sum()) for s in range(6)] == [100, 144, 196, 256, 324, 400]


def test_ellipse_and_heart_have_the_originals_extent():
    ellipse, heart = one(shape=1), one(shape=2)
    assert bbox(ellipse) == (9, 22, 3, 28)  # the original: 288 pixels, wide at orientation 0
    assert abs(int(ellipse.sum()) - 288) <= 6
    assert bbox(heart) == (7, 23, 6, 25)  # the original: 222 pixels
    assert abs(int(heart.sum()) - 222) <= 6
    for shape in (1, 2):  # bigger at every scale step
        counts = [int(one(shape=shape, scale=s).sum()) for s in range(6)]
        assert counts == sorted(counts) and len(set(counts)) == 6


def test_heart_points_down_with_a_notch_on_top():
    heart = one(shape=2)
    top, bottom, _, _ = bbox(heart)
    assert heart[bottom].sum() <= 2  # the point
    top_row = np.flatnonzero(heart[top])
    assert len(top_row) < top_row.max() - top_row.min() + 1  # two lobes: a gap between them
    assert centroid(heart)[0] < 15.5 - 1  # more of the heart above its centre than below


def test_orientation_turns_counter_clockwise_on_screen():
    base = one(shape=1)
    turned = one(shape=1, orientation=3)  # 27.7 degrees
    rows, cols = np.nonzero(turned)
    assert np.cov(cols, rows)[0, 1] < -5  # the long axis now rises to the right
    assert abs(int(turned.sum()) - int(base.sum())) <= 12  # area kept
    np.testing.assert_array_equal(
        one(shape=2, orientation=39), one(shape=2, orientation=0)
    )  # 2 pi == 0
    np.testing.assert_array_equal(
        centroid(one(shape=0, orientation=17)), [15.5, 15.5]
    )  # about the centre
    assert not np.array_equal(one(shape=2, orientation=10), one(shape=2))


def test_position_factors_move_the_centroid():
    start = centroid(one(shape=0))
    right = centroid(one(shape=0, pos_x=31))
    down = centroid(one(shape=0, pos_y=31))
    np.testing.assert_allclose(right - start, [0, 32], atol=0.5)  # posX moves columns
    np.testing.assert_allclose(down - start, [32, 0], atol=0.5)  # posY moves rows, downwards
    steps = [centroid(one(shape=1, pos_x=i))[1] for i in range(32)]
    assert np.all(np.diff(steps) > 0.5) and np.all(np.diff(steps) < 1.6)


def test_rendering_is_deterministic_and_stays_inside_the_image():
    index = np.random.default_rng(3).integers(0, ds.NUM_IMAGES, 400)
    first = ds.render(ds.factor_classes(index))
    second = ds.render(ds.factor_classes(index[::-1]))[::-1]
    np.testing.assert_array_equal(first, second)
    assert (first.sum(axis=(1, 2)) > 40).all()
    # the border rows and columns are never lit (the original's sprites stay inside too)
    assert first[:, [0, -1], :].sum() == 0 and first[:, :, [0, -1]].sum() == 0


# --- cache, subsets, splits -------------------------------------------------------------


def test_packed_cache_is_read_in_the_order_asked(cache):
    """A cache file with only a few rows filled: images come from it, not from rendering."""
    path = ds.cache_path()
    path.parent.mkdir(parents=True)
    packed = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.uint8, shape=(ds.NUM_IMAGES, 64, 8)
    )
    index = np.array([700_000, 5, 123_456, 5])
    packed[index] = np.packbits(ds.render(ds.factor_classes(index)), axis=-1)
    packed[7] = 255  # a row that rendering would never give
    packed.flush()
    del packed
    np.testing.assert_array_equal(ds.dsprites_images(index), ds.render(ds.factor_classes(index)))
    assert ds.dsprites_images([7]).sum() == 64 * 64
    assert ds.dsprites_images([7], cache=False).sum() < 64 * 64  # rendered, cache ignored


def test_data_dir_is_where_a_cache_is_looked_for(cache, tmp_path):
    own = tmp_path / "mine"
    (own / "dsprites").mkdir(parents=True)
    packed = np.lib.format.open_memmap(
        own / "dsprites" / ds.CACHE_NAME, mode="w+", dtype=np.uint8, shape=(ds.NUM_IMAGES, 64, 8)
    )
    packed[3] = 255
    packed.flush()
    del packed
    assert ds.dsprites_images([3], data_dir=own).sum() == 64 * 64
    assert ds.dsprites_images([3]).sum() < 64 * 64  # not in the usual places: rendered
    pipeline = load_dataset("dsprites", subset=[3], data_dir=own, batch_size=None)
    assert float(next(iter(pipeline)).numpy().min()) == 1.0


def test_a_subset_renders_without_writing_a_cache(cache):
    images = ds.dsprites_images([0, 1, 2])
    assert images.shape == (3, 64, 64)
    assert not ds.cache_path().exists()


def test_subsets_strides_and_random_draws():
    assert len(ds.select("all", {"posX": 2, "posY": 2})) == 184_320
    hearts = ds.select("all", {"shape": [2]})
    assert len(hearts) == 245_760 and (ds.factor_classes(hearts)[:, 0] == 2).all()
    drawn = ds.select("all", 1000, subset_seed=4)
    assert len(np.unique(drawn)) == 1000 and (np.diff(drawn) > 0).all()
    np.testing.assert_array_equal(drawn, ds.select("all", 1000, subset_seed=4))
    assert not np.array_equal(drawn, ds.select("all", 1000, subset_seed=5))
    np.testing.assert_array_equal(ds.select("all", [9, 3, 3]), [3, 9])
    with pytest.raises(ValueError, match="factor"):
        ds.select("all", {"colour": 2})


def test_train_and_test_split_the_grid():
    index = np.arange(0, ds.NUM_IMAGES, 7)
    train, test = ds.split_mask(index, "train"), ds.split_mask(index, "test")
    assert not (train & test).any() and (train | test).all()
    assert test.mean() == pytest.approx(0.1, abs=0.005)
    assert ds.split_mask(index, "test", 0.3).mean() == pytest.approx(0.3, abs=0.005)
    in_test = ds.select("test", 500, subset_seed=0)
    assert ds.split_mask(in_test, "test").all()
    hearts_train = ds.select("train", {"shape": [2], "scale": [0]})
    assert ds.split_mask(hearts_train, "train").all() and len(hearts_train) < 40_960


def test_load_dsprites_gives_images_and_factors_aligned():
    data = ds.load_dsprites(subset=50, subset_seed=2)
    assert len(data) == 50 and data.images.shape == (50, 64, 64)
    np.testing.assert_array_equal(data.classes, ds.factor_classes(data.index))
    np.testing.assert_array_equal(data.images, ds.render(data.classes))
    np.testing.assert_allclose(data.values[:, 1], ds.factor_values()["scale"][data.classes[:, 1]])


def test_load_dataset_dsprites(cache):
    pipeline = load_dataset(
        "dsprites",
        split="all",
        subset={"shape": [0], "scale": [5], "orientation": [0]},
        labels=True,
        shuffle=False,
        batch_size=256,
    )
    assert pipeline.num_examples == 1024 and pipeline.factor_names == ds.FACTOR_NAMES
    images, labels = next(iter(pipeline))
    assert images.shape == (256, 64, 64, 1) and labels.shape == (256, 5)
    assert set(np.unique(images.numpy())) == {0.0, 1.0}
    np.testing.assert_array_equal(labels.numpy(), pipeline.factors[:256])
    np.testing.assert_array_equal(images.numpy()[..., 0], ds.render(pipeline.factors[:256]))
    limited = load_dataset("dsprites", subset=300, limit=20, labels=True, batch_size=None, seed=1)
    assert limited.num_examples == 20 and limited.factors.shape == (20, 5)
    for image, label in limited.take(3):  # shuffled, but each image keeps its factors
        np.testing.assert_array_equal(image.numpy()[..., 0], ds.render([label.numpy()])[0])
    assert not ds.cache_path().exists()


def test_model_inputs_are_what_the_pipeline_yields():
    x = ds.model_inputs([[2, 3, 7, 10, 20]])
    assert x.shape == (1, 64, 64, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, ..., 0], one(2, 3, 7, 10, 20))
