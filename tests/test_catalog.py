"""The Models page's data: rows, broken folders, one run's details; rename and delete refuse running jobs."""

import keras
import numpy as np
import pytest

from digitlab import catalog, presets, registry
from digitlab.architectures import build_model
from digitlab.config import TrainConfig
from digitlab.records import RunRecord

SMALL = presets.get("small").spec


def trained(**fields):
    matrix = (np.eye(10, dtype=int) * 90 + 1).tolist()
    test = {"accuracy": 0.9, "count": 1000, "confusion_matrix": matrix,
            "per_class": [{"label": d, "precision": 0.9, "recall": 0.9, "f1": 0.9, "support": 100} for d in range(10)]}
    return RunRecord(**{
        "arch": "small", "spec": SMALL, "config": TrainConfig(epochs=2), "status": "complete",
        "command": "python -m digitlab train --arch small --name r", "params": 1234,
        "history": {"accuracy": [0.5, 0.8], "val_accuracy": [0.6, 0.85], "val_confusion_matrix": [[[1]]]},
        "metrics": {"test": test, "mnist_test": {"accuracy": 0.9}}, **fields})


def test_rows_put_the_default_first_and_list_broken_folders(models_root):
    model = build_model(SMALL)
    registry.save_run("a", trained(), model)
    registry.save_run("b", trained(), model)
    registry.save_run("failed", trained(status="failed", error="ValueError: boom", metrics={}))
    (models_root / "junk").mkdir()
    registry.set_default("b")
    registry.record_failure("a", "ValueError: once")
    rows, broken = catalog.catalog()
    assert [r["name"] for r in rows] == ["b", "a", "failed"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["a"]["failures"] == 1 and by_name["a"]["servable"] and not by_name["failed"]["servable"]
    assert by_name["failed"]["error"] == "ValueError: boom" and by_name["failed"]["test_accuracy"] is None
    assert [name for name, _ in broken] == ["junk"]


def test_details_of_a_trained_run(models_root):
    registry.save_run("r", trained(), build_model(SMALL))
    registry.record_failure("r", "ValueError: once", "python -m digitlab train --arch small --name r")
    run = catalog.details("r")
    assert run.servable and run.origin == "trained" and run.spec["convs"][0]["filters"] == 16
    assert run.history == {"accuracy": [0.5, 0.8], "val_accuracy": [0.6, 0.85]}  # matrices are not curves
    assert run.confusion_matrix.shape == (10, 10) and run.confusion_matrix[3, 3] == 91
    assert len(run.per_class) == 10 and run.failures[0]["message"] == "ValueError: once"
    assert run.model_bytes == (models_root / "r" / "model.keras").stat().st_size and run.download_name == "r.keras"


def test_details_of_a_run_without_results(models_root):
    registry.save_run("queued", RunRecord(arch="small", spec=SMALL, status="queued"))
    run = catalog.details("queued")
    assert not run.servable and run.model_path is None and run.confusion_matrix is None and run.history == {}


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_job_in_progress_is_neither_renamed_nor_deleted(models_root, status):
    registry.save_run("job", RunRecord(arch="small", spec=SMALL, status=status))
    for action in (lambda: catalog.rename_run("job", "moved"), lambda: catalog.delete_run("job")):
        with pytest.raises(registry.RegistryError, match="Train page"):
            action()
    assert [p.name for p in models_root.iterdir()] == ["job"]


def test_rename_and_delete(models_root):
    registry.save_run("r", trained(), build_model(SMALL))
    assert catalog.rename_run("r", "  s ") == "s"
    with pytest.raises(registry.RegistryError):
        catalog.rename_run("s", "s")
    with pytest.raises(registry.RegistryError):
        catalog.rename_run("s", "../t")
    (models_root / "broken").mkdir()
    (models_root / "broken" / "run.json").write_text("{not json")
    catalog.delete_run("broken")
    catalog.delete_run("s")
    assert list(models_root.iterdir()) == []


def test_layer_rows_flatten_a_wrapped_model():
    inner = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    images = keras.Input((28, 28, 1))
    outer = keras.Model(images, keras.layers.Softmax()(inner(keras.layers.Reshape((28, 28))(images))))
    rows = catalog.layer_rows(outer)
    assert [r["kind"] for r in rows] == ["InputLayer", "Reshape", "Flatten", "Dense", "Softmax"]
    assert sum(r["parameters"] for r in rows) == 28 * 28 * 10 + 10
