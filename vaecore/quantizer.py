"""The vector quantizer of a VQ-VAE (van den Oord, Vinyals and Kavukcuoglu, NeurIPS 2017).

A codebook of K vectors of dimension D. Each D-dim vector ``z_e`` of the encoder's
output grid is replaced by its nearest codebook entry ``e_k``,
``k = argmin_j ||z_e - e_j||^2``; the decoder sees ``e_k``, the prior (a PixelCNN,
:mod:`vaecore.pixelcnn`) models the grid of indices ``k``.

**Gradients.** ``argmin`` has none, so the decoder's gradient is copied onto the
encoder output unchanged (the *straight-through* estimator): the layer returns
``z_e + stop_gradient(e_k - z_e)``, whose value is ``e_k`` and whose derivative with
respect to ``z_e`` is the identity.

**Losses** (the paper's eq. 3), each summed over the grid and the D dimensions of an
image and averaged over the batch (so they are per image, as the reconstruction's
nats are)::

    codebook   = || stop_gradient(z_e) - e ||^2    moves the codes towards the encoder
    commitment = || z_e - stop_gradient(e) ||^2    keeps the encoder near its codes

The quantizer's loss is ``codebook + commitment_weight * commitment`` (beta = 0.25 in
the paper). Both have the same value; they differ in where their gradient goes.

**EMA codebook** (``ema_decay``, e.g. 0.99; the paper's appendix, Razavi et al. 2019):
the codes are then not trained by gradient but set, at every training step, to an
exponential moving average of the encoder outputs assigned to them
(``e_k = sum_k / count_k``, counts Laplace-smoothed with ``epsilon``); the loss keeps
only the commitment term. The codebook is then a non-trainable variable.

**Usage.** Every pass reports ``perplexity``, ``exp(-sum_k p_k log p_k)`` of the
batch's code frequencies ``p_k`` (1 when one code takes everything, m when m codes
are used equally, K at most), and ``codes_used``, how many codes the batch used.

**Dead-code restarts** (``restart_after = n``): a code no encoder output chose for
``n`` training batches in a row is *dead* (it gets no codebook gradient, and no EMA
update, so it would stay dead). :meth:`VectorQuantizer.restart_dead_codes` moves each
dead code onto an encoder output of a recent batch (kept in a buffer of
``restart_buffer`` random vectors during training), as Dhariwal et al. (2020,
Jukebox) and Zeghidour et al. (2021) do. It runs eagerly, outside the traced
training step, from the :class:`CodebookRestart` callback (which
:class:`vaecore.vq.VQVAE`'s ``fit`` adds): so it works the same on TensorFlow and
JAX, where a traced step could not reassign a trainable variable. The counters, the
buffer and the EMA statistics are non-trainable variables, saved with the weights.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

__all__ = ["CodebookRestart", "VectorQuantizer", "perplexity"]


def perplexity(counts) -> Any:
    """``exp(entropy)`` of the code frequencies ``counts / sum(counts)`` (1 .. K), a tensor."""
    counts = ops.cast(counts, "float32")
    p = counts / ops.maximum(ops.sum(counts), 1.0)
    return ops.exp(-ops.sum(p * ops.log(p + 1e-10)))


@keras.saving.register_keras_serializable(package="vaecore")
class VectorQuantizer(keras.layers.Layer):
    """Nearest-code quantization of ``(..., D)`` vectors against a codebook of K entries.

    Args:
        num_codes: K, the codebook size.
        code_dim: D, the dimension of each code (the last axis of the input).
        commitment_weight: beta, the weight of the commitment term (0.25 in the paper).
        ema_decay: None (codes trained by the codebook loss) or the decay of the
            EMA updates (e.g. 0.99; the codebook is then non-trainable).
        epsilon: the Laplace smoothing of the EMA counts.
        restart_after: None (no restarts) or the number of training batches in a
            row a code may go unused before :meth:`restart_dead_codes` moves it.
        restart_buffer: how many encoder outputs of the last training batch are
            kept to restart dead codes from.
        seed: seed of the buffer's random draws and of the restarts.

    ``call(z_e)`` returns the straight-through quantized tensor; :meth:`vector_quantize`
    returns it with the indices, the losses and the usage numbers.
    """

    def __init__(
        self,
        num_codes: int,
        code_dim: int,
        commitment_weight: float = 0.25,
        ema_decay: float | None = None,
        epsilon: float = 1e-5,
        restart_after: int | None = None,
        restart_buffer: int = 512,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("num_codes", num_codes), ("code_dim", code_dim),
                            ("restart_buffer", restart_buffer)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if not (float(commitment_weight) >= 0 and np.isfinite(commitment_weight)):
            raise ValueError(f"commitment_weight must be a finite number >= 0, got {commitment_weight!r}")
        if ema_decay is not None and not 0.0 < float(ema_decay) < 1.0:
            raise ValueError(f"ema_decay must be None or in (0, 1), got {ema_decay!r}")
        if restart_after is not None and (
            isinstance(restart_after, bool) or not isinstance(restart_after, int) or restart_after < 1
        ):
            raise ValueError(f"restart_after must be None or an int >= 1, got {restart_after!r}")
        self.num_codes, self.code_dim = int(num_codes), int(code_dim)
        self.commitment_weight = float(commitment_weight)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.epsilon = float(epsilon)
        self.restart_after = restart_after
        self.restart_buffer = int(restart_buffer)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def uses_ema(self) -> bool:
        """True when the codes follow EMA updates instead of the codebook loss."""
        return self.ema_decay is not None

    def build(self, input_shape=None) -> None:
        k, d = self.num_codes, self.code_dim
        limit = float(np.sqrt(3.0 / d))  # codes of about unit norm, as typical encoder outputs
        self.codebook = self.add_weight(
            shape=(k, d), initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed),
            trainable=not self.uses_ema, name="codebook",
        )  # fmt: skip
        state = {"trainable": False, "initializer": "zeros"}
        self.unused_steps = self.add_weight(shape=(k,), name="unused_steps", **state)
        self.buffer = self.add_weight(shape=(self.restart_buffer, d), name="restart_buffer", **state)
        self.buffer_ready = self.add_weight(shape=(), name="buffer_ready", **state)
        self.restarts = self.add_weight(shape=(), name="codes_restarted", **state)
        if self.uses_ema:
            self.ema_count = self.add_weight(shape=(k,), name="ema_count", trainable=False,
                                             initializer="ones")  # fmt: skip
            self.ema_sum = self.add_weight(shape=(k, d), name="ema_sum", trainable=False,
                                           initializer="zeros")  # fmt: skip
            # count 1 each: e_k = sum_k / 1 at the start. A copy: JAX must not see one buffer
            # in two variables (the trainer donates each variable's buffer once).
            self.ema_sum.assign(np.array(ops.convert_to_numpy(self.codebook)))
        self.built = True

    # ------------------------------------------------------------- quantize
    def distances(self, flat):
        """Squared distances ``(N, K)`` of ``(N, D)`` vectors to every code."""
        codebook = ops.cast(self.codebook, "float32")
        return (
            ops.sum(flat**2, axis=1, keepdims=True)
            - 2.0 * ops.matmul(flat, ops.transpose(codebook))
            + ops.sum(codebook**2, axis=1)[None, :]
        )

    def indices(self, z_e):
        """The nearest code's index of every D-dim vector: ``(...)`` int32 for ``(..., D)`` inputs."""
        z = ops.cast(z_e, "float32")
        flat = ops.reshape(z, (-1, self.code_dim))
        idx = ops.cast(ops.argmin(self.distances(flat), axis=1), "int32")
        return ops.reshape(idx, ops.shape(z)[:-1])

    def lookup(self, indices):
        """Codes of integer ``indices``: ``(...)`` -> ``(..., D)`` float32."""
        return ops.take(ops.cast(self.codebook, "float32"), ops.cast(indices, "int32"), axis=0)

    def vector_quantize(self, z_e, training: bool = False) -> dict[str, Any]:
        """Quantize ``z_e`` ``(B, ..., D)``; with ``training``, update the usage, buffer and EMA state.

        Returns a dict: ``quantized`` (straight-through: value ``e``, gradient to
        ``z_e``), ``indices`` (int32, ``z_e``'s shape without D), ``codebook_loss``,
        ``commitment_loss`` (per image, batch means), ``vq_loss`` (what training adds:
        ``codebook + beta * commitment``, or ``beta * commitment`` with EMA),
        ``perplexity`` and ``codes_used`` of the batch.
        """
        z = ops.cast(z_e, "float32")
        flat = ops.reshape(z, (-1, self.code_dim))
        idx = ops.cast(ops.argmin(self.distances(flat), axis=1), "int32")
        e = ops.reshape(self.lookup(idx), ops.shape(z))
        counts = ops.sum(ops.one_hot(idx, self.num_codes, dtype="float32"), axis=0)
        batch = ops.shape(z)[0]
        per_image = lambda t: ops.mean(ops.sum(ops.reshape(t, (batch, -1)), axis=1))  # noqa: E731
        codebook_loss = per_image((ops.stop_gradient(z) - e) ** 2)
        commitment_loss = per_image((z - ops.stop_gradient(e)) ** 2)
        vq_loss = self.commitment_weight * commitment_loss
        if not self.uses_ema:
            vq_loss = vq_loss + codebook_loss
        if training:
            self._update_state(ops.stop_gradient(flat), idx, counts)
        return {
            "quantized": z + ops.stop_gradient(e - z),
            "indices": ops.reshape(idx, ops.shape(z)[:-1]),
            "codebook_loss": codebook_loss,
            "commitment_loss": commitment_loss,
            "vq_loss": vq_loss,
            "perplexity": perplexity(counts),
            "codes_used": ops.sum(ops.cast(counts > 0, "float32")),
        }

    def call(self, z_e, training: bool = False):
        """The straight-through quantized ``z_e`` (no loss is added: see :meth:`vector_quantize`)."""
        return self.vector_quantize(z_e, training=training)["quantized"]

    def compute_output_shape(self, input_shape):
        return input_shape

    def _update_state(self, flat, idx, counts) -> None:
        """Training-step state: unused-batch counters, the restart buffer, the EMA codes."""
        self.unused_steps.assign(ops.where(counts > 0, 0.0, self.unused_steps + 1.0))
        n = ops.cast(ops.shape(flat)[0], "float32")
        u = keras.random.uniform((self.restart_buffer,), seed=self.seed_generator)
        rows = ops.minimum(ops.cast(ops.floor(u * n), "int32"), ops.cast(n, "int32") - 1)
        self.buffer.assign(ops.take(flat, rows, axis=0))
        self.buffer_ready.assign(1.0)
        if self.uses_ema:
            decay, eps, k = self.ema_decay, self.epsilon, float(self.num_codes)
            onehot = ops.one_hot(idx, self.num_codes, dtype="float32")
            count = decay * self.ema_count + (1.0 - decay) * counts
            total = ops.sum(count)
            smoothed = (count + eps) / (total + k * eps) * total
            sums = decay * self.ema_sum + (1.0 - decay) * ops.matmul(ops.transpose(onehot), flat)
            self.ema_count.assign(count)
            self.ema_sum.assign(sums)
            self.codebook.assign(sums / smoothed[:, None])

    # ------------------------------------------------------------- restarts
    def dead_codes(self) -> np.ndarray:
        """Indices of the codes unused for ``restart_after`` training batches in a row."""
        if self.restart_after is None:
            return np.zeros(0, np.int64)
        unused = np.asarray(ops.convert_to_numpy(self.unused_steps))
        return np.flatnonzero(unused >= self.restart_after)

    def restart_dead_codes(self) -> int:
        """Move every dead code onto a random encoder output of the last training batch.

        Eager (call it between training steps; :class:`CodebookRestart` does). Returns
        how many codes moved: 0 without ``restart_after``, before any training batch,
        or when no code is dead. The draws are a function of ``seed`` and the number
        of codes restarted so far, so a resumed run restarts the same way.
        """
        dead = self.dead_codes()
        if dead.size == 0 or float(ops.convert_to_numpy(self.buffer_ready)) == 0.0:
            return 0
        done = int(ops.convert_to_numpy(self.restarts))
        rng = np.random.default_rng([0 if self.seed is None else int(self.seed), done])
        buffer = np.asarray(ops.convert_to_numpy(self.buffer))
        rows = rng.choice(len(buffer), size=dead.size, replace=dead.size > len(buffer))
        codebook = np.array(ops.convert_to_numpy(self.codebook))
        codebook[dead] = buffer[rows]
        self.codebook.assign(codebook)
        unused = np.array(ops.convert_to_numpy(self.unused_steps))
        unused[dead] = 0.0
        self.unused_steps.assign(unused)
        if self.uses_ema:  # the restarted code's statistics: one vector, itself
            count = np.array(ops.convert_to_numpy(self.ema_count))
            sums = np.array(ops.convert_to_numpy(self.ema_sum))
            count[dead], sums[dead] = 1.0, buffer[rows]
            self.ema_count.assign(count)
            self.ema_sum.assign(sums)
        self.restarts.assign(float(done + dead.size))
        return int(dead.size)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            num_codes=self.num_codes, code_dim=self.code_dim,
            commitment_weight=self.commitment_weight, ema_decay=self.ema_decay,
            epsilon=self.epsilon, restart_after=self.restart_after,
            restart_buffer=self.restart_buffer, seed=self.seed,
        )  # fmt: skip
        return config


class CodebookRestart(keras.callbacks.Callback):
    """Restart the dead codes of every :class:`VectorQuantizer` of the model after each train call.

    With ``steps_per_execution`` > 1 Keras calls it once per group of steps; the
    unused counters are kept inside the steps, so a code's age is still counted in
    batches. ``verbose``: print how many codes moved when any did.
    """

    def __init__(self, verbose: bool = False):
        super().__init__()
        self.verbose = verbose

    def _quantizers(self) -> list[VectorQuantizer]:
        return [layer for layer in self.model._flatten_layers() if isinstance(layer, VectorQuantizer)]

    def on_train_batch_end(self, batch, logs=None) -> None:
        for quantizer in self._quantizers():
            moved = quantizer.restart_dead_codes()
            if moved and self.verbose:
                print(f"batch {batch}: {moved} dead code(s) of {quantizer.name} restarted")
