"""The dataset registry: name -> source function, plus what the book shows about it.

A source function takes ``split`` and keyword options and returns an
:class:`~vaecore.data.source_types.ArraySource` or a
:class:`~vaecore.data.source_types.FileSource`; :func:`vaecore.data.load_dataset`
turns either into a tf.data pipeline. New datasets are added with
:func:`register_dataset`.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from vaecore.data import arrays, dsprites, named, sources
from vaecore.data.errors import DatasetNotFoundError
from vaecore.data.source_types import ArraySource, FileSource

Loader = Callable[..., "ArraySource | FileSource"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is, for documentation, plots and error messages.

    ``kind``: ``"arrays"`` (held in memory), ``"files"`` (named image-file
    dataset) or ``"general"`` (a reader's own files). ``image_shape`` is the
    default shape of one output image (None when it depends on the data).
    ``options`` are the extra keyword arguments ``load_dataset`` passes through.
    """

    name: str
    kind: str
    description: str
    image_shape: tuple[int, int, int] | None = None
    class_names: tuple[str, ...] | None = None
    attribute_names: tuple[str, ...] | None = None
    splits: tuple[str, ...] = sources.SPLITS
    download: str | None = None
    citation: str = ""
    options: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int | None:
        return None if self.class_names is None else len(self.class_names)


@dataclass(frozen=True)
class _Entry:
    loader: Loader
    info: DatasetInfo


_REGISTRY: dict[str, _Entry] = {}
_COMMON = ("split", "data_dir", "download")


def register_dataset(name: str, loader: Loader, info: DatasetInfo) -> None:
    """Make ``load_dataset(name)`` call ``loader(split, **options)``."""
    params = inspect.signature(loader).parameters
    options = tuple(p for p in params if p not in _COMMON)
    _REGISTRY[name] = _Entry(loader, replace(info, name=name, options=options))


def list_datasets() -> list[str]:
    """Registered names, in registration order (named datasets, then general sources)."""
    return list(_REGISTRY)


def default_split(name: str) -> str:
    """``"all"`` for a reader's own data (folder, paths, csv), ``"train"`` for named datasets."""
    entry = _REGISTRY.get(name)
    return "all" if entry is not None and entry.info.kind == "general" else "train"


def get_loader(name: str) -> Loader:
    """The source function registered as ``name``; clear error listing the names otherwise."""
    if name not in _REGISTRY:
        raise ValueError(f"Unknown dataset {name!r}. Known: {', '.join(_REGISTRY)}.")
    return _REGISTRY[name].loader


def dataset_info(name: str, *, data_dir: str | os.PathLike | None = None) -> DatasetInfo:
    """Facts about ``name``. For file datasets whose classes come from folder names
    (caltech101, dogs) or whose attribute names come from a file (celeba), they are
    read from the local copy if there is one (never downloaded), else left None.
    """
    get_loader(name)
    info = _REGISTRY[name].info
    if info.kind != "files" or (info.class_names is not None or info.attribute_names is not None):
        return info
    loader = _REGISTRY[name].loader
    extra = {"attributes": True} if "attributes" in info.options else {}
    try:
        source = loader("all", data_dir=data_dir, download=False, **extra)
    except DatasetNotFoundError:
        return info
    return replace(info, class_names=source.class_names, attribute_names=source.attribute_names)


def dataset_root(
    name: str, *, data_dir: str | os.PathLike | None = None, download: bool | None = None
) -> Path:
    """The folder holding a file dataset's images (caltech101, dogs, pokemon, celeba).

    Found like :func:`vaecore.data.load_dataset` finds it (``data_dir``, ``$VAECORE_DATA_DIR``,
    the cache; an archive is unpacked once into the cache), downloaded where it has a public
    download (Caltech-101, Stanford Dogs), else a :class:`DatasetNotFoundError` saying what to
    fetch and where to put it. For data scripts that read a folder, as in a fresh Colab runtime::

        root = dataset_root("caltech101")   # .../101_ObjectCategories, downloaded if missing
    """
    get_loader(name)
    if _REGISTRY[name].info.kind != "files":
        raise ValueError(f"dataset_root: {name!r} is not a dataset of image files")
    return Path(_REGISTRY[name].loader("all", data_dir=data_dir, download=download).root)


