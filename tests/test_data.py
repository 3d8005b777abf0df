"""Data protocols: sizes, stratification, and a clear message when MNIST is missing."""

import subprocess
import sys

import numpy as np
import pytest

from digitlab import data


def test_paper_h_sizes_and_order():
    split = data.load_split("paper-h")
    assert split.sizes() == {"train": 55_000, "validation": 5_000, "test": 10_000}
    x_train, y_train, _, _ = data.load_mnist()
    assert split.y_val[:10].tolist() == y_train[:10].tolist()  # validation = first 5,000
    assert split.x_train.dtype == np.float32 and split.x_train.shape[1:] == (28, 28, 1)
    assert 0.0 <= split.x_train.min() and split.x_train.max() == 1.0


def test_paper_s_sizes_are_the_papers_and_stratified():
    split = data.load_split("paper-s")
    assert split.sizes()["train"] + split.sizes()["validation"] == data.PAPER_S_TRAIN
    assert split.sizes()["test"] == data.PAPER_S_TEST
    _, _, _, y_test = data.load_mnist()
    share_full = np.bincount(y_test, minlength=10) / len(y_test)
    share_subset = np.bincount(split.y_test, minlength=10) / len(split.y_test)
    assert np.abs(share_full - share_subset).max() < 0.001
    again = data.load_split("paper-s")
    assert np.array_equal(split.y_train, again.y_train)  # fixed seed: same subset every time


def test_train_size_subset():
    split = data.load_split("full", train_size=500, seed=3)
    assert split.sizes()["train"] == 500
    # The validation part shrinks with it, as planned_sizes (used for time estimates) says.
    assert split.sizes() == data.planned_sizes("full", 500) == {"train": 500, "validation": 1000, "test": 10000}
    assert data.planned_sizes("paper-h", None) == data.load_split("paper-h").sizes()
    assert np.bincount(split.y_train, minlength=10).min() >= 40


def test_all_trains_on_every_training_image_and_reports_fulls_validation_slice():
    full, every = data.load_split("full"), data.load_split("all")
    assert every.sizes() == data.planned_sizes("all") == {"train": 60_000, "validation": 6_000, "test": 10_000}
    x_train, _, _, _ = data.load_mnist()
    assert np.array_equal(every.x_train, data.to_model_input(x_train))  # nothing held out, order kept
    assert np.array_equal(every.x_val, full.x_val) and np.array_equal(every.y_val, full.y_val)
    assert "all" not in data.CLASSROOM_PROTOCOLS  # the Train page offers only protocols that hold images out


def test_all_refuses_to_choose_an_epoch_by_images_it_trained_on():
    from digitlab.config import TrainConfig

    with pytest.raises(ValueError, match="no-restore-best"):
        TrainConfig(protocol="all")
    with pytest.raises(ValueError, match="patience"):
        TrainConfig(protocol="all", restore_best=False, early_stopping=3)
    assert TrainConfig(protocol="all", restore_best=False).protocol == "all"


def test_stratified_indices_exact_count_and_unique():
    labels = np.repeat(np.arange(3), [5, 3, 2])
    idx = data.stratified_indices(labels, 7, seed=0)
    assert len(idx) == len(set(idx.tolist())) == 7
    assert np.bincount(labels[idx]).tolist() in ([4, 2, 1], [3, 2, 2], [4, 1, 2], [3, 3, 1])


def test_unknown_protocol():
    with pytest.raises(ValueError, match="unknown protocol"):
        data.load_split("nope")


def test_missing_file_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITLAB_MNIST", str(tmp_path / "absent.npz"))
    with pytest.raises(data.DataUnavailableError, match="MNIST file not found"):
        data.load_mnist()


def test_cli_without_data_prints_one_line_and_no_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DIGITLAB_MODELS": str(tmp_path / "m"),
           "KERAS_HOME": str(tmp_path / "keras"), "DIGITLAB_MNIST": str(tmp_path / "absent.npz")}
    out = subprocess.run([sys.executable, "-m", "digitlab", "train", "--arch", "small", "--epochs", "1"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert "error: MNIST file not found" in out.stderr
