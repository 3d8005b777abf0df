"""What the Draw page shows for one picture, computed once: the reading, its pictures as PNG, every model's vote."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from digitlab import charts
from digitlab.inference import DigitReading, Predictor, Reading, read_picture
from digitlab.predictors import ModelUnavailable, PredictorPool

STEP_CAPTIONS = ("raw", "ink (white on black)", "cropped", "20 px, MNIST pen", "28×28: what the model sees")
# A digit filling its whole picture lost its aspect to the box: the model reads it squeezed back too.
UNBOXED_CAPTION = "squeezed back from its box: also read, the two averaged"
STEP_SIDE = 112  # the small steps (cropped, 20 px, 28×28) are shown enlarged to this many pixels, sharp
WIDE_SIDE = 460  # the whole picture's steps are shown at most this wide: a fifth of the page
ANNOTATED_SIDE = 920  # the number's annotated picture: at most the page's width
_NO_PIXELS_RGBA = np.zeros((0, 0, 4), np.uint8)
_NO_PIXELS = np.zeros((0, 0), np.uint8)


@dataclass(frozen=True)
class StepPicture:
    """One picture of the preprocessing strip: PNG bytes, its caption, its width on the page (None: the column's)."""

    png: bytes
    caption: str
    width: int | None


@dataclass(frozen=True)
class Vote:
    """One stored model's reading of the same digits."""

    model: str
    reads: str  # its digit for each of the picture's digits, left to right
    confidence: float  # its least sure digit's probability, 0–1
    mnist_test_accuracy: float | None
    parameters: int | None


@dataclass(frozen=True)
class PictureView:
    """Everything shown about one picture, small enough to cache per drawing and share between sessions.

    `digits` are the reading's digits with their own steps (cropped, scaled, image, box);
    the whole picture's `raw` and `gray` steps are left out of them — as (0, 0) arrays —
    because they are shown once, as PNG, in `steps`.
    """

    digits: tuple[DigitReading, ...]
    steps: tuple[tuple[StepPicture, ...], ...]  # rows of the preprocessing strip
    annotated: bytes | None  # PNG: the picture with each digit's box and reading (a number only)
    shown: bytes | None  # PNG: the picture itself, downscaled for the page (when asked for)
    votes: tuple[Vote, ...]
    skipped: tuple[str, ...]  # one line per model that could not vote

    @property
    def reading(self) -> Reading:
        return Reading(list(self.digits))


def png(picture: np.ndarray, *, max_side: int | None = None) -> bytes:
    """PNG bytes of a (h, w) gray, (h, w, 3) RGB or (h, w, 4) RGBA uint8 picture, shrunk to `max_side` if larger."""
    if max_side is not None and max(picture.shape[:2]) > max_side:
        scale = max_side / max(picture.shape[:2])
        size = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    if picture.ndim == 3:
        picture = cv2.cvtColor(picture, cv2.COLOR_RGBA2BGRA if picture.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".png", picture)
    if not ok:
        raise ValueError(f"cannot encode a {picture.shape} picture as PNG")
    return encoded.tobytes()


def _steps(reading: Reading) -> tuple[tuple[StepPicture, ...], ...]:
    first = reading.digits[0].steps
    whole = (StepPicture(png(first.raw, max_side=WIDE_SIDE), STEP_CAPTIONS[0], None),
             StepPicture(png(first.gray, max_side=WIDE_SIDE), STEP_CAPTIONS[1], None))
    rows = []
    for digit in reading.digits:
        pictures = [digit.steps.cropped, digit.steps.scaled, digit.steps.image]
        captions = list(STEP_CAPTIONS[2:])
        if digit.steps.unboxed is not None:
            pictures.append(digit.steps.unboxed)
            captions.append(UNBOXED_CAPTION)
        own = tuple(StepPicture(png(charts.enlarge(picture, STEP_SIDE)), caption, STEP_SIDE) for picture, caption
                    in zip(pictures, captions))
        rows.append(own)
    if len(rows) == 1:
        return (whole + rows[0],)
    return (whole, *rows)


def _votes(reading: Reading, active: Predictor, voters: list[dict], pool: PredictorPool
           ) -> tuple[tuple[Vote, ...], tuple[str, ...]]:
    votes, skipped = [], []
    for run in voters:
        if run["name"] == active.name:  # the reading's own probabilities: the same model on the same digits
            probabilities = np.stack([d.probabilities for d in reading.digits])
        else:
            try:
                probabilities = reading.read_by(pool.get(run["name"], run["path"]))
            except ModelUnavailable as error:
                skipped.append(str(error))
                continue
        votes.append(Vote(
            model=run["name"] + (" (active)" if run["name"] == active.name else ""),
            reads="".join(map(str, probabilities.argmax(axis=1))),
            confidence=float(probabilities.max(axis=1).min()),
            mnist_test_accuracy=run.get("mnist_test_accuracy"),
            parameters=run.get("params"),
        ))
    return tuple(votes), tuple(skipped)


def picture_view(rgba: np.ndarray, predictor: Predictor, *, number: bool, voters: list[dict] = (),
                 pool: PredictorPool | None = None, shown_side: int | None = None) -> PictureView:
    """Read a (h, w, 4) uint8 RGBA picture with `predictor` and build all that the page shows about it.

    `voters` are stored runs' summaries (`RunInfo.to_json()`: name, path, accuracy, params)
    whose models, from `pool`, read the same digits for the vote table; a model that cannot
    be loaded is skipped with a line in `skipped`. `shown_side`: also encode the picture
    itself, at most that many pixels on its longer side (uploads are shown downscaled).
    """
    reading = read_picture(predictor, rgba, number=number)
    shown = png(rgba, max_side=shown_side) if shown_side else None
    if reading.empty:
        return PictureView((), (), None, shown, (), ())
    annotated = None
    if len(reading.digits) > 1:
        labels = [f"{d.digit} {d.confidence:.0%}" for d in reading.digits]
        # Boxes are in the picture as read, which a small picture was enlarged to first.
        annotated = png(charts.annotate_digits(reading.digits[0].steps.raw, [d.steps.box for d in reading.digits], labels),
                        max_side=ANNOTATED_SIDE)
    votes, skipped = _votes(reading, predictor, list(voters), pool) if voters and pool else ((), ())
    slim = tuple(replace(d, steps=replace(d.steps, raw=_NO_PIXELS_RGBA, gray=_NO_PIXELS)) for d in reading.digits)
    return PictureView(slim, _steps(reading), annotated, shown, votes, skipped)
