"""Caltech-101, Stanford Dogs, Pokémon, CelebA in their archive and folder layouts;
archives unpacked once; clear errors when data is missing or a download fails."""

from __future__ import annotations

import os
import tarfile
import time

import numpy as np
import pytest

from tests.test_data_fixtures import (
    CELEBA_ATTRS,
    class_folders,
    isolate,
    make_tar,
    make_zip,
    random_pixels,
    save_image,
    write_celeba_attributes,
)
from vaecore.data import DatasetNotFoundError, archives, dataset_info, load_dataset


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    d.mkdir()
    isolate(monkeypatch, tmp_path, d)
    return d


def build_caltech(tmp_path):
    src = tmp_path / "src" / "101_ObjectCategories"
    class_folders(src, {"accordion": 4, "Faces": 3, "BACKGROUND_Google": 2}, size=(30, 20))
    save_image(src / "Faces" / "grey.jpg", random_pixels((20, 30), 5))  # grey JPEG, as in Caltech
    return src


def test_caltech_archive_layout(data_dir, tmp_path):
    make_tar(data_dir / "caltech101" / "caltech101_subset20.tar.gz", build_caltech(tmp_path))
    ds = load_dataset("caltech101", "all", labels=True, batch_size=16, shuffle=False)
    assert ds.class_names == ("Faces", "accordion")  # BACKGROUND_Google left out
    x, y = next(iter(ds))
    assert x.shape == (8, 64, 64, 3)  # default size for photo datasets
    assert sorted(y.numpy().tolist()) == [0] * 4 + [1] * 4
    with_bg = load_dataset("caltech101", "all", include_background=True, batch_size=None)
    assert with_bg.class_names == ("BACKGROUND_Google", "Faces", "accordion")
    assert with_bg.num_examples == 10


def test_caltech_official_zip_with_nested_tar(data_dir, tmp_path):
    inner = make_tar(tmp_path / "stage" / "101_ObjectCategories.tar.gz", build_caltech(tmp_path))
    make_zip(
        data_dir / "caltech101" / "caltech-101.zip",
        {"caltech-101/101_ObjectCategories.tar.gz": inner},
    )
    ds = load_dataset("caltech101", "all", image_size=32, batch_size=None)
    assert ds.num_examples == 8 and next(iter(ds)).shape == (32, 32, 3)


def test_caltech_plain_folder(data_dir, tmp_path):
    src = build_caltech(tmp_path)
    os.rename(src, data_dir / "101_ObjectCategories")
    assert load_dataset("caltech101", "all", batch_size=None).num_examples == 8
    assert dataset_info("caltech101").class_names == ("Faces", "accordion")


def test_archive_is_unpacked_once(data_dir, tmp_path, monkeypatch):
    archive = make_tar(data_dir / "caltech101" / "c.tar.gz", build_caltech(tmp_path))
    load_dataset("caltech101", "all")
    marker = archives.extraction_dir(archive) / archives.COMPLETE_MARKER
    first_mtime = marker.stat().st_mtime_ns

    def must_not_unpack(*args):
        raise AssertionError("unpacked a second time")

    monkeypatch.setattr(archives, "_unpack", must_not_unpack)
    load_dataset("caltech101", "train")
    load_dataset("caltech101", "test")
    assert marker.stat().st_mtime_ns == first_mtime
    assert len(list((tmp_path / "cache" / "extracted").iterdir())) == 1


def test_changed_archive_gets_a_fresh_folder_and_partial_unpack_is_not_trusted(data_dir, tmp_path):
    src = build_caltech(tmp_path)
    archive = make_tar(data_dir / "caltech101" / "c.tar.gz", src)
    first = archives.extract_once(archive)
    stale = archives.extraction_dir(archive)
    assert first == stale
    time.sleep(0.01)
    save_image(src / "accordion" / "new.jpg", random_pixels((30, 20, 3)))
    make_tar(archive, src)  # rewritten: new size and mtime
    second = archives.extract_once(archive)
    assert second != first and (second / "101_ObjectCategories" / "accordion" / "new.jpg").is_file()
    # a folder without the marker (interrupted unpack) is replaced, not used
    (second / archives.COMPLETE_MARKER).unlink()
    (second / "101_ObjectCategories" / "accordion" / "new.jpg").unlink()
    third = archives.extract_once(archive)
    assert (third / "101_ObjectCategories" / "accordion" / "new.jpg").is_file()


