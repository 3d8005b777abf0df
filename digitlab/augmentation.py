"""Handwriting-style augmentation of training batches (rotation, shear, scale, shift, stroke width, elastic) in TensorFlow."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from digitlab import presets


@dataclass(frozen=True)
class Augmentation:
    """How strongly to vary each training image; `probability` of an image being changed at all.

    Resampling blurs a 28x28 digit, and a model that never sees a clean MNIST digit loses
    MNIST accuracy, so a share of every batch passes untouched. Stroke width changes by
    one pixel (grey-level dilation or erosion) because drawings and photos, once
    scaled down, have thinner or thicker strokes than MNIST's pens.

    `elastic` is the share of the changed images also bent by a smooth random displacement
    field (Simard et al. 2003, "Best practices for CNNs applied to visual document analysis"):
    one writer's loop bulges where another's is flat, which no affine map makes. The field is
    drawn on a coarse `elastic_grid` x `elastic_grid` lattice, moves each lattice point by up to
    about `elastic_px` pixels and is interpolated smoothly to 28x28.
    """

    probability: float = 0.6
    rotation_deg: float = 12.0
    shear_deg: float = 10.0
    scale: tuple[float, float] = (0.85, 1.1)
    shift_px: float = 2.5
    thicken: float = 0.25
    thin: float = 0.1
    elastic: float = 0.0
    elastic_px: float = 2.0
    elastic_grid: int = 4

    def to_dict(self) -> dict:
        return {field: getattr(self, field) for field in self.__dataclass_fields__}


def augmentation(config) -> Augmentation:
    """The augmentation a `TrainConfig` with `augment` on trains with."""
    return Augmentation(elastic=config.elastic)


# What the Learn page lets a class vary, each as the training pipeline does it.
SHOWN: dict[str, Augmentation] = {
    "everything digitlab trains with": augmentation(presets.get(presets.DEFAULT_RUN).config),
    "turn, slant, size, place and pen": Augmentation(elastic=0.0),
    "elastic bending only": Augmentation(rotation_deg=0.0, shear_deg=0.0, scale=(1.0, 1.0), shift_px=0.0,
                                         thicken=0.0, thin=0.0, elastic=1.0),
}


def _uniform(rng: tf.random.Generator | None, shape, low: float, high: float) -> tf.Tensor:
    # A Generator of its own keeps one page's draws apart from another user's and from training's.
    return rng.uniform(shape, low, high) if rng is not None else tf.random.uniform(shape, low, high)


def _affine_matrices(n: int, aug: Augmentation, rng: tf.random.Generator | None = None) -> tf.Tensor:
    """(n, 8) projective transforms mapping output pixels to input pixels, about the image centre."""
    uniform = lambda low, high: _uniform(rng, [n], low, high)  # noqa: E731
    angle = uniform(-aug.rotation_deg, aug.rotation_deg) * (math.pi / 180)
    shear = uniform(-aug.shear_deg, aug.shear_deg) * (math.pi / 180)
    scale = uniform(*aug.scale)
    dx, dy = uniform(-aug.shift_px, aug.shift_px), uniform(-aug.shift_px, aug.shift_px)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Inverse of (rotate . shear . scale): output coordinates -> input coordinates.
    a0 = cos / scale
    a1 = (sin + cos * tf.tan(shear)) / scale
    b0 = -sin / scale
    b1 = (cos - sin * tf.tan(shear)) / scale
    centre = 13.5
    a2 = centre - a0 * (centre + dx) - a1 * (centre + dy)
    b2 = centre - b0 * (centre + dx) - b1 * (centre + dy)
    zeros = tf.zeros([n])
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def _sample_bilinear(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """(n, 28, 28, 1) images read at fractional (n, 28, 28) `rows` and `cols`; paper (0) outside."""
    n = tf.shape(images)[0]
    # One pixel of paper all round: a coordinate clipped into it reads 0, as outside the page.
    padded = tf.pad(images[..., 0], [[0, 0], [1, 1], [1, 1]])
    row0, col0 = tf.floor(rows), tf.floor(cols)
    row_weight, col_weight = rows - row0, cols - col0
    batch = tf.broadcast_to(tf.range(n)[:, None, None], tf.shape(rows))

    def at(r, c):
        r = tf.clip_by_value(tf.cast(r, tf.int32) + 1, 0, 29)
        c = tf.clip_by_value(tf.cast(c, tf.int32) + 1, 0, 29)
        return tf.gather_nd(padded, tf.stack([batch, r, c], axis=-1))

    top = at(row0, col0) * (1 - col_weight) + at(row0, col0 + 1) * col_weight
    bottom = at(row0 + 1, col0) * (1 - col_weight) + at(row0 + 1, col0 + 1) * col_weight
    return (top * (1 - row_weight) + bottom * row_weight)[..., None]


def elastic_batch(images: tf.Tensor, aug: Augmentation, rng: tf.random.Generator | None = None) -> tf.Tensor:
    """(n, 28, 28, 1) float32 in [0, 1] -> the same shape, each image bent by its own smooth field."""
    n = tf.shape(images)[0]
    # Uniform in [-1, 1] on the lattice, bicubic up to 28x28: smooth, and at most about elastic_px.
    lattice = _uniform(rng, [n, aug.elastic_grid, aug.elastic_grid, 2], -1.0, 1.0) * aug.elastic_px
    field = tf.image.resize(lattice, [28, 28], method="bicubic")
    grid_rows, grid_cols = tf.meshgrid(tf.range(28.0), tf.range(28.0), indexing="ij")
    return _sample_bilinear(images, grid_rows + field[..., 0], grid_cols + field[..., 1])


def augment_batch(images: tf.Tensor, aug: Augmentation, rng: tf.random.Generator | None = None) -> tf.Tensor:
    """(n, 28, 28, 1) float32 in [0, 1] -> the same shape, a random share of it varied."""
    n = tf.shape(images)[0]
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=_affine_matrices(n, aug, rng), output_shape=[28, 28],
        interpolation="BILINEAR", fill_mode="CONSTANT", fill_value=0.0,
    )
    dilated = tf.nn.max_pool2d(warped, ksize=2, strides=1, padding="SAME")
    eroded = -tf.nn.max_pool2d(-warped, ksize=2, strides=1, padding="SAME")
    stroke = _uniform(rng, [n, 1, 1, 1], 0.0, 1.0)
    warped = tf.where(stroke < aug.thicken, dilated, tf.where(stroke > 1 - aug.thin, eroded, warped))
    if aug.elastic > 0:
        bent = _uniform(rng, [n, 1, 1, 1], 0.0, 1.0) < aug.elastic
        warped = tf.where(bent, tf.clip_by_value(elastic_batch(warped, aug, rng), 0.0, 1.0), warped)
    changed = _uniform(rng, [n, 1, 1, 1], 0.0, 1.0) < aug.probability
    return tf.where(changed, warped, images)


def variants(image: np.ndarray, count: int, seed: int, aug: Augmentation) -> np.ndarray:
    """(28, 28) float32 in [0, 1] -> (count, 28, 28) float32: the image as `count` training batches
    might show it, every one changed (the share left untouched is not shown). Same seed, same variants."""
    rng = tf.random.Generator.from_seed(seed)
    batch = tf.constant(np.repeat(np.asarray(image, np.float32).reshape(1, 28, 28, 1), count, axis=0))
    changed = augment_batch(batch, dataclasses.replace(aug, probability=1.0), rng)
    return changed.numpy()[..., 0]


def training_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, aug: Augmentation | None,
                     seed: int) -> tf.data.Dataset:
    """Shuffled, batched (and augmented) training pairs, prefetched."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if aug is not None:
        dataset = dataset.map(lambda images, labels: (augment_batch(images, aug), labels),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
