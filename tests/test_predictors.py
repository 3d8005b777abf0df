"""The server's model pool and the Draw page's per-picture view: each model loaded once, a broken one skipped."""

import os

import numpy as np
import pytest

from digitlab import presets, registry
from digitlab.architectures import build_model
from digitlab.inference import BATCH_SIZES, Predictor
from digitlab.picture_view import picture_view
from digitlab.predictors import ModelUnavailable, PredictorPool
from digitlab.records import RunRecord


def test_each_model_loads_once_and_again_only_when_its_file_changes(tmp_path):
    calls = []
    pool = PredictorPool(load=lambda name: calls.append(name) or f"model {name}")
    paths = {}
    for name in ("a", "b"):
        paths[name] = tmp_path / f"{name}.keras"
        paths[name].write_bytes(b"weights")
    # 40 runs cycled through many times: an LRU of 16 would reload every one each time.
    for _ in range(3):
        assert [pool.get(name, path) for name, path in paths.items()] == ["model a", "model b"]
    assert calls == ["a", "b"]
    stat = paths["a"].stat()
    os.utime(paths["a"], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    pool.get("a", paths["a"])
    assert calls == ["a", "b", "a"]
    pool.forget_except(["b"])  # run a was deleted: its model leaves memory, b stays loaded
    pool.get("b", paths["b"])
    assert calls == ["a", "b", "a"]
    pool.get("a", paths["a"])
    assert calls == ["a", "b", "a", "a"]


def test_a_run_of_the_same_name_in_another_folder_is_another_model(tmp_path):
    # A failure remembered for one models folder must not stand for a copy elsewhere that kept its file time.
    calls = []
    pool = PredictorPool(load=lambda name: calls.append(name) or f"model {name} #{len(calls)}")
    first, second = tmp_path / "one" / "a" / "model.keras", tmp_path / "two" / "a" / "model.keras"
    for path in (first, second):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"weights")
    stat = first.stat()
    os.utime(second, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert pool.get("a", first) == "model a #1"
    assert pool.get("a", second) == "model a #2"
    assert calls == ["a", "a"]


def test_a_broken_model_is_one_line_tried_once(tmp_path):
    calls = []

    def load(name):
        calls.append(name)
        raise OSError("truncated file\nwith a second line")

    pool = PredictorPool(load=load)
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a model")
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match=r"^broken: cannot be loaded \(truncated file with a second line\)$"):
            pool.get("broken", path)
    assert calls == ["broken"]
    with pytest.raises(ModelUnavailable, match="missing"):
        pool.get("gone", tmp_path / "nothing.keras")


def test_warm_up_loads_every_run_once_in_the_background(tmp_path):
    calls = []

    def load(name):
        calls.append(name)
        if name == "broken":
            raise OSError("truncated file")
        return f"model {name}"

    pool = PredictorPool(load=load)
    runs = []
    for name in ("a", "broken", "b"):
        (tmp_path / f"{name}.keras").write_bytes(b"weights")
        runs.append((name, tmp_path / f"{name}.keras"))
    thread = pool.warm_up(name_and_path for name_and_path in runs)  # a generator, as the app passes
    thread.join(timeout=30)
    assert not thread.is_alive() and not thread.daemon  # an exit waits for it rather than cutting TensorFlow off
    assert calls == ["a", "broken", "b"]
    # A drawing after the warm-up loads nothing more; the broken run stays one line, not tried again.
    assert pool.get("a", runs[0][1]) == "model a" and pool.get("b", runs[2][1]) == "model b"
    with pytest.raises(ModelUnavailable, match="truncated file"):
        pool.get("broken", runs[1][1])
    assert calls == ["a", "broken", "b"]


@pytest.fixture
def two_runs(models_root):
    for name in ("one", "two"):
        spec = presets.get("small").spec
        registry.save_run(name, RunRecord(arch="small", spec=spec, status="complete", params=123), build_model(spec))
    broken = models_root / "broken"
    broken.mkdir()
    (broken / "model.keras").write_bytes(b"PK not a zip")
    return models_root


def test_every_model_votes_and_a_broken_one_is_skipped_with_a_note(two_runs):
    pool = PredictorPool()
    active = pool.get("one", two_runs / "one" / "model.keras")
    canvas = np.full((140, 140, 4), 255, np.uint8)
    canvas[30:110, 65:75, :3] = 0  # a 1
    voters = [{"name": name, "path": str(two_runs / name / "model.keras"), "mnist_test_accuracy": None,
               "params": 123} for name in ("broken", "one", "two")]
    view = picture_view(canvas, active, number=False, voters=voters, pool=pool)
    assert [vote.model for vote in view.votes] == ["one (active)", "two"]
    assert len(view.skipped) == 1 and view.skipped[0].startswith("broken: cannot be loaded")
    assert len(view.digits) == 1 and view.reading.number == str(view.digits[0].digit)
    # The active model's vote is its own reading of the same digit.
    assert view.votes[0].reads == view.reading.number
    # The strip: one row of five PNGs; the whole picture's raw steps are not kept beside them.
    assert len(view.steps) == 1 and len(view.steps[0]) == 5
    assert all(step.png.startswith(b"\x89PNG") for step in view.steps[0])
    assert view.digits[0].steps.raw.size == 0 and view.digits[0].steps.image.shape == (28, 28)


def test_batches_are_padded_to_fixed_sizes_with_the_same_answers(two_runs):
    predictor = Predictor.load("one")
    images = np.random.default_rng(0).random((BATCH_SIZES[-1] + 3, 28, 28), dtype=np.float32)
    one_by_one = np.concatenate([predictor.predict(images[i:i + 1]) for i in range(len(images))])
    for count in (2, 3, 5, 17, len(images)):
        np.testing.assert_allclose(predictor.predict(images[:count]), one_by_one[:count], atol=1e-5)
    assert predictor.predict(images[:0]).shape == (0, 10)
