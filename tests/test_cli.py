"""The command line as a user meets it: help, train, models, evaluate, bad input."""

import json
import os
import subprocess
import sys

import pytest

from digitlab import presets

REFERENCE_RUNS = presets.reference_runs()


def run_cli(*args, env_extra=None, timeout=600):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "digitlab", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["models"], ["papers"], ["reproduce"]])
def test_help_on_every_command(command):
    out = run_cli(*command, "--help")
    assert out.returncode == 0 and "usage: python -m digitlab" in out.stdout


def test_train_then_models_then_evaluate(tmp_path):
    env = {"DIGITLAB_MODELS": str(tmp_path)}
    out = run_cli("train", "--arch", "small", "--train-size", "2000", "--epochs", "2", "--batch-size", "32", "--name", "cli-run",
                  "--set-default", env_extra=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.count("epoch ") >= 2 and "cli-run: complete" in out.stdout
    record = json.loads((tmp_path / "cli-run" / "run.json").read_text())
    assert record["command"].startswith("python -m digitlab train --arch small")
    assert record["config"]["train_size"] == 2000 and record["metrics"]["test"]["accuracy"] > 0.8

    listed = json.loads(run_cli("models", "--json", env_extra=env).stdout)
    assert listed[0]["name"] == "cli-run" and listed[0]["default"] is True
    assert listed[0]["path"].endswith("cli-run/model.keras")

    evaluated = run_cli("evaluate", "--model", "cli-run", env_extra=env)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "confusion matrix" in evaluated.stdout and "weighted" in evaluated.stdout
    pen = record["metrics"]["outside_writers"]
    assert f"pen digits (2799 images): accuracy {100 * pen['accuracy']:.2f}% (run.json: {100 * pen['accuracy']:.2f}%)" \
        in evaluated.stdout

    # A run stored before runs recorded outside writers gains the figure; its model file is untouched.
    del record["metrics"]["outside_writers"]
    (tmp_path / "cli-run" / "run.json").write_text(json.dumps(record))
    model_bytes = (tmp_path / "cli-run" / "model.keras").read_bytes()
    recorded = run_cli("evaluate", "--model", "cli-run", "--record-outside", env_extra=env)
    assert recorded.returncode == 0, recorded.stderr[-2000:]
    again = json.loads((tmp_path / "cli-run" / "run.json").read_text())
    assert again["metrics"]["outside_writers"]["accuracy"] == pytest.approx(pen["accuracy"], abs=2 / 2799)
    assert again["metrics"]["test"] == record["metrics"]["test"] and again["command"] == record["command"]
    assert (tmp_path / "cli-run" / "model.keras").read_bytes() == model_bytes


@pytest.mark.parametrize("args, message", [
    (["train", "--arch", "small", "--name", "../escape"], "invalid run name"),
    (["train", "--arch", "small", "--epochs", "0"], "epochs"),
    (["evaluate", "--model", "no-such-run"], "no run named"),
])
def test_bad_input_is_one_line_without_traceback(tmp_path, args, message):
    out = run_cli(*args, env_extra={"DIGITLAB_MODELS": str(tmp_path)})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path.parent / "escape").exists()


def test_reproduce_dry_run_lists_the_reference_commands():
    out = run_cli("reproduce", "--dry-run")
    assert out.returncode == 0
    assert out.stdout.count("$ python -m digitlab train") == len(REFERENCE_RUNS)
    assert "--set-default digitlab" in out.stdout


def test_ctrl_c_keeps_what_was_learned_as_an_interrupted_run(tmp_path):
    import signal

    env = {**os.environ, "DIGITLAB_MODELS": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "digitlab", "train", "--arch", "small", "--train-size", "2000", "--epochs", "200",
         "--batch-size", "32", "--name", "cut-short"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    for line in process.stdout:
        if line.startswith("epoch 2/"):
            process.send_signal(signal.SIGINT)
            break
    rest, errors = process.communicate(timeout=300)
    assert process.returncode == 130, errors[-2000:]
    assert "Traceback" not in errors and "stopping after this batch" in errors
    record = json.loads((tmp_path / "cut-short" / "run.json").read_text())
    assert record["status"] == "interrupted" and 2 <= record["epochs_run"] < 200
    assert record["metrics"]["test"]["accuracy"] > 0.8  # the weights learned so far were kept
    assert (tmp_path / "cut-short" / "model.keras").is_file()


def test_patience_0_turns_early_stopping_off_and_a_form_job_without_it_records_patience_0():
    from digitlab.cli import build_parser
    from digitlab.config import CONFIG_FLAGS

    flags = {flag.field: flag for flag in CONFIG_FLAGS}
    args = build_parser().parse_args(["train", "--arch", "digitlab", "--patience", "0", "--lr-decay", "1"])
    assert flags["early_stopping"].value(args.early_stopping) is None
    assert flags["lr_decay"].value(args.lr_decay) is None
    assert presets.get("paper-h").config.early_stopping == 2
    # The Train form with patience 0 on Paper H's preset (patience 2): the command must say so,
    # or rerunning it would stop early where the job did not.
    spec, config = presets.spec_and_config("paper-h", {}, {"early_stopping": 0})
    assert config.early_stopping is None
    command = presets.training_command("run", "paper-h", spec, config)
    assert "--patience 0" in command


def test_dense_batch_norm_is_a_command_line_and_form_knob():
    import json as json_module

    from digitlab.architectures import ArchSpec

    assert build_parser_args(["--dense-batch-norm"]).dense_batch_norm is True
    assert build_parser_args(["--no-dense-batch-norm"]).dense_batch_norm is False
    assert build_parser_args([]).dense_batch_norm is None  # the preset's own
    spec, config = presets.spec_and_config("small", {"dense_batch_norm": True}, {})
    assert spec.dense_batch_norm and not presets.get("small").spec.dense_batch_norm
    command = presets.training_command("run", "small", spec, config)
    recorded = json_module.loads(command.split("--spec-json ", 1)[1].split(" --", 1)[0].strip("'"))
    assert ArchSpec.from_dict(recorded).dense_batch_norm is True


def build_parser_args(extra):
    from digitlab.cli import build_parser

    return build_parser().parse_args(["train", "--arch", "small", *extra])


@pytest.mark.parametrize("weights", [["0.3"], ["0", "0"], ["-1", "2"]])
def test_bad_ensemble_weights_are_one_line_and_nothing_is_read(weights):
    out = run_cli("realworld", "--models", "digitlab", "digitlab-traces", "--ensemble-weights", *weights)
    assert out.returncode == 2 and "Traceback" not in out.stderr and out.stdout == ""
    assert out.stderr.strip().splitlines()[-1].startswith("error: --ensemble-weights: ")
