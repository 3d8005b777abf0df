"""Tight crops: a digit cut from a form's box, its ink touching the border, small, enlarged, light on dark, filling its picture."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from digitlab import strokes
from digitlab.imageio import read_image
from digitlab.inference import Predictor, read_picture
from digitlab.preprocessing import preprocess_digit, segment_digits


def cropped_to_ink(picture):
    """(h, w) uint8 white-on-black cut right at its ink: strokes touch all four borders."""
    rows, columns = np.nonzero(picture > 60)
    return picture[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]


def shrunk(ink, side):
    height, width = ink.shape
    scale = side / max(height, width)
    return cv2.resize(ink, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def jpeg_on_gray_paper(ink, seed):
    gray = 200 - ink * 0.7 + np.random.default_rng(seed).normal(0, 5, ink.shape)
    encoded = io.BytesIO()
    Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).save(encoded, "JPEG", quality=70)
    return read_image(encoded.getvalue(), name="crop.jpg")


# How a tightly cropped digit reaches the app: (h, w) uint8 white ink -> a picture.
CONDITIONS = {
    "dark ink on white": lambda ink, seed: 255 - ink,
    "light ink on dark": lambda ink, seed: (30 + ink * 0.8).astype(np.uint8),
    "small (32 px)": lambda ink, seed: 255 - shrunk(ink, 32),
    "tiny (14 px)": lambda ink, seed: 255 - shrunk(ink, 14),
    "small, enlarged 5x": lambda ink, seed: 255 - cv2.resize(shrunk(ink, 20), None, fx=5, fy=5,
                                                             interpolation=cv2.INTER_LINEAR),
    "stretched to fill 64x64": lambda ink, seed: 255 - cv2.resize(ink, (64, 64), interpolation=cv2.INTER_LINEAR),
    "gray paper, JPEG": jpeg_on_gray_paper,
}


def tight_crops(condition, count=104, seed=5):
    """`count` pictures: every style in turn, cut to its ink and brought to the app by `condition`."""
    r = np.random.default_rng(seed)
    for i in range(count):
        style = strokes.STYLES[i % len(strokes.STYLES)]
        yield style, CONDITIONS[condition](cropped_to_ink(strokes.draw_sample(style, r)), i)


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_a_digit_touching_the_border_is_never_no_digit(condition):
    empty = [style.name for style, picture in tight_crops(condition) if preprocess_digit(picture).empty]
    assert empty == []


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_all_of_a_tightly_cropped_digit_is_kept(condition):
    # The box found is (nearly) the whole picture: no stroke dropped as a desk's edge or a ruled line.
    kept_whole = []
    for _, picture in tight_crops(condition):
        result = preprocess_digit(picture)
        height, width = result.raw.shape[:2]  # the picture as read: a tiny one is enlarged first
        kept_whole.append(result.box[2] >= 0.8 * width and result.box[3] >= 0.8 * height)
    assert np.mean(kept_whole) >= 0.9


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_a_tight_crop_read_as_a_number_is_one_digit(condition):
    lengths = [len(segment_digits(picture)) for _, picture in tight_crops(condition, count=52)]
    assert np.mean(np.equal(lengths, 1)) >= 0.95


@pytest.mark.parametrize("condition", ["dark ink on white", "light ink on dark", "small (32 px)", "gray paper, JPEG"])
def test_tight_crops_are_read_right(condition):
    reader = Predictor.load("default")
    right = [read_picture(reader, picture).number == str(style.label) for style, picture in tight_crops(condition)]
    assert np.mean(right) >= 0.9


def test_a_digit_filling_its_whole_picture_is_read():
    # A thick 8 filling a small light-on-dark picture: its ink is most of the picture, the
    # paper only its frame and its loops.
    mask = np.zeros((64, 46), np.uint8)
    cv2.ellipse(mask, (23, 16), (13, 11), 0, 0, 360, 255, 9, cv2.LINE_AA)
    cv2.ellipse(mask, (23, 46), (15, 13), 0, 0, 360, 255, 9, cv2.LINE_AA)
    picture = (30 + mask * 0.8).astype(np.uint8)
    assert (mask > 128).mean() > 0.5
    result = preprocess_digit(picture)
    assert not result.empty and result.box[2] >= 40 and result.box[3] >= 60
    assert read_picture(Predictor.load("default"), picture).number == "8"


@pytest.mark.parametrize("style_name", ["eight", "zero", "four-chair", "nine-hook"])
def test_a_thick_digit_enlarged_to_fill_its_small_picture_is_read(style_name):
    # A felt pen a quarter of the digit's height, cut at its ink, kept 20 px tall and enlarged 5x:
    # hardly a pixel is at the paper's exact level, yet it is a clean picture, not a photo.
    style = strokes.STYLES[strokes.STYLE_NAMES.index(style_name)]
    r = np.random.default_rng(1)
    writer = strokes.Writer(slant_deg=5, aspect=0.6, height_px=100, pen=0.25, speed=0.2, rotation_deg=0)
    ink = cropped_to_ink(strokes.render(strokes.writer_strokes(style, writer, r), 25))
    picture = 255 - cv2.resize(shrunk(ink, 20), None, fx=5, fy=5, interpolation=cv2.INTER_LINEAR)
    assert (picture < 128).mean() > 0.4  # mostly ink
    result = preprocess_digit(picture)
    assert not result.empty
    assert result.box[2] >= 0.8 * picture.shape[1] and result.box[3] >= 0.8 * picture.shape[0]
