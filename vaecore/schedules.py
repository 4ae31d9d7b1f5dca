"""KL schedules: callbacks that move a VAE's KL weight (and capacity) during training.

A :class:`vaecore.VAE` keeps its KL weight ``beta`` in a variable, so a callback
that sets ``model.beta`` changes the loss from the next step on, on every backend.
The schedules the literature uses:

* :class:`KLWarmup`: the weight rises linearly from 0 to ``beta`` (Bowman et al.
  2016; Sønderby et al. 2016), against posterior collapse early in training.
* :class:`CyclicalKL`: the warm-up repeated in cycles (Fu et al. 2019, "Cyclical
  annealing schedule"): each cycle rises over its first ``ratio`` and holds ``beta``
  for the rest.
* :class:`CapacityAnnealing`: the loss is ``gamma * |KL - C|`` and the capacity C
  rises linearly to ``c_max`` nats (Burgess et al. 2018, "Understanding
  disentangling in beta-VAE"); the model must be built with ``kl_capacity``.

Free bits (Kingma et al. 2016) are not a schedule but a change of the penalty:
``build_vae(..., free_bits=lambda)``.

Every schedule is a function of the optimizer's step counter, which is restored
with the optimizer on resume, so a resumed run continues the schedule where it
stopped. The weight is set before each call of the train function: with
``steps_per_execution = k`` (16 or 32 by default, see
:func:`vaecore.models.compile_defaults`) it changes every ``k`` steps, a
negligible coarsening for schedules over thousands of steps. Each epoch's mean
weight is logged as ``kl_weight`` (``history.csv`` has it per epoch).
:func:`from_spec` builds a schedule from a dict such as ``{"kind": "cyclical",
"cycle_steps": 2000}`` (what ``vaecore train --kl-schedule`` and
``vaecore.train(..., kl_schedule=...)`` take).

One learning-rate schedule lives here too, the one the book's MNIST benchmark uses:
:func:`hold_then_decay` (a constant rate for the first half of training, then a
geometric decay to a final rate at the last epoch) and :class:`HoldThenDecay`, the
Keras callback that applies it once per epoch. It is not part of a run's fingerprint
(callbacks are not), so a run folder must be resumed with the same schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

SCHEDULES = ("warmup", "cyclical", "capacity")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return value


def _non_negative(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}") from None
    if not number >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return number


class KLSchedule(keras.callbacks.Callback):
    """Base class: before each train-function call, set the model's KL state for the step.

    Subclasses implement :meth:`apply` (``step`` counts optimizer updates done so
    far, from 0). ``beta=None`` means the model's configured beta (its
    ``get_config()["beta"]``), read once at the start of training.
    """

    def __init__(self, beta: float | None = None):
        super().__init__()
        self.beta = None if beta is None else _non_negative("beta", beta)
        self._target: float | None = None

    def target_beta(self) -> float:
        """The beta the schedule rises to."""
        if self._target is None:
            self._target = (
                self.beta if self.beta is not None else float(self.model.get_config()["beta"])
            )
        return self._target

    def apply(self, model: keras.Model, step: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_for_current_step(self) -> None:
        model = self.model  # on JAX, this syncs the trainer's state into the variables
        self.apply(model, int(keras.ops.convert_to_numpy(model.optimizer.iterations)))

    def on_train_begin(self, logs=None):
        self._target = None
        self._set_for_current_step()

    def on_train_batch_begin(self, batch, logs=None):
        self._set_for_current_step()

    def get_config(self) -> dict[str, Any]:
        """The schedule's settings, e.g. for a run folder's fingerprint."""
        return {"kind": self.kind, "beta": self.beta}

    kind = "base"


class KLWarmup(KLSchedule):
    """beta * min(1, (step + 1) / steps): linear from ~0 to ``beta`` over ``steps`` steps."""

    kind = "warmup"

    def __init__(self, steps: int, beta: float | None = None):
        super().__init__(beta)
        self.steps = _positive_int("steps", steps)

    def weight(self, step: int) -> float:
        return self.target_beta() * min(1.0, (step + 1) / self.steps)

    def apply(self, model, step):
        model.beta = self.weight(step)

    def get_config(self):
        return {**super().get_config(), "steps": self.steps}


class CyclicalKL(KLSchedule):
    """Fu et al. (2019): repeat a linear warm-up every ``cycle_steps`` steps.

    Within a cycle, with ``tau`` the fraction of the cycle done, the weight is
    ``beta * min(1, tau / ratio)``: it rises over the first ``ratio`` of the cycle
    and holds ``beta`` for the rest (their R = 0.5 is the default). With
    ``cycles`` given, the weight holds ``beta`` after that many cycles.
    """

    kind = "cyclical"

    def __init__(
        self,
        cycle_steps: int,
        ratio: float = 0.5,
        beta: float | None = None,
        cycles: int | None = None,
    ):
        super().__init__(beta)
        self.cycle_steps = _positive_int("cycle_steps", cycle_steps)
        if not 0 < float(ratio) <= 1:
            raise ValueError(f"ratio must be in (0, 1], got {ratio!r}")
        self.ratio = float(ratio)
        self.cycles = None if cycles is None else _positive_int("cycles", cycles)

    def weight(self, step: int) -> float:
        if self.cycles is not None and step >= self.cycles * self.cycle_steps:
            return self.target_beta()
        tau = (step % self.cycle_steps) / self.cycle_steps
        return self.target_beta() * min(1.0, tau / self.ratio)

    def apply(self, model, step):
        model.beta = self.weight(step)

    def get_config(self):
        return {
            **super().get_config(),
            "cycle_steps": self.cycle_steps,
            "ratio": self.ratio,
            "cycles": self.cycles,
        }


class CapacityAnnealing(KLSchedule):
    """Burgess et al. (2018): loss = gamma * |KL - C|, C = c_max * min(1, step / steps).

    ``gamma`` is set as the model's KL weight (``model.beta``; ``None`` keeps the
    model's configured beta). Burgess et al. used gamma = 1000 and C rising to
    25 nats on dSprites; with a pixel likelihood summed over the image, gamma must
    be large enough that the KL follows C. The model must be built with
    ``kl_capacity`` (e.g. ``build_vae(arch, kl_capacity=0.0)``).
    """

    kind = "capacity"

    def __init__(self, c_max: float, steps: int, gamma: float | None = None):
        super().__init__(gamma)
        self.c_max = _non_negative("c_max", c_max)
        self.steps = _positive_int("steps", steps)

    def capacity(self, step: int) -> float:
        return self.c_max * min(1.0, step / self.steps)

    def on_train_begin(self, logs=None):
        if not getattr(self.model, "uses_capacity", False):
            raise ValueError(
                "CapacityAnnealing needs a model built with kl_capacity (e.g. "
                "build_vae(arch, kl_capacity=0.0)): its loss is beta * |KL - C|"
            )
        super().on_train_begin(logs)

    def apply(self, model, step):
        model.beta = self.target_beta()
        model.kl_capacity = self.capacity(step)

    def get_config(self):
        return {
            "kind": self.kind,
            "gamma": self.beta,
            "c_max": self.c_max,
            "steps": self.steps,
        }


def from_spec(spec: KLSchedule | Mapping[str, Any] | None) -> KLSchedule | None:
    """A schedule from a callback (returned as is), a dict with ``kind``, or None.

    ``{"kind": "warmup", "steps": 1000}``, ``{"kind": "cyclical", "cycle_steps":
    2000, "ratio": 0.5, "cycles": 4}``, ``{"kind": "capacity", "c_max": 25,
    "steps": 100000, "gamma": 1000}``; ``beta`` may be given for the first two.
    """
    if spec is None or isinstance(spec, KLSchedule):
        return spec
    if not isinstance(spec, Mapping) or "kind" not in spec:
        raise ValueError(
            f"a KL schedule is a KLSchedule callback or a dict with 'kind' (one of "
            f"{', '.join(SCHEDULES)}), got {spec!r}"
        )
    options = {k: v for k, v in spec.items() if k != "kind" and v is not None}
    classes = {"warmup": KLWarmup, "cyclical": CyclicalKL, "capacity": CapacityAnnealing}
    kind = spec["kind"]
    if kind not in classes:
        raise ValueError(f"unknown KL schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
    try:
        return classes[kind](**options)
    except TypeError as err:
        raise ValueError(f"KL schedule {kind!r}: {err}") from None


# ---------------------------------------------------------------- learning rate
def hold_then_decay(
    epoch: int, epochs: int, base: float = 1e-3, final: float = 1e-4, hold: float = 0.5
) -> float:
    """The learning rate of epoch ``epoch`` (from 0) of ``epochs``: constant, then geometric decay.

    ``base`` for the epochs before ``hold * epochs``; from there the rate falls
    geometrically (a constant factor per epoch) and reaches ``final`` at the last epoch,
    ``epochs - 1``; later epochs keep ``final``. With the defaults, 400 epochs run at 1e-3
    for epochs 0 to 199 and decay from 1e-3 at epoch 200 to 1e-4 at epoch 399. This is how
    the book compresses the IWAE paper's schedule (Burda et al. 2015: 3,280 epochs, the
    rate divided by 10**(1/7) after 3**i epochs, i = 0..7) into a few hundred epochs.
    """
    epochs = _positive_int("epochs", epochs)
    if not 0 <= float(hold) <= 1:
        raise ValueError(f"hold must be in [0, 1], got {hold!r}")
    base, final = _non_negative("base", base), _non_negative("final", final)
    if base == 0 or final == 0:
        raise ValueError(f"base and final must be positive, got {base!r} and {final!r}")
    start = hold * epochs
    if epoch < start:
        return float(base)
    progress = (epoch - start) / max(epochs - 1 - start, 1)
    return float(base * (final / base) ** min(progress, 1.0))


class HoldThenDecay(keras.callbacks.LearningRateScheduler):
    """Set the optimizer's learning rate each epoch to :func:`hold_then_decay` (logged as
    ``learning_rate``). ``epochs`` is the run's total, as given to ``vaecore.train``, so a
    resumed run continues the schedule at its epoch."""

    def __init__(
        self,
        epochs: int,
        base: float = 1e-3,
        final: float = 1e-4,
        hold: float = 0.5,
        verbose: int = 0,
    ):
        hold_then_decay(0, epochs, base, final, hold)  # check the arguments now
        self.epochs, self.base, self.final, self.hold = epochs, base, final, hold
        super().__init__(self.rate, verbose=verbose)

    def rate(self, epoch: int, lr: float | None = None) -> float:
        return hold_then_decay(epoch, self.epochs, self.base, self.final, self.hold)

    def get_config(self) -> dict[str, Any]:
        return {
            "kind": "hold_then_decay",
            "epochs": self.epochs,
            "base": self.base,
            "final": self.final,
            "hold": self.hold,
        }
