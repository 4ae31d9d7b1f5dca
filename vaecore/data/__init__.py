"""Datasets for the VAE book as tf.data pipelines: one call, offline first.

>>> from vaecore.data import load_dataset
>>> ds = load_dataset("mnist", batch_size=128, binarize=True)          # doctest: +SKIP
>>> ds = load_dataset("celeba", image_size=64, resize_mode="crop")       # doctest: +SKIP
>>> ds = load_dataset("folder", path="my_photos/", image_size=(64, 64))  # doctest: +SKIP

Where data comes from: ``data_dir=``, else ``$VAECORE_DATA_DIR`` then
``<cache>/data`` (layouts of the book's offline data folder and the official
downloads are read as they are; archives are unpacked once into
``<cache>/extracted``), else the public download, else a
:class:`DatasetNotFoundError` saying what to put where. ``VAECORE_OFFLINE=1``
(or ``download=False``) switches downloads off.

Modules: :mod:`.load` (``load_dataset``), :mod:`.registry` (names and info),
:mod:`.arrays` (MNIST, Fashion-MNIST, CIFAR-10), :mod:`.named` (Caltech-101,
Stanford Dogs, Pokémon, CelebA), :mod:`.dsprites` (dSprites, generated, with its
factors), :mod:`.sources` (folder, path list, CSV, split
rule), :mod:`.locate` (search and download), :mod:`.archives` (unpack once),
:mod:`.validate` (bad-file scan), :mod:`.images` (channels, alpha and resizing in the
graph, with :func:`vaecore.images.decode_bytes`, the decoder the toolbox shares),
:mod:`.pipeline` (tf.data assembly), :mod:`.display` (``show_path``: paths in messages written
relative to the data, cache, run or current folder, never the machine's absolute path).
"""

from vaecore.data.arrays import CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES
from vaecore.data.display import show_path
from vaecore.data.errors import (
    BadImageError,
    BadImageWarning,
    DatasetNotFoundError,
    MissingFilesError,
)
from vaecore.data.load import load_dataset
from vaecore.data.locate import OFFLINE_ENV
from vaecore.data.registry import (
    DatasetInfo,
    dataset_info,
    dataset_root,
    list_datasets,
    register_dataset,
)

__all__ = [
    "load_dataset",
    "dataset_info",
    "dataset_root",
    "show_path",
    "list_datasets",
    "register_dataset",
    "DatasetInfo",
    "DatasetNotFoundError",
    "MissingFilesError",
    "BadImageError",
    "BadImageWarning",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "CIFAR10_CLASSES",
    "OFFLINE_ENV",
]
