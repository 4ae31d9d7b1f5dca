"""Keras callbacks the book's runs use: epoch timing and sample snapshots.

* :class:`EpochTimer` adds ``epoch_seconds`` to each epoch's logs, so
  ``history.csv`` records how long every epoch took, also across a resumed run
  (a chapter's "seconds per epoch" is read back from the run folder, not from
  the session that happened to execute the notebook).
* :class:`SampleSnapshots` decodes the same latent codes after every epoch and
  saves the grid as ``epoch_NNN.png``: a training-progress film, which
  :func:`make_gif` turns into an animated GIF.
* :class:`SnapshotsBeforeCheckpoint` and :class:`ProgressBar`: ``vaecore train``'s
  frames (saved before the epoch's checkpoint) and its progress bar.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
from PIL import Image, ImageDraw

from vaecore.images import montage, save_image  # noqa: F401 - save_image stays importable here

Z_FILE = "z.npy"


class EpochTimer(keras.callbacks.Callback):
    """Log the wall time of each epoch (training plus validation) as ``epoch_seconds``."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


class SampleSnapshots(keras.callbacks.Callback):
    """After every ``every`` epochs, decode fixed latent codes and save the grid as a PNG.

    The codes are drawn once from N(0, I) with ``seed`` (or given as ``z``) and
    stored in ``out_dir/z.npy``, so a resumed run keeps decoding the same codes
    and the frames form one continuous film.

    Args:
        out_dir: where ``epoch_001.png``, ``epoch_002.png``, ... go.
        num: how many codes (ignored when ``z`` is given).
        z: explicit codes, shape ``(num, latent)``.
        nrows: rows of the grid (default: about square).
        seed: seed for the codes.
        every: save every ``every`` epochs (the last epoch is always saved).
        scale: enlarge each frame this many times (nearest neighbour).
    """

    def __init__(
        self,
        out_dir: str | os.PathLike,
        num: int = 16,
        z: np.ndarray | None = None,
        nrows: int | None = None,
        seed: int = 0,
        every: int = 1,
        scale: int = 1,
    ):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}")
        if z is None and (not isinstance(num, int) or num < 1):
            raise ValueError(f"num must be an int >= 1, got {num!r}")
        self.out_dir = Path(out_dir)
        self.num, self.nrows, self.seed, self.every, self.scale = num, nrows, seed, every, scale
        self._z = None if z is None else np.asarray(z, dtype=np.float32)

    def codes(self) -> np.ndarray:
        """The fixed codes: given, stored by an earlier run, or drawn now and stored."""
        latent = int(self.model.latent_dim)
        stored = self.out_dir / Z_FILE
        if self._z is None and stored.exists():
            self._z = np.load(stored)
        if self._z is None:
            self._z = np.random.default_rng(self.seed).standard_normal((self.num, latent))
            self._z = self._z.astype(np.float32)
        if self._z.ndim != 2 or self._z.shape[1] != latent:
            raise ValueError(
                f"SampleSnapshots codes have shape {self._z.shape}; the model's latent size is {latent}"
            )
        if not stored.exists():
            self.out_dir.mkdir(parents=True, exist_ok=True)
            np.save(stored, self._z)
        return self._z

    def on_train_begin(self, logs=None):
        self.codes()

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") if self.params else None
        if (epoch + 1) % self.every and epoch + 1 != last:
            return
        images = np.asarray(self.model.decode(self.codes()))
        save_image(montage(images, nrows=self.nrows, pad=1), self.frame_path(epoch + 1), self.scale)

    def frame_path(self, epoch: int) -> Path:
        """The PNG for epoch number ``epoch`` (counting from 1)."""
        return self.out_dir / f"epoch_{epoch:03d}.png"


def snapshot_frames(out_dir: str | os.PathLike) -> list[Path]:
    """The ``epoch_NNN.png`` frames in a snapshot folder, in epoch order."""
    return sorted(Path(out_dir).glob("epoch_[0-9][0-9][0-9].png"))


