"""Exports of a stored run for use outside digitlab: ONNX and LiteRT, each checked with its own runtime.

ONNX is written by tf2onnx (1.17 converts Keras 3 models on TensorFlow 2.21) and read back
by onnxruntime; LiteRT (.tflite) is written by TensorFlow's own converter
(`tf.lite.TFLiteConverter`, which LiteRT files still come from) and read back by the
`ai-edge-litert` interpreter, which replaces TensorFlow's deprecated `tf.lite.Interpreter`.
An export is kept only if it reads MNIST test digits as the stored model does.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab import registry

FORMATS = ("onnx", "tflite")
RUNTIMES = {"onnx": "onnxruntime", "tflite": "LiteRT (ai-edge-litert)"}
CHECK_IMAGES = 1000
MAX_DIFFERENCE = 1e-4  # float32 kernels of two runtimes differ by ~1e-6 on probabilities; a wrong graph by far more
INPUT_NAME = "image"


class ExportError(ValueError):
    """An export that could not be written or did not predict as the stored model; one line."""


@dataclass(frozen=True)
class ExportResult:
    """A checked export: where it is, and how closely its runtime's readings match the stored model's."""

    name: str
    format: str
    path: Path
    bytes: int
    images: int
    max_difference: float  # largest |probability difference| over every image and digit
    same_digit: int  # images whose digit (argmax) both agree on

    @property
    def runtime(self) -> str:
        return RUNTIMES[self.format]


def write_onnx(model, path: Path) -> None:
    """Convert a Keras model to ONNX at `path`: input "image" (n, 28, 28, 1) float32, one output (n, 10)."""
    import tensorflow as tf
    import tf2onnx

    signature = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name=INPUT_NAME),)
    # Through a tf.function rather than tf2onnx's from_keras, which fails on Keras 3 Sequential
    # models (a KeyError on a keras_tensor name) and so on many uploaded models.
    function = tf.function(lambda images: model(images, training=False), input_signature=signature)
    with contextlib.redirect_stdout(io.StringIO()):  # tf2onnx prints its graph rewrites
        tf2onnx.convert.from_function(function, input_signature=signature, opset=17, output_path=str(path))


def write_tflite(model, path: Path) -> None:
    """Convert a Keras model to a LiteRT flatbuffer at `path` (float32, no quantisation: it must read as the original)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints the SavedModel it went through
        flatbuffer = converter.convert()
    path.write_bytes(flatbuffer)


def predict_onnx(path: Path, images: np.ndarray) -> np.ndarray:
    """(n, 28, 28, 1) float32 -> (n, 10) float32, read by onnxruntime on the CPU."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: images})[0], dtype=np.float32)


def predict_tflite(path: Path, images: np.ndarray) -> np.ndarray:
    """(n, 28, 28, 1) float32 -> (n, 10) float32, read by the LiteRT interpreter in one batch."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], images)
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(target["index"]), dtype=np.float32)


WRITERS = {"onnx": write_onnx, "tflite": write_tflite}
READERS = {"onnx": predict_onnx, "tflite": predict_tflite}


def export_run(name: str, fmt: str, out: str | os.PathLike, *, root: Path | None = None,
               check_images: int = CHECK_IMAGES, tolerance: float = MAX_DIFFERENCE) -> ExportResult:
    """Export stored run `name` ("default" for the default run) as `fmt` to `out`, checked before it is kept.

    The export is written beside `out` under a temporary name, read back with its own
    runtime on the first `check_images` MNIST test digits and compared with the stored
    model's probabilities; only if no probability differs by more than `tolerance` is it
    renamed to `out`. Raises ExportError (RegistryError for a missing run) otherwise, and
    `out` is left as it was.
    """
    from digitlab import data

    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose {' or '.join(FORMATS)}")
    run = registry.get_run(name, root=root)
    model = registry.load_model(run.name, root=root)
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give the file to write, e.g. {out / (run.name + '.' + fmt)}")
    if not out.parent.is_dir():
        raise ExportError(f"folder {out.parent} does not exist")
    images = data.mnist_test_set()[0][:check_images]
    expected = np.asarray(model(images, training=False), dtype=np.float32)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        try:
            WRITERS[fmt](model, partial)
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
        except Exception as exc:  # converter errors come in many types; the user gets one line
            raise ExportError(f"the {fmt} converter failed on {run.name}: {type(exc).__name__}: "
                              f"{' '.join(str(exc).split())[:200]}") from None
        got = READERS[fmt](partial, images)
        difference = float(np.abs(got - expected).max())
        if not difference <= tolerance:  # NaN fails too
            raise ExportError(f"the {fmt} export of {run.name} does not read as the stored model: probabilities differ "
                              f"by up to {difference:.2e} (allowed {tolerance:.0e}); nothing written")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(
        name=run.name, format=fmt, path=out, bytes=out.stat().st_size, images=len(images),
        max_difference=difference, same_digit=int((got.argmax(1) == expected.argmax(1)).sum()),
    )
