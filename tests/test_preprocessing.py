"""From canvases and photos to MNIST-style 28×28 pictures: one digit, several digits, and blank input."""

import dataclasses
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from digitlab.imageio import read_image
from digitlab.preprocessing import Preprocessed, preprocess_digit, segment_digits

# Strokes of hand-drawn digits in a unit box, as a pen would draw them on the canvas.
STROKES = {
    "2": [[(0.1, 0.25), (0.3, 0.05), (0.7, 0.05), (0.9, 0.25), (0.85, 0.45), (0.1, 0.95), (0.95, 0.95)]],
    "4": [[(0.7, 0.95), (0.7, 0.05), (0.05, 0.65), (0.95, 0.65)]],
    "5": [
        [(0.3, 0.0), (0.9, 0.0)],  # the bar, drawn apart from the rest
        [(0.2, 0.17), (0.15, 0.45), (0.6, 0.4), (0.9, 0.6), (0.85, 0.85), (0.5, 0.97), (0.1, 0.85)],
    ],
    "7": [[(0.05, 0.05), (0.95, 0.05), (0.4, 0.95)]],
}


def ink_mask(digit="7", *, size=400, left=100, top=100, height=200, pen=16):
    """(size, size) uint8 255 where a pen drew `digit` in a box `height` tall (and 0.7 of it wide) at (left, top)."""
    mask = np.zeros((size, size), np.uint8)
    for stroke in STROKES[digit]:
        points = np.array([(left + x * 0.7 * height, top + y * height) for x, y in stroke], np.int32)
        cv2.polylines(mask, [points], False, 255, pen, cv2.LINE_AA)
    return mask


def canvas(mask):
    """The canvas's RGBA: white strokes on transparent paper, their anti-aliasing in alpha."""
    white = np.full_like(mask, 255)
    return np.dstack([white, white, white, mask])


def paper(mask, *, ink=0, sheet=255):
    """Opaque RGBA: ink of gray level `ink` on paper of level `sheet`."""
    gray = (sheet + (ink - sheet) * (mask / 255.0) + 0.5).astype(np.uint8)
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])


def photo(mask, *, seed=0):
    """RGBA as read back from a JPEG photo: dark blue ink on cream paper, lit from one corner, noisy."""
    height, width = mask.shape
    rows, columns = np.mgrid[0:height, 0:width] / max(height, width)
    light = 0.5 + 0.5 * columns * (0.6 + 0.4 * rows)
    coverage = (mask / 255.0)[..., None]
    rgb = (np.array([235, 225, 190]) * (1 - coverage) + np.array([40, 45, 80]) * coverage) * light[..., None]
    rgb += np.random.default_rng(seed).normal(0, 6, rgb.shape)
    jpeg = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(jpeg, "JPEG", quality=70)
    return read_image(jpeg.getvalue(), name="photo.jpg")


def text_mask(text, *, size=(200, 600), origin=(40, 150), scale=4.0, thickness=12):
    mask = np.zeros(size, np.uint8)
    cv2.putText(mask, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
    return mask


def centre_of_mass(image):
    moments = cv2.moments(image)
    return moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]


def correlation(first, second):
    return float(np.corrcoef(first.ravel(), second.ravel())[0, 1])


