"""MNIST, Fashion-MNIST and CIFAR-10: small datasets held in memory as uint8 arrays.

Local layouts read as they are, in every data directory (see :mod:`.locate`):

* MNIST: ``mnist/mnist.npz`` or ``mnist.npz`` (Keras keys ``x_train``, ``y_train``,
  ``x_test``, ``y_test``), or the four official IDX files in ``mnist/``. The npz is
  read with ``np.load``: the book's copy is not byte-identical to the Keras file,
  so Keras' hash-checked loader would reject it.
* Fashion-MNIST: ``fashion-mnist/`` (or ``fashion_mnist/``) with
  ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``.
* CIFAR-10: ``cifar10/*.npz`` or ``cifar10.npz`` with the Keras keys (the book's
  ``cifar10_subset.npz`` is a 10,000/2,000 subset), the official pickled
  ``cifar-10-batches-py/`` folder, or ``cifar-10-python.tar.gz`` (unpacked once
  into the cache).

Otherwise the Keras loader (``keras.datasets.<name>.load_data()``) downloads the
official files, which is what a Colab reader gets.
"""

from __future__ import annotations

import gzip
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaecore.data import locate
from vaecore.data.display import show_path
from vaecore.data.source_types import ArraySource
from vaecore.data.sources import check_split

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

Splits = dict[str, tuple[np.ndarray, np.ndarray]]
Reader = Callable[[Path], "Splits | None"]


# --- file readers ------------------------------------------------------------------


