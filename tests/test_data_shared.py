"""One batch of every dataset of the book's offline folder (``../shared/data``), read as it is.

Skipped where that folder is absent. The folder is read-only: archives are
unpacked into a temporary cache.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_data_fixtures import SHARED_DATA, isolate
from vaecore.data import load_dataset

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} not present")


@pytest.fixture(autouse=True)
def _shared(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path, SHARED_DATA)


def first_batch(name, split="train", **kwargs):
    ds = load_dataset(name, split, seed=0, **kwargs)
    element = next(iter(ds))
    x, y = element if isinstance(element, tuple) else (element, None)
    x = x.numpy()
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    return ds, x, None if y is None else y.numpy()


def test_shared_mnist():
    ds, x, y = first_batch("mnist", labels=True)
    assert x.shape == (128, 28, 28, 1) and ds.num_examples == 60000
    assert set(y.tolist()) <= set(range(10))
    full = next(iter(load_dataset("mnist", batch_size=60000, shuffle=False))).numpy()
    assert full.mean() == pytest.approx(0.130660, abs=1e-5)  # the well-known MNIST mean


def test_shared_fashion_mnist():
    ds, x, y = first_batch("fashion_mnist", "test", labels=True)
    assert x.shape == (128, 28, 28, 1) and ds.num_examples == 10000
    assert ds.class_names[9] == "Ankle boot"


def test_shared_cifar10_subset():
    ds, x, y = first_batch("cifar10", labels=True)
    assert x.shape == (128, 32, 32, 3) and ds.num_examples == 10000
    assert load_dataset("cifar10", "test").num_examples == 2000


def test_shared_caltech101():
    ds, x, y = first_batch("caltech101", "all", labels=True, limit=300)
    assert x.shape == (128, 64, 64, 3) and len(ds.class_names) == 101
    assert "BACKGROUND_Google" not in ds.class_names


def test_shared_dogs_grey_64():
    ds, x, y = first_batch("dogs", labels=True, channels=1, image_size=64, limit=200)
    assert x.shape == (128, 64, 64, 1) and len(ds.class_names) == 120
    assert ds.class_names[0] == "Chihuahua"


def test_shared_pokemon_rgba_composited():
    ds, x, _ = first_batch("pokemon", "all", background=(255, 255, 255))
    assert x.shape == (128, 64, 64, 3) and ds.num_examples == 352
    np.testing.assert_allclose(x[:, 0, 0], 1.0, atol=0.02)  # transparent corners turn white


def test_shared_celeba_with_attributes():
    ds, x, a = first_batch("celeba", attributes=True, resize_mode="crop", limit=500)
    assert x.shape == (128, 64, 64, 3) and a.shape == (128, 40)
    assert set(np.unique(a)) <= {0, 1}
    assert ds.attribute_names[31] == "Smiling"
