"""Bad files: skipped and reported once, or ``strict=True`` raises; never a crash mid-epoch."""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.test_data_fixtures import isolate, jpeg_bytes, random_pixels, save_image
from vaecore.data import (
    BadImageError,
    BadImageWarning,
    DatasetNotFoundError,
    load_dataset,
    validate,
)
from vaecore.data.display import show_path


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)


def truncated_jpeg() -> bytes:
    """A JPEG cut at 80%: Pillow's verify() accepts it, TensorFlow cannot decode it."""
    data = jpeg_bytes(random_pixels((64, 64, 3), 9))
    cut = data[: int(len(data) * 0.8)]
    Image.open(io.BytesIO(cut)).verify()  # the trap: verify() alone says it is fine
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_image(cut)
    return cut


@pytest.fixture
def messy(tmp_path):
    """A folder with 3 good images and 9 kinds of bad file."""
    root = tmp_path / "messy"
    save_image(root / "good1.jpg", random_pixels((16, 16, 3), 1))
    save_image(root / "good2.png", random_pixels((16, 16, 3), 2))
    png_named_jpg = io.BytesIO()
    Image.fromarray(random_pixels((16, 16, 3), 3)).save(png_named_jpg, "PNG")
    (root / "good3_png_named.jpg").write_bytes(png_named_jpg.getvalue())  # content decides, kept
    (root / "truncated.jpg").write_bytes(truncated_jpeg())
    (root / "empty.jpg").write_bytes(b"")
    (root / "garbage.png").write_bytes(os.urandom(300))
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "notes.txt").write_text("shot on a phone")
    save_image(root / "scan.tif", random_pixels((16, 16, 3), 4))
    tiff = io.BytesIO()
    Image.fromarray(random_pixels((16, 16, 3), 5)).save(tiff, "TIFF")
    (root / "tiff_named.png").write_bytes(tiff.getvalue())
    (root / "ghost.jpg").symlink_to(root / "deleted_target.jpg")  # broken link: unreadable
    return root


BAD = (
    "truncated.jpg",
    "empty.jpg",
    "garbage.png",
    ".DS_Store",
    "Thumbs.db",
    "notes.txt",
    "scan.tif",
    "tiff_named.png",
    "ghost.jpg",
)


def test_bad_files_are_skipped_and_reported_once(messy):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_dataset("folder", "all", path=messy, batch_size=2, seed=0)
        batches = [b.numpy() for b in ds]  # a whole epoch runs
        batches += [b.numpy() for b in ds]  # and a second one
    reports = [w for w in caught if issubclass(w.category, BadImageWarning)]
    assert len(reports) == 1
    message = str(reports[0].message)
    assert f"Skipped {len(BAD)} of 12 files" in message and show_path(messy) in message
    assert "... and 4 more" in message  # first 5 shown
    assert ds.num_examples == 3
    assert sum(len(b) for b in batches) == 6
    assert all(b.shape[1:] == (16, 16, 3) for b in batches)


def test_reasons_per_file(messy):
    reasons = {os.path.basename(p): validate.check_image(str(p)).reason for p in messy.iterdir()}
    assert reasons["good1.jpg"] == reasons["good2.png"] == reasons["good3_png_named.jpg"] == ""
    assert "truncated" in reasons["truncated.jpg"]
    assert "empty" in reasons["empty.jpg"]
    assert "not an image" in reasons["garbage.png"]
    assert "TIFF" in reasons["tiff_named.png"]
    assert "unreadable" in reasons["ghost.jpg"]
    assert "cannot be decoded by TensorFlow" in validate.non_image_reason("scan.tif")
    assert validate.non_image_reason("Thumbs.db") == "not an image file"


def test_strict_raises_listing_every_bad_file(messy):
    with pytest.raises(BadImageError) as err:
        load_dataset("folder", "all", path=messy, strict=True)
    message = str(err.value)
    assert f"{len(BAD)} of 12 files" in message
    for name in BAD:
        assert name in message
    assert "good1.jpg" not in message
    assert isinstance(err.value, ValueError)


