"""The reference runs committed in models/: listed, reproducible commands, accuracies re-checked."""

import io
import json
import subprocess
import sys
import zipfile

import h5py
import pytest

from digitlab import data, realworld, registry, training
from digitlab import presets

REFERENCE_RUNS = presets.reference_runs()

REPO_MODELS = registry.models_dir()


@pytest.fixture(autouse=True)
def repo_models(monkeypatch):
    monkeypatch.delenv("DIGITLAB_MODELS", raising=False)


def test_models_json_lists_the_references_and_a_default():
    out = subprocess.run([sys.executable, "-m", "digitlab", "models", "--json"], capture_output=True, text=True,
                         timeout=300, env={k: v for k, v in __import__("os").environ.items() if k != "DIGITLAB_MODELS"})
    assert out.returncode == 0, out.stderr
    listed = {run["name"]: run for run in json.loads(out.stdout)}
    assert set(REFERENCE_RUNS) <= set(listed)
    assert sum(run["default"] for run in listed.values()) == 1
    for name in REFERENCE_RUNS:
        assert listed[name]["status"] == "complete"
        assert listed[name]["path"].endswith(f"{name}/model.keras")


@pytest.mark.parametrize("name", list(REFERENCE_RUNS))
def test_reference_record_says_how_it_was_made(name):
    record = registry.read_record(name)
    assert record.command == "python -m digitlab " + " ".join(presets.reference_runs()[name])
    assert record.arch == name and record.seed == record.config.seed
    assert record.data["protocol"] == record.config.protocol
    assert len(record.curve("val_accuracy")) == record.epochs_run
    assert {"tensorflow", "keras"} <= set(record.versions)


@pytest.mark.parametrize("name", list(REFERENCE_RUNS))
def test_stored_model_has_no_optimizer_state(name):
    with zipfile.ZipFile(REPO_MODELS / name / "model.keras") as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        assert "optimizer" not in weights


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REFERENCE_RUNS))
def test_stored_accuracy_is_what_the_model_scores(name):
    run = registry.get_run(name)
    model = registry.load_model(name)
    split = data.load_split(run.record.protocol)
    test = training.evaluate(model, split.x_test, split.y_test)
    # oneDNN may sum in another order than when the run was stored: allow 3 images in 10,000.
    assert test["accuracy"] == pytest.approx(run.record.test_accuracy, abs=3e-4)
    if run.record.protocol == "paper-s":
        mnist = training.evaluate(model, *data.mnist_test_set())
        assert mnist["accuracy"] == pytest.approx(run.record.mnist_test_accuracy, abs=3e-4)
    # The pen digits of writers outside MNIST (recorded by `evaluate --record-outside`): 2 in 2,799.
    pen = realworld.outside_writers_report(lambda images: training.predict_probabilities(model, images))
    assert pen["accuracy"] == pytest.approx(run.record.outside_writers_accuracy, abs=2 / 2799)


def test_reference_accuracies_are_what_these_networks_reach_on_mnist():
    # Paper H reports 99.40 %: its network with the schedule of the codelab it comes from
    # reaches 99.3 %; with the knobs the paper states we measure 98.9-99.2 % (README).
    assert registry.get_run("paper-h").test_accuracy >= 0.993
    assert registry.get_run("paper-h-stated").test_accuracy >= 0.985
    # Paper S's networks on 28x28 MNIST: every depth reads at least 97 % of its test digits.
    for name in ("paper-s-1", "paper-s-2", "paper-s-3", "paper-s-4"):
        assert registry.get_run(name).test_accuracy >= 0.97, name


def test_the_default_reads_at_least_99_6_percent_of_mnist():
    # Issue 13 asks 99.6 %. The stored run (the preset's seed-0 command) reads 99.63 %; three pilot
    # seeds of its recipe read 99.60-99.64 % (README, "Boxed styles and live dense units"). Another
    # test re-reads the stored model to check the recorded figure.
    default = registry.get_run("default")
    assert default.name == "digitlab"
    assert default.record.mnist_test_accuracy >= 0.996


def test_the_default_was_trained_with_the_styles_boxes_and_bending_its_preset_names():
    # `reproduce` retrains digitlab with its preset, so the stored run must say it mixed in that share.
    from digitlab import strokes

    record = registry.read_record("digitlab")
    share = presets.get("digitlab").config.styles_share
    assert share > 0 and record.config.styles_share == share
    assert record.styles["share"] == share and record.styles["seed"] == strokes.TRAIN_SEED_OFFSET + record.seed
    assert record.styles["count"] == strokes.styles_count(record.data["sizes"]["train"], share)
    boxed = presets.get("digitlab").config.boxed_share
    assert boxed > 0 and record.config.boxed_share == boxed
    from_styles = presets.get("digitlab").config.boxed_from_styles
    assert from_styles and record.config.boxed_from_styles == from_styles
    assert record.boxed == {"share": boxed, "seed": strokes.BOXED_SEED_OFFSET + record.seed, "from_styles": from_styles,
                            "count": strokes.styles_count(record.data["sizes"]["train"] + record.styles["count"], boxed)}
    assert record.spec == presets.get("digitlab").spec and record.spec.dense_batch_norm
    elastic = presets.get("digitlab").config.elastic
    assert elastic > 0 and record.config.elastic == elastic and record.augmentation["elastic"] == elastic


def test_the_traces_reader_is_the_defaults_recipe_with_its_presets_traces():
    # `reproduce` retrains digitlab-traces with its preset: the stored run must say it drew that share
    # of the training writers' traces, on top of everything the default's recipe mixes in.
    from digitlab import pentraces, strokes

    record = registry.read_record("digitlab-traces")
    config = presets.get("digitlab-traces").config
    assert config.traces_share > 0 and record.config == config
    assert config.replace(traces_share=0.0, styles_added=()) == presets.get("digitlab").config
    assert record.styles["added"] == list(config.styles_added) == list(strokes.ADDED_STYLE_NAMES)
    assert record.spec.convs == presets.get("digitlab").spec.convs and record.spec.dense_batch_norm
    share = config.traces_share
    assert record.traces == {"share": share, "seed": pentraces.TRACES_SEED_OFFSET + record.seed,
                             "labels": list(pentraces.LABELS),
                             "count": strokes.styles_count(record.data["sizes"]["train"] + record.styles["count"], share)}
    # It reads MNIST a little less well than the default (README, "Real writers' pen traces"): 99.53 %,
    # and outside writers' pen digits far better (97.43 % against 85.96 %): what the sidebar shows.
    assert record.mnist_test_accuracy >= 0.995
    assert record.outside_writers_accuracy >= registry.read_record("digitlab").outside_writers_accuracy + 0.10


def test_the_defaults_dense_units_are_alive():
    # Without BatchNorm in its dense layer, 94 to 116 of digitlab's 128 ReLU units were dead at the
    # end of its runs (README): a unit that fires for no digit is dead weight.
    from digitlab.explain import dense_probe, dense_units, firing_share

    images, _ = data.mnist_test_set()
    fired = firing_share(dense_units(dense_probe(registry.load_model("digitlab")), images[:1000]))
    assert (fired > 0.01).sum() >= 120, int((fired > 0.01).sum())