def read_keras_npz(path: Path) -> Splits:
    """``x_train, y_train, x_test, y_test`` from a Keras-style ``.npz`` (no pickles)."""
    with np.load(path, allow_pickle=False) as d:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(d.files)
        if missing:
            raise ValueError(f"{path} lacks the arrays {sorted(missing)} (has {d.files})")
        return {"train": (d["x_train"], d["y_train"]), "test": (d["x_test"], d["y_test"])}


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (``.gz`` or raw) as a uint8 array, shape from its own header."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an uint8 IDX file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(data) - offset != expected:
        raise ValueError(
            f"{path}: header says {dims} ({expected} bytes) but holds {len(data) - offset}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def read_idx_folder(folder: Path) -> Splits | None:
    """The four official IDX files in ``folder`` (gzipped or not), or None if absent."""
    arrays = {}
    for prefix, split in (("train", "train"), ("t10k", "test")):
        for kind, stem in (
            ("x", f"{prefix}-images-idx3-ubyte"),
            ("y", f"{prefix}-labels-idx1-ubyte"),
        ):
            path = next(
                (
                    folder / f"{stem}{ext}"
                    for ext in (".gz", "")
                    if (folder / f"{stem}{ext}").is_file()
                ),
                None,
            )
            if path is None:
                return None
            arrays[kind, split] = read_idx(path)
    return {s: (arrays["x", s], arrays["y", s]) for s in ("train", "test")}


def read_cifar_batches(folder: Path) -> Splits:
    """The official pickled ``cifar-10-batches-py`` folder as NHWC uint8 arrays."""

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        with open(folder / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        x = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return x, np.asarray(batch[b"labels"], dtype=np.int64)

    train = [load(f"data_batch_{i}") for i in range(1, 6) if (folder / f"data_batch_{i}").is_file()]
    if not train:
        raise ValueError(f"{folder} holds no data_batch_1..5 files")
    x_test, y_test = load("test_batch")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return {"train": (x_train, y_train), "test": (x_test, y_test)}


# --- where each dataset may be -------------------------------------------------------


def _npz_reader(*relpaths: str) -> Reader:
    def read(data_dir: Path) -> Splits | None:
        for rel in relpaths:
            for path in sorted(data_dir.glob(rel)):
                if path.is_file():
                    return _read_clearly(read_keras_npz, path)
        return None

    return read


def _idx_reader(*folders: str) -> Reader:
    def read(data_dir: Path) -> Splits | None:
        for rel in folders:
            if (data_dir / rel).is_dir():
                found = _read_clearly(read_idx_folder, data_dir / rel)
                if found is not None:
                    return found
        return None

    return read


_CIFAR_BATCHES = locate.Layout(
    folders=(".", "cifar10", "cifar-10"),
    match=lambda base: (
        base / "cifar-10-batches-py"
        if (base / "cifar-10-batches-py" / "test_batch").is_file()
        else None
    ),
    archives=("cifar-10-python.tar.gz", "cifar10/*.tar.gz", "cifar-10/*.tar.gz"),
    content="cifar-10-batches-py/",
)


def _cifar_batches_reader(data_dir: Path) -> Splits | None:
    folder = locate.find_layout(_CIFAR_BATCHES, [data_dir])
    return None if folder is None else _read_clearly(read_cifar_batches, folder)


def _read_clearly(reader: Callable[[Path], Splits | None], path: Path) -> Splits | None:
    try:
        return reader(path)
    except Exception as exc:
        raise ValueError(
            f"Found {show_path(path)} but could not read it: {type(exc).__name__}: {exc}"
        ) from None


@dataclass(frozen=True)
class ArrayDataset:
    """One in-memory dataset: where it may be on disk, and its Keras downloader."""

    name: str
    readers: tuple[Reader, ...]
    looked_for: str
    keras_module: str
    how_to_get: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]

    def load(
        self,
        split: str = "train",
        *,
        data_dir: str | os.PathLike | None = None,
        download: bool | None = None,
    ) -> ArraySource:
        """Images ``(N, H, W, C)`` uint8 and int32 labels of ``split`` ("train", "test", "all")."""
        check_split(split)
        dirs = locate.search_dirs(data_dir)
        splits, origin = self._find_local(dirs)
        if splits is None:
            if not locate.downloads_allowed(download):
                raise locate.not_found(
                    self.name,
                    dirs,
                    self.looked_for,
                    self.how_to_get,
                    locate.offline_reason(download),
                )
            splits = locate.try_download(
                self.name, self._keras_load, dirs, self.looked_for, self.how_to_get
            )
            origin = f"keras.datasets.{self.keras_module}"
        if split == "all":
            x = np.concatenate([splits["train"][0], splits["test"][0]])
            y = np.concatenate([splits["train"][1], splits["test"][1]])
        else:
            x, y = splits[split]
        x = np.asarray(x, dtype=np.uint8)
        if x.ndim == 3:
            x = x[..., None]
        return ArraySource(
            images=x,
            labels=np.asarray(y).reshape(-1).astype(np.int32),
            class_names=self.class_names,
            origin=origin,
        )

    def _find_local(self, dirs: list[Path]) -> tuple[Splits | None, str]:
        for d in dirs:
            if not d.is_dir():
                continue
            for reader in self.readers:
                found = reader(d)
                if found is not None:
                    return found, f"{self.name} in {show_path(d)}"
        return None, ""

    def _keras_load(self) -> Splits:
        import keras

        (x_train, y_train), (x_test, y_test) = getattr(
            keras.datasets, self.keras_module
        ).load_data()
        return {"train": (x_train, y_train), "test": (x_test, y_test)}


MNIST = ArrayDataset(
    name="mnist",
    readers=(_npz_reader("mnist/mnist.npz", "mnist.npz"), _idx_reader("mnist")),
    looked_for="mnist/mnist.npz, mnist.npz, or mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz",
    keras_module="mnist",
    how_to_get=(
        "online it is downloaded by keras.datasets.mnist.load_data(). Offline, copy the Keras file "
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz (or the book's "
        "mnist/mnist.npz) to <data dir>/mnist/mnist.npz."
    ),
    class_names=MNIST_CLASSES,
    image_shape=(28, 28, 1),
)

FASHION_MNIST = ArrayDataset(
    name="fashion_mnist",
    readers=(_idx_reader("fashion-mnist", "fashion_mnist", "fashion"),),
    looked_for="fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (also fashion_mnist/)",
    keras_module="fashion_mnist",
    how_to_get=(
        "online it is downloaded by keras.datasets.fashion_mnist.load_data(). Offline, put the four "
        "official files from https://github.com/zalandoresearch/fashion-mnist (data/fashion/*.gz) in "
        "<data dir>/fashion-mnist/."
    ),
    class_names=FASHION_MNIST_CLASSES,
    image_shape=(28, 28, 1),
)

CIFAR10 = ArrayDataset(
    name="cifar10",
    readers=(_npz_reader("cifar10/*.npz", "cifar10.npz"), _cifar_batches_reader),
    looked_for="cifar10/*.npz, cifar10.npz, cifar-10-batches-py/ (also in cifar10/), cifar-10-python.tar.gz",
    keras_module="cifar10",
    how_to_get=(
        "online it is downloaded by keras.datasets.cifar10.load_data(). Offline, put "
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (or its unpacked "
        "cifar-10-batches-py/ folder) in <data dir>/cifar10/."
    ),
    class_names=CIFAR10_CLASSES,
    image_shape=(32, 32, 3),
)
