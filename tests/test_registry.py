"""Run registry: atomic writes, safe names, broken folders reported, the default run."""

import json

import pytest

from digitlab import presets, registry
from digitlab.architectures import build_model
from digitlab.records import RunRecord

SMALL = presets.get("small").spec


def record(**fields):
    return RunRecord(**{"arch": "small", "spec": SMALL, "status": "complete", "metrics": {"test": {"accuracy": 0.5}},
                        **fields})


@pytest.mark.parametrize("name", ["../evil", "/abs", "a/b", "..", ".hidden", "", "a" * 65, "x\\y", "a..b", "é"])
def test_names_cannot_escape_models(name, models_root):
    with pytest.raises(registry.RegistryError):
        registry.save_run(name, record(), root=models_root)
    assert list(models_root.iterdir()) == []
    assert not (models_root.parent / "evil").exists()


def test_save_load_round_trip_rebuilds_from_spec(models_root):
    model = build_model(SMALL)
    registry.save_run("r1", record(), model)
    assert sorted(p.name for p in (models_root / "r1").iterdir()) == ["model.keras", "run.json"]
    loaded = registry.load_model("r1")
    assert all((a == b).all() for a, b in zip(loaded.get_weights(), model.get_weights()))
    assert json.loads((models_root / "r1" / "run.json").read_text())["name"] == "r1"


def test_rewrite_replaces_atomically_and_leaves_no_temporaries(models_root):
    registry.save_run("r1", record(metrics={"test": {"accuracy": 0.1}}))
    registry.save_run("r1", record(metrics={"test": {"accuracy": 0.9}}))
    assert registry.get_run("r1").test_accuracy == 0.9
    assert [p.name for p in models_root.iterdir()] == ["r1"]


def test_a_failed_write_leaves_the_old_run_intact(models_root):
    registry.save_run("r1", record())

    class Exploding:
        def save(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError):
        registry.save_run("r1", record(status="failed"), Exploding())
    assert registry.get_run("r1").status == "complete"
    assert [p.name for p in models_root.iterdir()] == ["r1"]


def test_broken_folders_are_reported_and_the_rest_listed(models_root):
    registry.save_run("good", record())
    (models_root / "garbage").mkdir()
    (models_root / "garbage" / "run.json").write_text("{not json")
    (models_root / "empty").mkdir()
    runs, errors = registry.list_runs()
    assert [r.name for r in runs] == ["good"]
    assert sorted(name for name, _ in errors) == ["empty", "garbage"]
    assert "unreadable run.json" in dict(errors)["garbage"]


def test_default_set_follows_rename_and_clears_on_delete(models_root):
    registry.save_run("a", record(), build_model(SMALL))
    with pytest.raises(registry.RegistryError, match="no default"):
        registry.get_run("default")
    registry.set_default("a")
    assert registry.get_run("default").name == "a"
    registry.rename_run("a", "b")
    assert registry.default_name() == "b" and registry.get_run("b").record.name == "b"
    registry.delete_run("b")
    assert registry.default_name() is None and registry.list_runs() == ([], [])


def test_a_run_without_a_model_cannot_be_default(models_root):
    registry.save_run("failed", record(status="failed"))
    with pytest.raises(registry.RegistryError, match="no trained model"):
        registry.set_default("failed")
    with pytest.raises(registry.RegistryError, match="no model.keras"):
        registry.load_model("failed")


def test_a_record_with_missing_or_null_fields_reads_with_defaults(models_root):
    folder = models_root / "sparse"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"spec": SMALL.to_dict(), "status": "failed", "metrics": None,
                                                 "history": [], "job": None, "future_field": 1}))
    run = registry.get_run("sparse")
    assert run.record.metrics == {} and run.record.history == {} and run.record.job is None
    assert run.test_accuracy is None and not run.servable and not run.comparable
    assert "failed" in run.skip_reason
    # Keys a later version wrote survive a rewrite by this one.
    registry.write_record("sparse", run.record.replace(error="boom"))
    assert json.loads((folder / "run.json").read_text())["future_field"] == 1


def test_a_record_without_a_valid_spec_is_reported_broken(models_root):
    for name, content in {"nospec": {"status": "complete"}, "badspec": {"spec": {"convs": []}}}.items():
        (models_root / name).mkdir()
        (models_root / name / "run.json").write_text(json.dumps(content))
    runs, errors = registry.list_runs()
    assert runs == [] and sorted(dict(errors)) == ["badspec", "nospec"]