def test_archive_members_cannot_escape(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)
    evil = tmp_path / "evil.tar"
    payload = tmp_path / "p.txt"
    payload.write_text("x")
    with tarfile.open(evil, "w") as tf:
        tf.add(payload, arcname="../../escaped.txt")
    with pytest.raises(Exception, match="outside|escaped"):
        archives.extract_once(evil)
    assert not (tmp_path / "escaped.txt").exists()


def test_dogs_layout_and_breed_names(data_dir, tmp_path):
    src = tmp_path / "src" / "Images"
    class_folders(
        src, {"n02085620-Chihuahua": 3, "n02093256-Staffordshire_bullterrier": 2}, size=(224, 224)
    )
    make_tar(data_dir / "dogs" / "stanford_dogs_224_subset15.tar.gz", src)
    ds = load_dataset("dogs", "all", labels=True, channels=1, batch_size=8)
    assert ds.class_names == ("Chihuahua", "Staffordshire bullterrier")
    x, y = next(iter(ds))
    assert x.shape == (5, 64, 64, 1)
    assert sorted(y.numpy().tolist()) == [0, 0, 0, 1, 1]


def test_pokemon_tar_rgba_on_white(data_dir, tmp_path):
    src = tmp_path / "src" / "pokemon"
    for i in range(3):
        rgba = np.zeros((32, 32, 4), np.uint8)
        rgba[8:24, 8:24] = (200, 30, 30, 255)  # opaque red square on a transparent sheet
        save_image(src / f"{i}.png", rgba)
    make_tar(data_dir / "pokemon" / "pokemon.tar", src)
    ds = load_dataset("pokemon", "all", image_size=32, batch_size=3)
    x = next(iter(ds)).numpy()
    np.testing.assert_allclose(x[:, 0, 0], 1.0, atol=1e-6)  # transparent corner -> white
    np.testing.assert_allclose(
        x[:, 16, 16], [200 / 255, 30 / 255, 30 / 255] * np.ones((3, 1)), atol=1e-5
    )
    with pytest.raises(ValueError, match="no labels"):
        load_dataset("pokemon", labels=True)


def test_pokemon_plain_folder(data_dir):
    for i in range(2):
        save_image(data_dir / "pokemon" / f"{i}.png", random_pixels((16, 16, 3), i))
    assert load_dataset("pokemon", "all").num_examples == 2


def build_celeba(root, n=6, size=(109, 89)):
    rows = {}
    for i in range(1, n + 1):
        name = f"{i:06d}.jpg"
        save_image(root / name, random_pixels((*size, 3), i))
        rows[name] = [1 if (i + j) % 2 else -1 for j in range(len(CELEBA_ATTRS))]
    return rows


def test_celeba_archive_with_attributes(data_dir, tmp_path):
    src = tmp_path / "src" / "img_align_celeba_89x109"
    rows = build_celeba(src)
    make_tar(data_dir / "celeba" / "celeba_10k_89x109.tar.gz", src)
    write_celeba_attributes(
        data_dir / "celeba" / "list_attr_celeba_000001-000006.txt", list(CELEBA_ATTRS), rows
    )
    ds = load_dataset(
        "celeba", "all", attributes=True, shuffle=False, batch_size=6, resize_mode="crop"
    )
    x, a = next(iter(ds))
    assert x.shape == (6, 64, 64, 3)
    assert a.shape == (6, 4) and a.dtype.name == "int32"
    expected = (np.array(list(rows.values())) > 0).astype(np.int32)
    np.testing.assert_array_equal(a.numpy(), expected)
    assert ds.attribute_names == CELEBA_ATTRS
    # labels=True means the attributes too (CelebA has no class labels)
    x2, a2 = next(iter(load_dataset("celeba", "all", labels=True, shuffle=False, batch_size=6)))
    np.testing.assert_array_equal(a2.numpy(), expected)
    # without labels: images only
    assert next(iter(load_dataset("celeba", "all", batch_size=6))).shape == (6, 64, 64, 3)


