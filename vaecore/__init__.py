"""vaecore: the small, tested VAE toolkit behind the VAE book.

The book's chapters import it instead of repeating model code::

    import vaecore
    model = vaecore.build_vae({"input": (28, 28, 1), "latent": 2, "hidden": [512],
                               "name": "mnist_dense"})

Modules, one job each: ``arch`` (checked architecture dicts), ``architectures``
(the book's named dicts), ``models`` (the VAE), ``losses`` (KL, likelihoods,
ELBO, IWAE), ``training`` (resumable fit), ``runs`` (the run folder: history,
file names), ``callbacks`` (epoch timing, sample snapshots and GIFs),
``diagnostics`` (test ELBO, NLL, bits/dim, KL per unit), ``disentangle``
(single-dimension AUROCs against attributes), ``summary`` (layer tables),
``data`` (datasets as tf.data pipelines), ``images`` (image decoding, PNGs,
montages), ``toolbox`` (encode / interpolate / translate), ``interpolation``
(the latent paths, linear and slerp), ``plots``
(matplotlib figures), ``explorers`` (latent explorers, named by where they
run: ``kernel_*`` need a live kernel, ``page*`` decode in the page),
``export`` (a decoder as a JSON spec, quantized), ``config`` (data
directories and the fast mode). ``widgets``, ``web`` and ``interactive`` are
the explorers' first import paths, kept.

Only ``config``, ``arch``, ``architectures``, ``models``, ``conditional`` (the
conditional VAE), ``vq`` / ``quantizer`` (the VQ-VAE) and ``pixelcnn`` (its prior)
load with ``import vaecore`` (they register the model classes, so
``keras.models.load_model`` reads a saved one); every other module, and every
name below, loads on first use, so ``import vaecore`` does not import
matplotlib, pandas, ipywidgets or plotly.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Any

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) would fill every
# notebook's first output; a reader who wants it sets the variable themselves.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vaecore.arch import ArchDefError, validate_arch_def  # noqa: E402
from vaecore.architectures import get_architecture, list_architectures  # noqa: E402
from vaecore.conditional import ConditionalVAE, build_cvae  # noqa: E402
from vaecore.config import fast_mode, run_dir  # noqa: E402
from vaecore.models import VAE, build_vae  # noqa: E402
from vaecore.pixelcnn import PixelCNNPrior  # noqa: E402
from vaecore.vq import VQVAE, build_vqvae  # noqa: E402

__version__ = "0.1.0"

#: Names that load from their module on first use: name -> module.
_LAZY_NAMES = {
    "TrainingDivergedError": "vaecore.training",
    "train": "vaecore.training",
    "read_history": "vaecore.runs",
}


def _submodules() -> list[str]:
    """The names of vaecore's modules and subpackages (``plots``, ``explorers``, ...)."""
    return [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]


def __getattr__(name: str) -> Any:
    """Import a submodule (``vaecore.plots``), or the module of a top-level name, on first use."""
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    if name in _submodules():
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_submodules()) | set(_LAZY_NAMES))


__all__ = [
    "VAE",
    "ArchDefError",
    "ConditionalVAE",
    "build_cvae",
    "VQVAE",
    "build_vqvae",
    "PixelCNNPrior",
    "callbacks",
    "diagnostics",
    "disentangle",
    "get_architecture",
    "list_architectures",
    "summary",
    "TrainingDivergedError",
    "build_vae",
    "data",
    "losses",
    "fast_mode",
    "read_history",
    "run_dir",
    "train",
    "validate_arch_def",
]
