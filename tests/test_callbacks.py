"""Epoch timing in the history, sample snapshots after every epoch, and the GIF made from them."""

import keras
import numpy as np
import pytest
from PIL import Image

from vaecore import build_vae, read_history, train
from vaecore.callbacks import SampleSnapshots, make_gif, save_image, snapshot_frames

ARCH = {"input": (8, 8, 1), "latent": 2, "hidden": [16], "name": "tiny_snapshots"}


@pytest.fixture()
def images():
    return (np.random.default_rng(0).random((32, 8, 8, 1)) > 0.5).astype("float32")


def _model():
    model = build_vae(ARCH, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def test_history_records_seconds_per_epoch(tmp_path, images):
    history = train(_model(), images, epochs=2, run_dir=tmp_path, verbose=0, batch_size=16)
    assert len(history["epoch_seconds"]) == 2
    assert all(s > 0 for s in history["epoch_seconds"])
    assert read_history(tmp_path)["epoch_seconds"] == history["epoch_seconds"]


def test_snapshots_decode_the_same_codes_every_epoch_and_across_a_resume(tmp_path, images):
    run, shots = tmp_path / "run", tmp_path / "shots"
    model = _model()
    train(
        model,
        images,
        epochs=2,
        run_dir=run,
        verbose=0,
        batch_size=16,
        callbacks=[SampleSnapshots(shots, num=6, nrows=2, seed=3)],
    )
    frames = snapshot_frames(shots)
    assert [f.name for f in frames] == ["epoch_001.png", "epoch_002.png"]
    # 2 rows x 3 columns of 8x8 images with 1 px padding
    assert Image.open(frames[0]).size == (3 * 9 - 1, 2 * 9 - 1)
    z_first = np.load(shots / "z.npy")
    expected = np.asarray(model.decode(z_first))
    # A resumed run (new callback object, different seed) keeps the stored codes.
    train(
        model,
        images,
        epochs=3,
        run_dir=run,
        verbose=0,
        batch_size=16,
        callbacks=[SampleSnapshots(shots, num=6, nrows=2, seed=99)],
    )
    np.testing.assert_array_equal(np.load(shots / "z.npy"), z_first)
    assert len(snapshot_frames(shots)) == 3
    assert expected.shape == (6, 8, 8, 1)


def test_snapshot_frame_is_the_decoded_grid(tmp_path, images):
    model = _model()
    z = np.zeros((1, 2), "float32")
    train(
        model,
        images,
        epochs=1,
        run_dir=tmp_path / "run",
        verbose=0,
        batch_size=16,
        callbacks=[SampleSnapshots(tmp_path / "s", z=z)],
    )
    frame = np.asarray(Image.open(tmp_path / "s" / "epoch_001.png"), dtype=np.float32) / 255.0
    decoded = np.asarray(model.decode(z))[0, ..., 0]
    np.testing.assert_allclose(frame, decoded, atol=1 / 255 + 1e-6)


def test_snapshots_check_their_arguments(tmp_path):
    with pytest.raises(ValueError, match="every"):
        SampleSnapshots(tmp_path, every=0)
    with pytest.raises(ValueError, match="num"):
        SampleSnapshots(tmp_path, num=0)
    model = _model()
    cb = SampleSnapshots(tmp_path, z=np.zeros((2, 5), "float32"))
    cb.set_model(model)
    with pytest.raises(ValueError, match="latent size is 2"):
        cb.codes()


def test_make_gif_has_one_frame_per_epoch_with_captions(tmp_path):
    for epoch in (1, 2, 10):
        save_image(np.full((8, 8, 3), epoch / 10.0), tmp_path / f"epoch_{epoch:03d}.png", scale=2)
    gif = make_gif(tmp_path, tmp_path / "out" / "progress.gif", duration_ms=100)
    with Image.open(gif) as img:
        assert img.n_frames == 3 and img.format == "GIF"
        assert img.size == (16, 16 + 14)  # the caption strip under each frame
    with pytest.raises(FileNotFoundError, match="no frames"):
        make_gif(tmp_path / "empty", tmp_path / "x.gif")


def test_save_image_scales_and_checks(tmp_path):
    path = save_image(np.zeros((4, 5, 1)), tmp_path / "a.png", scale=3)
    assert Image.open(path).size == (15, 12)
    with pytest.raises(ValueError, match="scale"):
        save_image(np.zeros((4, 5, 1)), tmp_path / "b.png", scale=0)
