"""Convolution as a lesson shows it: kernels, the sum at one pixel, output sizes, receptive fields, an architecture card."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from digitlab.architectures import INPUT_SHAPE, NUM_CLASSES, ArchSpec

# 3×3 kernels every image-processing course starts from; "edge" is the Laplacian (all directions at once).
KERNEL_PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32),
    "blur": np.full((3, 3), 1 / 9, np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
    "Sobel x (vertical edges)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32),
    "Sobel y (horizontal edges)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float32),
    "edge (all directions)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], np.float32),
}


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Zeros added (before, after) along one axis by TensorFlow's "same" padding: the extra one goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def convolve(image: np.ndarray, kernel: np.ndarray, bias: float = 0.0, *, stride: int = 1,
             padding: str = "same") -> np.ndarray:
    """(h, w) or (h, w, c) float32 image ⊛ (k, k) or (k, k, c) kernel + bias -> (oh, ow) float32, as Keras' Conv2D.

    Keras (like every deep-learning library) slides the kernel without flipping it: strictly
    a cross-correlation, which is what "convolution" means in a CNN.
    """
    image, kernel = _with_channels(image, kernel)
    k = kernel.shape[0]
    height, width = image.shape[:2]
    if padding == "same":
        (top, bottom), (left, right) = same_padding(height, k, stride), same_padding(width, k, stride)
        image = np.pad(image, ((top, bottom), (left, right), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1))[::stride, ::stride]
    # windows: (oh, ow, c, k, k); the kernel as (c, k, k) to match
    return np.einsum("hwcij,cij->hw", windows, np.moveaxis(kernel, 2, 0)).astype(np.float32) + np.float32(bias)


@dataclass(frozen=True)
class PixelArithmetic:
    """Every number behind one output pixel of a convolution: patch × kernel, summed, + bias, ReLU."""

    row: int
    col: int
    patch: np.ndarray  # (k, k, c) float32, the input under the kernel (zeros where it hangs over the edge)
    kernel: np.ndarray  # (k, k, c) float32
    products: np.ndarray  # (k, k, c) float32, patch * kernel
    total: float  # sum of the products
    bias: float
    output: float  # total + bias: what the convolution layer outputs
    relu: float  # max(0, output)


def pixel_arithmetic(image: np.ndarray, kernel: np.ndarray, *, row: int, col: int, bias: float = 0.0,
                     stride: int = 1, padding: str = "same") -> PixelArithmetic:
    """The arithmetic of output pixel (row, col) of `convolve(image, kernel, bias, ...)`."""
    image, kernel = _with_channels(image, kernel)
    k = kernel.shape[0]
    height, width = image.shape[:2]
    out_h, out_w = (output_size(height, k, stride=stride), output_size(width, k, stride=stride)) \
        if padding == "valid" else (-(-height // stride), -(-width // stride))
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise ValueError(f"output pixel ({row}, {col}) is outside the {out_h}×{out_w} output")
    top = same_padding(height, k, stride)[0] if padding == "same" else 0
    left = same_padding(width, k, stride)[0] if padding == "same" else 0
    patch = np.zeros_like(kernel)
    for i in range(k):
        for j in range(k):
            y, x = row * stride - top + i, col * stride - left + j
            if 0 <= y < height and 0 <= x < width:
                patch[i, j] = image[y, x]
    products = patch * kernel
    total = float(products.sum(dtype=np.float64))
    output = total + float(bias)
    return PixelArithmetic(row, col, patch, kernel, products, total, float(bias), output, max(0.0, output))


def _with_channels(image: np.ndarray, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image, np.float32)
    kernel = np.asarray(kernel, np.float32)
    image = image[..., None] if image.ndim == 2 else image
    kernel = kernel[..., None] if kernel.ndim == 2 else kernel
    if kernel.shape[0] != kernel.shape[1] or kernel.shape[2] != image.shape[2]:
        raise ValueError(f"a {kernel.shape} kernel does not fit a {image.shape} image")
    return image, kernel


def output_size(size: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """o = ⌊(i + 2p − d(k−1) − 1) / s⌋ + 1; ValueError naming the problem when the settings make no output."""
    for name, value, least in (("input size", size, 1), ("kernel", kernel, 1), ("stride", stride, 1),
                               ("padding", padding, 0), ("dilation", dilation, 1)):
        if int(value) != value or value < least:
            raise ValueError(f"{name} must be a whole number ≥ {least}, not {value}")
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * padding:
        raise ValueError(f"the kernel spans {span} pixels (d(k−1)+1) but the padded input is only "
                         f"{size + 2 * padding} (i+2p): no position fits")
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def size_formula(size: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> str:
    """The size formula with these numbers filled in, e.g. "⌊(28 + 2·1 − 1·(3−1) − 1) / 1⌋ + 1 = 28"."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    text = f"⌊({size} + 2·{padding} − {dilation}·({kernel}−1) − 1) / {stride}⌋ + 1 = ⌊{numerator} / {stride}⌋ + 1"
    try:
        return f"{text} = {output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)}"
    except ValueError:
        return f"{text}: no output"


