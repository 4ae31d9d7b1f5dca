"""Photo datasets kept as image files: Caltech-101, Stanford Dogs, Pokémon, CelebA.

Each loader finds the files (folder or archive, see :mod:`.locate`), lists them
with labels, and applies the stable train/test split of :mod:`.sources`
(``split="train" | "test" | "all"``, ``test_fraction=0.1``). None of these
datasets has an official split that the book uses, so the hash split applies.

Layouts accepted in each data directory (archives are unpacked once into the cache):

* ``caltech101``: ``101_ObjectCategories/<category>/*.jpg`` directly, in
  ``caltech101/`` or ``caltech-101/``, or inside any archive there (the book's
  ``caltech101_subset20.tar.gz``, the official ``caltech-101.zip`` which nests
  ``101_ObjectCategories.tar.gz``). ``BACKGROUND_Google`` is left out unless
  ``include_background=True``. Download: the official CaltechDATA zip.
* ``dogs``: Stanford Dogs ``Images/<wnid>-<breed>/*.jpg`` in ``dogs/`` (or
  ``stanford_dogs/``), or an archive there (``images.tar``, the book's
  ``stanford_dogs_224_subset15.tar.gz``). Download: the official ``images.tar``.
* ``pokemon``: a folder ``pokemon/`` of PNG/JPG images, or an archive in
  ``pokemon/`` holding one (the book's ``pokemon.tar``). No dependable download.
* ``celeba``: ``img_align_celeba*/`` (official ``img_align_celeba/`` or the book's
  ``img_align_celeba_89x109/``, also Kaggle's nested copy) in ``celeba/``, or an
  archive there (``img_align_celeba.zip``, ``celeba_10k_89x109.tar.gz``).
  Attributes: ``list_attr_celeba*.txt`` (official format) or Kaggle's
  ``list_attr_celeba.csv`` next to the images or in ``celeba/``. The download is
  usually refused (Google Drive quota), so none is attempted.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from vaecore.data import locate
from vaecore.data.display import show_path
from vaecore.data.errors import DatasetNotFoundError
from vaecore.data.source_types import FileSource
from vaecore.data.sources import DEFAULT_TEST_FRACTION, apply_split, folder_files, is_image_name

CALTECH101_URL = "https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip"
DOGS_URL = "http://vision.stanford.edu/aditya86/ImageNetDogs/images.tar"
CELEBA_PAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
CALTECH_BACKGROUND = "BACKGROUND_Google"
CELEBA_KAGGLE = "https://www.kaggle.com/datasets/jessicali9530/celeba-dataset"
POKEMON_SPRITES = "https://github.com/moxiegushi/pokeGAN"
DEFAULT_IMAGE_SIZE = (64, 64)

# What to fetch by hand, for the two datasets without a dependable public download. Each names
# the files, where they come from, where they go, and the one line that points the loader there.
CELEBA_HOW_TO = (
    f"CelebA has no download that works unattended (its Google Drive refuses most requests). "
    f"Download img_align_celeba.zip and list_attr_celeba.txt from the official page {CELEBA_PAGE} "
    f"('Align&Cropped Images' and 'Anno' on its Google Drive), or the Kaggle copy {CELEBA_KAGGLE} "
    "(its nested img_align_celeba/ folder and list_attr_celeba.csv are read as they are). "
    "Put both in <data dir>/celeba/ (the zip may stay zipped), e.g. in Colab /content/data/celeba/, "
    "then run `%env VAECORE_DATA_DIR=/content/data` (or pass data_dir='/content/data')."
)
POKEMON_HOW_TO = (
    f"the Pokémon sprites have no packaged download. The original project used the PNGs in data/ "
    f"of {POKEMON_SPRITES}; in Colab: `!git clone --depth 1 {POKEMON_SPRITES} /content/pokeGAN "
    "&& mkdir -p /content/data && cp -r /content/pokeGAN/data /content/data/pokemon`, then "
    "`%env VAECORE_DATA_DIR=/content/data`. Any folder of Pokémon PNG/JPG images works, at "
    "<data dir>/pokemon/ (or a .tar/.zip of it there)."
)
_ARCHIVE_GLOBS = ("*.tar.gz", "*.tgz", "*.tar", "*.zip")


def _archives_in(*folders: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(f"{folder}/{g}" for folder in folders for g in _ARCHIVE_GLOBS) + extra


def _has_image_child(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.is_file() and is_image_name(e.name) for e in entries)
    except OSError:
        return False


def _has_subdirs(folder: Path, pattern: str = "") -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.is_dir() and re.match(pattern, e.name) for e in entries)
    except OSError:
        return False


def _named_child(name: str, subdir_pattern: str = "") -> Callable[[Path], Path | None]:
    """Matcher: ``base/name`` (or ``base`` itself if so named) holding class sub-folders."""

    def match(base: Path) -> Path | None:
        for candidate in (base, base / name):
            if (
                candidate.name == name
                and candidate.is_dir()
                and _has_subdirs(candidate, subdir_pattern)
            ):
                return candidate
        return None

    return match


def _image_folder(prefix: str) -> Callable[[Path], Path | None]:
    """Matcher: a folder whose name starts with ``prefix`` and holds images directly
    (also one level down, for copies nested like Kaggle's ``img_align_celeba/img_align_celeba``)."""

    def match(base: Path) -> Path | None:
        candidates = [base] if base.name.lower().startswith(prefix) else []
        candidates += sorted(p for p in base.glob(f"{prefix}*") if p.is_dir())
        for candidate in candidates:
            if _has_image_child(candidate):
                return candidate
            for inner in sorted(candidate.glob(f"{prefix}*")):
                if inner.is_dir() and _has_image_child(inner):
                    return inner
        return None

    return match


CALTECH101_LAYOUT = locate.Layout(
    folders=("caltech101", "caltech-101", "Caltech101", "."),
    match=_named_child("101_ObjectCategories"),
    content="101_ObjectCategories/<category>/*.jpg",
    archives=_archives_in(
        "caltech101",
        "caltech-101",
        "Caltech101",
        extra=("101_ObjectCategories.tar.gz", "caltech-101.zip"),
    ),
)
DOGS_LAYOUT = locate.Layout(
    folders=("dogs", "stanford_dogs", "stanford-dogs", "StanfordDogs", "."),
    match=_named_child("Images", subdir_pattern=r"n\d+-"),
    content="Images/<wnid>-<breed>/*.jpg",
    archives=_archives_in(
        "dogs", "stanford_dogs", "stanford-dogs", "StanfordDogs", extra=("images.tar",)
    ),
)
POKEMON_LAYOUT = locate.Layout(
    folders=("pokemon", "."),
    match=_image_folder("pokemon"),
    content="pokemon*/ with PNG/JPG images",
    archives=_archives_in("pokemon", extra=("pokemon*.tar", "pokemon*.tar.gz", "pokemon*.zip")),
)
CELEBA_LAYOUT = locate.Layout(
    folders=("celeba", "CelebA", "celeb_a", "."),
    match=_image_folder("img_align_celeba"),
    content="img_align_celeba*/ with the JPEGs",
    archives=_archives_in(
        "celeba",
        "CelebA",
        "celeb_a",
        extra=("img_align_celeba*.zip", "celeba*.tar.gz", "celeba*.zip"),
    ),
)


def _find(
    name: str,
    layout: locate.Layout,
    data_dir,
    download,
    how_to_get: str,
    url: str | None = None,
    filename: str | None = None,
) -> Path:
    """Dataset root from disk, else from the download (if any), else a clear error."""
    dirs = locate.search_dirs(data_dir)
    found = locate.find_layout(layout, dirs)
    if found is not None:
        return found
    if url is None or not locate.downloads_allowed(download):
        reason = (
            "locally, and it has no dependable public download"
            if url is None
            else locate.offline_reason(download)
        )
        raise locate.not_found(name, dirs, layout.describe(), how_to_get, reason)
    locate.try_download(
        name, lambda: locate.fetch_file(name, url, filename), dirs, layout.describe(), how_to_get
    )
    found = locate.try_download(
        name,
        lambda: locate.find_layout(layout, [locate.download_dir(name).parent]),
        dirs,
        layout.describe(),
        how_to_get,
    )
    if found is None:
        raise locate.not_found(
            name,
            dirs,
            layout.describe(),
            how_to_get,
            f"in the downloaded file {show_path(locate.download_dir(name) / filename)}",
        )
    return found


def caltech101(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    include_background: bool = False,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> FileSource:
    """Caltech-101: 101 object categories (plus ``BACKGROUND_Google`` on request)."""
    root = _find(
        "caltech101",
        CALTECH101_LAYOUT,
        data_dir,
        download,
        how_to_get=f"download {CALTECH101_URL}, and put the zip (or its unpacked "
        "101_ObjectCategories/ folder) in <data dir>/caltech101/.",
        url=CALTECH101_URL,
        filename="caltech-101.zip",
    )
    source = folder_files(root, origin=f"caltech101 ({show_path(root)})", what="caltech101")
    if not include_background and source.class_names and CALTECH_BACKGROUND in source.class_names:
        source = _drop_class(source, CALTECH_BACKGROUND)
    return apply_split(_with(source, default_image_size=DEFAULT_IMAGE_SIZE), split, test_fraction)


def dogs(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> FileSource:
    """Stanford Dogs: 120 breeds; class names are the breed part of ``<wnid>-<breed>``."""
    root = _find(
        "dogs",
        DOGS_LAYOUT,
        data_dir,
        download,
        how_to_get=f"download {DOGS_URL} and put it (or its unpacked Images/ folder) in <data dir>/dogs/.",
        url=DOGS_URL,
        filename="images.tar",
    )
    source = folder_files(root, origin=f"dogs ({show_path(root)})", what="dogs")
    names = tuple(breed_name(n) for n in source.class_names or ())
    return apply_split(
        _with(source, class_names=names or None, default_image_size=DEFAULT_IMAGE_SIZE),
        split,
        test_fraction,
    )


def breed_name(folder: str) -> str:
    """``n02085620-Chihuahua`` -> ``Chihuahua``; ``n02093256-Staffordshire_bullterrier``
    -> ``Staffordshire bullterrier``."""
    return folder.split("-", 1)[-1].replace("_", " ")


def pokemon(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> FileSource:
    """Pokémon sprites (RGBA PNGs): unlabelled. Only read from disk."""
    root = _find(
        "pokemon",
        POKEMON_LAYOUT,
        data_dir,
        download,
        how_to_get=POKEMON_HOW_TO,
    )
    source = folder_files(root, origin=f"pokemon ({show_path(root)})", what="pokemon")
    source = _with(source, labels=None, class_names=None, default_image_size=DEFAULT_IMAGE_SIZE)
    return apply_split(source, split, test_fraction)


def celeba(
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    attributes: bool = False,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> FileSource:
    """CelebA aligned faces; with ``attributes=True`` labels are the 40 attributes as 0/1."""
    dirs = locate.search_dirs(data_dir)
    how = CELEBA_HOW_TO
    root = _find("celeba", CELEBA_LAYOUT, data_dir, download, how_to_get=how)
    source = folder_files(root, origin=f"celeba ({show_path(root)})", what="celeba")
    source = _with(source, labels=None, class_names=None, default_image_size=DEFAULT_IMAGE_SIZE)
    if attributes:
        attr_file = find_attribute_file(root, dirs)
        if attr_file is None:
            searched = [show_path(p) for p in (root.parent, *(d / "celeba" for d in dirs), *dirs)]
            raise DatasetNotFoundError(
                "celeba: attributes=True but no list_attr_celeba*.txt (or .csv) was found in:\n  "
                + "\n  ".join(searched)
                + f"\nHow to get it: {how}"
            )
        source = attach_attributes(source, attr_file)
    return apply_split(source, split, test_fraction)


def find_attribute_file(image_root: Path, dirs: list[Path]) -> Path | None:
    """``list_attr_celeba*.txt|csv`` next to the images, above them, or in ``<data dir>/celeba``."""
    places = [image_root.parent, image_root.parent.parent]
    places += [d / sub for d in dirs for sub in ("celeba", "CelebA", "celeb_a", ".")]
    for place in places:
        found = sorted(place.glob("list_attr_celeba*.txt")) + sorted(
            place.glob("list_attr_celeba*.csv")
        )
        if found:
            exact = [p for p in found if p.stem == "list_attr_celeba"]
            return (exact or found)[0]
    return None


def read_attributes(path: Path) -> tuple[tuple[str, ...], dict[str, np.ndarray]]:
    """CelebA attribute file -> (40 names, {image file name: 0/1 int32 vector}).

    Official ``.txt``: line 1 the count, line 2 the names, then ``<file> v1 .. v40``
    with values -1/1 separated by one or more spaces. Kaggle ``.csv``: header
    ``image_id,<names>``, then rows.
    """
    if path.suffix.lower() == ".csv":
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        names, body = tuple(rows[0][1:]), rows[1:]
    else:
        lines = path.read_text().splitlines()
        names, body = tuple(lines[1].split()), [line.split() for line in lines[2:] if line.strip()]
    table = {}
    for row in body:
        values = np.asarray(row[1:], dtype=np.int32)
        if len(values) != len(names):
            raise ValueError(
                f"{path}: row for {row[0]} has {len(values)} values, expected {len(names)}"
            )
        table[row[0]] = (values > 0).astype(np.int32)
    return names, table


def attach_attributes(source: FileSource, attr_file: Path) -> FileSource:
    """Labels = attribute rows matched by file name; images without a row are dropped, with a warning."""
    names, table = read_attributes(attr_file)
    keep = [i for i, p in enumerate(source.paths) if os.path.basename(p) in table]
    if len(keep) < len(source.paths):
        lost = [source.paths[i] for i in sorted(set(range(len(source.paths))) - set(keep))]
        warnings.warn(
            f"celeba: {len(lost)} of {len(source.paths)} images have no row in {attr_file} and are left out "
            f"(attributes=True), e.g. {lost[:3]}",
            stacklevel=4,
        )
    source = source.select(keep)
    labels = (
        np.stack([table[os.path.basename(p)] for p in source.paths])
        if keep
        else np.zeros((0, len(names)), np.int32)
    )
    return _with(
        source, labels=labels, attribute_names=names, origin=f"{source.origin} + {attr_file.name}"
    )


def _drop_class(source: FileSource, class_name: str) -> FileSource:
    drop = source.class_names.index(class_name)
    keep = np.flatnonzero(source.labels != drop)
    kept = source.select(keep)
    labels = kept.labels - (kept.labels > drop)  # close the gap in class indices
    names = tuple(n for n in source.class_names if n != class_name)
    ignored = tuple(p for p in source.ignored if f"/{class_name}/" not in p.replace(os.sep, "/"))
    return _with(kept, labels=labels.astype(np.int32), class_names=names, ignored=ignored)


def _with(source: FileSource, **changes) -> FileSource:
    return replace(source, **changes)
