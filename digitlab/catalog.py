"""What the Models page shows: a row per stored run, the broken folders, and one run's full details."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitlab import comparison, registry
from digitlab.records import ACTIVE_STATUSES

def summary(run: registry.RunInfo) -> dict:
    """One run in one flat row for the Models table: what it is, how it ended, how well it reads."""
    record = run.record
    return {
        "name": run.name,
        "default": run.default,
        "status": run.status,
        "origin": record.origin,
        "arch": record.arch,
        "test_accuracy": record.test_accuracy,
        "mnist_test_accuracy": record.mnist_test_accuracy,
        "outside_writers_accuracy": record.outside_writers_accuracy,
        "params": record.params,
        "epochs_run": record.epochs_run,
        "train_time_s": record.train_time_s,
        "failures": len(registry.read_failures(run.name, root=run.path.parent)),
        "servable": run.servable,
        "error": record.error,
    }


def catalog(*, root: Path | None = None) -> tuple[list[dict], list[tuple[str, str]]]:
    """Every stored run as a `summary` row (default first, then by name), and (folder, error) of the broken ones."""
    runs, broken = registry.list_runs(root=root)
    rows = sorted((summary(run) for run in runs), key=lambda row: (not row["default"], row["name"]))
    return rows, broken


@dataclass(frozen=True)
class RunDetails:
    """Everything the Models page's details view shows about one run."""

    name: str
    status: str
    origin: str  # "trained" or "uploaded"
    default: bool
    servable: bool
    error: str | None
    description: str
    spec: dict | None  # None for an uploaded model: its model.keras is its architecture
    config: dict | None
    command: str | None
    upload: dict | None
    created: str | None
    test_accuracy: float | None
    test_count: int | None
    mnist_test_accuracy: float | None
    outside_writers_accuracy: float | None  # pendigits' test writers' pen digits (realworld.outside_writers_report)
    params: int | None
    model_path: Path | None  # None when the run has no model file
    model_bytes: int
    history: dict[str, list[float]] = field(default_factory=dict)
    confusion_matrix: np.ndarray | None = None  # (10, 10) int64 of the test set, rows true digit
    per_class: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)

    @property
    def download_name(self) -> str:
        return f"{self.name}.keras"


def details(name: str, *, root: Path | None = None) -> RunDetails:
    """The full details of stored run `name`; raises RegistryError if it is missing or unreadable."""
    run = registry.get_run(name, root=root)
    record = run.record
    test = record.report("test")
    matrix = test.get("confusion_matrix")
    model_path = run.model_path if run.model_path.is_file() else None
    return RunDetails(
        name=run.name, status=run.status, origin=record.origin, default=run.default, servable=run.servable,
        error=record.error,
        description=record.spec.description if record.spec else "an uploaded Keras model" if record.uploaded else "",
        spec=record.spec.to_dict() if record.spec else None, config=record.config.to_dict() if record.config else None,
        command=record.command or None, upload=record.upload, created=record.created,
        test_accuracy=record.test_accuracy, test_count=test.get("count"), mnist_test_accuracy=record.mnist_test_accuracy,
        outside_writers_accuracy=record.outside_writers_accuracy, params=record.params, model_path=model_path, model_bytes=model_path.stat().st_size if model_path else 0,
        history=comparison.scalar_history(record),
        confusion_matrix=np.asarray(matrix, dtype=np.int64) if matrix is not None else None,
        per_class=list(test.get("per_class") or []),
        failures=registry.read_failures(run.name, root=root),
    )


def layer_rows(model) -> list[dict]:
    """The layers of a Keras model, nested models flattened: name, kind, output shape, parameters."""
    rows = []
    for layer in model.layers:
        if hasattr(layer, "layers"):  # a model inside the model (an upload wrapped to take 28x28x1)
            rows.extend(layer_rows(layer))
            continue
        try:
            shape = str(tuple(layer.output.shape[1:]))
        except (AttributeError, ValueError):  # a layer never called on its own has no single output
            shape = ""
        rows.append({"layer": layer.name, "kind": type(layer).__name__, "output": shape,
                     "parameters": int(layer.count_params())})
    return rows


def _refuse_active_job(name: str, status: str | None, action: str) -> None:
    if status in ACTIVE_STATUSES:  # a worker owns the folder: moving it would break the job
        raise registry.RegistryError(f"{name} is a {status} training job: stop or remove it on the Train page "
                                     f"before you {action} it")


def rename_run(old: str, new: str, *, root: Path | None = None) -> str:
    """Rename stored run `old` to `new` (kept as default if it was); returns the new name.

    Refuses a bad or taken name, and a job still queued or training (its worker writes in the folder).
    """
    new = new.strip()
    if new == old:
        raise registry.RegistryError(f"{old} already has that name")
    registry.validate_name(new)
    _refuse_active_job(old, registry.get_run(old, root=root).status, "rename")
    registry.rename_run(old, new, root=root)
    return new


def delete_run(name: str, *, root: Path | None = None) -> None:
    """Delete stored run `name`, or a broken run folder; refuses a job still queued or training."""
    try:
        status = registry.get_run(name, root=root).status
    except registry.RegistryError:
        status = None  # a broken folder (no readable run.json): no worker writes in it
    _refuse_active_job(name, status, "delete")
    registry.delete_run(name, root=root)
