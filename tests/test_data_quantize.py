"""``load_dataset(..., quantize=True)``: resized / augmented pixels come out on the k/255 grid."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_data_fixtures import isolate, random_pixels, save_image, write_mnist_npz
from vaecore.data import load_dataset
from vaecore.losses import is_on_grid


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    for i in range(6):
        save_image(root / f"{i}.png", random_pixels((16, 16, 3), seed=i))
    return root


def _all(ds) -> np.ndarray:
    return np.concatenate([np.asarray(b) for b in ds])


def test_files_resized_off_the_grid_are_rounded_onto_it(folder):
    def load(**kw):
        return _all(
            load_dataset("folder", path=folder, batch_size=4, shuffle=False, image_size=11, **kw)
        )

    off, on = load(), load(quantize=True)
    assert not is_on_grid(off)  # 16 -> 11 px blends neighbours: values between the levels
    assert is_on_grid(on)
    np.testing.assert_array_equal(on, np.round(off * 255) / 255)  # the nearest level of each value
    native = _all(load_dataset("folder", path=folder, batch_size=4, shuffle=False))
    assert is_on_grid(native)  # 8-bit files as they are: already on it


def test_seeded_augmented_batches_come_out_on_the_grid(folder):
    kw = dict(path=folder, batch_size=3, seed=0, image_size=12, resize_mode="pad")
    aug = {"flip": True, "shift": 2, "fill": "reflect"}
    assert not is_on_grid(_all(load_dataset("folder", augment=aug, **kw)))
    assert is_on_grid(_all(load_dataset("folder", augment=aug, quantize=True, **kw)))
    cached = load_dataset("folder", augment=True, quantize=True, cache=True, **kw)
    assert is_on_grid(_all(cached))


def test_array_datasets_resized_and_unseeded_too(tmp_path):
    write_mnist_npz(tmp_path / "data" / "mnist" / "mnist.npz", n_train=8, n_test=4)
    kw = dict(data_dir=tmp_path / "data", batch_size=4, image_size=20)
    assert not is_on_grid(_all(load_dataset("mnist", shuffle=True, **kw)))
    assert is_on_grid(_all(load_dataset("mnist", shuffle=True, quantize=True, **kw)))
    seeded = load_dataset("mnist", shuffle=True, seed=3, augment=True, quantize=True, **kw)
    assert is_on_grid(_all(seeded))
