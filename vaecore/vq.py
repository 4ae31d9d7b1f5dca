"""The VQ-VAE (van den Oord, Vinyals and Kavukcuoglu, NeurIPS 2017): discrete codes, a learned prior.

A conv encoder maps an image to a grid of D-dim vectors ``z_e`` (h x w), a
:class:`~vaecore.quantizer.VectorQuantizer` snaps each to the nearest of K codebook
entries, and the latent-map decoder of :mod:`vaecore.networks` decodes the grid of
codes. The latent is the integer grid of code indices; a prior over it (trained
after the VQ-VAE, on the training images' grids: :class:`vaecore.pixelcnn.PixelCNNPrior`)
makes it a generative model: sample indices from the prior, decode them.

The arch dict is a latent-map conv dict (:mod:`vaecore.arch`) plus a codebook::

    {"input": (32, 32, 3), "encode": [(64, 4, 2), (128, 4, 2)],
     "latent": (8, 8, 64),                      # the grid (h, w) and D
     "codebook": {"size": 512, "dim": 64},      # K codes of dim D ("dim" may be left out)
     "name": "cifar_vq"}

:func:`validate_vq_arch` checks it and lists every problem, each naming its field.

**The loss**, in nats per image: ``-log p(x | z_q)`` with the likelihoods of the VAE
(:mod:`vaecore.likelihoods`: Bernoulli, Gaussian, discretized logistic, the same
``scale`` options, so bits/dim compare with the VAE's), plus the quantizer's
``codebook + beta * commitment`` (:mod:`vaecore.quantizer`). There is no KL term:
with a uniform prior over the K^(hw) grids and a deterministic encoder, the KL is
the constant ``h w log K`` (the paper's section 3.2). Training goes through Keras'
own ``train_step`` via :meth:`VQVAE.compute_loss`, on any backend, as the VAE's.

**A likelihood** (:meth:`VQVAE.likelihood_bound`): for a deterministic encoder
(q puts all its mass on the grid ``k(x)``, entropy 0), the ELBO is
``log p(x | k(x)) + log p_prior(k(x)) <= log p(x)``, so::

    -log p(x) <= -log p_prior(k(x)) - log p(x | decode(k(x)))

an upper bound on the negative log-likelihood, in nats per image or bits per
dimension of the image. It is loose by whatever mass other grids would give
x; with ``prior=None`` (uniform over codes) the first term is ``h w log K``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from vaecore._shared import checked_weight
from vaecore.arch import ArchDefError, is_spatial, to_jsonable, validate_arch_def
from vaecore.compile_policy import compile_defaults, in_tf_strategy, tf_replicas
from vaecore.likelihoods import (
    MIN_LOG_SCALE,
    LikelihoodMixin,
    MinValue,
    check_coupling,
    inverse_soft_floor,
    resolve_scale,
)
from vaecore.networks import build_vq_networks
from vaecore.quantizer import CodebookRestart, VectorQuantizer

__all__ = ["VQVAE", "build_vqvae", "validate_vq_arch"]


def _is_count(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1


def validate_vq_arch(arch_def: Mapping[str, Any]) -> dict[str, Any]:
    """Check a VQ-VAE arch dict; return it normalized, with ``"codebook": {"size": K, "dim": D}``.

    Raises:
        ArchDefError: every problem found (the latent-map dict's and the codebook's).
    """
    if not isinstance(arch_def, Mapping):
        raise ArchDefError([f"arch_def must be a dict, got {type(arch_def).__name__}"])
    problems: list[str] = []
    name = arch_def.get("name")
    spec = arch_def.get("codebook")
    size = dim = None
    if spec is None:
        problems.append("arch_def is missing field 'codebook' (a VQ-VAE's: {'size': K, 'dim': D})")
    elif not isinstance(spec, Mapping) or set(spec) - {"size", "dim"} or "size" not in spec:
        problems.append(
            f"arch_def field 'codebook': expected {{'size': K, 'dim': D}} ('dim' optional), got {spec!r}"
        )
    else:
        size, dim = spec["size"], spec.get("dim")
        if not _is_count(size) or size < 2:
            problems.append(f"arch_def field 'codebook': 'size' (K) must be an int >= 2, got {size!r}")
            size = None
        if dim is not None and not _is_count(dim):
            problems.append(f"arch_def field 'codebook': 'dim' (D) must be an int >= 1, got {dim!r}")
    if "condition" in arch_def:
        problems.append("arch_def field 'condition': the VQ-VAE here is unconditional")
    rest = {k: v for k, v in arch_def.items() if k not in ("codebook", "condition")}
    arch = None
    try:
        arch = validate_arch_def(rest)
    except ArchDefError as error:
        problems.extend(error.problems)
    if arch is not None and not is_spatial(arch):
        problems.append(
            "arch_def field 'latent': a VQ-VAE needs a conv dict ('encode') with a latent map "
            f"(h, w, D), the grid of code vectors; got {arch['latent']!r}"
        )
    elif arch is not None and dim is not None and arch["latent"][-1] != dim:
        problems.append(
            f"arch_def field 'codebook': 'dim' {dim} differs from the latent map's channels "
            f"{arch['latent'][-1]} (latent {arch['latent']!r}: (h, w, D))"
        )
    if problems:
        raise ArchDefError(problems, name)
    arch["codebook"] = {"size": int(size), "dim": int(arch["latent"][-1])}
    return arch


@keras.saving.register_keras_serializable(package="vaecore")
class VQVAE(LikelihoodMixin, keras.Model):
    """A VQ-VAE built from a VQ arch dict (see the module docstring).

    Args:
        arch_def: a latent-map conv arch dict with a ``"codebook"``.
        likelihood, sigma, scale, channel_coupling: the pixel likelihood, as
            :class:`vaecore.VAE`'s (same meanings, same defaults).
        commitment_weight: beta of the commitment term (0.25 in the paper).
        ema_decay: None (codes learned by the codebook loss) or the EMA decay
            (e.g. 0.99): see :mod:`vaecore.quantizer`.
        restart_after: restart codes unused for this many training batches in a
            row (None: never); ``fit`` adds the :class:`~vaecore.quantizer.CodebookRestart`
            callback for it.
        restart_buffer: encoder outputs kept per batch to restart codes from.
        seed: seeds the codebook's start and the restarts.

    Metrics per epoch: ``loss``, ``reconstruction_loss`` (-log p(x | z_q), nats per
    image), ``vq_loss`` (the quantizer's part of the loss), ``commitment_loss``,
    ``perplexity`` and ``codes_used`` (the batches' mean).
    """

    def __init__(
        self,
        arch_def: Mapping[str, Any],
        likelihood: str = "bernoulli",
        sigma: float = 0.1,
        scale: str | None = None,
        channel_coupling: bool = False,
        commitment_weight: float = 0.25,
        ema_decay: float | None = None,
        restart_after: int | None = 100,
        restart_buffer: int = 512,
        seed: int | None = None,
        **kwargs,
    ):
        arch = validate_vq_arch(arch_def)
        resolved = resolve_scale(likelihood, scale)
        channel_coupling = check_coupling(channel_coupling, likelihood, arch)
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma!r}")
        kwargs.setdefault("name", arch["name"])
        super().__init__(**kwargs)
        self._arch = arch
        self.likelihood, self.sigma = likelihood, float(sigma)
        self.scale, self.scale_mode = scale, resolved
        self.channel_coupling = channel_coupling
        self.seed = seed
        self.log_scale = None
        if resolved in ("shared", "channel"):
            self.log_scale = self.add_weight(
                shape=(1 if resolved == "shared" else arch["input"][-1],),
                initializer=keras.initializers.Constant(float(np.log(sigma))),
                constraint=MinValue(MIN_LOG_SCALE),
                name="pixel_log_scale",
            )
        pixel = resolved == "pixel"
        self.encoder, self.decoder = build_vq_networks(
            arch, pixel_scale=pixel, coupling=channel_coupling,
            scale_bias=inverse_soft_floor(float(np.log(sigma))) if pixel else 0.0,
        )  # fmt: skip
        self.quantizer = VectorQuantizer(
            arch["codebook"]["size"], arch["codebook"]["dim"],
            commitment_weight=checked_weight("commitment_weight", commitment_weight),
            ema_decay=ema_decay, restart_after=restart_after, restart_buffer=restart_buffer,
            seed=seed, name="quantizer",
        )  # fmt: skip
        self.quantizer.build((None, *arch["latent"]))
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("reconstruction_loss", "vq_loss", "commitment_loss", "perplexity",
                         "codes_used")
        }  # fmt: skip
        self.built = True  # every weight exists: the model saves before any call()

    # ------------------------------------------------------------------ API
    @property
    def arch_def(self) -> dict[str, Any]:
        """The normalized architecture definition (with its ``codebook``)."""
        return dict(self._arch)

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """``(h, w, D)``: the grid of code vectors the decoder takes."""
        return tuple(self._arch["latent"])

    @property
    def grid_shape(self) -> tuple[int, int]:
        """``(h, w)``: the shape of one image's grid of code indices."""
        return tuple(self._arch["latent"][:2])

    @property
    def num_codes(self) -> int:
        """K, the codebook size."""
        return int(self._arch["codebook"]["size"])

    @property
    def codebook(self) -> np.ndarray:
        """The ``(K, D)`` codebook now, as NumPy."""
        return np.asarray(ops.convert_to_numpy(self.quantizer.codebook))

    def count_params(self) -> int:
        """Parameters: encoder, decoder, the codebook and a learned pixel scale.

        The quantizer's training state (unused-batch counters, the restart buffer, the
        EMA statistics) is saved with the weights but is no parameter, so it is not
        counted (Keras' own count would add it).
        """
        params = [*self.encoder.weights, *self.decoder.weights, self.quantizer.codebook]
        if self.log_scale is not None:
            params.append(self.log_scale)
        return int(sum(np.prod(v.shape) for v in params))

    def encode(self, x, training: bool = False):
        """Images -> ``z_e``, the encoder's ``(B, h, w, D)`` grid of vectors before quantization."""
        x = ops.convert_to_tensor(self._images(x), "float32")
        return ops.cast(self.encoder(x, training=training), "float32")

    def encode_indices(self, x):
        """Images -> ``(B, h, w)`` int32 grids of code indices (the nearest codes)."""
        return self.quantizer.indices(self.encode(x))

    def index_grids(self, data, batch_size: int = 256) -> np.ndarray:
        """The ``(N, h, w)`` int32 index grids of images: an array, or batches (a
        ``tf.data.Dataset``, ``(x, y)`` pairs allowed): the PixelCNN prior's training data."""
        if isinstance(data, np.ndarray):
            array = data
            data = [array[i : i + batch_size] for i in range(0, len(array), batch_size)]
        grids = [np.asarray(ops.convert_to_numpy(self.encode_indices(self._images(b)))) for b in data]
        return np.concatenate(grids).astype(np.int32)

    def code_usage(self, data, batch_size: int = 256) -> dict[str, Any]:
        """How the images of ``data`` (as for :meth:`index_grids`) use the codebook.

        ``counts`` (K,): cells assigned to each code; ``codes_used``: codes with any;
        ``perplexity``: exp of the entropy of the code frequencies (1: one code does
        everything; K: all used equally), over the whole set, not a batch mean.
        """
        counts = np.bincount(self.index_grids(data, batch_size).ravel(), minlength=self.num_codes)
        p = counts[counts > 0] / counts.sum()
        return {"counts": counts, "codes_used": int((counts > 0).sum()),
                "perplexity": float(np.exp(-(p * np.log(p)).sum()))}  # fmt: skip

    def codes(self, indices):
        """``(B, h, w)`` index grids -> the ``(B, h, w, D)`` grid of their code vectors."""
        indices = ops.convert_to_tensor(np.asarray(indices) if isinstance(indices, list) else indices)
        return self.quantizer.lookup(indices)

    def decode(self, z_q, training: bool = False):
        """A ``(B, h, w, D)`` grid of code vectors (or flat codes) -> images in [0, 1]."""
        return ops.sigmoid(self.decoder_heads(z_q, training=training)["logits"])

    def decode_indices(self, indices):
        """``(B, h, w)`` index grids -> images in [0, 1] (the mean of p(x | codes))."""
        return self.decode(self.codes(indices))

    def reconstruct(self, x):
        """Encode, quantize, decode: the model's reconstruction of ``x``."""
        return self.decode_indices(self.encode_indices(x))

    def sample(self, n: int, seed: int | None = None, temperature: float = 1.0, prior=None):
        """``n`` images: index grids from ``prior`` (``sample(n, seed=...)``), decoded.

        ``prior=None``: every cell's code uniform over the K codes (the prior the VQ-VAE
        was trained against), for comparison with a learned prior.
        ``temperature`` is passed to priors that take it (the PixelCNN's logits / T).
        ``n`` and ``seed`` come first, as in :meth:`vaecore.VAE.sample`, so tools that
        call ``model.sample(n, seed)`` (sample snapshots) work on a VQ-VAE too.
        """
        if prior is None:
            rng = np.random.default_rng(seed)
            indices = rng.integers(0, self.num_codes, (n, *self.grid_shape))
        elif temperature != 1.0:
            indices = prior.sample(n, seed=seed, temperature=temperature)
        else:
            indices = prior.sample(n, seed=seed)
        indices = np.asarray(ops.convert_to_numpy(indices), np.int32)
        if indices.shape != (n, *self.grid_shape):
            raise ValueError(f"the prior gave grids {indices.shape}, not {(n, *self.grid_shape)}")
        return self.decode_indices(indices)

    def likelihood_bound(self, x, prior=None, batch_size: int = 256) -> dict[str, np.ndarray]:
        """An upper bound on -log p(x) per image: -log p_prior(k(x)) - log p(x | decode(k(x))).

        ``prior``: any object with ``log_prob(indices) -> (B,)`` nats (e.g. a trained
        :class:`vaecore.pixelcnn.PixelCNNPrior`); None: uniform, ``h w log K`` nats.
        Returns NumPy arrays per image: ``prior_nll``, ``reconstruction_nll``, ``nll``
        (their sum, nats) and ``bits_per_dim`` (``nll / (H W C log 2)``, a code
        length for the discretized logistic on 8-bit pixels or the Bernoulli on
        binary ones). See the module docstring for why it is a bound.
        """
        x = np.asarray(ops.convert_to_numpy(self._images(x)), np.float32)
        prior_nll, recon = [], []
        for start in range(0, len(x), batch_size):
            part = x[start : start + batch_size]
            indices = self.encode_indices(part)
            heads = self.decoder_heads(self.codes(indices))
            recon.append(ops.convert_to_numpy(self.reconstruction_nll(
                ops.convert_to_tensor(part), heads["logits"], heads.get("log_scale"),
                heads.get("coupling"),
            )))  # fmt: skip
            if prior is None:
                prior_nll.append(np.full(len(part), math.prod(self.grid_shape) * math.log(self.num_codes)))
            else:
                prior_nll.append(-np.asarray(ops.convert_to_numpy(prior.log_prob(indices))))
        out = {"prior_nll": np.concatenate(prior_nll), "reconstruction_nll": np.concatenate(recon)}
        out = {k: v.astype(np.float64) for k, v in out.items()}
        out["nll"] = out["prior_nll"] + out["reconstruction_nll"]
        out["bits_per_dim"] = out["nll"] / (math.prod(self._arch["input"]) * math.log(2.0))
        return out

    def importance_weighted_log_likelihood(self, *args, **kwargs):
        """Not for a VQ-VAE (its encoder is deterministic): use :meth:`likelihood_bound`."""
        raise NotImplementedError(
            "a VQ-VAE has a deterministic encoder and discrete codes: use "
            "model.likelihood_bound(x, prior) for -log p(x)"
        )

    # --------------------------------------------------------------- losses
    def call(self, x, training: bool = False) -> dict[str, Any]:
        """Encode, quantize (straight through), decode: the dict :meth:`compute_loss` needs.

        ``z_e``, ``quantized``, ``indices``, the decoder's heads (``logits``; ``log_scale``,
        ``coupling`` where the model has them) and the quantizer's terms.
        """
        z_e = self.encode(x, training=training)
        vq = self.quantizer.vector_quantize(z_e, training=training)
        heads = self.decoder_heads(vq["quantized"], training=training)
        return {"z_e": z_e, **vq, **heads}

    def loss_terms(self, x, training: bool = False) -> dict[str, Any]:
        """Batch means of the loss's parts for a fresh pass over ``x`` (notebooks, tests)."""
        x = ops.convert_to_tensor(self._images(x), "float32")
        return self._terms(x, self(x, training=training))

    def _terms(self, x, outputs: Mapping[str, Any]) -> dict[str, Any]:
        nll = self.reconstruction_nll(
            x, outputs["logits"], outputs.get("log_scale"), outputs.get("coupling")
        )
        reconstruction = ops.mean(nll)
        return {
            "loss": reconstruction + outputs["vq_loss"],
            "reconstruction_loss": reconstruction,
            **{k: outputs[k] for k in ("vq_loss", "commitment_loss", "codebook_loss",
                                       "perplexity", "codes_used")},
        }  # fmt: skip

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-log p(x | z_q) + codebook + beta * commitment, nats per image; metrics updated.

        Keras' ``train_step`` / ``test_step`` call it with ``y_pred = self(x)``; labels
        and sample weights are ignored; layer losses (``self.losses``) are added.
        """
        x = ops.convert_to_tensor(self._images(x), "float32")
        terms = self._terms(x, y_pred if y_pred is not None else self(x, training=training))
        n = ops.shape(x)[0]
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name], n)
        total = terms["loss"]
        for extra in self.losses:
            total = total + ops.sum(ops.cast(extra, "float32"))
        replicas = tf_replicas()
        return total / replicas if replicas > 1 else total

    @staticmethod
    def _images(data):
        """``x`` or ``(x, y)`` / ``(x, y, w)`` batches; labels are ignored."""
        return data[0] if isinstance(data, tuple | list) else data

    # ------------------------------------------------------------ training
    def fit(self, *args, callbacks=None, **kwargs):
        """Keras ``fit``, plus a :class:`~vaecore.quantizer.CodebookRestart` when ``restart_after`` is set."""
        callbacks = list(callbacks or [])
        if self.quantizer.restart_after and not any(isinstance(c, CodebookRestart) for c in callbacks):
            callbacks.append(CodebookRestart())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def compile(self, optimizer="adam", jit_compile="auto", steps_per_execution="auto", **kwargs):
        """Keras ``compile`` with vaecore's conv defaults for ``"auto"`` (no ``loss`` needed)."""
        defaults = compile_defaults(conv=True, distributed=in_tf_strategy())
        if jit_compile == "auto" and keras.backend.backend() == "tensorflow":
            jit_compile = defaults["jit_compile"]
        if steps_per_execution == "auto":
            steps_per_execution = defaults["steps_per_execution"]
        super().compile(optimizer=optimizer, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, **kwargs)  # fmt: skip

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Re-compile on ``load_model`` (needed because :meth:`compile` is overridden)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # ------------------------------------------------------- serialization
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        q = self.quantizer
        config.update(
            arch_def=to_jsonable(self._arch), likelihood=self.likelihood, sigma=self.sigma,
            scale=self.scale, channel_coupling=self.channel_coupling,
            commitment_weight=q.commitment_weight, ema_decay=q.ema_decay,
            restart_after=q.restart_after, restart_buffer=q.restart_buffer, seed=self.seed,
        )  # fmt: skip
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VQVAE:
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)


def build_vqvae(arch_def: Mapping[str, Any], **kwargs: Any) -> VQVAE:
    """A :class:`VQVAE`; ``kwargs`` as its constructor's (likelihood, commitment_weight, ...).

    Example::

        model = build_vqvae({"input": (32, 32, 3), "encode": [(64, 4, 2), (128, 4, 2)],
                             "latent": (8, 8, 64), "codebook": {"size": 512},
                             "name": "cifar_vq"}, likelihood="discretized_logistic")
        model.compile(optimizer=keras.optimizers.Adam(2e-4))
        model.fit(train_ds, epochs=10)
        grids = model.encode_indices(x)            # (B, 8, 8) int32: the PixelCNN's data
    """
    return VQVAE(arch_def, **kwargs)
