"""What a stored model does with one drawing: every layer's maps, saliency, Grad-CAM, occlusion and the smallest flip.

Each question is one compiled `tf.function` with a fixed input signature, traced once per
model: an eager call costs about 18 ms here, a traced one a few (see NOTES.md), which is
what lets every panel of the Learn page answer within 0.3 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

ProgressFn = Callable[[float], None]  # fraction done, 0..1

IMAGES = tf.TensorSpec([None, 28, 28, 1], tf.float32)
ONE_IMAGE = tf.TensorSpec([1, 28, 28, 1], tf.float32)
CLASS = tf.TensorSpec([], tf.int32)
MAP_PREFIXES = ("conv", "act", "pool")  # raw convolution, after the activation, after pooling


def map_layer_names(model: keras.Model) -> list[str]:
    """The model's convolution, activation and pooling layers in order (conv1, act1, pool1, conv2, ...)."""
    return [layer.name for layer in model.layers
            if layer.name.startswith(MAP_PREFIXES) and layer.name[-1].isdigit()]


@dataclass(frozen=True)
class Forward:
    """One drawing through the model: every map layer's output, the logits and the probabilities."""

    maps: dict[str, np.ndarray]  # layer name -> (h, w, channels) float32
    logits: np.ndarray  # (10,) float32, the scores before softmax
    probabilities: np.ndarray  # (10,) float32

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())


@dataclass(frozen=True)
class Attribution:
    """Where the model looked for one class: gradient saliency and Grad-CAM, both (28, 28) float32."""

    digit: int  # the class explained
    saliency: np.ndarray  # d logit[digit] / d pixel: how much each pixel would move that score
    grad_cam: np.ndarray  # ReLU(Σ_k w_k A_k) of the last activation layer, upsampled, ≥ 0 (Selvaraju et al. 2017)
    cam_layer: str  # the layer Grad-CAM reads


@dataclass(frozen=True)
class Occlusion:
    """The cost to one class of hiding each part of the picture, both (28, 28) float32."""

    digit: int
    patch: int  # side of the black square slid over the picture
    score_drop: np.ndarray  # drop in the class's score (logit): still visible when the probability is stuck near 100 %
    probability_drop: np.ndarray  # drop in the class's probability, 0..1


@dataclass(frozen=True)
class Flip:
    """The smallest change found that makes the model read another digit."""

    original: np.ndarray  # (28, 28) float32
    changed: np.ndarray  # (28, 28) float32 in [0, 1]
    before: int  # the digit read before
    after: int  # the digit read after (== before when no flip was found)
    confidence_after: float
    steps: int  # gradient steps taken
    l2: float  # size of the change: sqrt(Σ Δ²) over the 784 pixels (0..1 each)
    pixels_changed: int  # pixels changed by more than 0.1

    @property
    def flipped(self) -> bool:
        return self.after != self.before


