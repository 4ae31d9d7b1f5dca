"""Keras callbacks the book's runs use: epoch timing and sample snapshots.

* :class:`EpochTimer` adds ``epoch_seconds`` to each epoch's logs, so
  ``history.csv`` records how long every epoch took, also across a resumed run
  (a chapter's "seconds per epoch" is read back from the run folder, not from
  the session that happened to execute the notebook).
* :class:`SampleSnapshots` decodes the same latent codes after every epoch and
  saves the grid as ``epoch_NNN.png``: a training-progress film, which
  :func:`make_gif` turns into an animated GIF.
"""

from __future__ import annotations

import os
import re
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
