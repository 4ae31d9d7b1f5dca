"""vaecore: the small, tested VAE toolkit behind the VAE book.

The book's chapters import it instead of repeating model code::

    import vaecore
    model = vaecore.build_vae({"input": (28, 28, 1), "latent": 2, "hidden": [512],
                               "name": "mnist_dense"})

Modules, one job each: ``arch`` (checked architecture dicts), ``architectures``
(the book's named dicts), ``models`` (the VAE), ``losses`` (KL, likelihoods,
ELBO, IWAE), ``training`` (resumable fit), ``callbacks`` (epoch timing, sample
snapshots and GIFs), ``diagnostics`` (test ELBO, NLL, bits/dim, KL per unit), ``disentangle``
(single-dimension AUROCs against attributes),
``summary`` (layer tables),
``data`` (datasets as tf.data pipelines), ``toolbox`` (encode / interpolate /
translate), ``plots`` (matplotlib figures), ``interactive`` (rotatable plotly 3-D scatters),
``widgets`` (ipywidgets explorers),
``config`` (data directories and the fast mode).
"""

import os

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) would fill every
# notebook's first output; a reader who wants it sets the variable themselves.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from vaecore import callbacks, data, diagnostics, disentangle, losses, summary  # noqa: E402
from vaecore.arch import ArchDefError, validate_arch_def  # noqa: E402
from vaecore.architectures import get_architecture, list_architectures  # noqa: E402
from vaecore.config import fast_mode, run_dir  # noqa: E402
from vaecore.models import VAE, build_vae  # noqa: E402
from vaecore.training import TrainingDivergedError, read_history, train  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "VAE",
    "ArchDefError",
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
