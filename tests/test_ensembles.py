"""Test-time augmentation and ensembles average their members' probabilities."""

import numpy as np
import pytest

from digitlab.ensembles import Ensemble, TTAReader, tta_variants


class Constant:
    """A stand-in predictor: the same probabilities for every image, counting its calls."""

    def __init__(self, name, probabilities):
        self.name, self.probabilities, self.seen = name, np.asarray(probabilities, np.float32), 0

    def predict(self, images):
        images = np.asarray(images).reshape(-1, 28, 28)
        self.seen += len(images)
        return np.tile(self.probabilities, (len(images), 1))


def test_tta_variants_keep_the_image_first_and_move_it_a_little():
    image = np.zeros((28, 28), np.float32)
    image[10:18, 12:16] = 1.0
    variants = tta_variants(image[None])
    assert variants.shape == (1, 7, 28, 28) and variants.dtype == np.float32
    assert np.array_equal(variants[0, 0], image)
    assert np.array_equal(variants[0, 1], np.roll(image, 1, axis=1))  # one pixel right
    assert abs(variants[0, 5].sum() - image.sum()) < 0.1 * image.sum()  # a turn keeps the ink


def test_tta_averages_over_the_variants_of_each_image():
    base = Constant("m", np.eye(10)[3])
    reader = TTAReader(base)
    out = reader.predict(np.zeros((2, 28, 28), np.float32))
    assert out.shape == (2, 10) and base.seen == 2 * 7
    assert out[:, 3] == pytest.approx([1.0, 1.0]) and reader.name == "m+tta"


def test_ensemble_is_the_mean_of_its_members():
    one, two = Constant("a", np.eye(10)[1]), Constant("b", np.eye(10)[2])
    out = Ensemble([one, two]).predict(np.zeros((1, 28, 28), np.float32))
    assert out[0, 1] == pytest.approx(0.5) and out[0, 2] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        Ensemble([])


def test_weighted_ensemble_leans_to_the_heavier_member_and_names_its_weights():
    one, two = Constant("a", np.eye(10)[1]), Constant("b", np.eye(10)[2])
    ensemble = Ensemble([one, two], [3, 7])  # weights are normalised: 0.3 and 0.7
    out = ensemble.predict(np.zeros((2, 28, 28), np.float32))
    assert out[0, 1] == pytest.approx(0.3) and out[0, 2] == pytest.approx(0.7)
    assert out.argmax(axis=1).tolist() == [2, 2]
    assert ensemble.name == "0.3xa+0.7xb"
    for bad in ([1.0], [-1.0, 2.0], [0.0, 0.0]):
        with pytest.raises(ValueError):
            Ensemble([one, two], bad)
