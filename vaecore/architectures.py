"""The book's named architectures: each chapter's model as one ``arch_def`` dict.

``get_architecture("cifar10_conv")`` returns a fresh copy, so a chapter (or the
command line, ``vaecore train --arch cifar10_conv``) can change a field
without touching the registry::

    arch = get_architecture("cifar10_conv", latent=16, name="cifar10_conv_z16")

Each entry says where it comes from. The dicts are the plain form a reader
writes; :func:`vaecore.arch.validate_arch_def` checks them when a model is built.
"""

from __future__ import annotations

import copy
from typing import Any

from vaecore.arch import KNOWN_KEYS, ArchDefError, validate_arch_def

ARCHITECTURES: dict[str, dict[str, Any]] = {
    # The MNIST chapter: the 784-512-z ReLU MLP of the Keras MLP VAE example
    # (examples/variational_autoencoder.py); Kingma & Welling's own MNIST model
    # had 500 tanh hidden units in the encoder and the decoder.
    "mnist_dense_z2": {
        "input": (28, 28, 1),
        "latent": 2,
        "hidden": [512],
        "name": "mnist_dense_z2",
    },
    "mnist_dense_z3": {
        "input": (28, 28, 1),
        "latent": 3,
        "hidden": [512],
        "name": "mnist_dense_z3",
    },
    # The CIFAR-10 chapter: three stride-2 convolutions, 32 -> 16 -> 8 -> 4, mirrored.
    "cifar10_conv": {
        "input": (32, 32, 3),
        "latent": 64,
        "encode": [(32, 4, 2), (64, 4, 2), (128, 4, 2)],
        "decode": None,
        "name": "cifar10_conv",
    },
    # The blur chapter's fully convolutional VAE: one stride-2 convolution to a 16x16x4
    # latent map (1,024 units, a third of the 3,072 pixel values), one transposed
    # convolution back; small enough to train for many epochs on a CPU.
    "cifar10_map16": {
        "input": (32, 32, 3),
        "latent": (16, 16, 4),
        "encode": [(64, 4, 2)],
        "decode": None,
        "name": "cifar10_map16",
    },
    # The same latent map with one more 3x3 convolution (64 filters, at 16x16) on each
    # side: each code sees more of the image, each pixel more of the map.
    "cifar10_map16_deep": {
        "input": (32, 32, 3),
        "latent": (16, 16, 4),
        "encode": [(64, 4, 2), (64, 3, 1)],
        "decode": None,
        "name": "cifar10_map16_deep",
    },
    # The original CVAE project's face model, exactly as it was: 512 px, seven
    # stride-2 convolutions from 32 to 1024 filters, a mirrored decoder.
    "face_cvae_1": {
        "input": (512, 512, 3),
        "latent": 512,
        "encode": [
            (32, 3, (2, 2)),
            (64, 3, (2, 2)),
            (128, 3, (2, 2)),
            (256, 3, (2, 2)),
            (512, 3, (2, 2)),
            (1024, 3, (2, 2)),
            (1024, 3, (2, 2)),
        ],
        "decode": None,
        "name": "face_cvae_1",
    },
    # The same seven layers at 128 px with a quarter of the filters (128 -> 1).
    "face_cvae_1_128": {
        "input": (128, 128, 3),
        "latent": 128,
        "encode": [
            (8, 3, (2, 2)),
            (16, 3, (2, 2)),
            (32, 3, (2, 2)),
            (64, 3, (2, 2)),
            (128, 3, (2, 2)),
            (256, 3, (2, 2)),
            (256, 3, (2, 2)),
        ],
        "decode": None,
        "name": "face_cvae_1_128",
    },
    # What the toolbox chapter trains on a CPU: 64 px faces, five stride-2 layers (64 -> 2).
    "face_cvae_1_64": {
        "input": (64, 64, 3),
        "latent": 128,
        "encode": [
            (32, 3, (2, 2)),
            (64, 3, (2, 2)),
            (128, 3, (2, 2)),
            (256, 3, (2, 2)),
            (256, 3, (2, 2)),
        ],
        "decode": None,
        "name": "face_cvae_1_64",
    },
}


def list_architectures() -> list[str]:
    """The names :func:`get_architecture` knows, sorted."""
    return sorted(ARCHITECTURES)


def get_architecture(arch_name: str, /, **changes: Any) -> dict[str, Any]:
    """A copy of the named architecture, with ``changes`` applied to its fields.

    ``arch_name`` is positional-only, so ``name`` itself can be changed:
    ``get_architecture("cifar10_conv", latent=16, name="cifar10_conv_z16")``.

    Raises:
        KeyError: an unknown name (the message lists the known ones).
        ArchDefError: a change that makes the definition invalid.
    """
    if arch_name not in ARCHITECTURES:
        raise KeyError(
            f"unknown architecture {arch_name!r}; known: {', '.join(list_architectures())}"
        )
    unknown = sorted(set(changes) - set(KNOWN_KEYS))
    if unknown:
        raise ArchDefError(
            [f"arch_def has unknown field(s) {unknown}; known fields are {list(KNOWN_KEYS)}"],
            arch_name,
        )
    arch = copy.deepcopy(ARCHITECTURES[arch_name])
    arch.update(copy.deepcopy(changes))
    validate_arch_def(arch)
    return arch