class Explainer:
    """The compiled questions about one Keras model; shareable by threads (traced functions are thread-safe)."""

    def __init__(self, model: keras.Model, *, jit_compile: bool = False):
        """`jit_compile` (XLA) is off: measured here it made the gradient walk 5× slower (one
        compilation per new batch shape) and the rest no faster on a loaded 2-core CPU."""
        self.model = model
        self.map_names = map_layer_names(model)
        self.dense = dense_probe(model)  # built once: Learn's dead-units step asks it for every drawing
        acts = [n for n in self.map_names if n.startswith("act")]
        self.cam_layer = acts[-1] if acts else [n for n in self.map_names if n.startswith("conv")][-1]
        logits = model.get_layer("logits").output
        probe = keras.Model(model.input, [model.get_layer(n).output for n in self.map_names]
                            + [logits, model.output])
        cam_probe = keras.Model(model.input, [model.get_layer(self.cam_layer).output, logits])

        @tf.autograph.experimental.do_not_convert
        def forward(images):
            return probe(images, training=False)

        scorer = keras.Model(model.input, [logits, model.output])

        @tf.autograph.experimental.do_not_convert
        def scores(images):
            return scorer(images, training=False)

        @tf.autograph.experimental.do_not_convert
        def attribution(image, digit):
            with tf.GradientTape() as tape:
                tape.watch(image)
                activations, scores = cam_probe(image, training=False)
                score = scores[0, digit]
            pixel_grads, map_grads = tape.gradient(score, [image, activations])
            weights = tf.reduce_mean(map_grads, axis=[1, 2], keepdims=True)  # one weight per channel
            cam = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1, keepdims=True))
            cam = tf.image.resize(cam, [28, 28], method="bilinear")
            return pixel_grads[0, :, :, 0], cam[0, :, :, 0]

        @tf.autograph.experimental.do_not_convert
        def margin_gradient(image, digit):
            # The read digit's score minus the best other score: below zero, the answer has flipped.
            with tf.GradientTape() as tape:
                tape.watch(image)
                scores = cam_probe(image, training=False)[1][0]
                others = tf.tensor_scatter_nd_update(scores, [[digit]], [-np.inf])
                margin = scores[digit] - tf.reduce_max(others)
            return scores, tape.gradient(margin, image)[0]

        self._forward = tf.function(forward, input_signature=[IMAGES], jit_compile=jit_compile).get_concrete_function()
        self._scores = tf.function(scores, input_signature=[IMAGES], jit_compile=jit_compile).get_concrete_function()
        self._attribution = tf.function(attribution, input_signature=[ONE_IMAGE, CLASS], jit_compile=jit_compile).get_concrete_function()
        self._margin = tf.function(margin_gradient, input_signature=[ONE_IMAGE, CLASS], jit_compile=jit_compile).get_concrete_function()

    def forward(self, image: np.ndarray) -> Forward:
        """Every map layer, the logits and the probabilities for one (28, 28) float32 image in [0, 1]."""
        outputs = [o.numpy()[0] for o in self._forward(_batch(image))]
        return Forward(dict(zip(self.map_names, outputs[:-2])), outputs[-2], outputs[-1])

    def scores(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, 28, 28) float32 -> (n, 10) logits and (n, 10) probabilities, float32."""
        images = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
        logits, probabilities = self._scores(tf.constant(images))
        return logits.numpy(), probabilities.numpy()

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) float32 -> (n, 10) float32."""
        return self.scores(images)[1]

    def attribution(self, image: np.ndarray, digit: int) -> Attribution:
        """Gradient saliency and Grad-CAM of `digit`'s score (the logit, before softmax) on one image."""
        if not 0 <= digit <= 9:
            raise ValueError(f"digit must be 0–9, not {digit}")
        saliency, cam = self._attribution(_batch(image), tf.constant(digit, tf.int32))
        return Attribution(digit, saliency.numpy(), cam.numpy(), self.cam_layer)

    def occlusion(self, image: np.ndarray, digit: int, *, patch: int = 6, stride: int = 3, batch: int = 64,
                  progress: ProgressFn | None = None) -> Occlusion:
        """What covering each part of the picture with a patch×patch black square costs `digit`.

        The square slides with `stride`; a pixel's value is the mean drop over the squares
        covering it (Zeiler & Fergus 2014).
        """
        image = np.asarray(image, np.float32).reshape(28, 28)
        base_scores, base_probabilities = self.scores(image)
        corners = [(y, x) for y in range(0, 28 - patch + 1, stride) for x in range(0, 28 - patch + 1, stride)]
        drops = np.zeros((2, 28, 28), np.float64)  # score drop, probability drop
        counts = np.zeros((28, 28), np.float64)
        for start in range(0, len(corners), batch):
            chunk = corners[start:start + batch]
            covered = np.repeat(image[None], len(chunk), axis=0)
            for n, (y, x) in enumerate(chunk):
                covered[n, y:y + patch, x:x + patch] = 0
            scores, probabilities = self.scores(covered)
            for n, (y, x) in enumerate(chunk):
                drops[0, y:y + patch, x:x + patch] += base_scores[0, digit] - scores[n, digit]
                drops[1, y:y + patch, x:x + patch] += base_probabilities[0, digit] - probabilities[n, digit]
                counts[y:y + patch, x:x + patch] += 1
            if progress:
                progress(min(1.0, (start + len(chunk)) / len(corners)))
        drops /= np.maximum(counts, 1)
        return Occlusion(digit, patch, drops[0].astype(np.float32), drops[1].astype(np.float32))

    def smallest_flip(self, image: np.ndarray, *, step: float = 0.4, max_steps: int = 100,
                      progress: ProgressFn | None = None) -> Flip:
        """Walk against the gradient of (read digit's score − best other score) until the answer changes.

        Each step has the same length (`step`, L2 over the 784 pixels) and the picture stays in
        [0, 1]. Once it flips, the change is shrunk back along its line to the smallest
        fraction that still flips (40 fractions in one batch).
        """
        original = np.asarray(image, np.float32).reshape(28, 28)
        before = int(self.probabilities(original)[0].argmax())
        current = original.copy()
        label = tf.constant(before, tf.int32)
        steps = 0
        for steps in range(1, max_steps + 1):
            scores, gradient = self._margin(_batch(current), label)
            if int(np.argmax(scores.numpy())) != before:
                steps -= 1
                break
            gradient = gradient.numpy()[..., 0]
            norm = float(np.linalg.norm(gradient))
            if norm == 0:
                break
            current = np.clip(current - step * gradient / norm, 0, 1)
            if progress and steps % 5 == 0:
                progress(steps / max_steps)
        fractions = np.linspace(0.025, 1, 40, dtype=np.float32)
        candidates = original[None] + fractions[:, None, None] * (current - original)[None]
        probabilities = self.probabilities(candidates)
        flipped = np.flatnonzero(probabilities.argmax(axis=1) != before)
        best = int(flipped[0]) if len(flipped) else len(fractions) - 1
        changed = candidates[best]
        delta = changed - original
        if progress:
            progress(1.0)
        return Flip(original, changed, before, int(probabilities[best].argmax()), float(probabilities[best].max()),
                    steps, float(np.linalg.norm(delta)), int((np.abs(delta) > 0.1).sum()))


def dense_probe(model: keras.Model) -> keras.Model | None:
    """A model giving the first dense layer's outputs after its activation (dense_act1 with dense
    BatchNorm, else dense1); None for a network without one."""
    names = [layer.name for layer in model.layers]
    name = "dense_act1" if "dense_act1" in names else "dense1" if "dense1" in names else None
    return None if name is None else keras.Model(model.input, model.get_layer(name).output)


def dense_units(probe: keras.Model, images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) float32 in [0, 1] -> (n, units) float32 through a `dense_probe`, 500 images at a time."""
    images = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
    return np.concatenate([np.asarray(probe(images[i : i + 500], training=False), np.float32)
                           for i in range(0, len(images), 500)])


def firing_share(outputs: np.ndarray) -> np.ndarray:
    """(n, units) outputs -> (units,) float32: the share of the n images each unit fires for (output > 0).

    A ReLU unit that fires for none is dead: its output is 0 whatever the input, so no gradient
    reaches its weights and training can never bring it back.
    """
    return (np.asarray(outputs) > 0).mean(axis=0).astype(np.float32)


def _batch(image: np.ndarray) -> tf.Tensor:
    return tf.constant(np.asarray(image, np.float32).reshape(1, 28, 28, 1))
