"""Real writers' pen traces (UCI pendigits) as training digits: the data, the drawing and the mixing."""

import numpy as np
import pytest

from digitlab import pentraces, strokes
from digitlab.config import TrainConfig, training_images
from digitlab.data import Split


def test_both_writer_parts_load_with_uci_sizes():
    train_points, train_labels = pentraces.load("train")
    test_points, test_labels = pentraces.load("test")
    # UCI's split: 7,494 traces by 30 writers to train on, 3,498 by 14 others to measure on.
    assert train_points.shape == (7494, 8, 2) and test_points.shape == (3498, 8, 2)
    assert set(train_labels) == set(range(10)) and set(test_labels) == set(range(10))
    assert train_points.min() >= 0 and train_points.max() <= 100
    # No trace is in both parts.
    train_rows = {tuple(row) for row in np.c_[train_points.reshape(-1, 16), train_labels]}
    assert not any(tuple(row) in train_rows for row in np.c_[test_points.reshape(-1, 16), test_labels])
    with pytest.raises(ValueError):
        pentraces.load("../other")


def test_a_trace_becomes_one_smooth_path_of_unit_height_the_right_way_up():
    # A vertical stroke drawn downwards: y falls in pendigits' coordinates (y up), rises in ours (y down).
    points = np.array([[50, 100], [50, 86], [50, 71], [50, 57], [50, 43], [50, 29], [50, 14], [50, 0]], float)
    (path,) = pentraces.trace_strokes(points)
    assert path.shape[1] == 2 and len(path) > 8 * 4
    assert path[0, 1] == pytest.approx(0) and path[-1, 1] == pytest.approx(1)
    assert np.ptp(path[:, 0]) == pytest.approx(0, abs=1e-9)
    # A wide trace keeps its proportions: width over height as the writer drew it.
    wide = np.array([[0, 50], [20, 60], [40, 50], [60, 40], [80, 50], [100, 60], [100, 50], [90, 40]], float)
    (path,) = pentraces.trace_strokes(wide)
    assert np.ptp(path[:, 0]) / np.ptp(path[:, 1]) == pytest.approx(5, rel=0.3)


def test_drawn_traces_are_normalised_digits_of_the_kept_labels_and_repeat_with_their_seed():
    images, labels = pentraces.make_traces(60, seed=5)
    again, again_labels = pentraces.make_traces(60, seed=5)
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(labels, again_labels)
    assert set(labels) <= set(pentraces.LABELS) and 5 not in labels and 7 not in labels
    # Every picture holds a digit's worth of ink, centred like MNIST's.
    assert (images.reshape(60, -1).max(axis=1) > 200).all()
    ink = images.astype(float).sum(axis=(1, 2))
    assert (ink > 20 * 255).all() and (ink < 250 * 255).all()


@pytest.fixture(scope="module")
def held_out_traces():
    """Every test writer's trace, drawn once for the whole module (some 2,800 renders)."""
    return pentraces.each_trace("test", pentraces.HELD_OUT_SEED)


def test_the_default_model_reads_most_test_writers_traces(held_out_traces):
    # Measured: python -m tests.realistic.pen_traces (the stored default, trained without traces,
    # reads 85.96 %: ones 56 %, fours 70 %, nines 73 %, the digits Semeion's writers lose it on too).
    from digitlab.inference import Predictor

    images, labels = held_out_traces
    assert len(labels) == int(np.isin(pentraces.load("test")[1], pentraces.LABELS).sum())
    reads = Predictor.load("default").predict(images.astype(np.float32) / 255).argmax(axis=1)
    assert (reads == labels).mean() >= 0.85
    # digitlab-traces, taught the 30 training writers' traces, reads the 14 others' at 97.43 %.
    reads = Predictor.load("digitlab-traces").predict(images.astype(np.float32) / 255).argmax(axis=1)
    assert (reads == labels).mean() >= 0.96


