"""Random training-time augmentation inside the tf.data graph: flips and small shifts.

``load_dataset(..., augment=True)`` (or a spec dict) applies it to each *batch*
after decoding/resizing, so it costs a few tensor ops per batch, not Python per
image. Every image in a batch gets its own random flip and shift. Each epoch
draws new ones: with a ``seed``, from stateless seeds made of (seed, epoch, batch
index), so the same seed gives the same sequence, also in a resumed run
(:mod:`vaecore.data.pipeline`); without one, from ``tf.data.Dataset.random``.

Spec keys (``augment=True`` means the defaults):

* ``flip`` (default ``True``): mirror left-right with probability 1/2.
* ``shift`` (default ``4``): move the image by up to this many pixels
  vertically and horizontally (uniform integer offsets in ``[-shift, shift]``).
  ``0`` switches shifting off.
* ``fill`` (default ``"background"``): what the uncovered border becomes:
  ``"background"`` (the ``background`` colour of ``load_dataset``, white by
  default) or ``"reflect"`` (mirror the image at its edge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

FILLS = ("background", "reflect")
DEFAULTS: dict[str, Any] = {"flip": True, "shift": 4, "fill": "background"}


@dataclass(frozen=True)
class AugmentSpec:
    """A checked augmentation spec (see the module docstring)."""

    flip: bool = True
    shift: int = 4
    fill: str = "background"

    @property
    def active(self) -> bool:
        return self.flip or self.shift > 0


def parse_augment(augment: bool | Mapping[str, Any] | AugmentSpec | None) -> AugmentSpec | None:
    """``False``/``None`` -> None; ``True`` -> the defaults; a dict -> the defaults updated by it.

    Raises:
        ValueError: anything else, an unknown key, or a bad value.
    """
    if augment is None or augment is False:
        return None
    if isinstance(augment, AugmentSpec):
        return augment if augment.active else None
    if augment is True:
        return AugmentSpec(**DEFAULTS)
    if not isinstance(augment, Mapping):
        raise ValueError(
            f"augment must be True, False or a dict with keys {sorted(DEFAULTS)} "
            f"(e.g. {{'flip': True, 'shift': 4, 'fill': 'reflect'}}), got {augment!r}"
        )
    unknown = sorted(set(augment) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"augment: unknown keys {unknown}; known keys are {sorted(DEFAULTS)}")
    spec = {**DEFAULTS, **augment}
    if not isinstance(spec["flip"], bool):
        raise ValueError(f"augment['flip'] must be True or False, got {spec['flip']!r}")
    shift = spec["shift"]
    if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
        raise ValueError(f"augment['shift'] must be an int >= 0 (pixels), got {shift!r}")
    if spec["fill"] not in FILLS:
        raise ValueError(f"augment['fill'] must be one of {FILLS}, got {spec['fill']!r}")
    parsed = AugmentSpec(flip=spec["flip"], shift=shift, fill=spec["fill"])
    return parsed if parsed.active else None


def augment_batch(
    x: tf.Tensor,
    seed: tf.Tensor,
    spec: AugmentSpec,
    background: tuple[float, ...],
) -> tf.Tensor:
    """Flip and shift each image of ``x`` ``(B, H, W, C)`` (or one image ``(H, W, C)``).

    ``seed`` is a stateless seed (2 int64s); ``background`` holds one value per channel.
    """
    single = x.shape.rank == 3
    if single:
        x = x[tf.newaxis]
    n = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    if spec.flip:
        flip = tf.random.stateless_uniform([n], seeds[0]) < 0.5
        x = tf.where(flip[:, None, None, None], tf.reverse(x, axis=[2]), x)
    if spec.shift > 0:
        x = _shift(x, seeds[1], spec.shift, spec.fill, background)
    return x[0] if single else x


def _shift(
    x: tf.Tensor, seed: tf.Tensor, s: int, fill: str, background: tuple[float, ...]
) -> tf.Tensor:
    """Translate each image by its own integer offsets in ``[-s, s]``; border filled per ``fill``."""
    shape = tf.shape(x)
    n, h, w = shape[0], shape[1], shape[2]
    paddings = [[0, 0], [s, s], [s, s], [0, 0]]
    if fill == "reflect":
        # REFLECT needs s < size; shifts larger than the image are clipped to it
        s_eff = tf.minimum(s, tf.minimum(h, w) - 1)
        padded = tf.pad(x, [[0, 0], [s_eff, s_eff], [s_eff, s_eff], [0, 0]], mode="REFLECT")
        s = s_eff
    else:
        bg = tf.constant(background, x.dtype)
        padded = tf.pad(x - bg, paddings) + bg
    offsets = tf.random.stateless_uniform([n, 2], seed, minval=-s, maxval=s + 1, dtype=tf.int32)
    rows = s - offsets[:, :1] + tf.range(h)[None, :]  # (B, H): source row of each output row
    cols = s - offsets[:, 1:] + tf.range(w)[None, :]  # (B, W)
    out = tf.gather(padded, rows, axis=1, batch_dims=1)
    out = tf.gather(out, cols, axis=2, batch_dims=1)
    return tf.ensure_shape(out, x.shape)
