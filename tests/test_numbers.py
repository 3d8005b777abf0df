"""Numbers read as numbers: marks are no digit, wide single digits stay whole, digits apart or touching are counted right."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from digitlab import counting, preprocessing, strokes
from digitlab.imageio import read_image
from digitlab.inference import Predictor, read_picture
from digitlab.preprocessing import MAX_DIGITS, is_mark, segment_digits


@pytest.fixture(scope="module")
def reader():
    return Predictor.load("default")


def read_number(reader, picture):
    return read_picture(reader, picture, number=True).number


@pytest.mark.parametrize("kind", ["dash", "dot", "line"])
def test_a_mark_is_no_digit_and_no_number(reader, kind):
    r = np.random.default_rng(21)
    for _ in range(25):
        picture = strokes.draw_mark(kind, r)
        assert read_number(reader, picture) is None
        assert read_picture(reader, picture).empty  # nor a single digit


def test_a_dash_drawn_on_a_canvas_is_no_number(reader):
    # The case: a dash read as the 31-digit number "1101011110...".
    canvas = np.zeros((280, 280, 4), np.uint8)
    cv2.line(canvas, (40, 140), (240, 146), (255, 255, 255, 255), 14, cv2.LINE_AA)
    assert read_number(reader, canvas) is None


def test_a_1_is_not_taken_for_a_mark():
    r = np.random.default_rng(4)
    ones = [strokes.draw_sample(style, r) for style in strokes.styles_of(1) for _ in range(10)]
    assert not any(is_mark(one) for one in ones)


def test_no_picture_reads_as_more_than_twelve_digits(reader):
    r = np.random.default_rng(5)
    long_row = strokes.draw_number("31415926535897", r, gap=0.6)  # 14 digits written apart
    assert segment_digits(long_row) == []
    assert read_number(reader, long_row) is None
    hatching = np.zeros((120, 800), np.uint8)
    for x in range(10, 790, 18):
        cv2.line(hatching, (x, 10), (x + 8, 110), 255, 3)
    assert len(read_number(reader, hatching) or "") <= MAX_DIGITS


def test_a_twelve_digit_number_is_still_read(reader):
    picture = strokes.draw_number("123456789012", np.random.default_rng(6), gap=0.6)
    assert len(read_number(reader, picture)) == 12


def test_wide_single_digits_are_never_split(reader):
    r = np.random.default_rng(7)
    lengths = []
    for _ in range(60):
        picture = strokes.draw_wide(int(r.integers(10)), r)
        lengths.append(len(read_number(reader, picture) or ""))
    assert lengths == [1] * 60


def test_single_digits_read_as_numbers_stay_one_digit(reader):
    r = np.random.default_rng(8)
    read = []
    for style in strokes.STYLES:
        for _ in range(4):
            read.append(read_number(reader, strokes.draw_sample(style, r)) == str(style.label))
    assert np.mean(read) >= 0.95


def numbers_read_right(reader, digits, gap, count, seed):
    r = np.random.default_rng(seed)
    right = []
    for _ in range(count):
        number = "".join(str(d) for d in r.integers(0, 10, digits))
        right.append(read_number(reader, strokes.draw_number(number, r, gap=float(r.uniform(*gap)))) == number)
    return float(np.mean(right))


def test_three_digits_written_apart_read_right(reader):
    assert numbers_read_right(reader, 3, (0.25, 0.8), 60, seed=9) >= 0.9


def test_two_touching_digits_read_right(reader):
    # Measured with the counter: 80 % (width rules alone: 56 %).
    assert numbers_read_right(reader, 2, (-0.08, 0.03), 60, seed=10) >= 0.7


def test_overlapping_digits_are_parted_at_further_cuts_read_with_certainty(reader, monkeypatch):
    # 150 touching or overlapping pairs: 132 read right, 125 with the thinnest few cuts only.
    with_more = numbers_read_right(reader, 2, (-0.08, 0.03), 150, seed=21)
    monkeypatch.setattr(preprocessing, "MORE_CUTS", 0)
    thinnest_only = numbers_read_right(reader, 2, (-0.08, 0.03), 150, seed=21)
    assert with_more >= 0.85 and with_more - thinnest_only >= 4 / 150


def test_three_touching_digits_are_cut_in_three_where_the_counter_sees_three(reader, monkeypatch):
    # 100 touching triples: 77 read right, 51 with only the three-part cut of the thinnest columns.
    with_pairs_of_cuts = numbers_read_right(reader, 3, (-0.08, 0.03), 100, seed=22)
    monkeypatch.setattr(preprocessing, "MORE_TRIPLES", 0)
    without = numbers_read_right(reader, 3, (-0.08, 0.03), 100, seed=22)
    assert with_pairs_of_cuts >= 0.7 and with_pairs_of_cuts - without >= 0.15


def test_the_stored_counter_is_what_its_record_says():
    record = json.loads((counting.FOLDER / counting.RECORD_FILE).read_text())
    counter = counting.Counter.load()
    x, y = counting.make_pieces(600, record["held_out"]["seed"])
    accuracy = float((counter.counts_inputs(x).argmax(axis=1) == y).mean())
    # Pieces from the seed of its record (600 of them, not its 3,000): within sampling error of its figure.
    assert accuracy == pytest.approx(record["held_out"]["accuracy"], abs=0.03)
    assert record["held_out"]["accuracy"] >= 0.95


def test_the_counter_tells_a_wide_0_from_00():
    r = np.random.default_rng(12)
    counter = counting.Counter.load()
    wide_zeros = [strokes.draw_wide(0, r) for _ in range(20)]
    double_zeros = [strokes.draw_number("00", r, gap=-0.05) for _ in range(20)]
    counts = counter.counts(wide_zeros + double_zeros).argmax(axis=1)
    assert (counts[:20] == 1).mean() >= 0.9 and (counts[20:] == 2).mean() >= 0.9


def test_the_labels_of_touching_digits_do_not_cover_each_other():
    from digitlab.charts import _overlap, annotate_digits, label_tabs

    touching = [(40, 60, 70, 120), (90, 58, 80, 122), (150, 60, 70, 120)]  # each box overlaps the next
    tabs = label_tabs(touching, [(80, 20)] * 3, height=240)
    assert not any(_overlap(a, b) for i, a in enumerate(tabs) for b in tabs[i + 1:])
    assert tabs[0][3] <= 60 and tabs[1][1] >= 58 + 122 and tabs[2][3] <= 60  # above, below, above
    apart = [(10, 60, 50, 120), (200, 60, 50, 120)]
    assert all(bottom <= 60 for _, _, _, bottom in label_tabs(apart, [(80, 20)] * 2, height=240))
    assert label_tabs([(230, 60, 20, 120)], [(80, 20)], height=240, width=260)[0][2] <= 260  # kept inside the picture
    picture = annotate_digits(np.full((240, 260, 4), 255, np.uint8), touching, ["4 100%", "2 100%", "7 99%"])
    assert picture.shape == (480, 520, 3)  # enlarged twice: labels stay readable without covering the digits


def test_a_small_picture_is_annotated_enlarged_its_labels_beside_its_digits():
    from digitlab.charts import ANNOTATED_MIN_SIDE, annotate_digits

    small = np.full((32, 64, 4), 255, np.uint8)  # "11" in a thumbnail, as read: two bars 8 px high
    small[12:20, 13:16, :3] = 0
    small[12:20, 45:48, :3] = 0
    picture = annotate_digits(small, [(13, 12, 3, 8), (45, 12, 3, 8)], ["1 100%", "1 100%"])
    assert picture.shape == (160, 320, 3) and max(picture.shape[:2]) >= ANNOTATED_MIN_SIDE  # 5x
    for left in (13, 45):  # each digit's middle is still its own black ink, not under a label
        assert (picture[16 * 5, left * 5 + 7] == 0).all()


def test_the_filled_numbers_measure_builds_its_three_sets():
    from tests.realistic.filled_numbers import coarse_scan, filled_sets

    sets = filled_sets(6)
    assert len(sets) == 3 and all(len(pictures) == len(labels) == 6 for pictures, labels in sets.values())
    scan = coarse_scan(np.pad(np.full((20, 8), 255, np.uint8), 4))  # a thin bar stretched to a solid square
    assert scan.shape == (64, 64) and set(np.unique(scan)) <= {0, 255} and (scan == 0).mean() > 0.9


def test_join_pieces_holds_both_pieces_ink_in_their_joint_box():
    picture = np.zeros((40, 60), np.uint8)
    picture[5:35, 10:14] = 255  # a stem ...
    picture[12:27, 22:26] = 255  # ... and a shorter one beside it, not sharing its columns
    left, right = segment_digits(picture, split=False)
    joined = preprocessing.join_pieces(left, right)
    assert joined.box == (10, 5, 16, 30)
    assert np.count_nonzero(joined.cropped) == np.count_nonzero(left.cropped) + np.count_nonzero(right.cropped)
    assert joined.image.shape == (28, 28) and joined.image.dtype == np.float32


def test_a_one_broken_into_pieces_by_a_coarse_scan_reads_as_one_digit(reader):
    # Two of 300 held-out generated ones, stretched to 16x16 and thresholded, come apart into
    # side-by-side pieces; before pieces were joined they read "117" and "111".
    from tests.realistic.filled_numbers import coarse_scan

    styles, labels, _ = strokes.make_styles(300, strokes.HELD_OUT_SEED)
    for index in (170, 285):
        picture = coarse_scan(styles[index])
        assert labels[index] == 1 and len(segment_digits(picture, split=False)) >= 2
        assert read_number(reader, picture) == "1"


def test_a_picture_filled_edge_to_edge_and_near_square_is_one_digit():
    stem = np.zeros((60, 50), np.uint8)
    stem[:, 20:30] = 255
    stem[0:10, 0:30] = 255  # a one's flag reaching the left edge ...
    stem[50:60, 0:50] = 255  # ... and its base reaching both
    assert preprocessing.fills_its_frame(segment_digits(stem, split=False))
    assert not preprocessing.fills_its_frame(segment_digits(np.pad(stem, 12), split=False))  # margins: written on paper
    pair = np.hstack([stem, np.zeros((60, 10), np.uint8), stem])  # "11" cropped tight: wider than tall
    assert not preprocessing.fills_its_frame(segment_digits(pair, split=False))


def test_digits_filling_their_box_are_read_as_one_digit_each(reader):
    # Held-out generated digits through Semeion's documented acquisition (stretched to fill
    # 16x16, thresholded, enlarged): the counter alone read 8 % of such pictures as several digits.
    from tests.realistic.filled_numbers import coarse_scan

    styles, labels, _ = strokes.make_styles(200, strokes.HELD_OUT_SEED)
    numbers = [read_number(reader, coarse_scan(image)) for image in styles]
    assert all(number is not None and len(number) == 1 for number in numbers)
    assert np.mean([number == str(label) for number, label in zip(numbers, labels)]) >= 0.95


def test_digits_written_close_stay_apart(reader):
    # A digit beside a small one (the 6 and 2 ending "85362") must not be joined into one.
    picture = read_image(Path(__file__).parent / "realistic" / "numbers" / "num_051_85362.jpg")
    assert read_number(reader, picture) == "85362"
    assert numbers_read_right(reader, 2, (0.04, 0.12), 40, seed=31) >= 0.9