def test_only_bad_files_is_a_clear_error(tmp_path):
    root = tmp_path / "broken"
    root.mkdir()
    (root / "a.jpg").write_bytes(b"")
    (root / "b.png").write_bytes(b"not a png")
    with (
        pytest.warns(BadImageWarning),
        pytest.raises(DatasetNotFoundError, match="none of the 2 files"),
    ):
        load_dataset("folder", "all", path=root)


def test_scan_is_cached_and_rechecks_only_changed_files(tmp_path, monkeypatch):
    root = tmp_path / "imgs"
    files = [save_image(root / f"{i}.png", random_pixels((8, 8, 3), i)) for i in range(6)]
    load_dataset("folder", "all", path=root)
    calls = []
    real = validate.check_image
    monkeypatch.setattr(validate, "check_image", lambda p: calls.append(p) or real(p))
    load_dataset("folder", "all", path=root)
    assert calls == []  # everything came from the cache
    files[2].write_bytes(b"")  # changed size -> re-checked, and now bad
    with pytest.warns(BadImageWarning, match="2.png: empty"):
        ds = load_dataset("folder", "all", path=root)
    assert calls == [str(files[2])]
    assert ds.num_examples == 5


def test_limit_checks_only_about_as_many_files_as_it_uses(tmp_path, monkeypatch):
    root = tmp_path / "big"
    for i in range(300):
        save_image(root / f"{i:04d}.png", random_pixels((4, 4, 3), i))
    (root / "9999.png").write_bytes(b"")  # bad, but past the limit
    calls = []
    real = validate.check_image
    monkeypatch.setattr(validate, "check_image", lambda p: calls.append(p) or real(p))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BadImageWarning)
        ds = load_dataset("folder", "all", path=root, limit=10, batch_size=None)
    assert ds.num_examples == 10
    assert len(calls) <= 256


def test_limit_skips_past_bad_files(tmp_path):
    root = tmp_path / "mixed"
    (root).mkdir()
    (root / "000.jpg").write_bytes(b"")
    for i in range(1, 5):
        save_image(root / f"{i:03d}.jpg", random_pixels((4, 4, 3), i))
    with pytest.warns(BadImageWarning, match="000.jpg"):
        ds = load_dataset("folder", "all", path=root, limit=4, batch_size=None)
    assert ds.num_examples == 4


def test_file_broken_after_the_scan_ends_the_epoch_and_a_rescan_drops_it(tmp_path):
    # The pipeline declares its length from the scan, so a file that breaks between the
    # scan and its epoch cannot silently shorten the epoch: the epoch ends with an error
    # saying fewer elements came than declared; a fresh load_dataset leaves the file out.
    root = tmp_path / "late"
    files = [save_image(root / f"{i}.jpg", random_pixels((8, 8, 3), i)) for i in range(5)]
    ds = load_dataset("folder", "all", path=root, batch_size=2, shuffle=False)
    assert int(ds.cardinality()) == 3
    files[1].write_bytes(jpeg_bytes(random_pixels((8, 8, 3)))[:50])
    files[3].unlink()
    with pytest.raises(tf.errors.FailedPreconditionError, match="expected to contain 3"):
        for _ in ds:
            pass
    again = load_dataset("folder", "all", path=root, batch_size=2, shuffle=False)
    assert again.num_examples == 3
    assert sum(len(b) for b in again) == 3


def test_scan_cache_survives_a_read_only_cache(tmp_path, monkeypatch):
    root = tmp_path / "ro"
    save_image(root / "a.png", np.zeros((4, 4, 3), np.uint8))
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    monkeypatch.setenv("VAECORE_CACHE_DIR", str(blocker))  # cache dir cannot be created
    assert load_dataset("folder", "all", path=root).num_examples == 1
