"""Convolution lesson arithmetic against real Keras layers: one pixel's sum, output sizes, receptive fields, the card."""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from digitlab import registry
from digitlab import presets
from digitlab.architectures import ArchSpec, ConvSpec, build_model, flops_per_image
from digitlab.convolution import (KERNEL_PRESETS, architecture_card, convolve, layer_geometry, layer_sizes, max_pool,
                                  output_size, pixel_arithmetic, size_formula, unit_region)
from digitlab.data import mnist_test_set

REPO = Path(__file__).resolve().parent.parent
REFERENCE_RUNS = ["paper-s-1", "paper-s-2", "paper-s-3", "paper-s-4", "paper-h", "paper-h-stated", "digitlab"]


@pytest.fixture(scope="module")
def digit():
    images, _ = mnist_test_set()
    return images[0, ..., 0]  # a 7


@pytest.mark.parametrize("name", REFERENCE_RUNS)
def test_pixel_arithmetic_equals_the_models_first_convolution(name, digit):
    model = registry.load_model(name, root=REPO / "models")
    conv = model.get_layer("conv1")
    keras_out = conv(tf.constant(digit[None, ..., None])).numpy()[0]
    kernel, bias = (w.numpy() for w in conv.weights)
    strongest = int(np.abs(kernel).sum(axis=(0, 1, 2)).argmax())  # a learned filter, not a dead one
    for row, col in [(14, 14), (0, 0), (27, 27), (5, 20)]:
        maths = pixel_arithmetic(digit, kernel[..., strongest], bias=bias[strongest], row=row, col=col)
        assert maths.output == pytest.approx(float(keras_out[row, col, strongest]), abs=1e-4)
        assert maths.relu == max(0.0, maths.output)
        assert maths.total == pytest.approx(float(maths.products.sum()), abs=1e-5)
    assert np.allclose(convolve(digit, kernel[..., strongest], bias[strongest]), keras_out[..., strongest], atol=1e-4)


def test_pixel_arithmetic_with_stride_two_and_an_even_kernel_over_many_channels(digit):
    # Paper H's conv2: 6×6, stride 2, on conv1's 12 channels; "same" padding pads unevenly here.
    model = registry.load_model("paper-h", root=REPO / "models")
    maps = keras.Model(model.input, model.get_layer("act1").output)(digit[None, ..., None]).numpy()[0]
    conv = model.get_layer("conv2")
    keras_out = conv(tf.constant(maps[None])).numpy()[0]
    kernel, bias = (w.numpy() for w in conv.weights)
    for row, col in [(0, 0), (6, 9), (13, 13)]:
        maths = pixel_arithmetic(maps, kernel[..., 3], bias=bias[3], row=row, col=col, stride=2)
        assert maths.output == pytest.approx(float(keras_out[row, col, 3]), abs=1e-3)
    assert np.allclose(convolve(maps, kernel[..., 3], bias[3], stride=2), keras_out[..., 3], atol=1e-3)


def test_presets_do_what_their_names_say(digit):
    assert np.allclose(convolve(digit, KERNEL_PRESETS["identity"]), digit)
    flat = np.ones((8, 8), np.float32)
    assert np.allclose(convolve(flat, KERNEL_PRESETS["Sobel x (vertical edges)"])[2:-2, 2:-2], 0)
    left_dark = np.tile((np.arange(8) >= 4).astype(np.float32), (8, 1))  # a vertical edge
    assert convolve(left_dark, KERNEL_PRESETS["Sobel x (vertical edges)"])[4, 3] > 0
    assert np.allclose(convolve(left_dark, KERNEL_PRESETS["Sobel y (horizontal edges)"])[2:-2, 2:-2], 0)


def test_pixel_outside_the_output_is_refused(digit):
    with pytest.raises(ValueError, match="outside"):
        pixel_arithmetic(digit, KERNEL_PRESETS["blur"], row=28, col=0)


def test_size_formula_equals_real_conv2d_shapes_over_a_grid():
    checked = refused = 0
    for size in (5, 8, 13, 28):
        for kernel in (1, 2, 3, 5):
            for stride in (1, 2, 3):
                for padding in (0, 1, 2):
                    for dilation in (1, 2):
                        if stride > 1 and dilation > 1:
                            continue  # Keras' Conv2D refuses both at once
                        layers = [keras.layers.ZeroPadding2D(padding)] if padding else []
                        layers.append(keras.layers.Conv2D(1, kernel, strides=stride, dilation_rate=dilation))
                        try:
                            expected = output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)
                        except ValueError:
                            refused += 1
                            assert dilation * (kernel - 1) + 1 > size + 2 * padding
                            continue
                        shape = keras.Sequential([keras.Input((size, size, 1)), *layers]).output_shape
                        assert shape[1:3] == (expected, expected), (size, kernel, stride, padding, dilation)
                        checked += 1
    assert checked > 150 and refused > 0


def test_size_formula_shows_its_numbers_and_names_bad_settings():
    assert size_formula(28, 3, padding=1) == "⌊(28 + 2·1 − 1·(3−1) − 1) / 1⌋ + 1 = ⌊27 / 1⌋ + 1 = 28"
    assert size_formula(3, 5).endswith("no output")
    with pytest.raises(ValueError, match="stride"):
        output_size(28, 3, stride=0)
    with pytest.raises(ValueError, match="padded input is only 3"):
        output_size(3, 5)


