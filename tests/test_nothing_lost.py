"""A failed or unfinished training never costs a stored run, and every stored run can be evaluated."""

import json
import re
import shutil

import pytest

from digitlab import cli, presets, registry
from digitlab.config import TrainConfig
from digitlab.records import RunRecord

REPO_MODELS = registry.models_dir()
PAPER_H = presets.get("paper-h").spec
# Three 9x9 "valid" convolutions, each pooled: 28 -> 20 -> 10 -> 2 -> 1 -> nothing left for the third.
IMPOSSIBLE = PAPER_H.replace(padding="valid", convs=tuple(
    conv.__class__(filters=conv.filters, kernel_size=9, strides=1, pool=True) for conv in PAPER_H.convs))


@pytest.fixture
def reference_copy(models_root):
    """The stored paper-h reference run, copied into an empty models folder."""
    shutil.copytree(REPO_MODELS / "paper-h", models_root / "paper-h")
    return models_root / "paper-h"


def evaluated_accuracy(name, capsys) -> tuple[str, str]:
    """(accuracy re-measured, accuracy in run.json) as `evaluate` prints them."""
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", name]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    measured, stored = re.search(r"accuracy ([\d.]+%|-) \(run.json: ([\d.]+%|-)\)", first).groups()
    return measured, stored


def test_a_failed_retrain_leaves_the_reference_run_and_records_the_failure(reference_copy, capsys):
    before = {p.name: p.read_bytes() for p in reference_copy.iterdir()}
    stored_accuracy = json.loads(before["run.json"])["metrics"]["test"]["accuracy"]

    status = cli.main(["train", "--arch", "paper-h", "--name", "paper-h", "--epochs", "1",
                       "--spec-json", json.dumps(IMPOSSIBLE.to_dict())])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("error: training paper-h failed (ValueError")

    assert {p.name: p.read_bytes() for p in reference_copy.iterdir() if p.name != "failures.json"} == before
    (failure,) = registry.read_failures("paper-h")
    assert failure["message"].startswith("ValueError") and "--spec-json" in failure["command"]
    measured, recorded = evaluated_accuracy("paper-h", capsys)
    assert measured == recorded == f"{100 * stored_accuracy:.2f}%"


def test_evaluate_reads_an_interrupted_job_without_metrics(reference_copy, capsys):
    record = json.loads((reference_copy / "run.json").read_text())
    for key in ("data", "metrics"):  # a job's record before its final evaluation
        record.pop(key)
    registry.save_run("job", RunRecord.from_dict({**record, "status": "interrupted"}))
    shutil.copy(reference_copy / "model.keras", registry.run_path("job") / "model.keras")
    measured, recorded = evaluated_accuracy("job", capsys)
    assert recorded == "-" and measured == evaluated_accuracy("paper-h", capsys)[0]


def test_a_failure_under_a_new_name_is_stored_as_a_failed_run(models_root):
    from digitlab import training

    config = TrainConfig(protocol="full", epochs=1, train_size=100, precision="float32")
    with pytest.raises(ValueError):
        training.train_run(RunRecord.new("fresh", "paper-h", IMPOSSIBLE, config, command="test"))
    run = registry.get_run("fresh")
    assert run.status == "failed" and run.record.error.startswith("ValueError")
    assert not run.model_path.exists() and len(registry.read_failures("fresh")) == 1


def test_a_stopped_retrain_does_not_replace_a_complete_run(reference_copy):
    import threading

    from digitlab import training

    before = (reference_copy / "model.keras").read_bytes()
    stop = threading.Event()
    stop.set()  # pressed before the first batch
    config = TrainConfig(protocol="full", epochs=1, train_size=200, precision="float32")
    record = RunRecord.new("paper-h", "small", presets.get("small").spec, config, command="test")
    with pytest.raises(registry.RegistryError, match="was kept"):
        training.train_run(record, stop_event=stop)
    assert (reference_copy / "model.keras").read_bytes() == before
    assert registry.get_run("paper-h").status == "complete"
    assert "stopped" in registry.read_failures("paper-h")[0]["message"]


def test_a_job_failing_late_keeps_its_best_checkpoint(reference_copy, monkeypatch):
    """A job's folder holds its best epoch so far; a failure in the final evaluation must not take it."""
    from digitlab import training
    from digitlab.records import JobInfo

    config = TrainConfig(protocol="full", epochs=1, train_size=200, precision="float32")
    job = RunRecord.new("job", "small", presets.get("small").spec, config, command="test", job=JobInfo())
    registry.save_run("job", job)
    checkpoint = (reference_copy / "model.keras").read_bytes()  # stands for the job's best epoch so far
    (registry.run_path("job") / "model.keras").write_bytes(checkpoint)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(training, "evaluate", disk_full)
    with pytest.raises(OSError):
        training.train_run(job)
    assert (registry.run_path("job") / "model.keras").read_bytes() == checkpoint
    assert registry.read_failures("job")[0]["message"].startswith("OSError")
    assert registry.get_run("job").status == "running"  # the worker marks it failed, keeping the checkpoint
