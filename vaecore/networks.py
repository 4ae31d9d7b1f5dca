"""Encoder and decoder networks built from a checked architecture dict.

Four builders, one per (dense | conv) x (encoder | decoder). Each returns a
functional ``keras.Model``, built on creation, with layer names that do not depend
on how many models the session built before (the book prints layer tables).
:class:`vaecore.models.VAE` puts an encoder and a decoder together; the dicts are
described in :mod:`vaecore.arch`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import layers

from vaecore.arch import is_conv


def build_networks(arch: Mapping[str, Any]) -> tuple[keras.Model, keras.Model]:
    """``(encoder, decoder)`` for a normalized arch dict (dense or conv).

    The encoder maps images to ``[z_mean, z_log_var]``; the decoder maps codes to
    pre-sigmoid pixel values of the input's shape.
    """
    if is_conv(arch):
        return _conv_encoder(arch), _conv_decoder(arch)
    return _dense_encoder(arch), _dense_decoder(arch)


def _dense_encoder(arch: Mapping[str, Any]) -> keras.Model:
    inputs = keras.Input(shape=arch["input"], name="image")
    h = layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(arch["hidden"]):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    z_mean = layers.Dense(arch["latent"], name="z_mean")(h)
    z_log_var = layers.Dense(arch["latent"], name="z_log_var")(h)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def _dense_decoder(arch: Mapping[str, Any]) -> keras.Model:
    latent = keras.Input(shape=(arch["latent"],), name="z")
    h = latent
    for i, units in enumerate(reversed(arch["hidden"])):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    h = layers.Dense(int(np.prod(arch["input"])), name="pixel_logits")(h)
    logits = layers.Reshape(arch["input"], name="logits")(h)
    return keras.Model(latent, logits, name="decoder")


def _conv_encoder(arch: Mapping[str, Any]) -> keras.Model:
    inputs = keras.Input(shape=arch["input"], name="image")
    h = inputs
    for i, (filters, kernel, strides) in enumerate(arch["encode"]):
        h = layers.Conv2D(filters, kernel, strides, padding="same", name=f"conv_{i}")(h)
        if arch["batch_norm"]:
            h = layers.BatchNormalization(name=f"bn_{i}")(h)
        h = layers.Activation(arch["activation"], name=f"act_{i}")(h)
    h = layers.Flatten(name="flatten")(h)
    for i, units in enumerate(arch["hidden"]):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    z_mean = layers.Dense(arch["latent"], name="z_mean")(h)
    z_log_var = layers.Dense(arch["latent"], name="z_log_var")(h)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def _conv_decoder(arch: Mapping[str, Any]) -> keras.Model:
    height, width, channels = arch["input"]
    for _, _, (sh, sw) in arch["decode"]:
        height, width = height // sh, width // sw
    first_filters = arch["decode"][0][0]
    latent = keras.Input(shape=(arch["latent"],), name="z")
    h = latent
    for i, units in enumerate(arch["decode_hidden"]):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    h = layers.Dense(height * width * first_filters, activation=arch["activation"], name="project")(
        h
    )
    h = layers.Reshape((height, width, first_filters), name="reshape")(h)
    for i, (filters, kernel, strides) in enumerate(arch["decode"]):
        h = layers.Conv2DTranspose(filters, kernel, strides, padding="same", name=f"deconv_{i}")(h)
        if arch["batch_norm"]:
            h = layers.BatchNormalization(name=f"bn_{i}")(h)
        h = layers.Activation(arch["activation"], name=f"act_{i}")(h)
    logits = layers.Conv2D(channels, 3, padding="same", name="logits")(h)
    return keras.Model(latent, logits, name="decoder")
