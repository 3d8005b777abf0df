"""Fast, thread-safe prediction with a stored model: a compiled call instead of `model.predict`."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from digitlab import registry
from digitlab.architectures import ArchSpec, conv_layer_names
from digitlab.counting import CLASSES, Counter
from digitlab.preprocessing import (MAX_DIGITS, SPLIT_ASPECT, Preprocessed, fills_its_frame, is_mark, join_pieces,
                                    preprocess_digit, segment_digits, split_candidates)
from digitlab.records import RunRecord

IMAGE_SPEC = tf.TensorSpec([None, 28, 28, 1], tf.float32)
BATCH_SIZES = (1, 4, 16, 64)  # what predict() pads a batch to, so each model compiles at most four times


class Predictor:
    """One loaded model, shared by every caller and thread.

    `model.predict` pays about 100 ms of per-call setup for one image; a `tf.function`
    with a fixed input signature is traced once and then costs a couple of milliseconds.
    Concurrent calls of a traced function are safe in TensorFlow; the lock only guards
    the one-time tracing of the activations function.
    """

    def __init__(self, model: keras.Model, *, name: str, spec: ArchSpec | None = None,
                 record: RunRecord | None = None):
        self.model = model
        self.name = name
        self.spec = spec
        self.record = record
        # A concrete function skips tf.function's per-call signature matching; XLA fuses the
        # small layers into fewer kernels.
        self._predict = tf.function(
            _inference_call(model), input_signature=[IMAGE_SPEC], jit_compile=True
        ).get_concrete_function()
        self._activations = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, name_or_path: str = "default", *, root: Path | None = None) -> "Predictor":
        """A stored run by name ("default" for the default run), or a `.keras` file loaded in safe mode."""
        path = Path(name_or_path)
        if path.suffix == ".keras" and path.is_file():
            model = keras.saving.load_model(path, compile=False, safe_mode=True)
            check_model_shape(model)
            return cls(model, name=path.stem)
        run = registry.get_run(name_or_path, root=root)
        model = registry.load_model(run.name, root=root)
        return cls(model, name=run.name, spec=run.record.spec, record=run.record)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """(n, 28, 28) or (n, 28, 28, 1) float32 in [0, 1] -> (n, 10) float32 probabilities."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == 3:
            images = images[..., None]
        if images.shape[1:] != (28, 28, 1):
            raise ValueError(f"expected (n, 28, 28) images, got {images.shape}")
        # XLA compiles once per input shape: a number of 3 digits, then one of 5, would each
        # compile every model again. Padding to a few fixed batch sizes bounds that to four.
        count = len(images)
        if count > BATCH_SIZES[-1]:
            return np.concatenate([self.predict(images[i : i + BATCH_SIZES[-1]])
                                   for i in range(0, count, BATCH_SIZES[-1])])
        size = next(b for b in BATCH_SIZES if b >= count)
        if size != count:
            images = np.concatenate([images, np.zeros((size - count, 28, 28, 1), np.float32)])
        return self._predict(tf.constant(images)).numpy()[:count]

    def conv_layers(self) -> list[str]:
        if self.spec is not None:
            return conv_layer_names(self.spec)
        return [layer.name for layer in self.model.layers if isinstance(layer, keras.layers.Conv2D)]

    def activations(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Every conv layer's feature maps for one (28, 28) float32 image: name -> (h, w, filters) float32."""
        with self._lock:
            if self._activations is None:
                names = self.conv_layers()
                probe = keras.Model(self.model.input, [self.model.get_layer(n).output for n in names])
                function = tf.function(
                    lambda images: probe(images, training=False), input_signature=[IMAGE_SPEC]
                ).get_concrete_function()
                self._activations = (names, function)
        names, function = self._activations
        image = np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1)
        return {name: output.numpy()[0] for name, output in zip(names, function(tf.constant(image)))}


def _inference_call(model: keras.Model):
    @tf.autograph.experimental.do_not_convert
    def call(images):
        return model(images, training=False)

    return call


def check_model_shape(model: keras.Model) -> None:
    """Refuse models that do not take (28, 28, 1) images and give 10 outputs."""
    input_shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    output_shape = tuple(model.output_shape[1:]) if not isinstance(model.output_shape, list) else None
    if input_shape != (28, 28, 1) or output_shape != (10,):
        raise registry.RegistryError(
            f"model must map (28, 28, 1) images to 10 outputs; this one maps {input_shape} to {output_shape}"
        )


LOW_CONFIDENCE = 0.6  # below this, a reading is shown as a guess, not an answer
COUNT_SURE = 0.9  # a piece the counter is this sure holds several digits is split; below, the digit model must agree
JOIN_GAP = 0.25  # neighbouring pieces at most this share of their joint height apart may be one broken digit ...
JOIN_FRAGMENT = 0.75  # ... when the shorter is at most this share of that height: digits of a row are each about as tall
CERTAIN = 0.99  # a cut found beyond the thinnest few must give parts the digit model reads this surely


