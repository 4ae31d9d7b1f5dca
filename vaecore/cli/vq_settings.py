"""The ``vaecore train`` settings of a VQ-VAE, as plain tuples (no imports).

:func:`vaecore.cli.flags._train_keys` turns each into a ``Key`` (kind, default, help,
choices, metavar); kept here, not in :mod:`vaecore.cli.flags`, so the VQ command
line (:mod:`vaecore.cli.vq`) has one place. ``None`` defaults: the model's own
(:class:`vaecore.vq.VQVAE`), and a VAE run's config is unchanged by them.
"""

from __future__ import annotations

VQ_TRAIN_KEYS: dict[str, tuple] = {
    "commitment_weight": (
        "nonneg_float", None,
        "VQ-VAE (an arch with a 'codebook'): beta, the weight of the commitment term "
        "(default: 0.25)", None, "B",
    ),
    "ema_decay": (
        "pos_float", None,
        "VQ-VAE: move the codes by exponential moving averages with this decay (e.g. 0.99) "
        "instead of the codebook loss", None, "D",
    ),
    "restart_after": (
        "pos_int", None,
        "VQ-VAE: restart codes unused for N training batches in a row (default: 100)", None, "N",
    ),
}  # fmt: skip