def test_coarse_scanned_traces_read_as_semeions_scans_do(held_out_traces):
    # Semeion's scans are coarse (16x16, thresholded); through that same acquisition the test
    # writers' traces read at 96.1 % with digitlab-traces, nines 89.3 % (python -m
    # tests.realistic.pen_traces), near Semeion's 89.9 %. The run before the added nine styles read
    # these nines at 91.4 % and Semeion's at 86.7 %: our own data did not show what Semeion's
    # writers do with a nine. The default's own weakness shows in both (nines 68.8 %).
    from digitlab import realworld
    from digitlab.inference import Predictor
    from tests.realistic.filled_numbers import coarse_scan

    images, labels = held_out_traces
    scanned = np.stack([coarse_scan(image) for image in images])
    traces = realworld.evaluate_pictures(Predictor.load("digitlab-traces"), scanned, labels)
    default = realworld.evaluate_pictures(Predictor.load("default"), scanned, labels)
    assert traces["accuracy"] >= 0.95 and traces["per_digit"][9] >= 0.88
    assert default["per_digit"][9] <= 0.75 and traces["accuracy"] >= default["accuracy"] + 0.08


def test_training_on_some_writers_traces_reads_other_writers_better(held_out_traces):
    # The point of the knob: a small network trained on 3,000 MNIST digits reads the 14 test
    # writers' traces far better with the 30 training writers' traces mixed in.
    from digitlab import data, training
    from digitlab.architectures import ArchSpec, ConvSpec

    spec = ArchSpec(convs=(ConvSpec(16), ConvSpec(32)), dense_units=(64,))
    config = TrainConfig(protocol="full", epochs=3, batch_size=64, train_size=3000, precision="float32")
    split = data.load_split("full", train_size=3000)
    images, labels = held_out_traces
    images, labels = images[::3].astype(np.float32)[..., None] / 255, labels[::3]
    read = {}
    for share in (0.0, 0.25):
        model = training.train(spec, config, pentraces.with_traces(split, share, seed=0)).model
        read[share] = float((model.predict(images, verbose=0).argmax(axis=1) == labels).mean())
    assert read[0.25] >= read[0.0] + 0.15, read


def test_with_traces_adds_the_share_to_training_only():
    x = np.zeros((90, 28, 28, 1), np.float32)
    y = np.arange(90) % 10
    split = Split(protocol="full", x_train=x, y_train=y, x_val=x[:10], y_val=y[:10], x_test=x[:20], y_test=y[:20])
    mixed = pentraces.with_traces(split, 0.1, seed=0)
    assert len(mixed.y_train) == 90 + strokes.styles_count(90, 0.1) == 100
    assert mixed.x_train.shape[1:] == (28, 28, 1) and mixed.x_train[90:].max() > 0.5
    assert set(mixed.y_train[90:]) <= set(pentraces.LABELS)
    assert mixed.x_val is split.x_val and mixed.x_test is split.x_test
    assert pentraces.with_traces(split, 0.0, seed=0) is split


def test_the_traces_share_is_a_checked_config_knob_counted_in_an_epoch():
    with pytest.raises(ValueError, match="traces share"):
        TrainConfig(traces_share=0.6)
    base = TrainConfig(train_size=1000, styles_share=0.1)
    assert training_images(base.replace(traces_share=0.1)) - training_images(base) == strokes.styles_count(
        1000 + strokes.styles_count(1000, 0.1), 0.1)


def test_realworld_reports_the_test_writers_pen_digits_per_digit(tmp_path, capsys):
    # Read as pictures, as the Draw page reads one drawn digit: the same figures as the traces
    # above (python -m tests.realistic.pen_traces), now beside Semeion and optdigits.
    import json

    import cv2

    from digitlab.cli import main

    picture = np.full((100, 100), 255, np.uint8)
    cv2.line(picture, (50, 10), (50, 90), 0, 8)
    cv2.imwrite(str(tmp_path / "one.png"), picture)
    (tmp_path / "manifest.csv").write_text("file,set,label,font,notes\none.png,canvas,1,,\n")
    argv = ["realworld", "--dir", str(tmp_path), "--leave-out", "semeion", "optdigits"]
    assert main([*argv, "--models", "digitlab", "digitlab-traces", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    default, traces = report["digitlab"]["pendigits"], report["digitlab-traces"]["pendigits"]
    assert default["count"] == traces["count"] == int(np.isin(pentraces.load("test")[1], pentraces.LABELS).sum())
    assert default["per_digit"][5] is None and default["per_digit"][7] is None  # never drawn from traces
    assert 0.85 <= default["accuracy"] <= 0.87 and traces["accuracy"] >= 0.96
    assert default["per_digit"][1] < 0.7 and traces["per_digit"][1] >= 0.9  # the ones with a flag, as 7s
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert f"| reader | canvas (1) | pendigits ({default['count']}) |" in table
    assert "pendigits' test writers per digit" in table and "pendigits' test writers' commonest misreadings" in table
