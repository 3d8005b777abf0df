"""Presets: parameter counts against the formulas, spec round trips, layer names."""

import json

import pytest

from digitlab import presets
from digitlab.architectures import ArchSpec, ConvSpec, build_model

PRESETS = {name: preset.spec for name, preset in presets.PRESETS.items()}


def conv(k, c_in, filters):
    return k * k * c_in * filters + filters


def dense(n_in, n_out):
    return n_in * n_out + n_out


# Paper S with padding "same" everywhere: maps 28 -> 14 -> 7 -> 4 -> 2 after each pool.
EXPECTED_PARAMS = {
    "paper-s-1": conv(3, 1, 64) + dense(14 * 14 * 64, 64) + dense(64, 10),
    "paper-s-2": conv(3, 1, 64) + conv(3, 64, 128) + dense(7 * 7 * 128, 128) + dense(128, 10),
    "paper-s-3": conv(3, 1, 64) + conv(3, 64, 128) + conv(3, 128, 512) + dense(4 * 4 * 512, 512) + dense(512, 10),
    "paper-s-4": conv(3, 1, 64) + conv(3, 64, 128) + conv(3, 128, 512) + conv(3, 512, 1024)
    + dense(2 * 2 * 1024, 512) + dense(512, 10),
    # Paper H: 28 -> 28 -> 14 -> 7; BatchNorm has 4 numbers per channel (2 trained, 2 running).
    "paper-h": conv(3, 1, 12) + 4 * 12 + conv(6, 12, 24) + 4 * 24 + conv(6, 24, 32) + 4 * 32
    + dense(7 * 7 * 32, 200) + dense(200, 10),
    "digitlab": conv(3, 1, 32) + 4 * 32 + conv(3, 32, 32) + 4 * 32 + conv(3, 32, 64) + 4 * 64
    + conv(3, 64, 64) + 4 * 64 + dense(7 * 7 * 64, 128) + 4 * 128 + dense(128, 10),
    "small": conv(3, 1, 16) + conv(3, 16, 32) + dense(7 * 7 * 32, 64) + dense(64, 10),
}
EXPECTED_PARAMS["paper-h-stated"] = EXPECTED_PARAMS["paper-h"]  # the same network, other knobs
EXPECTED_PARAMS["digitlab-traces"] = EXPECTED_PARAMS["digitlab"]  # the same network, also taught pen traces
EXPECTED_PARAMS["digitlab-distilled"] = EXPECTED_PARAMS["digitlab"]  # the same network, also taught by two runs


def test_hand_counts_match_known_totals():
    assert EXPECTED_PARAMS["paper-h"] == 354_274


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_parameter_count(name):
    assert build_model(PRESETS[name]).count_params() == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_spec_round_trips_through_json(name):
    spec = PRESETS[name]
    assert ArchSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_layer_names_and_shapes():
    model = build_model(PRESETS["paper-s-4"])
    names = [layer.name for layer in model.layers]
    assert names[:5] == ["image", "conv1", "act1", "pool1", "conv2"]
    assert names[-4:] == ["dropout", "dense1", "logits", "probabilities"]
    assert model.get_layer("pool4").output.shape[1:] == (2, 2, 1024)
    assert model.output.shape[1:] == (10,)
    assert "Lambda" not in {type(layer).__name__ for layer in model.layers}


def test_dense_batch_norm_sits_between_each_dense_layer_and_its_activation():
    from digitlab.architectures import parameter_count

    spec = PRESETS["small"].replace(dense_batch_norm=True, dense_units=(64, 32))
    model = build_model(spec)
    names = [layer.name for layer in model.layers]
    assert names[names.index("flatten") + 1:] == ["dropout", "dense1", "dense_bn1", "dense_act1", "dense2",
                                                  "dense_bn2", "dense_act2", "logits", "probabilities"]
    assert model.get_layer("dense1").get_config()["activation"] == "linear"
    assert model.get_layer("dense_act1").get_config()["activation"] == "relu"
    plain = PRESETS["small"].replace(dense_units=(64, 32))
    assert model.count_params() == parameter_count(spec) == parameter_count(plain) + 4 * (64 + 32)
    assert ArchSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    # A run stored before the field existed reads as without it.
    stored = plain.to_dict()
    del stored["dense_batch_norm"]
    assert ArchSpec.from_dict(stored) == plain


def test_paper_h_layout():
    model = build_model(PRESETS["paper-h"])
    assert model.get_layer("act3").output.shape[1:] == (7, 7, 32)
    names = [layer.name for layer in model.layers]
    assert names.index("dense1") < names.index("dropout") < names.index("logits")
    kernel = model.get_layer("conv2").kernel.numpy()
    assert abs(kernel.std() - 0.088) < 0.01  # truncated normal sigma 0.1 has std ~0.088
    assert model.get_layer("conv2").bias.numpy() == pytest.approx(0.1)
    dense = model.get_layer("dense1")
    assert abs(dense.kernel.numpy().std() - 0.088) < 0.01 and dense.bias.numpy() == pytest.approx(0.1)


def test_truncated_normal_for_convolutions_only():
    model = build_model(PRESETS["paper-h"].replace(init="truncated_normal_conv"))
    conv = model.get_layer("conv2")
    assert abs(conv.kernel.numpy().std() - 0.088) < 0.01 and conv.bias.numpy() == pytest.approx(0.1)
    dense = model.get_layer("dense1")  # Glorot uniform over 1568 + 200 units: std sqrt(2 / 1768) ~ 0.034
    assert abs(dense.kernel.numpy().std() - 0.034) < 0.003 and dense.bias.numpy() == pytest.approx(0.0)


def test_mixed_precision_keeps_float32_output():
    model = build_model(PRESETS["small"], dtype_policy="mixed_bfloat16")
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    assert model.get_layer("probabilities").compute_dtype == "float32"


@pytest.mark.parametrize("bad", [dict(convs=()), dict(convs=(ConvSpec(8),), dropout=1.0),
                                 dict(convs=(ConvSpec(8),), activation="nope"), dict(convs=(ConvSpec(0),))])
def test_invalid_specs_are_refused(bad):
    with pytest.raises(ValueError):
        ArchSpec(**bad)
