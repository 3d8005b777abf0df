"""Shared fixtures: MNIST from the shared folder when DIGITLAB_MNIST is not set, quiet TensorFlow."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
SHARED_MNIST = REPO.parent / "shared" / "datasets" / "mnist.npz"
if "DIGITLAB_MNIST" not in os.environ and SHARED_MNIST.is_file():
    os.environ["DIGITLAB_MNIST"] = str(SHARED_MNIST)


@pytest.fixture
def models_root(tmp_path, monkeypatch):
    """An empty models/ folder for tests that store runs."""
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("DIGITLAB_MODELS", str(root))
    return root
