"""optdigits, 8x8 digits by 13 writers outside the project, and small pictures in general: read, not reduced to a "1"."""

import cv2
import numpy as np
import pytest

from digitlab import realworld, strokes
from digitlab.data import REALISTIC_SETS
from digitlab.inference import Predictor, read_picture
from digitlab.preprocessing import SMALL_SIDE, preprocess_digit
from tests.realistic.tiny_pictures import optdigits_like


@pytest.fixture(scope="module")
def optdigits():
    return realworld.load_optdigits(REALISTIC_SETS)


def test_optdigits_comes_as_8x8_gray_pictures(optdigits):
    pictures, labels = optdigits
    assert pictures.shape == (1797, 8, 8) and pictures.dtype == np.uint8
    assert pictures.min() == 0 and pictures.max() == 255  # full counts are black ink on white paper
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


# What the default model reads of optdigits (README, `python -m digitlab realworld`): it must not fall below.
OPTDIGITS_BAR = 0.94
OPTDIGITS_DIGIT_BAR = 0.84


def test_the_default_model_reads_optdigits_at_the_bar_we_report(optdigits):
    result = realworld.evaluate_pictures(Predictor.load("default"), *optdigits)
    assert result["accuracy"] >= OPTDIGITS_BAR
    assert min(result["per_digit"]) >= OPTDIGITS_DIGIT_BAR, result["per_digit"]


def test_tiny_pictures_are_read_as_their_digit_not_as_a_stub():
    # Generated styles (own data, seed 3) made into 8x8 counts. Thresholds made for strokes a few
    # pixels wide used to drop the faint edges of such strokes and read most of them as a "1".
    images, labels, _ = strokes.make_styles(300, seed=3)
    pictures = np.stack([optdigits_like(image) for image in images])
    reads = Predictor.load("default").predict(np.stack([preprocess_digit(p).image for p in pictures])).argmax(1)
    assert (reads == labels).mean() >= 0.9  # 0.66, a third of them "1", before
    assert (reads[labels != 1] == 1).mean() <= 0.05


def test_a_small_picture_is_read_enlarged_and_its_boxes_are_in_its_own_pixels():
    picture = np.full((12, 24), 255, np.uint8)  # "11" in a 24x12 thumbnail
    picture[2:10, 5:7] = 0
    picture[2:10, 17:19] = 0
    steps = preprocess_digit(picture)
    assert max(steps.raw.shape[:2]) >= SMALL_SIDE and steps.scale == pytest.approx(64 / 24)
    reading = read_picture(Predictor.load("default"), picture, number=True)
    assert reading.number == "11"
    boxes = [digit.to_json()["box"] for digit in reading.digits]
    assert [box[0] for box in boxes] == pytest.approx([5, 17], abs=1)
    assert [box[3] for box in boxes] == pytest.approx([8, 8], abs=1)


def test_read_as_numbers_a_split_digit_is_an_error_and_counted():
    pictures = np.full((2, 64, 64), 255, np.uint8)
    pictures[0, 10:54, 30:36] = 0  # a 1
    pictures[1, 10:54, 8:14] = 0  # two 1s far apart: one picture, read as "11"
    pictures[1, 10:54, 50:56] = 0
    result = realworld.evaluate_pictures(Predictor.load("default"), pictures, np.array([1, 1]), as_numbers=True)
    assert result["correct"] == 1 and result["several_digits"] == 1
    assert result["errors"] == [{"index": 1, "label": 1, "read": "11"}]

def test_realworld_reports_optdigits_per_digit_and_can_leave_it_out(tmp_path, capsys):
    import gzip
    import json

    from digitlab.cli import main

    rows = [[0] * 64 + [label] for label in (1, 7)]
    for row in rows:  # a vertical bar of full counts: a 1 (and a 7 that reads as one)
        for y in range(1, 7):
            row[8 * y + 4] = 16
    (tmp_path / "optdigits").mkdir()
    with gzip.open(tmp_path / "optdigits" / "optdigits-test.csv.gz", "wt") as f:
        f.write("\n".join(",".join(map(str, row)) for row in rows) + "\n")
    picture = np.full((100, 100), 255, np.uint8)
    cv2.line(picture, (50, 10), (50, 90), 0, 8)
    cv2.imwrite(str(tmp_path / "one.png"), picture)
    (tmp_path / "manifest.csv").write_text("file,set,label,font,notes\none.png,canvas,1,,\n")
    assert main(["realworld", "--dir", str(tmp_path), "--leave-out", "semeion", "pendigits", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["digitlab"]["optdigits"]
    assert result["count"] == 2 and result["correct"] == 1 and result["errors"][0]["label"] == 7
    assert main(["realworld", "--dir", str(tmp_path), "--leave-out", "semeion", "pendigits"]) == 0
    table = capsys.readouterr().out
    assert "| reader | canvas (1) | optdigits (2) |" in table and "optdigits per digit" in table
    assert "optdigits' commonest misreadings" in table and "7 -> 1 (1)" in table
    assert main(["realworld", "--dir", str(tmp_path), "--leave-out", "semeion", "pendigits", "--as-numbers", "--json"]) == 0
    as_numbers = json.loads(capsys.readouterr().out)["digitlab"]["optdigits"]  # as the Draw page reads by default
    assert as_numbers["correct"] == 1 and as_numbers["several_digits"] == 0
    assert main(["realworld", "--dir", str(tmp_path), "--leave-out", "semeion", "pendigits", "optdigits", "--json"]) == 0
    assert "optdigits" not in json.loads(capsys.readouterr().out)["digitlab"]


def test_outside_rows_put_each_run_on_each_set_and_digit_in_percent():
    scores = {"a": {"optdigits": {"accuracy": 0.5, "per_digit": [1.0, 0.0] + [None] * 8}},
              "b": {"optdigits": {"accuracy": 0.25, "per_digit": [0.5] * 10},
                    "semeion": {"accuracy": 1.0, "per_digit": [1.0] * 10}}}
    summary, per_digit = realworld.outside_rows(scores)
    assert summary == [{"run": "a", "optdigits": 50.0}, {"run": "b", "optdigits": 25.0, "semeion": 100.0}]
    assert per_digit["optdigits"][0] == {"run": "a", "0": 100.0, "1": 0.0}  # digits it holds none of are left blank
    assert per_digit["optdigits"][1]["9"] == 50.0 and [row["run"] for row in per_digit["semeion"]] == ["b"]