@dataclass(frozen=True)
class DigitReading:
    """One digit: its preprocessing steps, the ten probabilities, the answer and how sure it is."""

    steps: Preprocessed
    probabilities: np.ndarray  # (10,) float32

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        order = np.argsort(-self.probabilities)[:k]
        return [(int(i), float(self.probabilities[i])) for i in order]

    def to_json(self) -> dict:
        box = [round(side / self.steps.scale) for side in self.steps.box]  # in the input's pixels
        return {"digit": self.digit, "confidence": round(self.confidence, 4), "box": box,
                "probabilities": [round(float(p), 4) for p in self.probabilities]}


@dataclass(frozen=True)
class Reading:
    """What a picture says: no digit, one digit, or several read left to right as a number."""

    digits: list[DigitReading]

    @property
    def empty(self) -> bool:
        return not self.digits

    @property
    def number(self) -> str | None:
        return "".join(str(d.digit) for d in self.digits) or None

    def read_by(self, predictor) -> np.ndarray:
        """(n, 10) probabilities another model gives the same digits, read as this reading's model read them."""
        return _read(predictor, [d.steps for d in self.digits])


def read_picture(predictor: Predictor, rgba: np.ndarray, *, number: bool = False) -> Reading:
    """Read a (h, w, 4) uint8 RGBA picture (canvas or photo) as one digit, or as a number of several.

    All digits of a number go through the model in one call.
    """
    if number:
        counter = Counter.load()
        if counter is not None:
            return Reading(_read_counted(predictor, counter, rgba))
        steps = segment_digits(rgba)
    else:
        single = preprocess_digit(rgba)
        steps = [] if single.empty or is_mark(single.cropped) else [single]
    if not steps:
        return Reading([])
    probabilities = _read(predictor, steps)
    readings = [DigitReading(s, p) for s, p in zip(steps, probabilities)]
    if number:
        readings = [part for reading in readings for part in _split_if_likelier(predictor, reading)]
    return Reading(readings)


def digit_probabilities(predict, images: np.ndarray, unboxed) -> np.ndarray:
    """(n, 10) probabilities of (n, 28, 28) float32 `images` by `predict` ((m, 28, 28) float32 -> (m, 10)), in one call.

    `unboxed[i]`, where not None, is digit i squeezed back from filling its box (`Preprocessed.unboxed`):
    a form's cell or Semeion's scan took its aspect, so it is read as the average of both.
    """
    squeezed = [i for i, image in enumerate(unboxed) if image is not None]
    if not squeezed:
        return np.asarray(predict(images))
    probabilities = np.asarray(predict(np.concatenate([images, np.stack([unboxed[i] for i in squeezed])])))
    read = probabilities[: len(images)].copy()
    read[squeezed] = (read[squeezed] + probabilities[len(images):]) / 2
    return read


def _read(predictor: Predictor, steps: list[Preprocessed]) -> np.ndarray:
    return digit_probabilities(predictor.predict, np.stack([s.image for s in steps]), [s.unboxed for s in steps])


def _split_needs(aspect: float) -> float:
    """How much surer than the whole piece its weakest part must be for a split to win.

    A single digit wider than it is tall is rare (a wide 0 or 2 in a round hand), so a
    wide piece needs less evidence; a near-square one must be clearly two digits.
    """
    if aspect >= 1.2:
        return -0.2
    if aspect >= 1.0:
        return 0.0
    return 0.15


def _split_if_likelier(predictor: Predictor, reading: DigitReading) -> list[DigitReading]:
    """`reading`, or the parts of the split (`split_candidates`) the model reads with more confidence."""
    options = split_candidates(reading.steps)
    if not options:
        return [reading]
    parts = [part for option in options for part in option]
    probabilities = predictor.predict(np.stack([part.image for part in parts]))
    height, width = reading.steps.cropped.shape
    # The model can be sure of a squeezed pair too ("48" read as an 8), but a fixed bar for the
    # parts split wide single digits (a round 0 read as "67"): the whole piece's confidence,
    # less for wider pieces, is the bar.
    best, best_score = [reading], reading.confidence + _split_needs(width / height)
    start = 0
    for option in options:
        option_probabilities = probabilities[start : start + len(option)]
        start += len(option)
        score = float(option_probabilities.max(axis=1).min())  # as sure as its weakest part
        if score > best_score:
            best = [DigitReading(p, q) for p, q in zip(option, option_probabilities)]
            best_score = score
    return best


