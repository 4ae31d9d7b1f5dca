"""``load_dataset(..., augment=...)``: random flips and shifts inside the tf.data graph."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.test_data_fixtures import isolate, random_pixels, save_image, write_mnist_npz
from vaecore.data import load_dataset
from vaecore.data.augment import AugmentSpec, augment_batch, parse_augment


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def folder(tmp_path):
    """Eight 16x16 RGB images whose columns differ (so a flip is visible)."""
    root = tmp_path / "imgs"
    for i in range(8):
        a = random_pixels((16, 16, 3), seed=i)
        save_image(root / f"{i}.png", a)
    return root


@pytest.fixture
def mnist_dir(tmp_path):
    write_mnist_npz(tmp_path / "data" / "mnist" / "mnist.npz", n_train=16, n_test=4)
    return tmp_path / "data"


def _epoch(ds) -> np.ndarray:
    return np.concatenate([b.numpy() for b in ds])


def _plain(folder, **kw):
    return _epoch(load_dataset("folder", path=folder, batch_size=4, shuffle=False, **kw))


def test_shapes_dtype_and_range_kept(folder, mnist_dir):
    plain = _plain(folder)
    aug = _plain(folder, augment=True, seed=0)
    assert aug.shape == plain.shape == (8, 16, 16, 3) and aug.dtype == np.float32
    assert aug.min() >= 0.0 and aug.max() <= 1.0
    ds = load_dataset("folder", path=folder, batch_size=4, augment=True, seed=0)
    assert ds.element_spec.shape.as_list() == [None, 16, 16, 3]
    assert ds.cardinality().numpy() == 2  # the declared length survives
    x = _epoch(load_dataset("mnist", data_dir=mnist_dir, batch_size=5, augment=True, seed=0))
    assert x.shape == (16, 28, 28, 1) and 0.0 <= x.min() and x.max() <= 1.0
    single = load_dataset(
        "folder", path=folder, batch_size=None, shuffle=False, augment=True, seed=0
    )
    assert next(iter(single)).shape == (16, 16, 3)


def test_off_means_unchanged(folder, mnist_dir):
    plain = _plain(folder)
    for off in (False, None, {"flip": False, "shift": 0}):
        np.testing.assert_array_equal(_plain(folder, augment=off, seed=0), plain)
    a = _epoch(load_dataset("mnist", data_dir=mnist_dir, batch_size=5, shuffle=False))
    b = _epoch(
        load_dataset("mnist", data_dir=mnist_dir, batch_size=5, shuffle=False, augment=False)
    )
    np.testing.assert_array_equal(a, b)


def test_flips_happen_and_are_seeded(folder):
    plain = _plain(folder)
    spec = {"flip": True, "shift": 0}
    aug = _plain(folder, augment=spec, seed=3)
    flipped = [np.array_equal(a, p[:, ::-1]) for a, p in zip(aug, plain, strict=True)]
    same = [np.array_equal(a, p) for a, p in zip(aug, plain, strict=True)]
    assert all(f or s for f, s in zip(flipped, same, strict=True))  # each image: flipped or as is
    assert 0 < sum(flipped) < len(plain)
    np.testing.assert_array_equal(
        _plain(folder, augment=spec, seed=3), aug
    )  # same seed, same draws
    ds = load_dataset("folder", path=folder, batch_size=4, shuffle=False, augment=spec, seed=3)
    first, second = _epoch(ds), _epoch(ds)
    np.testing.assert_array_equal(first, aug)
    assert not np.array_equal(first, second)  # a new draw every epoch


def test_shift_moves_content_and_fills_border(tmp_path):
    a = np.full((12, 12, 3), 0, np.uint8)  # black image: any fill shows
    path = save_image(tmp_path / "one" / "black.png", a)
    ds = load_dataset(
        "paths",
        "all",
        paths=[path] * 16,
        batch_size=16,
        shuffle=False,
        augment={"flip": False, "shift": 3},
        seed=1,
        background=(255, 0, 0),
    )
    x = next(iter(ds)).numpy()
    red = np.all(x == [1, 0, 0], axis=-1)
    assert red.any()  # some images moved: their border is the background colour
    rows = red.all(axis=2).sum(axis=1) + red.all(axis=1).sum(axis=1)  # full red rows + columns
    assert rows.max() <= 6  # at most 3 each way, in each direction
    ds = load_dataset(
        "paths",
        "all",
        paths=[path] * 16,
        batch_size=16,
        shuffle=False,
        augment={"flip": False, "shift": 3, "fill": "reflect"},
        seed=1,
        background=(255, 0, 0),
    )
    np.testing.assert_array_equal(next(iter(ds)).numpy(), 0.0)  # reflecting black stays black


def test_shift_is_an_exact_translation():
    x = tf.reshape(tf.range(2 * 6 * 6, dtype=tf.float32), (2, 6, 6, 1)) / 100.0
    spec = AugmentSpec(flip=False, shift=2, fill="background")
    y = augment_batch(x, tf.constant([5, 7], tf.int64), spec, (1.0,)).numpy()
    for img_in, img_out in zip(x.numpy(), y, strict=True):
        found = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if np.allclose(
                np.roll(img_in, (dy, dx), axis=(0, 1))[
                    max(dy, 0) : 6 + min(dy, 0), max(dx, 0) : 6 + min(dx, 0)
                ],
                img_out[max(dy, 0) : 6 + min(dy, 0), max(dx, 0) : 6 + min(dx, 0)],
            )
        ]
        assert found, "the output is not a shifted copy of the input"


def test_labels_pass_through(tmp_path):
    root = tmp_path / "cls"
    for c in ("a", "b"):
        for i in range(3):
            save_image(root / c / f"{i}.png", random_pixels((8, 8, 3), seed=i))
    ds = load_dataset(
        "folder", path=root, labels=True, batch_size=6, shuffle=False, augment=True, seed=0
    )
    x, y = next(iter(ds))
    assert x.shape == (6, 8, 8, 3) and sorted(y.numpy().tolist()) == [0, 0, 0, 1, 1, 1]


def test_cache_keeps_augmentation_fresh(folder):
    ds = load_dataset(
        "folder", path=folder, batch_size=8, shuffle=False, cache=True, augment={"shift": 0}, seed=0
    )
    assert not np.array_equal(_epoch(ds), _epoch(ds))


@pytest.mark.parametrize(
    "bad",
    [
        "yes",
        1,
        [True],
        {"flipp": True},
        {"shift": -1},
        {"shift": 1.5},
        {"shift": True},
        {"flip": "no"},
        {"fill": "wrap"},
    ],
)
def test_bad_values_are_rejected(folder, bad):
    with pytest.raises(ValueError, match="augment"):
        load_dataset("folder", path=folder, augment=bad)


def test_test_split_is_refused(folder, mnist_dir):
    with pytest.raises(ValueError, match="test split"):
        load_dataset("mnist", "test", data_dir=mnist_dir, augment=True)
    with pytest.raises(ValueError, match="test split"):
        load_dataset("folder", "test", path=folder, augment=True)
    load_dataset("mnist", "test", data_dir=mnist_dir, augment=False)  # off is fine


def test_parse_defaults():
    assert parse_augment(True) == AugmentSpec(flip=True, shift=4, fill="background")
    assert parse_augment({"fill": "reflect"}) == AugmentSpec(True, 4, "reflect")
    assert parse_augment(False) is None and parse_augment({"flip": False, "shift": 0}) is None


def test_seeded_pipeline_is_a_function_of_seed_and_epoch(mnist_dir):
    """Order, flips/shifts and binarization per epoch depend on (seed, epoch) only, so a
    new pipeline told the epoch (as a resumed run's is, by vaecore.train) repeats it."""
    from vaecore.data.pipeline import set_epoch

    def make(seed):
        return load_dataset(
            "mnist", data_dir=mnist_dir, batch_size=5, labels=True, augment=True,
            binarize=True, seed=seed,
        )  # fmt: skip

    def epoch(ds):
        batches = list(ds)
        return (
            np.concatenate([x.numpy() for x, _ in batches]),
            np.concatenate([y.numpy() for _, y in batches]),
        )

    ds = make(0)
    set_epoch(0)
    first, second, third = epoch(ds), epoch(ds), epoch(ds)  # iterating counts epochs up
    assert not np.array_equal(first[1], second[1])  # a new order every epoch
    assert not np.array_equal(first[0], second[0])
    fresh, other_seed = make(0), make(1)  # a fresh pipeline, as in a resumed process
    set_epoch(2)
    again = epoch(fresh)
    np.testing.assert_array_equal(again[0], third[0])
    np.testing.assert_array_equal(again[1], third[1])
    assert not np.array_equal(epoch(other_seed)[0], third[0])  # another seed, other draws
    unseeded = make(None)
    assert sorted(epoch(unseeded)[1]) == sorted(first[1])  # seedless still works


def test_cached_file_pipeline_shuffles_by_seed_and_epoch_under_a_global_seed(tmp_path):
    """cache=True with a seed once built its shuffle with a tensor seed, which TensorFlow's
    get_seed compares with 0 in Python: it failed after keras.utils.set_random_seed(0)
    (the CelebA chapters' set-up). Each image here has its own grey level, so the
    order can be read back; cached and uncached pipelines give the same order."""
    import keras
    from PIL import Image

    from vaecore.data import load_dataset, pipeline

    for i in range(12):
        Image.fromarray(np.full((8, 8), i * 20, np.uint8), "L").save(tmp_path / f"img_{i:02d}.png")
    keras.utils.set_random_seed(0)

    def order(ds):
        return [int(round(float(np.mean(x)) * 255 / 20)) for x in ds.unbatch().as_numpy_iterator()]

    options = dict(path=tmp_path, batch_size=4, seed=3, image_size=8, channels=1, labels=False)
    cached = load_dataset("folder", cache=True, **options)
    first, second = order(cached), order(cached)
    assert sorted(first) == list(range(12)) and first != second  # a new order each epoch
    pipeline.set_epoch(0)
    assert order(cached) == first  # the order is a function of (seed, epoch)
    assert order(load_dataset("folder", cache=False, **options)) == first
