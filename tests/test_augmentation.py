"""Augmentation keeps digits digits: shapes, range, untouched share, and ink kept in frame."""

import dataclasses

import numpy as np
import tensorflow as tf

from digitlab import data
from digitlab.augmentation import Augmentation, augment_batch, training_dataset


def mnist_sample(n=64):
    x_train, y_train, _, _ = data.load_mnist()
    return data.to_model_input(x_train[:n]), y_train[:n]


def test_shape_range_and_ink_kept():
    images, _ = mnist_sample()
    tf.random.set_seed(0)
    out = augment_batch(tf.constant(images), Augmentation(probability=1.0)).numpy()
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    changed = np.abs(out - images).reshape(len(images), -1).max(axis=1) > 0.1
    assert changed.mean() > 0.9
    # Mild transforms: the ink stays mostly in frame (scale >= 0.85 and thickening add or drop ink).
    ratio = out.sum(axis=(1, 2, 3)) / images.sum(axis=(1, 2, 3))
    assert 0.6 < np.median(ratio) < 1.6


def test_probability_zero_is_identity():
    images, _ = mnist_sample(8)
    out = augment_batch(tf.constant(images), Augmentation(probability=0.0)).numpy()
    np.testing.assert_array_equal(out, images)


def test_share_left_untouched_follows_probability():
    images, _ = mnist_sample(512)
    tf.random.set_seed(1)
    out = augment_batch(tf.constant(images), Augmentation(probability=0.6)).numpy()
    untouched = (out == images).reshape(len(images), -1).all(axis=1).mean()
    assert 0.3 < untouched < 0.5


def test_dataset_batches_labels_with_images():
    images, labels = mnist_sample(100)
    batches = list(training_dataset(images, labels, 32, Augmentation(), seed=0))
    assert [len(b[1]) for b in batches] == [32, 32, 32, 4]
    assert sorted(np.concatenate([b[1].numpy() for b in batches]).tolist()) == sorted(labels.tolist())


def test_elastic_bending_keeps_the_digit_and_moves_its_strokes():
    from digitlab.augmentation import elastic_batch

    images, _ = mnist_sample(64)
    still = elastic_batch(tf.constant(images), Augmentation(elastic_px=0.0)).numpy()
    np.testing.assert_allclose(still, images, atol=1e-6)  # no field, no change
    tf.random.set_seed(2)
    bent = elastic_batch(tf.constant(images), Augmentation(elastic_px=2.0)).numpy()
    moved = np.abs(bent - images).reshape(len(images), -1).max(axis=1)
    assert (moved > 0.2).mean() > 0.9
    # A bend, not a blur or a crop: the ink is about as much as before and where it was.
    ratio = bent.sum(axis=(1, 2, 3)) / images.sum(axis=(1, 2, 3))
    assert 0.8 < np.median(ratio) < 1.2
    overlap = (np.minimum(bent, images).sum(axis=(1, 2, 3)) / images.sum(axis=(1, 2, 3)))
    assert np.median(overlap) > 0.4


def test_the_elastic_share_is_of_the_changed_images():
    images, _ = mnist_sample(512)
    plain = Augmentation(probability=1.0, rotation_deg=0, shear_deg=0, scale=(1.0, 1.0), shift_px=0,
                         thicken=0, thin=0)
    tf.random.set_seed(3)
    out = augment_batch(tf.constant(images), dataclasses.replace(plain, elastic=0.5)).numpy()
    bent = (np.abs(out - images).reshape(len(images), -1).max(axis=1) > 1e-3).mean()
    assert 0.4 < bent < 0.6


def test_variants_are_all_changed_reproducible_by_seed_and_apart_between_seeds():
    from digitlab.augmentation import SHOWN, variants

    image = mnist_sample(1)[0][0, ..., 0]
    for aug in SHOWN.values():
        first = variants(image, 16, 7, aug)
        assert first.shape == (16, 28, 28) and first.dtype == np.float32
        assert 0.0 <= first.min() and first.max() <= 1.0
        np.testing.assert_array_equal(first, variants(image, 16, 7, aug))  # same seed, same pictures
        assert not np.allclose(first, variants(image, 16, 8, aug))
        moved = np.abs(first - image).reshape(16, -1).max(axis=1)
        assert (moved > 0.05).all()  # every one shown is changed
