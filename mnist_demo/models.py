"""Architectures by name. Every model maps (N, 28, 28, 1) floats in [0, 1] to 10 probabilities."""

from __future__ import annotations

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)


def seed() -> keras.Model:
    """The blog's network: three conv+pool blocks (32/64/128), dense 64, softmax."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(128, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        name="seed",
    )


def _conv_bn(x, filters: int):
    # Conv without bias: batch norm's shift does that job. Momentum 0.9 (not 0.99)
    # so the running statistics settle within a short training on a subset.
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    return layers.ReLU()(x)


def default() -> keras.Model:
    """Ours: two VGG-style stages with batch norm, then a small head with dropout.

    'same' padding keeps the digit's edges (the seed's 'valid' convs and three
    pools shrink 28 px to a 1x1 map); about 24 M multiply-adds per digit, well
    under a millisecond on a laptop CPU.
    """
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Conv2D(32, 5, padding="same", use_bias=False)(inputs)
    x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
    x = layers.MaxPooling2D(2)(x)  # 14x14
    x = _conv_bn(x, 64)
    x = _conv_bn(x, 64)
    x = layers.MaxPooling2D(2)(x)  # 7x7
    x = _conv_bn(x, 128)
    x = layers.MaxPooling2D(2)(x)  # 3x3
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="default")


ARCHITECTURES = {"seed": seed, "default": default}


def build(name: str) -> keras.Model:
    try:
        return ARCHITECTURES[name]()
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose from {', '.join(ARCHITECTURES)}") from None
