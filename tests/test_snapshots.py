"""Training keeps a few kB per epoch for the Learn page's replay; older runs simply have none."""

import numpy as np

from digitlab import registry
from digitlab.architectures import ArchSpec, ConvSpec
from digitlab.snapshots import SNAPSHOT_FILE, load_replay, probe_indices
from digitlab.config import TrainConfig
from digitlab.records import RunRecord
from digitlab.training import train_run


def test_a_training_run_stores_each_epochs_filters_and_probe_readings(models_root):
    spec = ArchSpec(convs=(ConvSpec(4),), dense_units=(16,))
    config = TrainConfig(epochs=2, batch_size=64, train_size=300, restore_best=False)
    train_run(RunRecord.new("tiny", "custom", spec, config, command="test"), root=models_root)
    folder = registry.run_path("tiny", models_root)
    assert (folder / SNAPSHOT_FILE).stat().st_size < 3 * 4096  # a few kB per epoch
    replay = load_replay(folder)
    assert replay.epochs == 2
    assert replay.filters.shape == (3, 3, 3, 1, 4)  # the random start, then each epoch
    assert not np.allclose(replay.filters[0], replay.filters[2])  # training moved the filters
    assert replay.probabilities.shape == (3, 20, 10)
    assert np.allclose(replay.probabilities.sum(axis=2), 1, atol=1e-2)
    assert sorted(replay.probe_labels.tolist()) == sorted(list(range(10)) * 2)
    assert replay.probe_accuracy().shape == (3,)
    # The last snapshot is the stored model's own reading of the probe set (last weights kept).
    model = registry.load_model("tiny", root=models_root)
    stored = model(replay.probe_images[..., None]).numpy()
    assert np.allclose(stored, replay.probabilities[-1], atol=1e-2)


def test_runs_without_snapshots_have_no_replay(tmp_path):
    assert load_replay(tmp_path) is None


def test_probe_set_is_two_of_each_digit_in_order():
    labels = np.array([3, 1, 0, 1, 2, 0, 9, 8, 7, 6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 0])
    index = probe_indices(labels)
    assert labels[index].tolist() == sorted(list(range(10)) * 2)
