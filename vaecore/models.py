"""The VAE: an encoder, a decoder and the ELBO, as one subclassed ``keras.Model``.

The Keras 3 way, as in the keras-io examples: :meth:`VAE.call` encodes and draws
``z`` from q(z|x) (the reparameterization trick), :meth:`VAE.compute_loss` turns
that into the negative ELBO, and Keras' own ``train_step`` does the rest (gradients,
mixed-precision loss scaling, replicas) on any backend: TensorFlow, JAX or PyTorch.
Added here:

* the architecture comes from a checked ``arch_def`` dict (:mod:`vaecore.arch`), kept in
  the model's config, so ``model.save("x.keras")`` and ``load_model`` round-trip;
* three likelihoods, each a true negative log density summed over pixels:
  Bernoulli, Gaussian (fixed ``sigma``, or learned: one, per channel or per pixel,
  the sigma-VAE of Rybkin et al. 2021) and a discretized logistic over the 256
  values of 8-bit pixels with a learned scale per channel (or one, or per pixel
  from a second decoder head), whose test NLL in bits per dimension is comparable
  with the literature; :mod:`vaecore.likelihoods` says what each ``scale`` means;
* codes are vectors, or maps ``(h, w, c)`` for a fully convolutional VAE (the
  arch dict's ``latent``); outside the networks a map is a flat vector of
  ``h * w * c`` units, so every tool taking ``(n, latent_dim)`` codes works;
* the KL weight ``beta`` is a (non-trainable) variable: ``model.beta = 4.0`` takes
  effect at the next step, so the schedules of :mod:`vaecore.schedules` work as
  callbacks; ``free_bits`` (Kingma et al. 2016) and ``kl_capacity`` (Burgess et al.
  2018) change the KL penalty itself (this state is not counted by ``count_params``);
* metrics per epoch: the reconstruction term, the KL, the true (beta = 1) ELBO and
  the KL weight, beside ``loss``; ``importance_weighted_log_likelihood`` for test NLLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from vaecore import losses
from vaecore._shared import checked_weight as _checked_weight
from vaecore.arch import is_conv, is_spatial, latent_shape, to_jsonable, validate_arch_def
from vaecore.compile_policy import (  # noqa: F401 - re-exported, the names older code imports
    CONV_STEPS_PER_EXECUTION,
    DENSE_STEPS_PER_EXECUTION,
    across_workers,
    compile_defaults,
    in_tf_strategy,
    tf_replicas,
)
from vaecore.likelihoods import (  # noqa: F401 - LIKELIHOODS: the older import path
    LIKELIHOODS,
    MIN_LOG_SCALE,
    LikelihoodMixin,
    MinValue,
    check_coupling,
    inverse_soft_floor,
    resolve_scale,
)
from vaecore.networks import build_networks


@keras.saving.register_keras_serializable(package="vaecore")
class VAE(LikelihoodMixin, keras.Model):
    """A variational autoencoder built from an architecture definition.

    Args:
        arch_def: the architecture dict (dense or conv, with a latent vector or a
            latent map), checked by :func:`vaecore.arch.validate_arch_def`.
        likelihood: ``"bernoulli"`` (binary cross-entropy; for binary or [0, 1]
            images), ``"gaussian"`` (squared error with scale ``sigma``) or
            ``"discretized_logistic"`` (8-bit pixels; mean from the decoder, one
            learned log scale per channel, starting at ``log(sigma)``).
        beta: the starting KL weight (1 is the ELBO; > 1 is a beta-VAE). It is a
            variable: ``model.beta = x`` changes it between steps.
        kl_warmup_steps: shorthand for ``callbacks=[schedules.KLWarmup(n)]`` in
            every ``fit`` (the weight rises linearly from 0 to ``beta`` over ``n``
            optimizer steps; 0 = none), kept so older code and configs work.
        sigma: the pixel standard deviation of the Gaussian likelihood (the
            starting value of a learned scale).
        scale: how the pixel scale is set: ``None`` (the likelihood's default:
            fixed for the Gaussian, per channel for the discretized logistic),
            ``"fixed"``, ``"shared"`` (one learned value), ``"channel"`` or
            ``"pixel"`` (a decoder head); see :mod:`vaecore.likelihoods`.
        channel_coupling: colour channels of a pixel depend linearly on the
            earlier ones given z (PixelCNN++'s within-pixel coupling; a third
            decoder head, conv decoders, discretized logistic or Gaussian).
        free_bits: lambda of Kingma et al. (2016), nats per latent dimension: each
            dimension's KL (averaged over the batch) is penalized as
            ``max(lambda, KL_j)``, so the optimizer gains nothing by pushing a unit
            below lambda and cannot switch it off for free. 0 = the plain KL.
            A variable (``model.free_bits = x``).
        kl_capacity: ``None`` (off) or the starting capacity C in nats: the KL term
            becomes ``beta * |KL - C|`` (Burgess et al. 2018), with ``beta`` playing
            their gamma; :class:`vaecore.schedules.CapacityAnnealing` raises C.
        seed: seed for the sampling noise, for reproducible runs.

    The constructor's arguments are the model's config (what ``get_config``
    returns and a run folder's fingerprint compares); the KL weight, free bits and
    capacity in force are state, saved with the weights.

    Scoring: :meth:`nll_given_z` gives -log p(x|z) for codes in any scale mode
    (:meth:`reconstruction_nll` takes decoder outputs, and for ``scale="pixel"`` the
    decoder's log scale too: :meth:`decoder_outputs`); :meth:`decode` is the mean image.
    """

    def __init__(
        self,
        arch_def: Mapping[str, Any],
        likelihood: str = "bernoulli",
        beta: float = 1.0,
        kl_warmup_steps: int = 0,
        sigma: float = 0.1,
        free_bits: float = 0.0,
        kl_capacity: float | None = None,
        seed: int | None = None,
        scale: str | None = None,
        channel_coupling: bool = False,
        **kwargs,
    ):
        arch = validate_arch_def(arch_def)
        resolved_scale = resolve_scale(likelihood, scale)
        channel_coupling = check_coupling(channel_coupling, likelihood, arch)
        beta = _checked_weight("beta", beta)
        free_bits = _checked_weight("free_bits", free_bits)
        if kl_capacity is not None:
            kl_capacity = _checked_weight("kl_capacity", kl_capacity)
        if isinstance(kl_warmup_steps, bool) or not (
            isinstance(kl_warmup_steps, int) and kl_warmup_steps >= 0
        ):
            raise ValueError(f"kl_warmup_steps must be an int >= 0, got {kl_warmup_steps!r}")
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma!r}")
        kwargs.setdefault("name", arch["name"])
        super().__init__(**kwargs)
        self._arch = arch
        self.likelihood = likelihood
        self.scale, self.scale_mode = scale, resolved_scale
        self.channel_coupling = channel_coupling
        self._init = {"beta": beta, "free_bits": free_bits, "kl_capacity": kl_capacity}
        self.kl_warmup_steps, self.sigma = int(kl_warmup_steps), float(sigma)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.log_scale = None
        if resolved_scale in ("shared", "channel"):
            self.log_scale = self.add_weight(
                shape=(1 if resolved_scale == "shared" else arch["input"][-1],),
                initializer=keras.initializers.Constant(float(np.log(sigma))),
                constraint=MinValue(MIN_LOG_SCALE),  # the floor, with the true gradient
                name="pixel_log_scale",
            )
        # State, not config: read by the traced train/test functions at every step.
        self._beta_var = self._state("beta", beta)
        self._free_bits_var = self._state("free_bits", free_bits)
        self._capacity_var = self._state("kl_capacity", kl_capacity or 0.0)
        pixel = resolved_scale == "pixel"
        bias = inverse_soft_floor(float(np.log(sigma))) if pixel else 0.0
        self.encoder, self.decoder = build_networks(
            arch, pixel_scale=pixel, scale_bias=bias, coupling=channel_coupling,
            conditional=getattr(self, "conditional", False),  # True: vaecore.conditional
        )
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.elbo_tracker = keras.metrics.Mean(name="elbo")
        self.kl_weight_tracker = keras.metrics.Mean(name="kl_weight")
        self.capacity_tracker = (
            keras.metrics.Mean(name="kl_capacity") if kl_capacity is not None else None
        )
        # Encoder and decoder are functional models, built on creation, so every
        # weight exists now: mark the VAE built so it saves before any call().
        self.built = True

    def _state(self, name: str, value: float):
        return self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(value),
            trainable=False,
            name=name,
        )

    # ------------------------------------------------------------------ API
    def count_params(self) -> int:
        """Encoder, decoder and a learned pixel scale; not the KL state (saved, not learned)."""
        state = {id(v) for v in (self._beta_var, self._free_bits_var, self._capacity_var)}
        return int(sum(np.prod(v.shape) for v in self.weights if id(v) not in state))

    @property
    def arch_def(self) -> dict[str, Any]:
        """The normalized architecture definition this model was built from."""
        return dict(self._arch)

    @property
    def latent_dim(self) -> int:
        """Units in one code (``h * w * c`` for a latent map): the length of a flat code."""
        return int(np.prod(self.latent_shape))

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """One code's shape inside the networks: ``(latent,)`` or the map ``(h, w, c)``."""
        return latent_shape(self._arch)

    @property
    def beta(self) -> float:
        """The KL weight in force now (a variable; set it to change the next steps)."""
        return float(ops.convert_to_numpy(self._beta_var))

    @beta.setter
    def beta(self, value: float) -> None:
        self._beta_var.assign(_checked_weight("beta", value))

    @property
    def free_bits(self) -> float:
        """Free bits lambda in nats per latent dimension (0 = plain KL)."""
        return float(ops.convert_to_numpy(self._free_bits_var))

    @free_bits.setter
    def free_bits(self, value: float) -> None:
        self._free_bits_var.assign(_checked_weight("free_bits", value))

    @property
    def uses_capacity(self) -> bool:
        """True when the KL term is ``beta * |KL - C|`` (built with ``kl_capacity``)."""
        return self._init["kl_capacity"] is not None

    @property
    def kl_capacity(self) -> float | None:
        """The capacity C in nats, or None when the model was built without one."""
        return float(ops.convert_to_numpy(self._capacity_var)) if self.uses_capacity else None

    @kl_capacity.setter
    def kl_capacity(self, value: float) -> None:
        if not self.uses_capacity:
            raise ValueError(
                "this model has no KL capacity: build it with kl_capacity=0.0 (or another "
                "start value) to train with beta * |KL - C|"
            )
        self._capacity_var.assign(_checked_weight("kl_capacity", value))

    def encode(self, x, training: bool = False):
        """Images -> (z_mean, z_log_var), each of shape (batch, latent_dim); a map is flattened."""
        z_mean, z_log_var = self.encoder(x, training=training)
        if is_spatial(self._arch):
            z_mean, z_log_var = (ops.reshape(t, (ops.shape(t)[0], -1)) for t in (z_mean, z_log_var))
        # float32 even under a mixed-precision policy: the loss is computed in float32.
        return ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")

    def reparameterize(self, z_mean, z_log_var):
        """z = mean + sigma * eps: a sample of q(z|x) that gradients flow through."""
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def decode_logits(self, z, training: bool = False):
        """Latent codes -> pre-sigmoid pixel values (the mean head)."""
        return self.decoder_outputs(z, training=training)[0]

    def decode(self, z, training: bool = False):
        """Latent codes -> images in [0, 1] (the mean of p(x|z))."""
        return ops.sigmoid(self.decode_logits(z, training=training))

    def sample(self, n: int, seed: int | None = None, temperature: float = 1.0, sampler=None):
        """Draw ``n`` images: z ~ N(0, T^2 I) at ``temperature`` T (or ``sampler``'s codes), decoded.

        ``sampler``: any object with ``sample(n, seed) -> (n, latent_dim)`` codes, e.g. a
        :class:`vaecore.samplers.GaussianMixtureSampler` fitted to the training codes.
        """
        if not (temperature >= 0 and np.isfinite(temperature)):
            raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
        if sampler is not None:
            if temperature != 1.0:
                raise ValueError("temperature is for the prior; a sampler draws its own codes")
            z = ops.convert_to_tensor(np.asarray(sampler.sample(n, seed=seed), np.float32))
            if tuple(z.shape) != (n, self.latent_dim):
                raise ValueError(f"the sampler gave codes {tuple(z.shape)}, not {(n, self.latent_dim)}")
            return self.decode(z)
        gen = keras.random.SeedGenerator(seed) if seed is not None else self.seed_generator
        z = keras.random.normal((n, self.latent_dim), seed=gen)  # flat; decode shapes a map
        return self.decode(z * temperature)

    def reconstruct(self, x):
        """Encode to the posterior mean and decode: the model's reconstruction of ``x``."""
        z_mean, _ = self.encode(x)
        return self.decode(z_mean)

    def call(self, x, training: bool = False) -> dict[str, Any]:
        """One pass of the VAE: encode, draw ``z`` from q(z|x), decode.

        Returns a dict with ``z_mean``, ``z_log_var``, ``z`` (the sample) and
        ``logits`` (the decoder's pre-sigmoid output at ``z``), plus ``log_scale``
        for a per-pixel scale: what :meth:`compute_loss` needs. For the
        deterministic reconstruction use :meth:`reconstruct`.
        """
        z_mean, z_log_var = self.encode(x, training=training)
        z = self.reparameterize(z_mean, z_log_var)
        heads = self.decoder_heads(z, training=training)
        return {"z_mean": z_mean, "z_log_var": z_log_var, "z": z, **heads}

    # --------------------------------------------------------------- losses
    def kl_weight(self):
        """The KL weight in force, as a tensor (the ``beta`` variable)."""
        return ops.convert_to_tensor(self._beta_var, "float32")

    def kl_penalty(self, kl_per_dim):
        """The KL term the loss weights by beta, from each dimension's batch-mean KL.

        Plain: ``sum_j KL_j``. Free bits: ``sum_j max(lambda, KL_j)``. Capacity:
        ``|sum_j KL_j - C|``. With ``free_bits = 0`` the first two are the same
        (a KL is never negative), so the loss has one form per model and a
        schedule never forces a retrace.
        """
        if self.uses_capacity:
            capacity = ops.convert_to_tensor(self._capacity_var, "float32")
            return ops.abs(ops.sum(kl_per_dim) - capacity)
        floor = ops.convert_to_tensor(self._free_bits_var, "float32")
        return ops.sum(ops.maximum(kl_per_dim, floor))

    def elbo_terms(self, x, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """Batch means of the ELBO's parts for the output of :meth:`call` on ``x``.

        ``reconstruction_loss`` (-log p(x|z), nats per image), ``kl_per_dim``
        (KL of each latent dimension, shape ``(latent,)``), ``kl_loss`` (their sum)
        and ``loss``: reconstruction + beta * :meth:`kl_penalty`, what training minimizes.
        """
        nll = self.reconstruction_nll(
            x, outputs["logits"], outputs.get("log_scale"), outputs.get("coupling")
        )
        reconstruction = ops.mean(nll)
        kl_per_dim = ops.mean(
            losses.gaussian_kl_per_dim(outputs["z_mean"], outputs["z_log_var"]), axis=0
        )
        return {
            "loss": reconstruction + self.kl_weight() * self.kl_penalty(kl_per_dim),
            "reconstruction_loss": reconstruction,
            "kl_loss": ops.sum(kl_per_dim),
            "kl_per_dim": kl_per_dim,
        }

    def loss_terms(self, x, training: bool = False) -> dict[str, Any]:
        """:meth:`elbo_terms` of a fresh pass over ``x`` (for notebooks and tests)."""
        x = ops.convert_to_tensor(self._images(x), "float32")
        return self.elbo_terms(x, self(x, training=training))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The negative (beta-weighted) ELBO of a batch, with the metrics updated.

        Keras' ``train_step`` and ``test_step`` call this with ``y_pred = self(x)``
        on every backend, so training and validation use the same KL weight.
        Labels ``y`` and ``sample_weight`` are ignored. Losses added by layers
        (``self.losses``, e.g. kernel regularizers) are added to the total; under
        a ``tf.distribute`` strategy the total is divided by the replicas, as
        Keras' own losses are (the replicas' gradients are summed).
        """
        terms = self.elbo_terms(x, y_pred)
        n = ops.shape(x)[0]  # images in the batch: each tracker is a per-image mean
        self.reconstruction_tracker.update_state(terms["reconstruction_loss"], n)
        self.kl_tracker.update_state(terms["kl_loss"], n)
        self.elbo_tracker.update_state(-(terms["reconstruction_loss"] + terms["kl_loss"]), n)
        self.kl_weight_tracker.update_state(self.kl_weight(), n)
        if self.capacity_tracker is not None:
            self.capacity_tracker.update_state(self._capacity_var, n)
        total = terms["loss"]
        for extra in self.losses:
            total = total + ops.sum(ops.cast(extra, "float32"))
        replicas = tf_replicas()
        return total / replicas if replicas > 1 else total

    def get_metrics_result(self) -> dict[str, Any]:
        logs = super().get_metrics_result()
        if across_workers():
            # Keras 3.15 averages the workers' logs with strategy.reduce("MEAN", v, axis=0),
            # which fails on scalars (tensorflow/tensorflow#72388); a shape-(1,) log
            # reduces to the same scalar (every worker holds the same, already
            # all-reduced metric values).
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    @staticmethod
    def _images(data):
        """Accept ``x`` or ``(x, y)`` / ``(x, y, w)`` batches; labels are ignored."""
        return data[0] if isinstance(data, tuple | list) else data

    # ---------------------------------------------------------------- fit
    def fit(self, *args, callbacks=None, **kwargs):
        """Keras ``fit``; with ``kl_warmup_steps`` it adds a :class:`~vaecore.schedules.KLWarmup`.

        The warm-up is added only when no other KL schedule is among ``callbacks``.
        """
        callbacks = list(callbacks or [])
        if self.kl_warmup_steps:
            from vaecore.schedules import KLSchedule, KLWarmup

            if not any(isinstance(c, KLSchedule) for c in callbacks):
                callbacks.append(KLWarmup(self.kl_warmup_steps, beta=self._init["beta"]))
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def compile(
        self,
        optimizer="adam",
        jit_compile="auto",
        steps_per_execution: int | str = "auto",
        **kwargs,
    ):
        """Keras ``compile`` with the defaults of :func:`compile_defaults` for ``"auto"``.

        Pass explicit ``jit_compile`` / ``steps_per_execution`` to override them.
        No ``loss`` is needed: :meth:`compute_loss` is the loss.
        """
        defaults = compile_defaults(conv=is_conv(self._arch), distributed=in_tf_strategy())
        if jit_compile == "auto" and keras.backend.backend() == "tensorflow":
            jit_compile = defaults["jit_compile"]
        if steps_per_execution == "auto":
            steps_per_execution = defaults["steps_per_execution"]
        super().compile(
            optimizer=optimizer,
            jit_compile=jit_compile,
            steps_per_execution=steps_per_execution,
            **kwargs,
        )

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Re-compile on ``load_model`` (needed because :meth:`compile` is overridden)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # ---------------------------------------------------------- serialization
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "arch_def": to_jsonable(self._arch),
                "likelihood": self.likelihood,
                "beta": self._init["beta"],
                "kl_warmup_steps": self.kl_warmup_steps,
                "sigma": self.sigma,
                "free_bits": self._init["free_bits"],
                "kl_capacity": self._init["kl_capacity"],
                "seed": self.seed,
                "scale": self.scale,
            }
        )
        if self.channel_coupling:  # only when on: configs of other models stay as they were
            config["channel_coupling"] = True
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> VAE:
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)

    def load_own_variables(self, store) -> None:
        """Load the VAE's own variables; files saved before the KL weight was a
        variable hold only the trainable ones (the pixel scale), which load alone.

        A pixel scale saved below the floor (possible before the floor was a
        constraint, when ``maximum(s, -7)`` was applied in the loss) loads as the
        floor: the value that model used, so its numbers stay the same."""
        trainable = self._trainable_variables
        if len(store.keys()) == len(trainable) < len(trainable + self._non_trainable_variables):
            for i, variable in enumerate(trainable):
                variable.assign(store[f"{i}"])
        else:
            super().load_own_variables(store)
        if self.log_scale is not None:
            self.log_scale.assign(self.log_scale.constraint(self.log_scale))


def build_vae(
    arch_def: Mapping[str, Any],
    likelihood: str = "bernoulli",
    beta: float = 1.0,
    kl_warmup_steps: int = 0,
    sigma: float = 0.1,
    seed: int | None = None,
    free_bits: float = 0.0,
    kl_capacity: float | None = None,
    scale: str | None = None,
    channel_coupling: bool = False,
) -> VAE:
    """Build a :class:`VAE` from an architecture definition (the one public entry point).

    Example::

        model = build_vae({"input": (28, 28, 1), "latent": 2, "hidden": [512],
                           "name": "mnist_dense"})
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(train_ds, epochs=10)
    """
    return VAE(
        arch_def,
        likelihood=likelihood,
        beta=beta,
        kl_warmup_steps=kl_warmup_steps,
        sigma=sigma,
        seed=seed,
        free_bits=free_bits,
        kl_capacity=kl_capacity,
        scale=scale,
        channel_coupling=channel_coupling,
    )

