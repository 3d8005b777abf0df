"""A digit stretched to fill its box (a form's cell, Semeion's scans) is read as itself and squeezed back."""

import dataclasses

import numpy as np
import pytest

from digitlab import data, realworld, strokes
from digitlab.inference import Predictor, digit_probabilities, read_picture
from digitlab.picture_view import UNBOXED_CAPTION, picture_view
from digitlab.preprocessing import UNBOXED_ASPECT, preprocess_digit


def _ink_aspect(image: np.ndarray) -> float:
    rows, columns = np.nonzero(image > 0.2)
    return (columns.max() - columns.min() + 1) / (rows.max() - rows.min() + 1)


def _ring(height: int, width: int, margin: int = 0) -> np.ndarray:
    """(h, w) uint8 white on black: a zero's ring touching every edge, or `margin` px inside them."""
    import cv2

    picture = np.zeros((height + 2 * margin, width + 2 * margin), np.uint8)
    cv2.ellipse(picture, (margin + width // 2, margin + height // 2), (width // 2 - 3, height // 2 - 3), 0, 0, 360, 255, 6)
    return picture


@pytest.fixture(scope="module")
def reader():
    return Predictor.load("default")


def test_a_digit_filling_its_picture_is_also_squeezed_to_a_handwritten_aspect():
    boxed = preprocess_digit(_ring(64, 64))
    assert boxed.unboxed is not None and boxed.unboxed.shape == (28, 28) and boxed.unboxed.dtype == np.float32
    assert 0 <= boxed.unboxed.min() and boxed.unboxed.max() <= 1
    assert _ink_aspect(boxed.image) == pytest.approx(1.0, abs=0.1)
    assert _ink_aspect(boxed.unboxed) == pytest.approx(UNBOXED_ASPECT, abs=0.1)
    # Written on paper with margins, the digit kept its own aspect: nothing to give back.
    assert preprocess_digit(_ring(64, 64, margin=12)).unboxed is None
    # Already narrower than handwriting's usual aspect: squeezing it would only distort it.
    assert preprocess_digit(_ring(64, 40)).unboxed is None


def test_a_boxed_digit_is_read_as_the_average_of_both_in_one_call():
    calls = []

    def predict(images):  # each image's probabilities follow its mean ink, so every row is known
        calls.append(len(images))
        rows = np.zeros((len(images), 10), np.float32)
        rows[:, 0] = images.reshape(len(images), -1).mean(axis=1)
        rows[:, 1] = 1 - rows[:, 0]
        return rows

    images = np.stack([np.full((28, 28), value, np.float32) for value in (0.1, 0.2)])
    squeezed = np.full((28, 28), 0.6, np.float32)
    probabilities = digit_probabilities(predict, images, [None, squeezed])
    assert calls == [3]
    np.testing.assert_allclose(probabilities[:, 0], [0.1, 0.4])  # (0.2 + 0.6) / 2
    np.testing.assert_allclose(probabilities.sum(axis=1), 1)
    np.testing.assert_allclose(digit_probabilities(predict, images, [None, None])[:, 0], [0.1, 0.2])
    assert calls == [3, 2]


def test_measuring_reads_a_boxed_picture_exactly_as_the_draw_page_and_its_vote_table_do(reader):
    from tests.realistic.filled_numbers import coarse_scan

    styles, labels, _ = strokes.make_styles(6, strokes.HELD_OUT_SEED)
    pictures = [coarse_scan(image) for image in styles]
    prepared = realworld.prepare(pictures, labels)
    assert sum(unboxed is not None for unboxed in prepared.unboxed) == 5  # one lost its right column to the threshold
    measured = prepared.probabilities(reader.predict)
    for picture, probabilities in zip(pictures, measured):
        reading = read_picture(reader, picture)
        np.testing.assert_allclose(reading.digits[0].probabilities, probabilities, atol=1e-5)
        np.testing.assert_allclose(reading.read_by(reader)[0], probabilities, atol=1e-5)
        np.testing.assert_allclose(read_picture(reader, picture, number=True).digits[0].probabilities,
                                   probabilities, atol=1e-5)
    # The page shows the squeezed copy beside what the model sees.
    view = picture_view(pictures[0], reader, number=False)
    assert prepared.unboxed[0] is not None
    assert [step.caption for step in view.steps[0]][-1] == UNBOXED_CAPTION


def test_reading_boxed_digits_squeezed_back_too_reads_more_of_them(reader):
    # Chosen on this, our own data, before Semeion was measured (README): 3,000 of MNIST's
    # validation digits (seed 0's split, never trained on) stretched to fill a box read
    # 98.77 % alone and 98.97 % averaged with their squeezed copies.
    split = data.load_split("full", seed=0)
    digits = np.round(split.x_val[:3000, ..., 0] * 255).astype(np.uint8)
    r = np.random.default_rng(strokes.HELD_OUT_SEED)
    prepared = realworld.prepare([strokes.fill_box(digit, r) for digit in digits], split.y_val[:3000])
    assert sum(unboxed is not None for unboxed in prepared.unboxed) >= 1500
    alone = realworld.score(reader, dataclasses.replace(prepared, unboxed=()))
    both = realworld.score(reader, prepared)
    assert both["correct"] >= alone["correct"] + 3, (alone["accuracy"], both["accuracy"])
