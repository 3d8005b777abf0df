"""Exports to ONNX and LiteRT read 1,000 MNIST test digits as the stored model does, through their own runtimes."""

import re
import shutil

import keras
import numpy as np
import pytest

from digitlab import cli, data, exports, registry, uploads

REPO_MODELS = registry.models_dir()


@pytest.fixture
def paper_h(models_root):
    """The stored Paper H run (convolutions, BatchNorm, dropout), copied into an empty models folder."""
    shutil.copytree(REPO_MODELS / "paper-h", models_root / "paper-h")
    return "paper-h"


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_the_command_line_exports_a_run_that_reads_as_the_original(fmt, paper_h, tmp_path, capsys):
    out = tmp_path / f"paper-h.{fmt}"
    assert cli.main(["export", "--model", paper_h, "--format", fmt, "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    difference = float(re.search(r"max probability difference ([\d.e+-]+)", line).group(1))
    assert difference <= 1e-4 and "same digit for 1,000/1,000" in line, line

    # Read back independently of export_run: the runtime on the file against the Keras model.
    images = data.mnist_test_set()[0][:1000]
    expected = np.asarray(registry.load_model(paper_h)(images, training=False))
    got = exports.READERS[fmt](out, images)
    assert got.shape == (1000, 10) and np.abs(got - expected).max() <= 1e-4
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_uploaded_model_exports_too(models_root, tmp_path):
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
                              keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "logits.keras")
    uploads.upload_model((tmp_path / "logits.keras").read_bytes(), "logits.keras")  # wrapped: Reshape + Softmax
    for fmt in exports.FORMATS:  # a Sequential model, which tf2onnx's from_keras cannot convert
        result = exports.export_run("logits", fmt, tmp_path / f"logits.{fmt}")
        assert result.max_difference <= 1e-4 and result.same_digit == 1000


def test_an_export_that_reads_differently_is_not_kept(paper_h, tmp_path, monkeypatch):
    out = tmp_path / "paper-h.onnx"
    out.write_bytes(b"the previous export")
    reader = exports.READERS["onnx"]
    monkeypatch.setitem(exports.READERS, "onnx", lambda path, images: reader(path, images) + 1e-3)
    with pytest.raises(exports.ExportError, match="does not read as the stored model"):
        exports.export_run(paper_h, "onnx", out)
    assert out.read_bytes() == b"the previous export" and sorted(p.name for p in tmp_path.iterdir()) == ["models",
                                                                                                        "paper-h.onnx"]


def test_bad_export_requests_get_one_line(paper_h, tmp_path, capsys):
    for argv in (["--model", "missing", "--format", "onnx", "--out", str(tmp_path / "x.onnx")],
                 ["--model", paper_h, "--format", "onnx", "--out", str(tmp_path / "no" / "such" / "x.onnx")],
                 ["--model", paper_h, "--format", "tflite", "--out", str(tmp_path)]):
        assert cli.main(["export", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), err