def _geometry_probe(model: keras.Model) -> keras.Model:
    """The model with every weight positive, BatchNorm neutral and max pooling averaged.

    Max pooling passes gradient to one cell per window only; averaging keeps the geometry
    (same windows, same strides) while every input pixel a unit depends on gets a non-zero
    gradient.
    """
    def clone(layer):
        if isinstance(layer, keras.layers.MaxPooling2D):
            return keras.layers.AveragePooling2D(layer.pool_size, layer.strides, layer.padding, name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    probe = keras.models.clone_model(model, clone_function=clone)
    for layer in probe.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.set_weights([np.ones_like(layer.kernel.numpy()), np.zeros_like(layer.bias.numpy())])
        elif isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([np.ones(channels), np.zeros(channels), np.zeros(channels), np.ones(channels)])
    return probe


@pytest.mark.parametrize("preset", list(presets.PRESETS))
def test_receptive_field_table_equals_the_nonzero_gradient_region(preset):
    spec = presets.get(preset).spec
    probe = _geometry_probe(build_model(spec))
    geometry = layer_geometry(spec)
    image = tf.ones((1, 28, 28, 1))
    unclipped = 0
    for g in geometry[1:]:
        layer_model = keras.Model(probe.input, probe.get_layer(g.name).output)
        for row, col in {(g.size // 2, g.size // 2), (0, 0), (g.size - 1, g.size // 3)}:
            with tf.GradientTape() as tape:
                tape.watch(image)
                unit = tf.reduce_sum(layer_model(image)[0, row, col])
            seen = np.argwhere(tape.gradient(unit, image).numpy()[0, ..., 0] != 0)
            top, left, bottom, right = unit_region(geometry, g.name, row, col)
            assert (seen.min(0).tolist(), seen.max(0).tolist()) == ([top, left], [bottom, right]), (g.name, row, col)
            assert len(seen) == (bottom - top + 1) * (right - left + 1)  # a full rectangle, no holes
            if 0 < top and bottom < 27 and 0 < left and right < 27:
                assert bottom - top + 1 == g.receptive_field == right - left + 1
                unclipped += 1
    assert unclipped >= 1


def test_receptive_field_formula_by_hand():
    spec = ArchSpec(convs=(ConvSpec(4), ConvSpec(8, kernel_size=5, strides=2)))
    fields = {g.name: (g.receptive_field, g.jump, g.size) for g in layer_geometry(spec)}
    # r = 1 → +2·1 = 3 (conv1) → +1·1 = 4 (pool1, jump 2) → +4·2 = 12 (conv2, jump 4) → +1·4 = 16 (pool2)
    assert fields == {"input": (1, 1, 28), "conv1": (3, 1, 28), "pool1": (4, 2, 14), "conv2": (12, 4, 7),
                      "pool2": (16, 8, 4)}


@pytest.mark.parametrize("preset", [*presets.PRESETS, "small with dense BatchNorm"])
def test_card_parameters_equal_keras_count_params(preset):
    spec = (presets.get("small").spec.replace(dense_batch_norm=True, dense_units=(64, 32))
            if preset == "small with dense BatchNorm" else presets.get(preset).spec)
    card = architecture_card(spec)
    assert sum(row.params for row in card) == build_model(spec).count_params()
    assert 2 * sum(row.mult_adds for row in card) == flops_per_image(spec)
    names = [row.layer.split(" ")[0] for row in card]
    assert [layer.name for layer in build_model(spec).layers] == ["image" if n == "image" else n for n in names]


def test_card_multiply_adds_by_hand():
    spec = ArchSpec(convs=(ConvSpec(4), ConvSpec(8, strides=2, pool=False)), dense_units=(16,))
    card = {row.layer.split(" ")[0]: row for row in architecture_card(spec)}
    assert card["conv1"].mult_adds == 28 * 28 * 3 * 3 * 1 * 4
    assert card["conv2"].mult_adds == 7 * 7 * 3 * 3 * 4 * 8  # 14×14 pooled, stride 2 -> 7×7
    assert card["dense1"].mult_adds == 7 * 7 * 8 * 16
    assert card["logits"].mult_adds == 16 * 10
    assert sum(row.mult_adds for row in card.values()) == 28224 + 14112 + 6272 + 160
    assert card["conv2"].params_formula == "k²·C_in·C_out + C_out = 3²·4·8 + 8"
    assert card["conv2"].output_shape == (7, 7, 8)


def test_max_pool_equals_keras_and_marks_one_winner_per_window():
    rng = np.random.default_rng(0)
    feature_map = rng.normal(size=(7, 7)).astype(np.float32)
    pooled, winners = max_pool(feature_map)
    expected = keras.layers.MaxPooling2D(2, padding="same")(feature_map[None, ..., None]).numpy()[0, ..., 0]
    assert np.allclose(pooled, expected)
    assert winners.sum() == 16
    assert sorted(feature_map[winners].tolist()) == sorted(pooled.ravel().tolist())


@pytest.mark.parametrize("preset", list(presets.PRESETS))
def test_layer_sizes_equal_the_built_models_shapes(preset):
    model = build_model(presets.get(preset).spec)
    for row in layer_sizes(presets.get(preset).spec):
        assert model.get_layer(row.name).output.shape[1:3] == (row.output_size, row.output_size), row
