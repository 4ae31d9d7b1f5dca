"""The copy-paste baseline: the keras-io VAE example's classes, for vaecore's benchmarks.

``Sampling`` and ``KerasIoVAE`` are the keras-io VAE example's code (its
``train_step`` sums ``binary_crossentropy`` of sigmoid outputs over the image
and adds the closed-form KL); :func:`dense_vae` and :func:`conv_vae` give them
the same architectures as vaecore's dense and conv models, compiled with
Keras' defaults. Benchmarks compare vaecore against these, trained on NumPy
arrays in memory, the way the example trains.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import layers, ops


class Sampling(layers.Layer):
    """keras-io: uses (z_mean, z_log_var) to sample z."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class KerasIoVAE(keras.Model):
    """keras-io's VAE class, unchanged."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = ops.mean(
                ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
            kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def dense_vae(input_shape: Sequence[int], latent: int, hidden: int) -> KerasIoVAE:
    """784-hidden-latent MLP VAE, keras-io style, compiled with Keras' defaults."""
    encoder_inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Flatten()(encoder_inputs)
    x = layers.Dense(hidden, activation="relu")(x)
    z_mean = layers.Dense(latent, name="z_mean")(x)
    z_log_var = layers.Dense(latent, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(latent,))
    x = layers.Dense(hidden, activation="relu")(latent_inputs)
    size = 1
    for d in input_shape:
        size *= d
    x = layers.Dense(size, activation="sigmoid")(x)
    decoder = keras.Model(latent_inputs, layers.Reshape(tuple(input_shape))(x), name="decoder")
    vae = KerasIoVAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam())
    return vae


def conv_vae(
    input_shape: Sequence[int], latent: int, encode: Sequence[tuple[int, int, int]]
) -> KerasIoVAE:
    """A conv VAE with vaecore's conv layout (mirrored decoder), keras-io style, Keras defaults."""
    height, width, channels = input_shape
    encoder_inputs = keras.Input(shape=tuple(input_shape))
    x = encoder_inputs
    for filters, kernel, stride in encode:
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", activation="relu")(x)
        height, width = height // stride, width // stride
    x = layers.Flatten()(x)
    z_mean = layers.Dense(latent, name="z_mean")(x)
    z_log_var = layers.Dense(latent, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")
    latent_inputs = keras.Input(shape=(latent,))
    first = encode[-1][0]
    x = layers.Dense(height * width * first, activation="relu")(latent_inputs)
    x = layers.Reshape((height, width, first))(x)
    for filters, kernel, stride in reversed(encode):
        x = layers.Conv2DTranspose(
            filters, kernel, strides=stride, padding="same", activation="relu"
        )(x)
    outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    decoder = keras.Model(latent_inputs, outputs, name="decoder")
    vae = KerasIoVAE(encoder, decoder)
    vae.compile(optimizer=keras.optimizers.Adam())
    return vae
