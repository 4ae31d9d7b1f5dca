"""The conditional VAE (Sohn, Lee and Yan, NeurIPS 2015): p(x | z, y), q(z | x, y), p(z) = N(0, I).

A label ``y`` (a class, or a few binary attributes) goes into *both* networks, so
the code ``z`` no longer has to carry what ``y`` already says: the decoder is told
the digit, and ``z`` keeps the style. The ELBO is the VAE's with every term given y::

    log p(x | y) >= E_q(z|x,y)[log p(x | z, y)] - KL(q(z | x, y) || N(0, I)),

and :meth:`ConditionalVAE.importance_weighted_log_likelihood` estimates log p(x | y).

The arch dict declares the condition (:mod:`vaecore.arch`)::

    {"input": (28, 28, 1), "latent": 2, "hidden": [512], "name": "mnist_cvae",
     "condition": 10}                       # one of 10 classes: labels 0..9 or one-hot
    {..., "condition": {"binary": ["Smiling", "Eyeglasses"]}}   # 0/1 attributes

Where the condition enters the networks is said in :mod:`vaecore.networks` (dense:
beside the flattened image and beside z; conv: K constant maps beside the input
image, and beside z before the decoder's projection, or beside a latent map).

Training takes ``(images, labels)`` pairs, as any labelled ``tf.data`` pipeline
yields them (``load_dataset(..., labels=True)``), through ``model.fit`` or
:func:`vaecore.train`: Keras' ``train_step`` / ``test_step`` call the model on the
images and hand the labels to :meth:`ConditionalVAE.compute_loss`, which runs the
pass with both (so it works on every backend and with every data form Keras reads).
Labels may be integer class indices ``(B,)`` or one-hot rows ``(B, K)`` for
``classes``, and 0/1 rows ``(B, K)`` for ``binary``.

Everything else is the :class:`vaecore.VAE`'s, with ``y`` beside the images or the
codes: ``encode(x, y)``, ``decode(z, y)``, ``reconstruct(x, y)``,
``nll_given_z(x, z, y)``, ``loss_terms(x, y)``,
``importance_weighted_log_likelihood(x, y, ...)`` and ``sample(n, seed,
condition=...)`` (one condition for all, or one per sample). ``save`` / ``load_model``
round-trip it (the condition is part of the arch dict in the config).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from vaecore.arch import condition_size, condition_spec, is_spatial
from vaecore.models import VAE

__all__ = ["ConditionalVAE", "build_cvae", "condition_rows"]


def condition_rows(model: Any, condition: Any, n: int) -> np.ndarray | None:
    """None, or a conditional model's ``(n, K)`` condition rows (one condition for all, or one each)."""
    if condition is None:
        return None
    if not getattr(model, "conditional", False):
        raise ValueError("condition= is for a conditional VAE (vaecore.conditional); this model has none")
    return np.asarray(ops.convert_to_numpy(model.condition_tensor(condition, n)), np.float32)


def _concrete(value: Any) -> np.ndarray | None:
    """``value`` as NumPy when it has values now (eager), None for a traced tensor."""
    if isinstance(value, np.ndarray | list | tuple | int | float | np.number):
        return np.asarray(value)
    try:
        return np.asarray(ops.convert_to_numpy(value))
    except Exception:  # noqa: BLE001 - a symbolic tensor (tf.function, jax.jit) has no values
        return None