def _read_counted(predictor: Predictor, counter: Counter, rgba: np.ndarray) -> list[DigitReading]:
    """The digits of a row, each piece of ink split into as many digits as the counter sees in it.

    A piece the counter takes for a mark (a dot, a dash, a line) is dropped; one it reads as a
    single digit is never split, however wide; one holding several is cut where the model
    reads the weakest part of a cut of that many parts most surely.
    """
    pieces = segment_digits(rgba, split=False)
    if not pieces:
        return []
    if fills_its_frame(pieces):
        # A form's box holds one digit: stretched to fill it, a one or a two can look like two
        # narrow digits to the counter ("11", "21"), but the picture's frame says how many.
        whole = preprocess_digit(rgba)
        return [DigitReading(whole, _read(predictor, [whole])[0])]
    wholes = predictor.predict(np.stack([piece.image for piece in pieces]))
    pieces, wholes = _join_broken(predictor, counter, pieces, wholes)
    # A piece narrower than SPLIT_ASPECT holds one digit (no split of it is ever tried): only
    # wider ones cost a call of the counter, so a drawn digit reads as fast as before.
    wide = [i for i, piece in enumerate(pieces) if piece.cropped.shape[1] >= SPLIT_ASPECT * piece.cropped.shape[0]]
    count_probabilities = np.tile(np.eye(len(CLASSES), dtype=np.float32)[1], (len(pieces), 1))
    if wide:
        count_probabilities[wide] = counter.counts([pieces[i].cropped for i in wide])
    readings: list[DigitReading] = []
    for piece, count_probability, whole in zip(pieces, count_probabilities, wholes):
        count = int(count_probability.argmax())
        if count == 0:
            continue
        reading = DigitReading(piece, whole)
        if count == 1:
            readings.append(reading)
            continue
        height, width = piece.cropped.shape
        sure = count_probability.max() >= COUNT_SURE
        # When the counter hesitates (a single 8 in a font can look like two loops), the digit
        # model must agree: its parts read as surely as the width rule asks of a split.
        agreed = reading.confidence + _split_needs(width / height)
        options = [option for option in split_candidates(piece) if len(option) == count]
        if options:
            parts, score = _likeliest(predictor, options)
            chosen = parts if sure or score > agreed else [reading]
        else:
            chosen, score = _split_if_likelier(predictor, reading), -1.0
        if count in (2, 3) and score < CERTAIN:
            # Digits that overlap are rarely parted at the thinnest columns. Every other thin
            # column is tried too, but such a cut must be read with certainty: cut anywhere, a
            # thick single digit yields a sliver the model takes for a sure enough "1".
            more = split_candidates(piece, more=count)
            if more:
                parts, more_score = _likeliest(predictor, more)
                # Three digits the counter is sure of are rarely one: there the likeliest cut will do.
                certain_enough = more_score >= CERTAIN or (count == 3 and sure)
                if certain_enough and more_score > score and (sure or more_score > agreed):
                    chosen = parts
        readings += chosen
    return readings if len(readings) <= MAX_DIGITS else []


def _join_broken(predictor: Predictor, counter: Counter, pieces: list[Preprocessed],
                 wholes: np.ndarray) -> tuple[list[Preprocessed], np.ndarray]:
    """`pieces` and their (n, 10) probabilities `wholes`, with each close neighbouring pair that is one broken digit joined.

    A thin stroke lost in a coarse scan or a light pen leaves one digit as two pieces side by
    side (a one stretched to fill its box, a 4's arm beside its stem). A pair is joined when one
    piece is a fragment (shorter than the other digits of a row are), the counter is sure the
    union holds one digit, and the digit model reads the union more surely than the less sure
    piece alone: a small 2 written close to a 6 reads surely by itself, and stays a digit.
    """
    close = []
    for i, (left, right) in enumerate(zip(pieces, pieces[1:])):
        top = min(left.box[1], right.box[1])
        height = max(left.box[1] + left.box[3], right.box[1] + right.box[3]) - top
        gap = right.box[0] - (left.box[0] + left.box[2])
        if gap <= JOIN_GAP * height and min(left.box[3], right.box[3]) <= JOIN_FRAGMENT * height:
            close.append(i)
    if not close:
        return pieces, wholes
    unions = [join_pieces(pieces[i], pieces[i + 1]) for i in close]
    ones = counter.counts([union.cropped for union in unions])[:, CLASSES.index("one")]
    union_probabilities = predictor.predict(np.stack([union.image for union in unions]))
    alone = wholes.max(axis=1)
    joined = {}
    for i, union, one, probabilities in zip(close, unions, ones, union_probabilities):
        if i - 1 not in joined and one >= COUNT_SURE and probabilities.max() > min(alone[i], alone[i + 1]):
            joined[i] = (union, probabilities)
    out, out_wholes, i = [], [], 0
    while i < len(pieces):
        piece, probabilities = joined.get(i, (pieces[i], wholes[i]))
        out.append(piece)
        out_wholes.append(probabilities)
        i += 2 if i in joined else 1
    return out, np.stack(out_wholes)


def _likeliest(predictor: Predictor, options: list[list[Preprocessed]]) -> tuple[list[DigitReading], float]:
    """The option (a list of parts) whose least sure part the model reads most surely, as readings, and that part's confidence."""
    parts = [part for option in options for part in option]
    probabilities = predictor.predict(np.stack([part.image for part in parts]))
    best, best_score, start = None, -1.0, 0
    for option in options:
        option_probabilities = probabilities[start : start + len(option)]
        start += len(option)
        score = float(option_probabilities.max(axis=1).min())
        if score > best_score:
            best = [DigitReading(p, q) for p, q in zip(option, option_probabilities)]
            best_score = score
    return best, best_score
