"""Training past one GPU: pick a ``tf.distribute`` strategy by name, and who writes files.

Three strategies, named as on the command line (``vaecore train --strategy ...``):

* ``default``: ``tf.distribute.get_strategy()``, the no-op strategy (one device).
* ``mirrored``: ``tf.distribute.MirroredStrategy()``, one replica per local GPU
  (or the CPU when there is none). Each global batch is split across the
  replicas and their gradients are summed, so the batch size you pass is the
  *global* batch; :meth:`vaecore.VAE.compute_loss` divides the loss by the number
  of replicas (as Keras' own losses are) so the update equals that of one device on
  the whole batch.
* ``multiworker``: ``tf.distribute.MultiWorkerMirroredStrategy()``, several
  machines, each with its GPUs; the cluster comes from the ``TF_CONFIG``
  environment variable, checked here so a typo is a clear error, not a hang.

Build and compile the model inside ``strategy.scope()``; ``model.fit`` (and so
:func:`vaecore.train`) then distributes the data by itself. In a multi-worker
run every worker runs the same program; :func:`is_chief` says which one writes
the run folder (the others keep only their own backup, see
:func:`vaecore.training.train`).
"""

from __future__ import annotations

import json
import os
from typing import Any

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker")
TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


class StrategyError(ValueError):
    """An unknown strategy name, or a multi-worker cluster that is not described correctly."""


def get_strategy(name: str = "default") -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name`` (one of :data:`STRATEGIES`).

    Raises:
        StrategyError: an unknown name, or ``multiworker`` with ``TF_CONFIG``
            unset or malformed (the message shows a correct example).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(_mirrored_devices())
    if name == "multiworker":
        read_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise StrategyError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")


def _mirrored_devices() -> list[str] | None:
    """All local GPUs (``None``: TensorFlow's own choice); without GPUs, every logical CPU.

    TensorFlow mirrors over the GPUs, or over the one CPU when there are none.
    A CPU split into logical devices (``tf.config.set_logical_device_configuration``,
    what the tests do) is mirrored over all of them instead, so a multi-replica run
    can be tried without a GPU.
    """
    if tf.config.list_logical_devices("GPU"):
        return None
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    return cpus if len(cpus) > 1 else None


def read_tf_config() -> dict[str, Any]:
    """Parse and check ``$TF_CONFIG`` for a multi-worker run; return it as a dict.

    It must hold ``cluster`` (job name -> list of ``"host:port"``, with at least one
    ``worker`` or ``chief``) and ``task`` (``type`` and ``index`` naming this
    process's entry in the cluster).
    """
    raw = os.environ.get("TF_CONFIG", "").strip()
    if not raw:
        raise StrategyError(
            "the multiworker strategy needs TF_CONFIG, the cluster description, set on every "
            f"machine; e.g. TF_CONFIG='{TF_CONFIG_EXAMPLE}' (index 1 on the second machine)"
        )
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as err:
        raise StrategyError(
            f"TF_CONFIG is not valid JSON ({err}); e.g. {TF_CONFIG_EXAMPLE}"
        ) from None
    problem = _tf_config_problem(config)
    if problem:
        raise StrategyError(f"TF_CONFIG {problem}; e.g. {TF_CONFIG_EXAMPLE}")
    return config


def _tf_config_problem(config: Any) -> str | None:
    """What is wrong with a parsed TF_CONFIG, or None."""
    if not isinstance(config, dict):
        return "must be a JSON object with 'cluster' and 'task'"
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not any(
        isinstance(cluster.get(job), list) and cluster.get(job) for job in ("worker", "chief")
    ):
        return "needs 'cluster' with a non-empty 'worker' (or 'chief') list of 'host:port'"
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        return "needs 'task': {'type': ..., 'index': ...} naming this machine's entry"
    members = cluster.get(task["type"])
    if not isinstance(members, list) or not (
        isinstance(task["index"], int) and 0 <= task["index"] < len(members)
    ):
        return f"task {task} is not an entry of cluster {cluster}"
    return None


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """True in the process that writes the run folder: always, except on the
    non-chief workers of a multi-worker run (the chief is ``chief`` 0, or
    ``worker`` 0 when the cluster has no ``chief`` job)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:
        return True
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and resolver.task_id == 0 and not has_chief


def task_name(strategy: tf.distribute.Strategy | None = None) -> str:
    """``"worker-1"`` etc. in a multi-worker run, ``"local"`` otherwise (for folder names)."""
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    return f"{task_type}-{resolver.task_id}" if task_type else "local"


def describe_devices(strategy: tf.distribute.Strategy | None = None) -> str:
    """The devices a run uses, in words, e.g. ``"2 replicas: GPU 0 (NVIDIA H100), GPU 1 (...)"``."""
    strategy = strategy or tf.distribute.get_strategy()
    gpus = tf.config.list_physical_devices("GPU")
    names = []
    for i, gpu in enumerate(gpus):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(f"GPU {i} ({details.get('device_name', 'unknown')})")
    where = ", ".join(names) if names else "CPU"
    replicas = strategy.num_replicas_in_sync
    return f"{replicas} replica{'s' if replicas != 1 else ''}: {where}"


def compile_options(strategy: tf.distribute.Strategy, conv: bool, steps_per_epoch: int) -> dict:
    """``jit_compile`` and ``steps_per_execution`` for :meth:`vaecore.VAE.compile` under ``strategy``.

    On one device: :func:`vaecore.models.compile_defaults` (XLA and 32 batches per
    call for dense models, Keras' XLA rule and 16 batches per call for conv models),
    with never more batches per call than an epoch has. Under any
    other strategy both are off: with Keras 3.15 / TF 2.21, MirroredStrategy over two
    devices fails with XLA ("Trying to access resource .../replica_1 located in device
    CPU:1 from device CPU:0", an XLA known issue) and with steps_per_execution > 1
    ("You must feed a value for placeholder tensor 'while/cond/Placeholder_1'", cf.
    keras-team/keras#19246); measured in tests/test_distribute.py's set-up, 2 logical CPUs.
    """
    from vaecore.compile_policy import compile_defaults

    distributed = strategy is not tf.distribute.get_strategy() or strategy.num_replicas_in_sync > 1
    return compile_defaults(conv, distributed=distributed, steps_per_epoch=steps_per_epoch)
