"""MNIST / Fashion-MNIST / CIFAR-10 from local files, and the download fallback."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.test_data_fixtures import (
    isolate,
    make_tar,
    write_cifar_batches,
    write_cifar_npz,
    write_fashion_idx,
    write_mnist_npz,
)
from vaecore.data import DatasetNotFoundError, load_dataset
from vaecore.data.arrays import read_idx
from vaecore.data.display import show_path


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    d.mkdir()
    isolate(monkeypatch, tmp_path, d)
    return d


def collect(ds):
    """All elements of one epoch, concatenated (images, labels-or-None)."""
    xs, ys = [], []
    for el in ds:
        x, y = el if isinstance(el, tuple) else (el, None)
        xs.append(x.numpy())
        if y is not None:
            ys.append(y.numpy())
    return np.concatenate(xs), (np.concatenate(ys) if ys else None)


def test_mnist_npz_shapes_range_and_labels(data_dir):
    arrays = write_mnist_npz(data_dir / "mnist" / "mnist.npz")
    ds = load_dataset("mnist", batch_size=16, labels=True, shuffle=False)
    x, y = collect(ds)
    assert x.shape == (40, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x[..., 0], arrays["x_train"] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(y, arrays["y_train"])
    assert y.dtype == np.int32
    assert ds.class_names == tuple("0123456789")
    first = next(iter(ds))[0]
    assert first.shape == (16, 28, 28, 1)


def test_mnist_npz_at_data_dir_root_and_test_split(data_dir):
    arrays = write_mnist_npz(data_dir / "mnist.npz")
    x, y = collect(load_dataset("mnist", "test", labels=True, shuffle=False))
    assert x.shape == (12, 28, 28, 1)
    np.testing.assert_array_equal(y, arrays["y_test"])
    x_all, _ = collect(load_dataset("mnist", "all", shuffle=False))
    assert len(x_all) == 52


def test_shuffle_is_a_permutation_and_seeded(data_dir):
    write_mnist_npz(data_dir / "mnist" / "mnist.npz")
    _, y1 = collect(load_dataset("mnist", batch_size=8, labels=True, seed=3))
    _, y2 = collect(load_dataset("mnist", batch_size=8, labels=True, seed=3))
    _, y_plain = collect(load_dataset("mnist", batch_size=8, labels=True, shuffle=False))
    np.testing.assert_array_equal(y1, y2)
    assert sorted(y1.tolist()) == sorted(y_plain.tolist())
    assert not np.array_equal(y1, y_plain)


def test_limit_takes_first_examples_before_shuffle(data_dir):
    arrays = write_mnist_npz(data_dir / "mnist" / "mnist.npz")
    x, y = collect(load_dataset("mnist", limit=7, labels=True, seed=0))
    assert len(x) == 7
    assert sorted(y.tolist()) == sorted(arrays["y_train"][:7].tolist())


def test_binarize_is_binary_and_redrawn_every_epoch(data_dir):
    write_mnist_npz(data_dir / "mnist" / "mnist.npz")
    ds = load_dataset("mnist", batch_size=40, binarize=True, shuffle=False, seed=1)
    epoch1, epoch2 = next(iter(ds)).numpy(), next(iter(ds)).numpy()
    assert set(np.unique(epoch1)) <= {0.0, 1.0}
    assert not np.array_equal(epoch1, epoch2)
    # same seed, fresh pipeline: the same first epoch (reproducible)
    again = next(
        iter(load_dataset("mnist", batch_size=40, binarize=True, shuffle=False, seed=1))
    ).numpy()
    np.testing.assert_array_equal(epoch1, again)
    # the draw follows the grey values: mean of binarized ~ mean of grey
    grey = next(iter(load_dataset("mnist", batch_size=40, shuffle=False))).numpy()
    assert abs(epoch1.mean() - grey.mean()) < 0.02


def test_binarize_keeps_labels(data_dir):
    arrays = write_mnist_npz(data_dir / "mnist" / "mnist.npz")
    x, y = collect(load_dataset("mnist", binarize=True, labels=True, shuffle=False))
    np.testing.assert_array_equal(y, arrays["y_train"])
    assert set(np.unique(x)) <= {0.0, 1.0}


def test_unbatched_and_drop_remainder(data_dir):
    write_mnist_npz(data_dir / "mnist" / "mnist.npz")
    first = next(iter(load_dataset("mnist", batch_size=None)))
    assert first.shape == (28, 28, 1)
    batches = list(load_dataset("mnist", batch_size=16, drop_remainder=True))
    assert [b.shape[0] for b in batches] == [16, 16]


def test_channels_and_resize_on_arrays(data_dir):
    write_mnist_npz(data_dir / "mnist" / "mnist.npz")
    x = next(
        iter(load_dataset("mnist", batch_size=4, channels=3, image_size=32, shuffle=False))
    ).numpy()
    assert x.shape == (4, 32, 32, 3)
    np.testing.assert_allclose(x[..., 0], x[..., 2])


def test_fashion_mnist_idx_gz(data_dir):
    arrays = write_fashion_idx(data_dir / "fashion-mnist")
    x, y = collect(load_dataset("fashion_mnist", "test", labels=True, shuffle=False))
    assert x.shape == (10, 28, 28, 1)
    np.testing.assert_allclose(x[..., 0], arrays["x_test"] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(y, arrays["y_test"])
    assert load_dataset("fashion_mnist", batch_size=4).class_names[0] == "T-shirt/top"


def test_read_idx_rejects_bad_header(tmp_path):
    bad = tmp_path / "x-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") * 3 + b"\x00" * 10)
    with pytest.raises(ValueError, match="header says"):
        read_idx(bad)


def test_cifar_npz_subset_layout(data_dir):
    arrays = write_cifar_npz(data_dir / "cifar10" / "cifar10_subset.npz")
    x, y = collect(load_dataset("cifar10", labels=True, shuffle=False))
    assert x.shape == (20, 32, 32, 3)
    np.testing.assert_allclose(x, arrays["x_train"] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(y, arrays["y_train"].ravel())


def test_cifar_pickled_batches(data_dir):
    arrays = write_cifar_batches(data_dir / "cifar-10-batches-py")
    x, y = collect(load_dataset("cifar10", labels=True, shuffle=False))
    assert x.shape == (20, 32, 32, 3)
    np.testing.assert_allclose(x, arrays["x_train"] / 255.0, atol=1e-6)
    np.testing.assert_array_equal(y, arrays["y_train"])
    x_test, _ = collect(load_dataset("cifar10", "test", shuffle=False))
    np.testing.assert_allclose(x_test, arrays["x_test"] / 255.0, atol=1e-6)


def test_cifar_official_tar_gz_is_unpacked_from_cache(data_dir, tmp_path):
    arrays = write_cifar_batches(tmp_path / "src" / "cifar-10-batches-py")
    make_tar(
        data_dir / "cifar10" / "cifar-10-python.tar.gz", tmp_path / "src" / "cifar-10-batches-py"
    )
    x, _ = collect(load_dataset("cifar10", "test", shuffle=False))
    np.testing.assert_allclose(x, arrays["x_test"] / 255.0, atol=1e-6)
    assert list((tmp_path / "cache" / "extracted").glob("cifar-10-python-*/cifar-10-batches-py"))


def test_missing_mnist_offline_says_what_and_where(data_dir):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert "'mnist'" in message
    assert "$VAECORE_DATA_DIR" in message and str(data_dir) not in message  # no machine path
    assert "mnist/mnist.npz" in message
    assert "VAECORE_OFFLINE" in message and "VAECORE_DATA_DIR" in message
    assert isinstance(err.value, FileNotFoundError)


def test_data_dir_argument_is_the_only_local_place_searched(data_dir, tmp_path):
    write_mnist_npz(data_dir / "mnist.npz")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(show_path(elsewhere))):
        load_dataset("mnist", data_dir=elsewhere)
    write_mnist_npz(elsewhere / "mnist" / "mnist.npz", n_train=5)
    assert load_dataset("mnist", data_dir=elsewhere).num_examples == 5


def test_failed_download_becomes_a_clear_error(data_dir, monkeypatch):
    import urllib.error

    import keras

    def refuse():
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", refuse)
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("mnist", download=True)
    message = str(err.value)
    assert "download failed" in message and "URLError" in message and "name resolution" in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_download_used_when_not_on_disk(data_dir, monkeypatch):
    import keras

    x = np.full((3, 28, 28), 255, np.uint8)
    y = np.array([1, 2, 3], np.uint8)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: ((x, y), (x[:1], y[:1])))
    out, labels = collect(load_dataset("mnist", download=True, labels=True, shuffle=False))
    assert out.shape == (3, 28, 28, 1) and out.min() == 1.0
    np.testing.assert_array_equal(labels, [1, 2, 3])


def test_bad_arguments_are_clear(data_dir):
    write_mnist_npz(data_dir / "mnist.npz")
    with pytest.raises(ValueError, match="split must be one of"):
        load_dataset("mnist", "validation")
    with pytest.raises(ValueError, match="Unknown dataset 'mnsit'"):
        load_dataset("mnsit")
    with pytest.raises(TypeError, match="unknown options"):
        load_dataset("mnist", path="x")
    with pytest.raises(ValueError, match="channels"):
        load_dataset("mnist", channels=2)
    with pytest.raises(ValueError, match="resize_mode"):
        load_dataset("mnist", resize_mode="zoom")
    with pytest.raises(ValueError, match="limit"):
        load_dataset("mnist", limit=0)
