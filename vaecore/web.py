"""In-page explorers and decoder export under their first import path, kept so notebooks run unchanged.

``from vaecore import web`` keeps every name it had. New code can import from where
each now lives (see :mod:`vaecore.explorers` for which explorer is which):

* :mod:`vaecore.explorers.page`: ``latent_explorer``, ``model_choice``,
  ``WebExplorer``, ``WebChoice``, ``runtime_js``, ``AUTO_INT8_BYTES``;
* :mod:`vaecore.explorers.page_attribute`: ``attribute_explorer``, ``compose_code``,
  ``MAX_FACES``;
* :mod:`vaecore.explorers.page_vq`: ``vq_explorer`` (a VQ-VAE's code grid), ``grid_code``,
  ``decode_grid``;
* :mod:`vaecore.explorers.twin`: ``from_widget``;
* :mod:`vaecore.export`: ``export_network``, ``decoder_spec``, ``encoder_spec``,
  ``run_network``, ``PRECISIONS``.
"""

from vaecore.explorers.page import (
    AUTO_INT8_BYTES,
    WebChoice,
    WebExplorer,
    latent_explorer,
    model_choice,
    runtime_js,
)
from vaecore.explorers.page_attribute import MAX_FACES, attribute_explorer, compose_code
from vaecore.explorers.page_vq import VQExplorer, decode_grid, grid_code, vq_explorer
from vaecore.explorers.twin import from_widget
from vaecore.export import PRECISIONS, decoder_spec, encoder_spec, export_network, run_network

__all__ = [
    "AUTO_INT8_BYTES",
    "MAX_FACES",
    "PRECISIONS",
    "VQExplorer",
    "WebChoice",
    "WebExplorer",
    "attribute_explorer",
    "compose_code",
    "decode_grid",
    "decoder_spec",
    "encoder_spec",
    "export_network",
    "from_widget",
    "grid_code",
    "latent_explorer",
    "model_choice",
    "run_network",
    "runtime_js",
    "vq_explorer",
]