@keras.saving.register_keras_serializable(package="vaecore")
class ConditionalVAE(VAE):
    """A :class:`vaecore.VAE` whose encoder and decoder both take a condition ``y``.

    Args:
        arch_def: an arch dict with a ``"condition"`` (see :mod:`vaecore.arch`).
        **kwargs: the :class:`vaecore.VAE`'s (likelihood, beta, sigma, scale, ...).

    Attributes:
        condition_kind: ``"classes"`` (one-hot) or ``"binary"`` (0/1 attributes).
        condition_size: K, the length of the condition vector.
        condition_names: the class or attribute names of the arch dict, or None.
    """

    conditional = True  # read by VAE.__init__: build the networks with a condition input

    def __init__(self, arch_def: Mapping[str, Any], **kwargs):
        super().__init__(arch_def, **kwargs)
        spec = condition_spec(self._arch)
        self.condition_kind = "classes" if "classes" in spec else "binary"
        self.condition_size = condition_size(self._arch)
        names = spec.get("names")
        self.condition_names = None if names is None else tuple(names)
        self._default_y = None  # set by sample(): the condition decode() uses without y

    # ------------------------------------------------------------ conditions
    def condition_tensor(self, y, n: int | None = None):
        """Labels -> the ``(B, K)`` float32 condition the networks take.

        ``classes``: integer labels (a scalar or ``(B,)``; also ``(B, 1)``) or one-hot
        rows ``(B, K)``. ``binary``: 0/1 rows ``(B, K)`` (values in [0, 1]). With
        ``n``, a single label or row is repeated for ``n`` images, and any other
        count than ``n`` is refused. Concrete values are checked (range, shape);
        inside a traced training step only the shape decides.
        """
        if y is None:
            raise ValueError(self._needs_y("a condition"))
        values = _concrete(y)
        if values is None:  # traced: labels by rank
            y = ops.convert_to_tensor(y)
            if self.condition_kind == "classes" and (
                len(y.shape) == 1 or (len(y.shape) == 2 and y.shape[-1] == 1)
            ):
                return ops.one_hot(ops.reshape(ops.cast(y, "int32"), (-1,)), self.condition_size)
            return ops.cast(y, "float32")
        rows = self._checked_rows(values)
        if n is not None:
            if len(rows) == 1 and n != 1:
                rows = np.repeat(rows, n, axis=0)
            elif len(rows) != n:
                raise ValueError(f"got {len(rows)} conditions for {n} images (give one, or one each)")
        return ops.convert_to_tensor(rows.astype(np.float32))

    def _checked_rows(self, values: np.ndarray) -> np.ndarray:
        k, kind = self.condition_size, self.condition_kind
        if kind == "classes" and (values.ndim <= 1 or (values.ndim == 2 and values.shape[1] == 1)):
            labels = values.reshape(-1)
            whole = labels.size == 0 or np.all(np.mod(labels, 1) == 0)
            if not whole or labels.size and (labels.min() < 0 or labels.max() >= k):
                raise ValueError(
                    f"condition: class labels must be integers 0..{k - 1}, got {labels[:8].tolist()}"
                )
            return np.eye(k, dtype=np.float32)[labels.astype(np.int64)]
        if kind == "binary" and values.ndim == 1 and values.shape[0] == k:
            values = values[None]
        if values.ndim != 2 or values.shape[1] != k:
            expected = (
                f"integer labels 0..{k - 1} (shape (n,)) or one-hot rows (n, {k})"
                if kind == "classes"
                else f"rows of {k} values in [0, 1] (shape (n, {k}) or ({k},))"
            )
            raise ValueError(f"condition: expected {expected}, got shape {values.shape}")
        if not np.all((values >= 0) & (values <= 1)):
            raise ValueError(f"condition: {kind} values must lie in [0, 1]")
        return values.astype(np.float32)

    def default_condition(self, n: int) -> np.ndarray:
        """``(n, K)`` conditions for when none is given: classes 0, 1, ..., K-1, 0, ...
        in turn; binary attributes counting up in binary (row i: bit j of i), so a
        grid shows every combination of the first attributes."""
        i = np.arange(n)
        if self.condition_kind == "classes":
            return np.eye(self.condition_size, dtype=np.float32)[i % self.condition_size]
        bits = (i[:, None] >> np.arange(self.condition_size)[None]) & 1
        return bits.astype(np.float32)

    def _needs_y(self, what: str) -> str:
        return (
            f"this conditional VAE ({self.condition_kind}, K = {self.condition_size}) needs "
            f"{what}: pass y (labels, or one-hot / 0-1 rows of {self.condition_size})"
        )

    @staticmethod
    def _count(x) -> int | None:
        n = ops.shape(x)[0]
        return n if isinstance(n, int) else None

    # --------------------------------------------------------------- networks
    def encode(self, x, y=None, training: bool = False):
        """Images and conditions -> (z_mean, z_log_var) of q(z | x, y), each (batch, latent_dim)."""
        if y is None:
            raise ValueError(self._needs_y("the condition to encode"))
        x = ops.convert_to_tensor(x, "float32")  # Keras takes no NumPy array beside a tensor
        condition = self.condition_tensor(y, self._count(x))
        z_mean, z_log_var = self.encoder([x, condition], training=training)
        if is_spatial(self._arch):
            z_mean, z_log_var = (ops.reshape(t, (ops.shape(t)[0], -1)) for t in (z_mean, z_log_var))
        return ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")

    def decoder_heads(self, z, training: bool = False, condition=None) -> dict[str, Any]:
        """The VAE's decoder heads at codes ``z`` given ``condition`` (labels or rows, required)."""
        if condition is None:
            raise ValueError(self._needs_y("the condition to decode"))
        z = ops.convert_to_tensor(z, "float32")
        condition = self.condition_tensor(condition, self._count(z))
        return super().decoder_heads(z, training=training, condition=condition)

    def decode_logits(self, z, y=None, training: bool = False):
        """Codes and conditions -> pre-sigmoid pixel values. ``y=None``: :meth:`default_condition`
        (or the condition :meth:`sample` is drawing for)."""
        if y is None:
            y = self._default_y if self._default_y is not None else self.default_condition(
                int(ops.shape(z)[0])
            )
        return self.decoder_heads(z, training=training, condition=y)["logits"]

    def decode(self, z, y=None, training: bool = False):
        """Codes and conditions -> images in [0, 1], the mean of p(x | z, y).

        ``y`` is one condition for all codes or one per code; ``y=None`` decodes with
        :meth:`default_condition` (what the sample snapshots of a training run show).
        """
        return ops.sigmoid(self.decode_logits(z, y, training=training))

    def nll_given_z(self, x, z, y=None):
        """-log p(x | z, y) per image."""
        return super().nll_given_z(x, z, y)

    def sample(
        self,
        n: int,
        seed: int | None = None,
        temperature: float = 1.0,
        sampler=None,
        condition=None,
    ):
        """Draw ``n`` images given ``condition``: z ~ N(0, T^2 I) (or ``sampler``'s codes), decoded.

        ``condition``: one label (or row) for all ``n``, one per sample, or None for
        :meth:`default_condition` (classes in turn).
        """
        self._default_y = (
            self.default_condition(n) if condition is None else self.condition_tensor(condition, n)
        )
        try:
            return super().sample(n, seed=seed, temperature=temperature, sampler=sampler)
        finally:
            self._default_y = None

    def reconstruct(self, x, y=None):
        """Encode ``x`` given ``y`` to the posterior mean and decode it given ``y``."""
        z_mean, _ = self.encode(x, y)
        return self.decode(z_mean, y)

    # ------------------------------------------------------------- training
    def _forward(self, x, y, training: bool = False) -> dict[str, Any]:
        condition = self.condition_tensor(y, self._count(x))
        z_mean, z_log_var = self.encode(x, condition, training=training)
        z = self.reparameterize(z_mean, z_log_var)
        heads = self.decoder_heads(z, training=training, condition=condition)
        return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z, **heads}

    @staticmethod
    def _split(inputs) -> tuple[Any, Any]:
        """``(x, y)`` / ``{"image": x, "condition": y}`` -> (x, y); images alone -> (x, None)."""
        if isinstance(inputs, Mapping):
            return inputs["image"], inputs["condition"]
        if isinstance(inputs, tuple | list) and len(inputs) == 2:
            return inputs[0], inputs[1]
        return inputs, None

    def call(self, inputs, training: bool = False) -> dict[str, Any]:
        """One pass on ``(images, labels)`` (or ``{"image": ..., "condition": ...}``): encode
        given y, draw z from q(z | x, y), decode given y; the dict of :meth:`VAE.call`.

        On images alone (Keras' ``train_step`` and ``test_step`` call the model on
        ``x`` and give the labels to :meth:`compute_loss`) it returns ``{"images": x}``
        and the pass runs in :meth:`compute_loss`, which has the labels.
        """
        x, y = self._split(inputs)
        if y is None:
            return {"images": x}
        return self._forward(x, y, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The negative ELBO of a batch of ``(images, labels)``: ``x`` the images, ``y`` the labels."""
        x, packed = self._split(x)
        y = packed if packed is not None else y
        if y_pred is None or "z_mean" not in y_pred:
            if y is None:
                raise ValueError(
                    self._needs_y("labels to train on") + "; fit on (images, labels) pairs, "
                    "e.g. load_dataset(..., labels=True)"
                )
            y_pred = self._forward(x, y, training=training)
        return super().compute_loss(x, None, y_pred, sample_weight, training)

    def loss_terms(self, x, y=None, training: bool = False) -> dict[str, Any]:
        """:meth:`VAE.elbo_terms` of a fresh pass over ``(x, y)``."""
        x, packed = self._split(x)
        y = packed if packed is not None else y
        if y is None:
            raise ValueError(self._needs_y("the condition"))
        x = ops.convert_to_tensor(x, "float32")
        return self.elbo_terms(x, self._forward(x, y, training=training))

    def importance_weighted_log_likelihood(
        self,
        x,
        y=None,
        num_samples: int = 1000,
        chunk_size: int = 100,
        batch_size: int | None = None,
        seed: int | None = None,
    ):
        """log p(x | y) per image, with ``num_samples`` importance samples from q(z | x, y).

        Arguments as :meth:`VAE.importance_weighted_log_likelihood`, plus ``y`` (one
        condition for all images or one each).
        """
        if y is None:
            raise ValueError(self._needs_y("the condition of log p(x | y)"))
        x = ops.convert_to_tensor(x, "float32")
        condition = self.condition_tensor(y, int(x.shape[0]))
        return super().importance_weighted_log_likelihood(
            x, num_samples, chunk_size, batch_size, seed, condition=condition
        )


def build_cvae(arch_def: Mapping[str, Any], **vae_kwargs: Any) -> ConditionalVAE:
    """A :class:`ConditionalVAE`; ``vae_kwargs`` are :func:`vaecore.build_vae`'s (likelihood, beta, seed, ...).

    Example::

        model = build_cvae({"input": (28, 28, 1), "latent": 2, "hidden": [512],
                            "name": "mnist_cvae", "condition": 10})
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(load_dataset("mnist", labels=True), epochs=10)
        model.sample(10, seed=0, condition=3)          # ten 3s
    """
    return ConditionalVAE(arch_def, **vae_kwargs)
