"""The registry stays inside models/ whatever the name, refuses reserved names and cleans what killed writes left."""

import json
import os
import time

import pytest

from digitlab import presets, registry
from digitlab.architectures import build_model
from digitlab.records import RunRecord

SMALL = presets.get("small").spec


def record(**fields):
    return RunRecord(**{"arch": "small", "spec": SMALL, "status": "complete", "metrics": {"test": {"accuracy": 0.5}},
                        **fields})


@pytest.mark.parametrize("name", ["abc\n", "abc\r", "DEFAULT", "default", "Default", " abc", "abc ", "a\x00b"])
def test_a_trailing_newline_or_a_reserved_name_is_refused_and_makes_nothing(name, models_root):
    with pytest.raises(registry.RegistryError):
        registry.save_run(name, record(), root=models_root)
    with pytest.raises(registry.RegistryError):
        registry.create_run(name, record(), root=models_root)
    assert list(models_root.iterdir()) == []


def test_a_run_cannot_be_renamed_out_of_models_or_onto_the_default_file(models_root, tmp_path):
    registry.save_run("a", record(), build_model(SMALL))
    registry.set_default("a")
    for target in ("../escaped", "..", "/tmp/escaped", "DEFAULT", "default", "a/b"):
        with pytest.raises(registry.RegistryError):
            registry.rename_run("a", target)
    assert sorted(p.name for p in models_root.iterdir()) == ["DEFAULT", "a"]
    assert not (tmp_path / "escaped").exists() and registry.default_name() == "a"


def test_a_symlink_pointing_outside_is_never_followed(models_root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "run.json").write_text('{"spec": null, "status": "complete"}')
    (outside / "model.keras").write_text("precious")
    (models_root / "evil").symlink_to(outside, target_is_directory=True)
    registry.save_run("good", record())

    for operation in (lambda: registry.get_run("evil"), lambda: registry.load_model("evil"),
                      lambda: registry.delete_run("evil"), lambda: registry.rename_run("evil", "taken"),
                      lambda: registry.rename_run("good", "evil"), lambda: registry.save_run("evil", record()),
                      lambda: registry.set_default("evil"), lambda: registry.record_failure("evil", "x")):
        with pytest.raises(registry.RegistryError):
            operation()
    runs, errors = registry.list_runs()
    assert [r.name for r in runs] == ["good"] and [name for name, _ in errors] == ["evil"]
    assert sorted(p.name for p in outside.iterdir()) == ["model.keras", "run.json"]
    assert (outside / "model.keras").read_text() == "precious"
    (models_root / "DEFAULT").write_text("evil\n")  # a hand-edited DEFAULT naming it serves nothing
    assert registry.default_name() is None


def test_a_run_without_spec_lists_only_when_uploaded(models_root):
    registry.save_run("uploaded", record(spec=None, origin="uploaded"))
    registry.save_run("specless", record(spec=None))
    assert "origin" not in json.loads((models_root / "specless" / "run.json").read_text())  # a trained run's layout
    runs, errors = registry.list_runs()
    assert [r.name for r in runs] == ["uploaded"] and [name for name, _ in errors] == ["specless"]


def test_leftovers_of_killed_writes_are_cleaned_but_a_write_in_progress_is_not(models_root):
    registry.save_run("r1", record())
    old = time.time() - 2 * registry.LEFTOVER_AGE_S
    leftovers = [models_root / ".tmp-r2-abc123", models_root / ".trash-r1-1a2b3c4d", models_root / ".tmp-DEFAULT-99",
                 models_root / ".DEFAULT.0badf00d.tmp",
                 models_root / "r1" / ".run.json.1a2b3c4d.tmp.json", models_root / "r1" / ".model.keras.5e6f7a8b.tmp.keras"]
    leftovers[0].mkdir()
    (leftovers[0] / "run.json").write_text("{}")
    leftovers[1].mkdir()
    for path in leftovers[2:]:
        path.write_text("half")
    in_progress = models_root / ".tmp-r3-fresh"
    in_progress.mkdir()
    lock = models_root / ".jobs.lock"  # the job manager's, held as long as the server runs
    lock.write_text("")
    os.utime(lock, (old, old))
    for path in leftovers:
        os.utime(path, (old, old))

    removed = registry.clean_leftovers()
    assert sorted(removed) == sorted(str(p.relative_to(models_root)) for p in leftovers)
    assert not any(p.exists() for p in leftovers) and in_progress.is_dir() and lock.is_file()
    assert sorted(p.name for p in (models_root / "r1").iterdir()) == ["run.json"]
    assert registry.get_run("r1").status == "complete"


def test_failures_are_recorded_beside_a_run_without_touching_it(models_root):
    registry.save_run("r1", record())
    before = (models_root / "r1" / "run.json").read_bytes()
    registry.record_failure("r1", "ValueError: boom", "python -m digitlab train --arch small --name r1")
    registry.record_failure("r1", "OSError: disk full")
    failures = registry.read_failures("r1")
    assert [f["message"] for f in failures] == ["ValueError: boom", "OSError: disk full"]
    assert failures[0]["command"].endswith("--name r1") and failures[0]["time"].endswith("Z")
    assert (models_root / "r1" / "run.json").read_bytes() == before
    assert registry.read_failures("nothing-here") == []
