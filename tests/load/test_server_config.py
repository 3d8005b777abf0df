"""The server's settings file: valid TOML (a second [server] table makes Streamlit drop the whole file) with its limits."""

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_config_parses_and_sets_the_classroom_limits():
    config = tomllib.loads(CONFIG.read_text())
    assert config["server"]["fileWatcherType"] == "none"  # per-run path checks of every module: CPU per stroke
    assert config["server"]["maxUploadSize"] <= 50  # MB; images are refused above 20 MB by digitlab.imageio
    assert config["server"]["maxWidgetStateSize"] <= 5  # MB of widget state per message: the canvas's value
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks with server paths in browsers
    assert config["runner"]["postScriptGC"] is False
