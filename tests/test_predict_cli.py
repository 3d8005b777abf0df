"""`python -m digitlab predict` and `realworld` as a user meets them, on pictures made here."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from digitlab import realworld
from digitlab.inference import Predictor


def write_digits(path, text, *, size=(300, 300 * 4)):
    image = np.full((size[0], max(size[1] // 4 * len(text), 300), 3), 255, np.uint8)
    cv2.putText(image, text, (30, size[0] - 60), cv2.FONT_HERSHEY_SIMPLEX, 7, (20, 20, 20), 22)
    cv2.imwrite(str(path), image)
    return path


def run_cli(*args):
    env = {k: v for k, v in os.environ.items() if k != "DIGITLAB_MODELS"}
    return subprocess.run([sys.executable, "-m", "digitlab", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_predict_reads_good_files_and_names_the_bad_one(tmp_path):
    seven = write_digits(tmp_path / "seven.png", "7")
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 255, np.uint8))
    out = run_cli("predict", str(seven), str(bad), str(blank))
    assert out.returncode == 1
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(seven), str(blank)]
    assert lines[0]["digit"] == 7 and len(lines[0]["probabilities"]) == 10
    assert lines[0]["confidence"] == max(lines[0]["probabilities"])
    assert lines[1]["digit"] is None and lines[1]["message"] == "no digit found"
    assert out.stderr.strip() == f"error: {bad}: not an image (unrecognised format)"


def test_predict_number(tmp_path):
    number = write_digits(tmp_path / "year.png", "2024")
    out = run_cli("predict", "--number", str(number))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["number"] == "2024"
    boxes = [d["box"] for d in result["digits"]]
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)


def test_realworld_counts_right_and_wrong(tmp_path):
    write_digits(tmp_path / "a.png", "3")
    write_digits(tmp_path / "b.png", "41")
    (tmp_path / "x.csv").write_text("file,set,label,font,notes\na.png,fonts,3,hershey,\n"
                                    "a.png,fonts,5,hershey,wrong on purpose\nb.png,numbers,41,hershey,\n")
    samples = realworld.load_samples(tmp_path)
    results = realworld.evaluate_sets(Predictor.load("default"), samples)
    assert results["fonts"]["count"] == 2 and results["fonts"]["correct"] == 1
    assert results["fonts"]["errors"][0]["label"] == "5"
    assert results["numbers"]["accuracy"] == 1.0
