"""The Predictor: same answers as Keras, safe to share between threads, safe-mode uploads only."""

from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest

from digitlab import registry
from digitlab.architectures import PRESETS, build_model
from digitlab.inference import Predictor


@pytest.fixture
def stored(models_root):
    model = build_model(PRESETS["small"])
    registry.save_run("tiny", {"arch": "small", "spec": PRESETS["small"].to_dict(), "status": "complete"}, model)
    registry.set_default("tiny")
    return model


def test_predict_matches_keras_and_sums_to_one(stored):
    predictor = Predictor.load("default")
    images = np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
    probabilities = predictor.predict(images)
    assert probabilities.shape == (5, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(probabilities, stored(images[..., None]).numpy(), atol=1e-5)


def test_concurrent_calls_from_many_threads_agree(stored):
    predictor = Predictor.load("tiny")
    images = np.random.default_rng(1).random((32, 28, 28), dtype=np.float32)
    expected = predictor.predict(images)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: predictor.predict(images[i:i + 1])[0], range(32)))
        maps = list(pool.map(lambda i: predictor.activations(images[i])["conv2"], range(8)))
    np.testing.assert_allclose(np.stack(results), expected, atol=1e-5)
    assert all(m.shape == (14, 14, 32) for m in maps)


def test_activations_of_every_conv_layer(stored):
    maps = Predictor.load("tiny").activations(np.zeros((28, 28), np.float32))
    assert list(maps) == ["conv1", "conv2"]
    assert maps["conv1"].shape == (28, 28, 16)


def test_wrong_image_shape_is_refused(stored):
    with pytest.raises(ValueError, match=r"expected \(n, 28, 28\)"):
        Predictor.load("tiny").predict(np.zeros((1, 32, 32), np.float32))


def test_uploaded_keras_file_loads_in_safe_mode_only(tmp_path):
    good = tmp_path / "good.keras"
    build_model(PRESETS["small"]).save(good)
    assert Predictor.load(str(good)).predict(np.zeros((1, 28, 28), np.float32)).shape == (1, 10)

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs)))
    evil = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(evil)
    with pytest.raises(ValueError, match="(?i)safe"):
        Predictor.load(str(evil))


def test_uploaded_model_must_map_28x28_to_10(tmp_path):
    inputs = keras.Input((32, 32, 1))
    path = tmp_path / "wrong.keras"
    keras.Model(inputs, keras.layers.Dense(5)(keras.layers.Flatten()(inputs))).save(path)
    with pytest.raises(registry.RegistryError, match="28, 28, 1"):
        Predictor.load(str(path))
