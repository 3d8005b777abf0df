"""Presets: one entry makes a network known everywhere; configuration loads without TensorFlow."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from digitlab import cli, presets
from digitlab.architectures import ArchSpec, ConvSpec
from digitlab.config import TrainConfig

REPO = Path(__file__).resolve().parent.parent
TINY = presets.Preset(
    name="tiny-test", label="A tiny test network", source="the test", reference=True,
    spec=ArchSpec(convs=(ConvSpec(4),), dense_units=(8,), description="tiny"),
    config=TrainConfig(epochs=1, train_size=500),
)


@pytest.fixture
def with_tiny(monkeypatch):
    monkeypatch.setitem(presets.PRESETS, TINY.name, TINY)


def test_a_new_preset_appears_in_the_cli_and_reproduce(with_tiny, capsys):
    train = cli.build_parser().parse_args(["train", "--arch", "tiny-test", "--name", "t"])
    assert train.arch == "tiny-test"
    assert cli.main(["reproduce", "--dry-run"]) == 0
    assert "$ python -m digitlab train --arch tiny-test --name tiny-test" in capsys.readouterr().out
    assert presets.training_command("x", "tiny-test", TINY.spec, TINY.config.replace(epochs=3)) == \
        "python -m digitlab train --arch tiny-test --name x --epochs 3"


def test_a_new_preset_appears_on_the_train_page(with_tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_MODELS", str(tmp_path))
    app = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    app.run()
    app.switch_page("pages/train.py").run()
    preset_box = app.selectbox(key="train_preset")
    assert "tiny-test" in preset_box.options or "A tiny test network" in preset_box.options
    preset_box.set_value("tiny-test").run()
    assert not app.exception and not app.error
    assert app.number_input(key="train_tiny-test_epochs").value == 1


def test_configuration_loads_no_tensorflow():
    code = ("import sys, digitlab.presets, digitlab.config, digitlab.records, digitlab.jobs, digitlab.registry; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_no_table_outside_presets_names_a_preset():
    # A name only one preset has: it may appear in presets.py and nowhere else in the code.
    pattern = re.compile(r"""["']paper-h-stated["']|["']paper-s-3["']""")
    sources = [*REPO.glob("digitlab/**/*.py"), *REPO.glob("pages/*.py"), REPO / "streamlit_app.py"]
    offenders = [str(path.relative_to(REPO)) for path in sources
                 if path.name != "presets.py" and pattern.search(path.read_text())]
    assert offenders == []


def test_the_train_form_becomes_a_spec_and_config():
    rows = [{"filters": 8, "kernel_size": 5, "strides": 1, "batch_norm": True, "pool": True},
            {"filters": float("nan"), "kernel_size": 3, "strides": 1, "batch_norm": False, "pool": True}]
    spec, config = presets.spec_and_config(
        "paper-h", {"convs": rows, "dense_units": "64, 32", "dropout": 0.1},
        {"lr_decay": 1.0, "early_stopping": 0, "train_size": 55_000, "epochs": 4})
    assert spec.convs == (ConvSpec(8, 5, 1, True, True),)  # the half-filled row is dropped
    assert spec.dense_units == (64, 32) and spec.dropout == 0.1 and spec.init == "truncated_normal"
    assert config.lr_decay is None and config.early_stopping is None and config.train_size is None
    assert config.epochs == 4 and config.batch_size == presets.get("paper-h").config.batch_size
    _, smaller = presets.spec_and_config("paper-h", {}, {"train_size": 2000})
    assert smaller.train_size == 2000


@pytest.mark.parametrize("network, training, message", [
    ({"convs": []}, {}, "at least one convolution"),
    ({"dense_units": "64 many"}, {}, "whole numbers"),
    ({}, {"epochs": 0}, "at least 1"),
    ({}, {"lr_decay": 1.5}, None),
])
def test_the_train_form_says_what_cannot_be_built(network, training, message):
    if message is None:  # 1.5 reads as "no decay", like 1
        assert presets.spec_and_config("small", network, training)[1].lr_decay is None
        return
    with pytest.raises(ValueError, match=message):
        presets.spec_and_config("small", network, training)