def _array_info(ds: arrays.ArrayDataset, description: str, citation: str) -> DatasetInfo:
    return DatasetInfo(
        name=ds.name,
        kind="arrays",
        description=description,
        image_shape=ds.image_shape,
        class_names=ds.class_names,
        download=f"keras.datasets.{ds.keras_module}.load_data()",
        citation=citation,
    )


register_dataset(
    "mnist",
    arrays.MNIST.load,
    _array_info(
        arrays.MNIST,
        "Handwritten digits 0-9, 60,000 train / 10,000 test, 28x28 grey.",
        "Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits.",
    ),
)
register_dataset(
    "fashion_mnist",
    arrays.FASHION_MNIST.load,
    _array_info(
        arrays.FASHION_MNIST,
        "Zalando clothing images in 10 classes, 60,000 / 10,000, 28x28 grey.",
        "H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST, arXiv:1708.07747 (2017).",
    ),
)
register_dataset(
    "cifar10",
    arrays.CIFAR10.load,
    _array_info(
        arrays.CIFAR10,
        "Tiny colour photos in 10 classes, 50,000 / 10,000 (the book's offline copy: "
        "10,000 / 2,000), 32x32 RGB.",
        "A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009.",
    ),
)
register_dataset(
    "caltech101",
    named.caltech101,
    DatasetInfo(
        name="caltech101",
        kind="files",
        image_shape=(*named.DEFAULT_IMAGE_SIZE, 3),
        description="Photos of objects in 101 categories, 40-800 per category, about 300x200 px; "
        "labels from folder names.",
        download=named.CALTECH101_URL,
        citation="L. Fei-Fei, R. Fergus, P. Perona, Learning generative visual models from few training "
        "examples, CVPR Workshop 2004.",
    ),
)
register_dataset(
    "dogs",
    named.dogs,
    DatasetInfo(
        name="dogs",
        kind="files",
        image_shape=(*named.DEFAULT_IMAGE_SIZE, 3),
        description="Stanford Dogs: photos of 120 dog breeds; labels from folder names.",
        download=named.DOGS_URL,
        citation="A. Khosla, N. Jayadevaprakash, B. Yao, L. Fei-Fei, Novel Dataset for Fine-Grained Image "
        "Categorization, FGVC Workshop, CVPR 2011.",
    ),
)
register_dataset(
    "pokemon",
    named.pokemon,
    DatasetInfo(
        name="pokemon",
        kind="files",
        image_shape=(*named.DEFAULT_IMAGE_SIZE, 3),
        description="Pokémon artwork, RGBA PNGs on a transparent background (composited onto "
        "`background`); unlabelled. Local files only.",
        citation="Pokémon artwork (c) Nintendo / Creatures / GAME FREAK; education and research use only.",
    ),
)
register_dataset(
    "celeba",
    named.celeba,
    DatasetInfo(
        name="celeba",
        kind="files",
        image_shape=(*named.DEFAULT_IMAGE_SIZE, 3),
        description="CelebA aligned celebrity faces (178x218; the book's copy 89x109) with 40 binary "
        "attributes (attributes=True). Local files only: the official download is usually refused.",
        download=None,
        citation="Z. Liu, P. Luo, X. Wang, X. Tang, Deep Learning Face Attributes in the Wild, ICCV 2015.",
    ),
)
register_dataset(
    "dsprites",
    dsprites.dsprites_source,
    DatasetInfo(
        name="dsprites",
        kind="arrays",
        image_shape=(dsprites.IMAGE_SIZE, dsprites.IMAGE_SIZE, 1),
        attribute_names=dsprites.FACTOR_NAMES,
        description="dSprites: 737,280 binary 64x64 sprites, every combination of 5 known "
        "factors (shape, scale, orientation, posX, posY), generated here in NumPy (no download); "
        "labels=True gives the factor classes, subset= a part of the grid.",
        download=None,
        citation=dsprites.CITATION,
    ),
)
register_dataset(
    "folder",
    sources.folder_source,
    DatasetInfo(
        name="folder",
        kind="general",
        description="All images under path= (recursive); labels from first-level sub-folder names.",
    ),
)
register_dataset(
    "paths",
    sources.paths_source,
    DatasetInfo(
        name="paths",
        kind="general",
        description="Images from paths=[...], optional file_labels=[...].",
    ),
)
register_dataset(
    "csv",
    sources.csv_source,
    DatasetInfo(
        name="csv",
        kind="general",
        description="Images listed in column= of the CSV at path= (relative to the CSV's folder), "
        "optional label_column=.",
    ),
)