def make_gif(
    frames: str | os.PathLike | Sequence[str | os.PathLike],
    out_path: str | os.PathLike,
    duration_ms: int = 400,
    last_frame_ms: int = 2000,
    caption: bool = True,
) -> Path:
    """Join PNG frames (a snapshot folder or a list of files) into a looping animated GIF.

    With ``caption``, each frame gets its epoch (from ``epoch_NNN`` in its name)
    written in a strip under the image. The last frame is held longer.
    """
    paths = snapshot_frames(frames) if isinstance(frames, str | os.PathLike) else list(frames)
    paths = [Path(p) for p in paths]
    if not paths:
        raise FileNotFoundError(f"no frames to animate in {frames}")
    images = []
    for p in paths:
        img = Image.open(p).convert("RGB")
        if caption:
            strip = 14
            framed = Image.new("RGB", (img.width, img.height + strip), "white")
            framed.paste(img, (0, 0))
            match = re.fullmatch(r"epoch_(\d+)", p.stem)
            label = f"epoch {int(match.group(1))}" if match else p.stem
            ImageDraw.Draw(framed).text((3, img.height + 1), label, fill="black")
            img = framed
        images.append(img)
    durations = [duration_ms] * (len(images) - 1) + [last_frame_ms]
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(
        out_path, save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True
    )
    return out_path


class SnapshotsBeforeCheckpoint(SampleSnapshots):
    """:class:`SampleSnapshots` that saves at an epoch's last batch, for ``vaecore train``.

    :func:`vaecore.train` runs its checkpoint callbacks before the caller's, so a
    frame saved in ``on_epoch_end`` comes after the epoch's ``history.csv`` row; a
    kill in between would lose that frame for good (the resumed run starts at the
    next epoch). The weights after the last batch are the epoch's final weights, so
    the frame is saved there instead, before anything marks the epoch finished.

    Args:
        steps_per_epoch: batches per epoch (to know the last one).
        **kwargs: as for :class:`SampleSnapshots`.
    """

    def __init__(self, out_dir: str | os.PathLike, steps_per_epoch: int, **kwargs):
        super().__init__(out_dir, **kwargs)
        self.steps_per_epoch = steps_per_epoch
        self._epoch, self._saved = 0, False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._saved = epoch, False

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution > 1, ``batch`` is the last step of a call.
        if batch + 1 >= self.steps_per_epoch and not self._saved:
            self._saved = True
            super().on_epoch_end(self._epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if not self._saved:  # an epoch with fewer batches than expected
            super().on_epoch_end(epoch, logs)


class ProgressBar(keras.callbacks.Callback):
    """One tqdm bar over all epochs x batches (with ETA), and one line per finished epoch.

    ``vaecore train``'s progress display. ``tqdm.keras.TqdmCallback`` was tried
    in its place and is worse here (tqdm 4.70): it advances its batch bar by one
    per ``on_train_batch_end`` call, but with ``steps_per_execution > 1`` (the
    default for conv models) Keras calls that once per *group* of steps, so the
    bar would end an epoch at 1/16 of its length; and it prints no per-epoch line
    of the loss terms and epoch time. (It does start a resumed run's epoch bar at
    the right epoch, as this one does.) This bar counts batches from the batch
    index Keras passes, so it is right for any ``steps_per_execution``, and
    starts at the first new epoch of a resumed run.

    Args:
        epochs: the run's total epochs.
        steps_per_epoch: batches per epoch.
        file: where the bar and lines go (default: stderr).
    """

    EPOCH_LINE_KEYS = {
        "loss": "loss",
        "reconstruction_loss": "recon",
        "kl_loss": "kl",
        "val_loss": "val_loss",
    }

    def __init__(self, epochs: int, steps_per_epoch: int, file=None):
        super().__init__()
        self.epochs, self.steps_per_epoch, self.file = epochs, steps_per_epoch, file
        self.bar = None
        self.seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        from tqdm.auto import tqdm

        if self.bar is None:  # created here: after a resume, epoch is the first new one
            self.bar = tqdm(
                total=self.epochs * self.steps_per_epoch,
                initial=epoch * self.steps_per_epoch,
                unit="batch",
                file=self.file or sys.stderr,
            )
        self.seen = 0
        self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        # With steps_per_execution > 1 Keras calls this every few batches.
        done = min(batch + 1, self.steps_per_epoch)
        self.bar.update(max(done - self.seen, 0))
        self.seen = done
        if logs and "loss" in logs:
            self.bar.set_postfix(loss=f"{float(logs['loss']):.3f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(max(self.steps_per_epoch - self.seen, 0))
        self.bar.write(self.epoch_line(epoch, logs), file=self.file or sys.stderr)

    def epoch_line(self, epoch: int, logs: dict | None) -> str:
        """``epoch 3/10: loss 170.1, recon 165.2, kl 4.9, val_loss 168.0 (5.0 s)``."""
        logs = logs or {}
        shown = [k for k in self.EPOCH_LINE_KEYS if k in logs]
        numbers = ", ".join(f"{self.EPOCH_LINE_KEYS[k]} {float(logs[k]):.3f}" for k in shown)
        seconds = logs.get("epoch_seconds")
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        return f"epoch {epoch + 1}/{self.epochs}: {numbers}{took}"

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