def test_every_step_has_its_shape_and_type():
    drawing = canvas(ink_mask("7"))
    result = preprocess_digit(drawing)
    assert not result.empty
    assert result.raw.shape == (400, 400, 4) and result.raw.dtype == np.uint8
    assert result.gray.shape == (400, 400) and result.gray.dtype == np.uint8
    x, y, w, h = result.box
    assert 80 <= x < 120 and 80 <= y < 120 and 120 <= w <= 170 and 190 <= h <= 225
    assert result.cropped.shape == (h, w) and result.cropped.dtype == np.uint8
    assert max(result.scaled.shape) == 20 and result.scaled.dtype == np.uint8
    assert result.image.shape == (28, 28) and result.image.dtype == np.float32
    assert result.image.min() == 0 and result.image.max() == pytest.approx(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.empty = True


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_digit_is_20_px_tall_and_centred_by_mass(digit):
    image = preprocess_digit(canvas(ink_mask(digit))).image
    x, y = centre_of_mass(image)
    assert abs(x - 14) <= 1 and abs(y - 14) <= 1
    rows, columns = np.nonzero(image > 0.05)
    assert 19 <= max(np.ptp(rows), np.ptp(columns)) + 1 <= 21


@pytest.mark.parametrize("text", list("0123456789"))
def test_font_digits_are_centred(text):
    image = preprocess_digit(canvas(text_mask(text, size=(300, 300), origin=(70, 230), scale=6))).image
    x, y = centre_of_mass(image)
    assert abs(x - 14) <= 1 and abs(y - 14) <= 1


def test_position_and_size_on_the_canvas_do_not_matter():
    centre = preprocess_digit(canvas(ink_mask("2", left=130, top=100))).image
    corner = preprocess_digit(canvas(ink_mask("2", left=3, top=262, height=135, pen=11))).image
    assert correlation(centre, corner) > 0.95


def test_dark_on_light_and_light_on_dark_read_the_same():
    mask = ink_mask("4")
    reference = preprocess_digit(canvas(mask)).image
    for rgba in (paper(mask, ink=0, sheet=255), paper(mask, ink=255, sheet=0), paper(mask, ink=30, sheet=110)):
        assert correlation(preprocess_digit(rgba).image, reference) > 0.98


def test_dark_ink_on_a_transparent_png_is_ink():
    mask = ink_mask("4")
    black_on_alpha = np.dstack([np.zeros_like(mask)] * 3 + [mask])
    reference = preprocess_digit(canvas(mask)).image
    assert correlation(preprocess_digit(black_on_alpha).image, reference) > 0.98


def test_grayscale_and_rgb_arrays_are_accepted_and_other_arrays_refused():
    mask = ink_mask("7")
    reference = preprocess_digit(canvas(mask)).image
    assert np.allclose(preprocess_digit(mask).image, reference, atol=0.02)
    assert np.allclose(preprocess_digit(np.dstack([mask] * 3)).image, reference, atol=0.02)
    for wrong in (mask.astype(np.float32), np.zeros((4, 4, 2), np.uint8), np.zeros((0, 5), np.uint8)):
        with pytest.raises(ValueError):
            preprocess_digit(wrong)


def test_thin_canvas_strokes_are_thickened_towards_mnist_pen():
    thin = preprocess_digit(canvas(ink_mask("7", pen=4))).image
    thick = preprocess_digit(canvas(ink_mask("7", pen=24))).image
    # Ink per digit pixel in MNIST is about 0.13 of the 28×28 frame; a 4 px pen on a 200 px digit
    # would give a third of that unthickened.
    assert 0.7 < thin.sum() / thick.sum() < 1.4
    assert correlation(thin, thick) > 0.9


def test_a_photo_reads_like_a_clean_drawing():
    mask = ink_mask("2", size=480, left=150, top=120, pen=14)
    result = preprocess_digit(photo(mask))
    reference = preprocess_digit(canvas(mask))
    assert not result.empty
    assert correlation(result.image, reference.image) > 0.9
    near_ink = cv2.dilate((reference.image > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert result.image[~near_ink].max(initial=0) < 0.05
    x, y, w, h = result.box
    outside = result.gray.copy()
    outside[y : y + h, x : x + w] = 0
    assert np.count_nonzero(outside) == 0  # no specks of paper texture or noise left
    assert abs(x - reference.box[0]) <= 4 and abs(w - reference.box[2]) <= 8


def test_bits_of_line_and_dirt_away_from_a_photographed_digit_are_not_part_of_it():
    # Short dashes (the stubs of a ruled line the cleaning misses) and a smudge far from the
    # digit used to stretch its box, so the digit shrank to a dot in the 28x28 picture.
    mask = ink_mask("2", size=480, left=200, top=150, height=120, pen=10)
    reference = preprocess_digit(photo(mask))
    cv2.line(mask, (20, 40), (70, 42), 255, 5)
    cv2.line(mask, (400, 440), (460, 438), 255, 5)
    cv2.circle(mask, (440, 60), 6, 255, -1)
    result = preprocess_digit(photo(mask))
    assert result.box == reference.box
    assert correlation(result.image, reference.image) > 0.95


def test_a_photographed_digit_read_as_a_number_is_one_digit_despite_hairlines_and_stubs():
    # The sheet's edge as a hairline beside the digit, and a line's stub high above it, were
    # read as extra 1s ("3111") when the Draw page read an upload as a number.
    mask = ink_mask("7", size=480, left=150, top=150, height=150, pen=14)
    cv2.line(mask, (330, 160), (340, 290), 255, 2)
    cv2.line(mask, (60, 30), (110, 31), 255, 5)
    digits = segment_digits(photo(mask))
    assert len(digits) == 1
    assert abs(digits[0].box[0] - 150) <= 10 and digits[0].box[2] < 130


def test_a_photographed_number_keeps_all_its_digits():
    digits = segment_digits(photo(text_mask("2024", size=(300, 700), origin=(60, 200))))
    assert len(digits) == 4


def test_a_photographed_five_keeps_its_detached_bar():
    mask = ink_mask("5", size=480, left=150, top=120, pen=14)
    result = preprocess_digit(photo(mask))
    reference = preprocess_digit(canvas(mask))
    assert abs(result.box[1] - reference.box[1]) <= 4  # the bar is the digit's top
    assert correlation(result.image, reference.image) > 0.9


def test_light_chalk_on_a_dark_board_photo_reads_the_same():
    mask = ink_mask("4", size=480, left=150, top=120, pen=14)
    board = 255 - photo(mask)
    board[..., 3] = 255
    reference = preprocess_digit(canvas(mask)).image
    assert correlation(preprocess_digit(board).image, reference) > 0.9


@pytest.mark.parametrize(
    "blank",
    [
        np.zeros((400, 400, 4), np.uint8),  # an untouched transparent canvas
        np.full((400, 400, 4), 255, np.uint8),  # an untouched white canvas
        paper(np.zeros((400, 400), np.uint8), sheet=90),  # a gray one
    ],
)
def test_blank_canvas_is_empty(blank):
    result = preprocess_digit(blank)
    assert result.empty
    assert result.image.shape == (28, 28) and not result.image.any()
    assert result.box == (0, 0, 0, 0) and result.cropped.size == 0 and result.scaled.size == 0
    assert segment_digits(blank) == []


def test_a_few_stray_pixels_are_empty():
    strays = np.zeros((400, 400, 4), np.uint8)
    strays[[30, 200, 371], [340, 15, 260]] = 255
    assert preprocess_digit(strays).empty
    assert segment_digits(strays) == []


def test_a_photo_of_blank_paper_is_empty():
    blank_photo = photo(np.zeros((480, 640), np.uint8), seed=1)
    assert preprocess_digit(blank_photo).empty
    assert segment_digits(blank_photo) == []


def test_specks_beside_a_digit_are_dropped():
    mask = ink_mask("7")
    clean = preprocess_digit(canvas(mask))
    mask[[20, 380, 390], [380, 20, 390]] = 255
    specked = preprocess_digit(canvas(mask))
    assert specked.box == clean.box
    assert np.array_equal(specked.image, clean.image)


def test_2024_is_four_digits_left_to_right():
    digits = segment_digits(canvas(text_mask("2024")))
    assert len(digits) == 4
    lefts = [digit.box[0] for digit in digits]
    assert lefts == sorted(lefts) and len(set(lefts)) == 4
    for digit in digits:
        assert not digit.empty and digit.image.shape == (28, 28)
        x, y = centre_of_mass(digit.image)
        assert abs(x - 14) <= 1 and abs(y - 14) <= 1
    for before, after in zip(digits, digits[1:]):
        assert before.box[0] + before.box[2] <= after.box[0] + 2  # boxes side by side


def test_each_segmented_digit_reads_like_the_digit_alone():
    row = text_mask("2024")
    zero = segment_digits(canvas(row))[1]
    x, _, w, _ = zero.box
    alone = np.zeros_like(row)
    alone[:, x - 3 : x + w + 3] = row[:, x - 3 : x + w + 3]
    assert correlation(zero.image, preprocess_digit(canvas(alone)).image) > 0.98


def test_a_five_with_a_detached_bar_is_one_digit():
    mask = ink_mask("5")
    count, _ = cv2.connectedComponents((mask > 0).astype(np.uint8))
    assert count - 1 == 2  # the bar really is apart
    digits = segment_digits(canvas(mask))
    assert len(digits) == 1
    assert digits[0].box == preprocess_digit(canvas(mask)).box


def test_a_dot_between_digits_is_not_a_digit():
    mask = np.maximum(ink_mask("7", size=500, left=40), ink_mask("2", size=500, left=300))
    cv2.circle(mask, (250, 290), 9, 255, -1)
    digits = segment_digits(canvas(mask))
    assert len(digits) == 2
    assert digits[0].box[0] < 200 < digits[1].box[0]


def test_touching_digits_are_cut_apart():
    mask = np.zeros((300, 500), np.uint8)
    cv2.ellipse(mask, (130, 150), (50, 75), 0, 0, 360, 255, 14)
    cv2.ellipse(mask, (230, 150), (50, 75), 0, 0, 360, 255, 14)
    cv2.line(mask, (360, 75), (360, 225), 255, 14)
    count, _ = cv2.connectedComponents(mask)
    assert count - 1 == 2  # the two zeros touch
    digits = segment_digits(canvas(mask))
    assert len(digits) == 3
    assert abs(digits[0].box[0] + digits[0].box[2] - 180) <= 8  # cut where the zeros meet
    assert correlation(digits[0].image, digits[1].image) > 0.8


def test_a_wide_single_digit_is_not_cut():
    mask = np.zeros((300, 500), np.uint8)
    cv2.ellipse(mask, (250, 150), (120, 75), 0, 0, 360, 255, 14)  # a zero wider than tall
    assert len(segment_digits(canvas(mask))) == 1


def test_a_number_in_a_photo_is_segmented():
    digits = segment_digits(photo(text_mask("2024", size=(240, 640), origin=(40, 170)), seed=2))
    assert [digit.box[0] for digit in digits] == sorted(digit.box[0] for digit in digits)
    assert len(digits) == 4


def test_segmented_digits_share_the_input_and_keep_only_their_own_ink():
    drawing = canvas(text_mask("2024"))
    digits = segment_digits(drawing)
    for digit in digits:
        assert isinstance(digit, Preprocessed)
        assert digit.raw is digits[0].raw and digit.gray is digits[0].gray
        x, y, w, h = digit.box
        assert digit.cropped.shape == (h, w)
        assert np.all(digit.cropped <= digit.gray[y : y + h, x : x + w])


def sheet_photo(mask, *, ruled=0, grid=0, margin=None, desk=0, tilt=0.0, seed=0):
    """RGBA as read back from a JPEG phone photo of a sheet: dark blue ink written over the paper's marks.

    `ruled`: px between light blue ruled lines; `grid`: px between the squares' lines; `margin`:
    the column of a red margin line; `desk`: px of dark wooden desk along the right-hand edge.
    Lines are `tilt` px higher at the right-hand end than at the left.
    """
    height, width = mask.shape
    marks = np.zeros((height, width), np.uint8)
    red = np.zeros((height, width), np.uint8)
    for step in (ruled, grid):
        for y in range(step // 2, height, step) if step else ():
            cv2.line(marks, (0, y), (width - 1, round(y - tilt)), 255, 2, cv2.LINE_AA)
    for x in range(grid // 2, width, grid) if grid else ():
        cv2.line(marks, (x, 0), (x, height - 1), 255, 2, cv2.LINE_AA)
    if margin is not None:
        cv2.line(red, (margin, 0), (margin + round(tilt), height - 1), 255, 3, cv2.LINE_AA)
    rows, columns = np.mgrid[0:height, 0:width] / max(height, width)
    light = 0.6 + 0.4 * columns * (0.6 + 0.4 * rows)
    rgb = np.ones((height, width, 3)) * np.array([240, 235, 215])
    for layer, colour in ((marks, (150, 175, 215)), (red, (225, 90, 100)), (mask, (40, 45, 90))):
        coverage = (layer / 255.0)[..., None]
        rgb = rgb * (1 - coverage) + np.array(colour) * coverage
    if desk:
        rgb[:, width - desk :] = (70, 50, 35)
    rgb = rgb * light[..., None] + np.random.default_rng(seed).normal(0, 5, rgb.shape)
    jpeg = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(jpeg, "JPEG", quality=75)
    return read_image(jpeg.getvalue(), name="sheet.jpg")


def test_a_number_on_ruled_paper_with_a_margin_is_its_digits_only():
    mask = text_mask("3517", size=(480, 640), origin=(110, 300), thickness=10)
    alone = segment_digits(canvas(mask))
    for tilt in (0, 6):
        digits = segment_digits(sheet_photo(mask, ruled=34, margin=70, tilt=tilt, seed=tilt))
        assert len(digits) == 4
        lefts = [digit.box[0] for digit in digits]
        assert lefts == sorted(lefts)
        for digit, clean in zip(digits, alone):
            x, y, w, h = digit.box
            assert all(abs(a - b) <= 4 for a, b in zip(digit.box, clean.box))  # no piece of a line
            assert correlation(digit.image, clean.image) > 0.85
        x, y, w, h = digits[0].box
        outside = digits[0].gray.copy()
        outside[y - 2 :, :] = 0  # above the digits: nothing but ruled lines on the sheet
        assert np.count_nonzero(outside) == 0


def test_a_digit_on_squared_paper_reads_like_on_plain_paper():
    mask = ink_mask("2", size=480, left=150, top=120, pen=10)
    result = preprocess_digit(sheet_photo(mask, grid=32))
    plain = preprocess_digit(sheet_photo(mask))
    assert correlation(result.image, plain.image) > 0.9
    near_ink = cv2.dilate((plain.image > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert result.image[~near_ink].max(initial=0) < 0.05
    assert all(abs(a - b) <= 4 for a, b in zip(result.box, plain.box))


@pytest.mark.parametrize("sheet", [dict(desk=120), dict(desk=100, ruled=36, margin=60)])
def test_a_desk_beside_the_sheet_is_not_ink(sheet):
    mask = np.pad(ink_mask("7", size=480, left=120, top=120, pen=10), ((0, 0), (0, 160)))
    result = preprocess_digit(sheet_photo(mask, **sheet))
    reference = preprocess_digit(canvas(mask))
    assert all(abs(a - b) <= 4 for a, b in zip(result.box, reference.box))
    assert correlation(result.image, reference.image) > 0.9
    digits = segment_digits(sheet_photo(mask, **sheet))
    assert len(digits) == 1 and digits[0].box == result.box


def test_a_long_stroke_drawn_on_a_canvas_stays_ink():
    mask = np.zeros((400, 400), np.uint8)
    cv2.line(mask, (200, 2), (200, 397), 255, 6)  # a "1" drawn thin across the whole canvas
    result = preprocess_digit(canvas(mask))
    assert not result.empty and result.box[3] >= 395
    assert len(segment_digits(canvas(mask))) == 1
