"""Architecture specs (frozen, JSON-serialisable), the presets of both papers, and `build_model`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

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

    def replace(self, **changes) -> "ArchSpec":
        return dataclasses.replace(self, **changes)


def _paper_s(filters: tuple[int, ...], dense: int) -> ArchSpec:
    return ArchSpec(
        convs=tuple(ConvSpec(f) for f in filters),
        dense_units=(dense,),
        dropout=0.25,
        dropout_position="before_dense",
        description=f"Paper S, {len(filters)} conv layer{'s' if len(filters) > 1 else ''}: "
        f"filters {'/'.join(map(str, filters))}, 3x3, ReLU, 2x2 max pool each; Dropout 0.25; Dense {dense}",
    )


_PAPER_H = ArchSpec(
    convs=(
        ConvSpec(12, kernel_size=3, strides=1, batch_norm=True, pool=False),
        ConvSpec(24, kernel_size=6, strides=2, batch_norm=True, pool=False),
        ConvSpec(32, kernel_size=6, strides=2, batch_norm=True, pool=False),
    ),
    dense_units=(200,),
    dropout=0.4,
    dropout_position="after_dense",
    init="truncated_normal",
    init_std=0.1,
    bias_init=0.1,
    description="Paper H: conv 3x3x12 s1, 6x6x24 s2, 6x6x32 s2, each BN + ReLU; Dense 200; Dropout 0.4",
)

PRESETS: dict[str, ArchSpec] = {
    "paper-s-1": _paper_s((64,), 64),
    "paper-s-2": _paper_s((64, 128), 128),
    "paper-s-3": _paper_s((64, 128, 512), 512),
    "paper-s-4": _paper_s((64, 128, 512, 1024), 512),
    "paper-h": _PAPER_H,
    # The same network, trained with the knobs exactly as Paper H's text states them.
    "paper-h-stated": _PAPER_H.replace(description=_PAPER_H.description + " (the paper's stated knobs)"),
    "digitlab": ArchSpec(
        convs=(
            ConvSpec(32, batch_norm=True, pool=False),
            ConvSpec(32, batch_norm=True, pool=True),
            ConvSpec(64, batch_norm=True, pool=False),
            ConvSpec(64, batch_norm=True, pool=True),
        ),
        dense_units=(128,),
        dropout=0.3,
        dropout_position="after_dense",
        bn_momentum=0.9,
        description="digitlab's reader: conv 32, 32, 64, 64 (3x3, BN, ReLU; pooled in pairs); Dense 128; "
        "Dropout 0.3; trained with handwriting-style augmentation",
    ),
    "small": ArchSpec(
        convs=(ConvSpec(16), ConvSpec(32)),
        dense_units=(64,),
        dropout=0.25,
        description="Small and fast: conv 16 and 32, 3x3, each pooled; Dense 64 (classroom default)",
    ),
}


def get_preset(name: str) -> ArchSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(PRESETS)}") from None


def build_model(spec: ArchSpec, *, dtype_policy: str | None = None, name: str = "digitlab"):
    """Build an uncompiled Keras model for `spec`, input (28, 28, 1) float32 in [0, 1].

    Layers are named conv1, bn1, act1, pool1, ..., flatten, dropout, dense1, ..., logits,
    probabilities. `dtype_policy` (e.g. "mixed_bfloat16") applies to every layer but the
    final softmax, which stays float32 for stable probabilities.
    """
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
            activation=spec.activation,
            kernel_initializer=kernel_init("dense"),
            bias_initializer=bias_init("dense"),
            name=f"dense{i}",
            **common,
        )(x)
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


def flops_per_image(spec: ArchSpec) -> int:
    """Multiply-adds x 2 of one forward pass through the convolutions and dense layers.

    Training costs about three times this per image (forward, and backward for inputs
    and weights); used to estimate training time from runs already timed on this machine.
    """
    height, width, channels = INPUT_SHAPE
    total = 0
    for conv in spec.convs:
        if spec.padding == "same":
            height, width = -(-height // conv.strides), -(-width // conv.strides)
        else:
            height = (height - conv.kernel_size) // conv.strides + 1
            width = (width - conv.kernel_size) // conv.strides + 1
        if height < 1 or width < 1:
            raise ValueError("the convolutions shrink 28x28 to nothing: use 'same' padding or fewer layers")
        total += 2 * height * width * conv.filters * conv.kernel_size**2 * channels
        channels = conv.filters
        if conv.pool:
            height, width = (-(-height // 2), -(-width // 2)) if spec.padding == "same" else (height // 2, width // 2)
    features = height * width * channels
    for units in (*spec.dense_units, NUM_CLASSES):
        total += 2 * features * units
        features = units
    return total
