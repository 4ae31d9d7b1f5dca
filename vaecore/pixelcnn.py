"""A small PixelCNN (van den Oord, Kalchbrenner and Kavukcuoglu, ICML 2016) over grids of code indices.

The prior of a VQ-VAE (:mod:`vaecore.vq`): an autoregressive model of an ``(h, w)``
grid of integers in ``0 .. K-1``, cells in raster order (row by row, left to right)::

    p(k) = prod_{i} p(k_i | k_1 .. k_{i-1}),   each factor a categorical over K codes.

One pass of the network gives every cell's K logits at once, because every
convolution is *masked* (:class:`MaskedConv2D`): a kernel's weights at the centre's
later positions (the rest of its row, the rows below) are zero, so a cell's output
sees only earlier cells. The first layer uses mask **A** (the centre excluded too:
the logits of cell i must not see k_i itself), the later ones mask **B** (centre
included: from there on the centre holds features of earlier cells only); 1x1
convolutions and residual sums mix no positions. The test of the mask is
``tests/test_pixelcnn.py``: change one cell, and the logits of that cell and every
earlier one stay the same.

The network: an embedding of each code (D_e = ``filters``), a 7x7 mask-A
convolution, ``residual_blocks`` blocks (1x1 to half the filters, a 3x3 mask-B
convolution, 1x1 back; ReLUs; a skip), two 1x1 layers to K logits per cell: the
keras-io ``pixelcnn.py`` design on an embedding instead of pixels. It has the
plain PixelCNN's blind spot (a stack of masked 3x3 kernels never sees some
cells above-right of a cell); the gated PixelCNN (van den Oord et al. 2016b)
removes it, at more code. The likelihood stays exact and normalized either way
(the test sums it over every grid of a tiny model).

Training: ``prior.fit(grids)`` on the training images' index grids
(:meth:`vaecore.vq.VQVAE.index_grids`), through Keras' own ``train_step`` via
:meth:`PixelCNNPrior.compute_loss` (-log p(k), nats per grid). Metrics: ``nll``
(nats per grid) and ``bits_per_dim`` (bits per cell). :meth:`PixelCNNPrior.sample`
draws grids cell by cell; :meth:`vaecore.vq.VQVAE.sample` decodes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

__all__ = ["MaskedConv2D", "PixelCNNPrior", "causal_mask"]


def causal_mask(kernel_size: Sequence[int], mask_type: str) -> np.ndarray:
    """The ``(kh, kw)`` 0/1 mask: 1 at the positions before the centre in raster order
    (and at the centre for type ``"B"``)."""
    kh, kw = kernel_size
    mask = np.ones((kh, kw), np.float32)
    ch, cw = kh // 2, kw // 2
    mask[ch, cw + (1 if mask_type == "B" else 0) :] = 0.0
    mask[ch + 1 :, :] = 0.0
    return mask


@keras.saving.register_keras_serializable(package="vaecore")
class MaskedConv2D(layers.Layer):
    """A 2-D convolution ("same" padding, stride 1) whose kernel is multiplied by a causal mask.

    Args:
        filters: output channels.
        kernel_size: an odd int or pair of odd ints (the centre must be a position).
        mask_type: ``"A"`` (the centre excluded; the first layer) or ``"B"`` (included).
        activation: a Keras activation name or None.

    The mask is applied in every call (``kernel * mask``), not written into the
    weights, so the masked weights get zero gradient and stay irrelevant on any
    backend.
    """

    def __init__(self, filters: int, kernel_size, mask_type: str = "B", activation=None, **kwargs):
        super().__init__(**kwargs)
        size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        if len(size) != 2 or any(int(k) < 1 or int(k) % 2 == 0 for k in size):
            raise ValueError(f"kernel_size must be odd (a centre position), got {kernel_size!r}")
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        self.filters, self.kernel_size, self.mask_type = int(filters), tuple(int(k) for k in size), mask_type
        self.activation = keras.activations.get(activation)
        self._activation_name = activation
        self.mask = causal_mask(self.kernel_size, mask_type)[:, :, None, None]

    def build(self, input_shape) -> None:
        self.kernel = self.add_weight(
            shape=(*self.kernel_size, int(input_shape[-1]), self.filters),
            initializer="glorot_uniform", name="kernel",
        )  # fmt: skip
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
        self.built = True

    def call(self, x):
        kernel = self.kernel * ops.cast(self.mask, self.kernel.dtype)
        return self.activation(ops.conv(x, kernel, strides=1, padding="same") + self.bias)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=list(self.kernel_size),
                      mask_type=self.mask_type, activation=self._activation_name)  # fmt: skip
        return config


@keras.saving.register_keras_serializable(package="vaecore")
class PixelCNNPrior(keras.Model):
    """An autoregressive prior over ``(h, w)`` grids of K-way code indices.

    Args:
        grid_shape: ``(h, w)``, e.g. a VQ-VAE's ``grid_shape``.
        num_codes: K.
        filters: channels of the embedding and the residual stream.
        kernel_size: the first (mask A) convolution's kernel, odd.
        residual_blocks: how many mask-B residual blocks.
        hidden_kernel: the blocks' masked kernel, odd.
        seed: the default seed of :meth:`sample`'s draws.

    ``call(indices)`` gives the logits ``(B, h, w, K)``; :meth:`log_prob` the exact
    log p(k) per grid in nats.
    """

    def __init__(
        self,
        grid_shape: Sequence[int],
        num_codes: int,
        filters: int = 64,
        kernel_size: int = 7,
        residual_blocks: int = 2,
        hidden_kernel: int = 3,
        seed: int | None = None,
        **kwargs,
    ):
        kwargs.setdefault("name", "pixelcnn_prior")
        super().__init__(**kwargs)
        grid = tuple(int(v) for v in grid_shape)
        if len(grid) != 2 or min(grid) < 1:
            raise ValueError(f"grid_shape must be (h, w), two ints >= 1, got {grid_shape!r}")
        for name, value, least in (("num_codes", num_codes, 2), ("filters", filters, 2),
                                   ("residual_blocks", residual_blocks, 0)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an int >= {least}, got {value!r}")
        self.grid_shape, self.num_codes = grid, int(num_codes)
        self.filters, self.kernel_size = int(filters), kernel_size
        self.residual_blocks, self.hidden_kernel = int(residual_blocks), hidden_kernel
        self.seed = seed
        self.network = self._build_network()
        self.nll_tracker = keras.metrics.Mean(name="nll")
        self.bits_tracker = keras.metrics.Mean(name="bits_per_dim")
        self.built = True

    def _build_network(self) -> keras.Model:
        f = self.filters
        inputs = keras.Input(shape=self.grid_shape, dtype="int32", name="indices")
        h = layers.Embedding(self.num_codes, f, name="embed")(inputs)
        h = MaskedConv2D(f, self.kernel_size, "A", activation="relu", name="masked_a")(h)
        for i in range(self.residual_blocks):
            r = layers.Conv2D(f // 2, 1, activation="relu", name=f"res_{i}_in")(h)
            r = MaskedConv2D(f // 2, self.hidden_kernel, "B", activation="relu", name=f"res_{i}_masked_b")(r)
            r = layers.Conv2D(f, 1, name=f"res_{i}_out")(r)
            h = layers.Activation("relu", name=f"res_{i}_relu")(layers.Add(name=f"res_{i}_add")([h, r]))
        h = layers.Conv2D(f, 1, activation="relu", name="head")(h)
        logits = layers.Conv2D(self.num_codes, 1, name="logits")(h)
        return keras.Model(inputs, logits, name="pixelcnn")

    @classmethod
    def for_model(cls, vq_model: Any, **kwargs: Any) -> PixelCNNPrior:
        """A prior for a :class:`vaecore.vq.VQVAE`'s grids: its ``grid_shape`` and ``num_codes``."""
        return cls(vq_model.grid_shape, vq_model.num_codes, **kwargs)

    # ---------------------------------------------------------------- model
    def call(self, indices, training: bool = False):
        """``(B, h, w)`` integer grids -> ``(B, h, w, K)`` float32 logits of every cell."""
        indices = ops.cast(self._grids(indices), "int32")
        return ops.cast(self.network(indices, training=training), "float32")

    def log_prob(self, indices, logits=None):
        """log p(k) per grid in nats ``(B,)``: the sum of every cell's log-softmax at its code."""
        indices = ops.cast(self._grids(indices), "int32")
        logits = self(indices) if logits is None else logits
        picked = ops.one_hot(indices, self.num_codes, dtype="float32") * ops.log_softmax(logits, axis=-1)
        return ops.sum(ops.reshape(picked, (ops.shape(picked)[0], -1)), axis=1)

    def bits_per_dim(self, indices) -> np.ndarray:
        """-log2 p(k) per cell, per grid (NumPy ``(B,)``)."""
        nats = -np.asarray(ops.convert_to_numpy(self.log_prob(indices)), np.float64)
        return nats / (math.prod(self.grid_shape) * math.log(2.0))

    def sample(self, n: int, seed: int | None = None, temperature: float = 1.0) -> np.ndarray:
        """``n`` grids drawn cell by cell in raster order (``h * w`` passes), ``(n, h, w)`` int32.

        ``temperature`` T divides the logits (T < 1: likelier, less varied grids).
        """
        if not (temperature > 0 and np.isfinite(temperature)):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        rng = np.random.default_rng(self.seed if seed is None else seed)
        grids = np.zeros((n, *self.grid_shape), np.int32)
        for i in range(self.grid_shape[0]):
            for j in range(self.grid_shape[1]):
                logits = np.asarray(ops.convert_to_numpy(self(grids)[:, i, j, :]), np.float64)
                gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, logits.shape)))
                grids[:, i, j] = np.argmax(logits / temperature + gumbel, axis=-1)
        return grids

    # ------------------------------------------------------------- training
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-log p(k), nats per grid (batch mean), with ``nll`` and ``bits_per_dim`` tracked."""
        indices = self._grids(x)
        logits = y_pred if y_pred is not None else self(indices, training=training)
        nll = -self.log_prob(indices, logits)
        n = ops.shape(nll)[0]
        loss = ops.mean(nll)
        self.nll_tracker.update_state(loss, n)
        self.bits_tracker.update_state(loss / (math.prod(self.grid_shape) * math.log(2.0)), n)
        for extra in self.losses:
            loss = loss + ops.sum(ops.cast(extra, "float32"))
        return loss

    @staticmethod
    def _grids(data):
        """Grids, or ``(grids, y)`` batches with the labels ignored."""
        return data[0] if isinstance(data, tuple | list) else data

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            grid_shape=list(self.grid_shape), num_codes=self.num_codes, filters=self.filters,
            kernel_size=self.kernel_size, residual_blocks=self.residual_blocks,
            hidden_kernel=self.hidden_kernel, seed=self.seed,
        )  # fmt: skip
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PixelCNNPrior:
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)