@dataclass(frozen=True)
class LayerGeometry:
    """Where one layer's units sit over the input: its size, the input step between neighbours, what each sees."""

    name: str  # "input", "conv1", "pool1", ...
    kernel: int
    stride: int
    size: int  # output side in units (square inputs)
    jump: int  # input pixels between two neighbouring units: the product of all strides so far
    receptive_field: int  # input pixels one unit sees along a side: r_l = r_(l−1) + (k_l − 1)·jump_(l−1)
    pad_before: int  # zeros added before the first input row/column


def layer_geometry(spec: ArchSpec) -> list[LayerGeometry]:
    """The input, then every convolution and pooling layer of `spec`, in order."""
    size = INPUT_SHAPE[0]
    rows = [LayerGeometry("input", 1, 1, size, 1, 1, 0)]
    for i, conv in enumerate(spec.convs, start=1):
        layers = [(f"conv{i}", conv.kernel_size, conv.strides)] + ([(f"pool{i}", 2, 2)] if conv.pool else [])
        for name, kernel, stride in layers:
            previous = rows[-1]
            if spec.padding == "same":
                pad, out = same_padding(previous.size, kernel, stride)[0], -(-previous.size // stride)
            else:
                pad, out = 0, (previous.size - kernel) // stride + 1 if previous.size >= kernel else 0
            if out < 1:
                raise ValueError(f"{name} has no output: the layers before it shrink 28×28 to {previous.size}")
            rows.append(LayerGeometry(name, kernel, stride, out, previous.jump * stride,
                                      previous.receptive_field + (kernel - 1) * previous.jump, pad))
    return rows


def unit_region(geometry: list[LayerGeometry], layer: str, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), inclusive, of the input pixels unit (row, col) of `layer` depends on.

    The receptive field clipped to the picture: units near the edge see padding zeros there.
    """
    index = next((i for i, g in enumerate(geometry) if g.name == layer), None)
    if index is None:
        raise ValueError(f"no layer {layer!r}; layers: {', '.join(g.name for g in geometry)}")
    if not (0 <= row < geometry[index].size and 0 <= col < geometry[index].size):
        raise ValueError(f"unit ({row}, {col}) is outside {layer}'s {geometry[index].size}×{geometry[index].size}")
    top, bottom, left, right = row, row, col, col
    for g, below in zip(geometry[index:0:-1], geometry[index - 1::-1]):
        def back(low, high):
            return max(low * g.stride - g.pad_before, 0), min(high * g.stride - g.pad_before + g.kernel - 1,
                                                              below.size - 1)
        (top, bottom), (left, right) = back(top, bottom), back(left, right)
    return top, left, bottom, right


@dataclass(frozen=True)
class LayerSize:
    """The size formula applied to one real layer: its input side, settings and output side."""

    name: str
    input_size: int
    kernel: int
    stride: int
    zeros_added: int  # before + after ("same" padding may add one more after than before)
    output_size: int  # ⌊(i + zeros − (k−1) − 1) / s⌋ + 1
    formula: str


def layer_sizes(spec: ArchSpec) -> list[LayerSize]:
    """Every convolution and pooling layer of `spec` with the size formula filled in."""
    geometry = layer_geometry(spec)
    rows = []
    for below, g in zip(geometry, geometry[1:]):
        zeros = sum(same_padding(below.size, g.kernel, g.stride)) if spec.padding == "same" else 0
        out = (below.size + zeros - (g.kernel - 1) - 1) // g.stride + 1
        rows.append(LayerSize(g.name, below.size, g.kernel, g.stride, zeros, out,
                              f"⌊({below.size} + {zeros} − ({g.kernel}−1) − 1) / {g.stride}⌋ + 1 = {out}"))
    return rows


@dataclass(frozen=True)
class CardRow:
    """One layer on an architecture card."""

    layer: str
    output_shape: tuple[int, ...]  # without the batch axis
    params: int
    params_formula: str  # the formula with the numbers in, "" when the layer has none
    mult_adds: int  # multiply-adds for one image
    receptive_field: int | None  # input pixels a unit sees along a side (convolution and pooling layers)


def architecture_card(spec: ArchSpec) -> list[CardRow]:
    """Every layer of `build_model(spec)`: output shape, parameters with their formula, multiply-adds, receptive field."""
    geometry = {g.name: g for g in layer_geometry(spec)}
    channels = INPUT_SHAPE[2]
    rows = [CardRow("image (input)", INPUT_SHAPE, 0, "", 0, 1)]
    for i, conv in enumerate(spec.convs, start=1):
        g = geometry[f"conv{i}"]
        k, c_in, c_out = conv.kernel_size, channels, conv.filters
        rows.append(CardRow(f"conv{i}", (g.size, g.size, c_out), k * k * c_in * c_out + c_out,
                            f"k²·C_in·C_out + C_out = {k}²·{c_in}·{c_out} + {c_out}",
                            g.size * g.size * k * k * c_in * c_out, g.receptive_field))
        if conv.batch_norm:
            rows.append(CardRow(f"bn{i}", (g.size, g.size, c_out), 4 * c_out,
                                f"4·C (γ, β, mean, variance) = 4·{c_out}", 0, None))
        rows.append(CardRow(f"act{i} ({spec.activation})", (g.size, g.size, c_out), 0, "", 0, None))
        channels, side = c_out, g.size
        if conv.pool:
            p = geometry[f"pool{i}"]
            rows.append(CardRow(f"pool{i} (2×2 max)", (p.size, p.size, channels), 0, "", 0, p.receptive_field))
            side = p.size
    features = side * side * channels
    rows.append(CardRow("flatten", (features,), 0, "", 0, None))
    if spec.dropout > 0 and spec.dropout_position == "before_dense":
        rows.append(CardRow(f"dropout ({spec.dropout:g})", (features,), 0, "", 0, None))
    for i, units in enumerate((*spec.dense_units, NUM_CLASSES), start=1):
        name = f"dense{i}" if i <= len(spec.dense_units) else "logits"
        rows.append(CardRow(name, (units,), features * units + units,
                            f"n_in·n_out + n_out = {features}·{units} + {units}", features * units, None))
        features = units
        if spec.dense_batch_norm and name != "logits":
            rows.append(CardRow(f"dense_bn{i}", (units,), 4 * units, f"4·n (γ, β, mean, variance) = 4·{units}", 0, None))
            rows.append(CardRow(f"dense_act{i} ({spec.activation})", (units,), 0, "", 0, None))
        if name == f"dense{len(spec.dense_units)}" and spec.dropout > 0 and spec.dropout_position == "after_dense":
            rows.append(CardRow(f"dropout ({spec.dropout:g})", (units,), 0, "", 0, None))
    rows.append(CardRow("probabilities (softmax)", (NUM_CLASSES,), 0, "", 0, None))
    return rows


def max_pool(feature_map: np.ndarray, size: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(h, w) float32 -> (⌈h/size⌉, ⌈w/size⌉) window maxima and an (h, w) bool mask of each window's winning cell.

    Windows hanging over the edge ("same" padding) take the max of the cells they hold; ties
    go to the first cell in reading order, as TensorFlow's gradient does.
    """
    feature_map = np.asarray(feature_map, np.float32)
    height, width = feature_map.shape
    out_h, out_w = math.ceil(height / size), math.ceil(width / size)
    padded = np.full((out_h * size, out_w * size), -np.inf, np.float32)
    padded[:height, :width] = feature_map
    windows = padded.reshape(out_h, size, out_w, size).transpose(0, 2, 1, 3).reshape(out_h, out_w, size * size)
    best = windows.argmax(axis=2)
    pooled = np.take_along_axis(windows, best[..., None], axis=2)[..., 0]
    winners = np.zeros_like(padded, dtype=bool)
    rows, cols = np.indices((out_h, out_w))
    winners[rows * size + best // size, cols * size + best % size] = True
    return pooled, winners[:height, :width]
