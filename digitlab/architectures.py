"""Architecture specs (frozen, JSON-serialisable) and `build_model`; the named networks live in `presets`."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
ACTIVATIONS = ("relu", "elu", "gelu", "tanh", "sigmoid", "swish")


@dataclass(frozen=True)
class ConvSpec:
    """One convolution block: Conv2D -> [BatchNorm] -> activation -> [2x2 max pool]."""

    filters: int
    kernel_size: int = 3
    strides: int = 1
    batch_norm: bool = False
    pool: bool = True

    def replace(self, **changes) -> "ConvSpec":
        return dataclasses.replace(self, **changes)


INITS = ("glorot_uniform", "truncated_normal", "truncated_normal_conv")


@dataclass(frozen=True)
class ArchSpec:
    """A whole network: conv blocks, Flatten, dense layers with dropout, 10-way softmax.

    `padding` applies to convolutions and pooling alike. "same" keeps 4 pooled blocks
    possible on 28x28 inputs (28 -> 14 -> 7 -> 4 -> 2); "valid" would shrink a 4-block
    Paper S network to nothing.
    `dropout_position` is "before_dense" (Paper S: Flatten, Dropout, Dense) or
    "after_dense" (Paper H: Dense, Dropout).
    `init` is "glorot_uniform" (Keras default), "truncated_normal" (Paper H: weights
    truncated normal with `init_std`, biases `bias_init`) or "truncated_normal_conv" (that
    for the convolutions only, Keras' defaults for the dense layers: Paper H states its
    initialisation among the convolution layers' steps and none for its dense layers).
    `bn_momentum` is the decay of BatchNorm's running mean and variance (Keras: 0.99).
    `dense_batch_norm` puts BatchNorm between each dense layer and its activation (dense1,
    dense_bn1, dense_act1): its inputs are all positive (ReLU, then pooling), so a ReLU unit
    whose weights turn negative in the first steps never fires again. Without it, 94 to 116 of
    digitlab's 128 dense units were dead at the end of its runs (README).
    """

    convs: tuple[ConvSpec, ...]
    dense_units: tuple[int, ...] = (128,)
    dropout: float = 0.25
    dropout_position: str = "before_dense"
    activation: str = "relu"
    padding: str = "same"
    init: str = "glorot_uniform"
    init_std: float = 0.1
    bias_init: float = 0.0
    bn_momentum: float = 0.99
    dense_batch_norm: bool = False
    description: str = ""

    def __post_init__(self):
        if not self.convs:
            raise ValueError("a network needs at least one convolution")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}")
        if self.padding not in ("same", "valid"):
            raise ValueError("padding must be 'same' or 'valid'")
        if self.dropout_position not in ("before_dense", "after_dense"):
            raise ValueError("dropout_position must be 'before_dense' or 'after_dense'")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}")
        if not 0.0 <= self.bn_momentum < 1.0:
            raise ValueError("bn_momentum must be in [0, 1)")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        for conv in self.convs:
            if conv.filters < 1 or conv.kernel_size < 1 or conv.strides < 1:
                raise ValueError("filters, kernel size and stride must be positive")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ArchSpec":
        data = dict(data)
        data["convs"] = tuple(ConvSpec(**conv) for conv in data["convs"])
        data["dense_units"] = tuple(data.get("dense_units", ()))
        return cls(**data)

    def to_json(self) -> str:
        """The spec as one compact JSON line (the CLI's `--spec-json`)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def replace(self, **changes) -> "ArchSpec":
        return dataclasses.replace(self, **changes)


def build_model(spec: ArchSpec, *, dtype_policy: str | None = None, name: str = "digitlab"):
    """Build an uncompiled Keras model for `spec`, input (28, 28, 1) float32 in [0, 1].

    Layers are named conv1, bn1, act1, pool1, ..., flatten, dropout, dense1, [dense_bn1,
    dense_act1,] ..., logits, probabilities. `dtype_policy` (e.g. "mixed_bfloat16") applies to every layer but the
    final softmax, which stays float32 for stable probabilities.
    """
    # Imported here, not at the top: specs are configuration, read by pages and commands that
    # must not wait for TensorFlow to load.
    import keras
    from keras import layers

    def kernel_init(layer_kind: str):
        if spec.init == "truncated_normal" or (spec.init == "truncated_normal_conv" and layer_kind == "conv"):
            return keras.initializers.TruncatedNormal(stddev=spec.init_std)
        return keras.initializers.GlorotUniform()

    def bias_init(layer_kind: str):
        if spec.init == "truncated_normal_conv" and layer_kind != "conv":
            return keras.initializers.Zeros()
        return keras.initializers.Constant(spec.bias_init)

    common = {"dtype": dtype_policy} if dtype_policy else {}
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = inputs
    for i, conv in enumerate(spec.convs, start=1):
        x = layers.Conv2D(
            conv.filters,
            conv.kernel_size,
            strides=conv.strides,
            padding=spec.padding,
            kernel_initializer=kernel_init("conv"),
            bias_initializer=bias_init("conv"),
            name=f"conv{i}",
            **common,
        )(x)
        if conv.batch_norm:
            x = layers.BatchNormalization(momentum=spec.bn_momentum, name=f"bn{i}", **common)(x)
        x = layers.Activation(spec.activation, name=f"act{i}", **common)(x)
        if conv.pool:
            x = layers.MaxPooling2D(2, padding=spec.padding, name=f"pool{i}", **common)(x)
    x = layers.Flatten(name="flatten", **common)(x)

    def dropout(x):
        return layers.Dropout(spec.dropout, name="dropout", **common)(x) if spec.dropout > 0 else x

    if spec.dropout_position == "before_dense":
        x = dropout(x)
    for i, units in enumerate(spec.dense_units, start=1):
        x = layers.Dense(
            units,
            activation=None if spec.dense_batch_norm else spec.activation,
            kernel_initializer=kernel_init("dense"),
            bias_initializer=bias_init("dense"),
            name=f"dense{i}",
            **common,
        )(x)
        if spec.dense_batch_norm:
            x = layers.BatchNormalization(momentum=spec.bn_momentum, name=f"dense_bn{i}", **common)(x)
            x = layers.Activation(spec.activation, name=f"dense_act{i}", **common)(x)
    if spec.dropout_position == "after_dense":
        x = dropout(x)
    x = layers.Dense(
        NUM_CLASSES,
        kernel_initializer=kernel_init("dense"),
        bias_initializer=bias_init("dense"),
        name="logits",
        **common,
    )(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def conv_layer_names(spec: ArchSpec) -> list[str]:
    return [f"conv{i}" for i in range(1, len(spec.convs) + 1)]


@dataclass(frozen=True)
class LayerCost:
    """One weighted layer of a network: its output shape, parameters and multiply-adds per image."""

    name: str
    output_shape: tuple[int, ...]
    params: int
    multiply_adds: int


def layer_costs(spec: ArchSpec) -> list[LayerCost]:
    """Every weighted layer of `build_model(spec)` with its cost, computed from the spec alone.

    A convolution holds k*k*C_in*C_out weights + C_out biases and does k*k*C_in*C_out
    multiply-adds per output position; BatchNorm holds 4 numbers per channel (scale, shift and
    the running mean and variance). Raises ValueError if the convolutions shrink 28x28 to nothing.
    """
    height, width, channels = INPUT_SHAPE
    costs = []
    for i, conv in enumerate(spec.convs, start=1):
        if spec.padding == "same":
            height, width = -(-height // conv.strides), -(-width // conv.strides)
        else:
            height = (height - conv.kernel_size) // conv.strides + 1
            width = (width - conv.kernel_size) // conv.strides + 1
        if height < 1 or width < 1:
            raise ValueError("the convolutions shrink 28x28 to nothing: use 'same' padding or fewer layers")
        weights = conv.kernel_size**2 * channels * conv.filters
        costs.append(LayerCost(f"conv{i}", (height, width, conv.filters), weights + conv.filters,
                               height * width * weights))
        if conv.batch_norm:
            costs.append(LayerCost(f"bn{i}", (height, width, conv.filters), 4 * conv.filters, 0))
        channels = conv.filters
        if conv.pool:
            height, width = (-(-height // 2), -(-width // 2)) if spec.padding == "same" else (height // 2, width // 2)
            if height < 1 or width < 1:
                raise ValueError("the pooling shrinks 28x28 to nothing: use 'same' padding or fewer layers")
    features = height * width * channels
    for i, units in enumerate((*spec.dense_units, NUM_CLASSES), start=1):
        name = f"dense{i}" if i <= len(spec.dense_units) else "logits"
        costs.append(LayerCost(name, (units,), features * units + units, features * units))
        if spec.dense_batch_norm and name != "logits":
            costs.append(LayerCost(f"dense_bn{i}", (units,), 4 * units, 0))
        features = units
    return costs


def parameter_count(spec: ArchSpec) -> int:
    """What `build_model(spec).count_params()` gives, without building it."""
    return sum(cost.params for cost in layer_costs(spec))


def flops_per_image(spec: ArchSpec) -> int:
    """Multiply-adds x 2 of one forward pass through the convolutions and dense layers.

    Training costs about three times this per image (forward, and backward for inputs
    and weights); used to estimate training time from runs already timed on this machine.
    """
    return 2 * sum(cost.multiply_adds for cost in layer_costs(spec))
