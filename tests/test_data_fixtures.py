"""Helpers that write tiny fixture datasets for the ``vaecore.data`` tests (no tests here).

Everything is generated in ``tmp_path``: nothing is downloaded and the book's
``shared/data`` folder is not needed.
"""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def isolate(monkeypatch, tmp_path: Path, data_dir: Path | None = None) -> Path:
    """Cache in ``tmp_path/cache``, downloads off, ``VAECORE_DATA_DIR`` = ``data_dir`` (or unset)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("VAECORE_CACHE_DIR", str(cache))
    monkeypatch.setenv("VAECORE_OFFLINE", "1")
    if data_dir is None:
        monkeypatch.delenv("VAECORE_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("VAECORE_DATA_DIR", str(data_dir))
    return cache


def random_pixels(shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def save_image(path: Path, array: np.ndarray, fmt: str | None = None, **kwargs) -> Path:
    """Write ``array`` (H, W[, C]) uint8/uint16 with Pillow; folders are created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt, **kwargs)
    return path


def jpeg_bytes(array: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def write_mnist_npz(path: Path, n_train: int = 40, n_test: int = 12) -> dict[str, np.ndarray]:
    """Keras-layout ``mnist.npz`` with labels ``i % 10`` (so order is checkable)."""
    arrays = {
        "x_train": random_pixels((n_train, 28, 28), 1),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": random_pixels((n_test, 28, 28), 2),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return arrays


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (uint8), gzipped when the name ends in ``.gz``."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


def write_fashion_idx(folder: Path, n_train: int = 30, n_test: int = 10) -> dict[str, np.ndarray]:
    arrays = {
        "x_train": random_pixels((n_train, 28, 28), 3),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": random_pixels((n_test, 28, 28), 4),
        "y_test": ((np.arange(n_test) + 3) % 10).astype(np.uint8),
    }
    write_idx(folder / "train-images-idx3-ubyte.gz", arrays["x_train"])
    write_idx(folder / "train-labels-idx1-ubyte.gz", arrays["y_train"])
    write_idx(folder / "t10k-images-idx3-ubyte.gz", arrays["x_test"])
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", arrays["y_test"])
    return arrays


def write_cifar_npz(path: Path, n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    arrays = {
        "x_train": random_pixels((n_train, 32, 32, 3), 5),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8).reshape(-1, 1),
        "x_test": random_pixels((n_test, 32, 32, 3), 6),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8).reshape(-1, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays, class_names=np.array(["c"] * 10))
    return arrays


def write_cifar_batches(folder: Path, per_batch: int = 4, n_test: int = 6) -> dict[str, np.ndarray]:
    """The official pickled ``cifar-10-batches-py`` layout (5 train batches + test)."""
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for b in range(1, 6):
        x = random_pixels((per_batch, 32, 32, 3), 10 + b)
        y = [(b + i) % 10 for i in range(per_batch)]
        xs.append(x)
        ys.extend(y)
        _pickle_batch(folder / f"data_batch_{b}", x, y)
    x_test = random_pixels((n_test, 32, 32, 3), 20)
    y_test = [i % 10 for i in range(n_test)]
    _pickle_batch(folder / "test_batch", x_test, y_test)
    return {
        "x_train": np.concatenate(xs),
        "y_train": np.array(ys),
        "x_test": x_test,
        "y_test": np.array(y_test),
    }


def _pickle_batch(path: Path, x: np.ndarray, y: list[int]) -> None:
    data = x.transpose(0, 3, 1, 2).reshape(
        len(x), -1
    )  # official row layout: R plane, G plane, B plane
    with open(path, "wb") as f:
        pickle.dump({b"data": data, b"labels": y, b"batch_label": b"x"}, f)


def make_tar(archive: Path, source_dir: Path, arcname: str | None = None) -> Path:
    """Tar (``.tar`` or ``.tar.gz`` by name) of ``source_dir`` stored as ``arcname``."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    mode = "w:gz" if archive.name.endswith((".tar.gz", ".tgz")) else "w"
    with tarfile.open(archive, mode) as tf:
        tf.add(source_dir, arcname=arcname or source_dir.name)
    return archive


def make_zip(archive: Path, files: dict[str, Path]) -> Path:
    """Zip holding ``files`` as ``{name in zip: file on disk}``."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as zf:
        for name, path in files.items():
            zf.write(path, name)
    return archive


def class_folders(
    root: Path, classes: dict[str, int], size=(20, 24), fmt: str = "jpg"
) -> list[Path]:
    """``root/<class>/img_<i>.<fmt>`` with ``count`` images per class; returns the files."""
    files = []
    for c, (name, count) in enumerate(classes.items()):
        for i in range(count):
            files.append(
                save_image(
                    root / name / f"img_{i:03d}.{fmt}", random_pixels((*size, 3), 100 * c + i)
                )
            )
    return files


CELEBA_ATTRS = ("5_o_Clock_Shadow", "Bald", "Male", "Smiling")


def write_celeba_attributes(path: Path, names: list[str], rows: dict[str, list[int]]) -> None:
    """Official ``list_attr_celeba.txt`` format (count, names, then -1/1 rows, double spaces)."""
    lines = [str(len(rows)), " ".join(names)]
    lines += [f"{name}  " + " ".join(f"{v:2d}" for v in values) for name, values in rows.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