def test_celeba_official_folder_and_missing_attribute_rows(data_dir):
    rows = build_celeba(data_dir / "celeba" / "img_align_celeba", n=4, size=(218, 178))
    del rows["000004.jpg"]
    write_celeba_attributes(data_dir / "celeba" / "list_attr_celeba.txt", list(CELEBA_ATTRS), rows)
    with pytest.warns(UserWarning, match="1 of 4 images have no row"):
        ds = load_dataset("celeba", "all", attributes=True, batch_size=None)
    assert ds.num_examples == 3
    assert load_dataset("celeba", "all", batch_size=None).num_examples == 4


def test_celeba_attributes_file_missing_is_clear(data_dir):
    build_celeba(data_dir / "celeba" / "img_align_celeba", n=2)
    with pytest.raises(DatasetNotFoundError, match="list_attr_celeba"):
        load_dataset("celeba", attributes=True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("caltech101", ["caltech-101.zip", "101_ObjectCategories", "download=False"]),
        ("dogs", ["images.tar", "Images/", "download=False"]),
        ("pokemon", ["pokemon/", "no dependable public download"]),
        (
            "celeba",
            ["img_align_celeba.zip", "list_attr_celeba.txt", "no dependable public download"],
        ),
    ],
)
def test_missing_dataset_message(data_dir, name, expected):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset(name, download=False)
    message = str(err.value)
    assert f"Dataset {name!r} was not found" in message
    # the searched folder is named as the reader set it, not as this machine's absolute path
    assert "$VAECORE_DATA_DIR" in message and str(data_dir) not in message
    for text in expected:
        assert text in message


def test_failed_archive_download_is_clear(data_dir, monkeypatch):
    import urllib.error

    import keras

    def refused(*args, **kwargs):
        raise urllib.error.HTTPError("https://x", 403, "Forbidden", None, None)

    monkeypatch.setattr(keras.utils, "get_file", refused)
    with pytest.raises(DatasetNotFoundError, match=r"download failed \(HTTPError: HTTP Error 403"):
        load_dataset("dogs", download=True)


def test_downloaded_archive_is_found_in_the_cache(data_dir, tmp_path, monkeypatch):
    import keras

    src = tmp_path / "src" / "Images"
    class_folders(src, {"n02085620-Chihuahua": 2}, size=(20, 20))

    def fake_get_file(fname, origin, cache_dir, cache_subdir, **kwargs):
        path = make_tar(tmp_path / "cache" / cache_subdir / fname, src)
        assert origin.startswith("http") and path.parent == tmp_path / "cache" / "data" / "dogs"
        return str(path)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    assert load_dataset("dogs", "all", download=True).num_examples == 2
    monkeypatch.setattr(keras.utils, "get_file", None)  # second time: found on disk, no download
    assert load_dataset("dogs", "all", download=True).num_examples == 2


def test_dataset_info_without_local_data(data_dir):
    info = dataset_info("caltech101")
    assert (
        info.class_names is None and info.kind == "files" and "include_background" in info.options
    )
    assert dataset_info("cifar10").num_classes == 10


def test_celeba_kaggle_zip_with_nested_folder_and_csv_attributes(data_dir, tmp_path):
    stage = tmp_path / "stage"
    build_celeba(stage / "img_align_celeba" / "img_align_celeba", n=3)
    csv_file = stage / "list_attr_celeba.csv"
    csv_file.write_text(
        "image_id," + ",".join(CELEBA_ATTRS) + "\n"
        "000001.jpg,1,-1,-1,1\n000002.jpg,-1,-1,1,1\n000003.jpg,-1,1,-1,-1\n"
    )
    files = {str(p.relative_to(stage)): p for p in stage.rglob("*") if p.is_file()}
    make_zip(data_dir / "celeba" / "archive.zip", files)
    ds = load_dataset("celeba", "all", attributes=True, shuffle=False, batch_size=3)
    _, a = next(iter(ds))
    np.testing.assert_array_equal(a.numpy(), [[1, 0, 0, 1], [0, 0, 1, 1], [0, 1, 0, 0]])
