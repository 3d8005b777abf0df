"""Uploaded Keras models: every byte checked, loaded only in safe mode, evaluated on MNIST and stored as a run.

An upload is untrusted. Before Keras sees it, `read_keras_archive` / `check_h5_file` read
the file's directory and configuration themselves: sizes and compression ratios, the
archive's members, every class in the model's configuration (built-in Keras layers only,
no `Lambda`, no custom objects) and every weight array's declared size and storage. Only
then does Keras load it (a `.keras` repacked from the checked members), in safe mode, with
no custom objects, and the loaded model is checked again (its layers, 28x28 input, 10
outputs). Anything else is refused with one `UploadError` line and nothing is stored.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from digitlab import registry
from digitlab.architectures import ArchSpec
from digitlab.records import UPLOADED, ProgressEvent, RunRecord

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a 4-layer Paper S model is 20 MB; 50 MB leaves room, a bomb does not fit
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # what the archive and its weights may unpack to in all
MAX_RATIO = 100  # unpacked / packed per archive member: weights barely compress; a zip bomb is 1000x and more
MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a model's config.json is kilobytes; JSON bombs need megabytes
MAX_CONFIG_DEPTH = 64
MAX_WEIGHT_ARRAYS = 5_000
FORMATS = (".keras", ".h5")
KERAS_MEMBERS = {"config.json", "model.weights.h5", "metadata.json"}  # what model.save() writes, nothing else
H5_SAFE_MODE_KERAS = (3, 11, 3)  # Keras ignored safe_mode for legacy .h5 files before 3.11.3 (CVE-2025-9905)

# Layers a digit classifier is made of. Everything that runs code of its own or reaches
# outside the model is absent on purpose: Lambda (Python bytecode), TFSMLayer (loads a
# SavedModel from a path), TorchModuleWrapper (pickle), JaxLayer / FlaxLayer (functions).
ALLOWED_LAYERS = frozenset({
    "InputLayer", "Conv1D", "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "Dense",
    "EinsumDense", "Dropout", "SpatialDropout2D", "GaussianDropout", "GaussianNoise", "AlphaDropout",
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "MaxPooling1D",
    "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Flatten", "Reshape", "Permute",
    "RepeatVector", "ZeroPadding2D", "Cropping2D", "UpSampling2D", "Activation", "ReLU", "LeakyReLU", "PReLU",
    "ELU", "Softmax", "Rescaling", "Identity", "ActivityRegularization", "Add", "Subtract", "Multiply",
    "Average", "Maximum", "Minimum", "Concatenate", "Dot", "RandomRotation", "RandomZoom", "RandomTranslation",
    "RandomContrast", "RandomFlip", "RandomCrop",
})
MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
# Where Keras' own serialisation says an object comes from. Losses, metrics and optimizers
# appear only in a compiled model's compile_config, which is never deserialised (compile=False).
ALLOWED_MODULES = frozenset({
    "keras", "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints", "keras.models",
    "keras.src.models.functional", "keras.src.models.sequential", "keras.src.models.model",
    "keras.losses", "keras.metrics", "keras.optimizers", "keras.optimizers.schedules",
})
KERAS_ROOT_CLASSES = MODEL_CLASSES | {"DTypePolicy", "FloatDTypePolicy"}  # objects of module "keras" itself
DATA_MARKERS = frozenset({"__keras_tensor__", "__tuple__", "__numpy__", "__bytes__", "__ellipsis__"})

if TYPE_CHECKING:
    import keras

ProgressFn = Callable[[ProgressEvent], None]


class UploadError(ValueError):
    """An uploaded model file that is refused; the message is one line saying why."""


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def check_config(config) -> None:
    """Refuse a model configuration (config.json, or an .h5 file's model_config) with anything not built in.

    The whole tree is walked: every object must come from Keras' own modules, every layer
    from ALLOWED_LAYERS, the top one must be a model; no Python functions or lambdas, no
    registered custom objects. Safe mode refuses lambdas too; this refuses them before
    Keras imports or instantiates anything, and refuses what safe mode lets through.
    """
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES:
        found = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise UploadError(f"not a Keras model: its configuration describes {found!r}, not a Sequential or functional model")
    count = [0]

    def walk(node, depth: int, in_layer_list: bool) -> None:
        count[0] += 1
        if depth > MAX_CONFIG_DEPTH or count[0] > 1_000_000:
            raise UploadError("the model's configuration is nested too deeply or too large")
        if isinstance(node, list):
            for item in node:
                walk(item, depth + 1, False)
            return
        if not isinstance(node, dict):
            return
        class_name = node.get("class_name")
        if class_name is not None:
            _check_object(node, class_name, in_layer_list)
        for key, value in node.items():
            if key == "layers" and isinstance(value, list):
                for item in value:
                    walk(item, depth + 1, True)
            else:
                walk(value, depth + 1, False)

    # Keras drops the top model's compile_config unread when loading with compile=False (a loss
    # or metric given as a function would otherwise be refused below); nested ones are walked.
    walk({key: value for key, value in config.items() if key != "compile_config"}, 0, True)


def _check_object(node: dict, class_name, in_layer_list: bool) -> None:
    if not isinstance(class_name, str):
        raise UploadError("the model's configuration is malformed (a class name that is not text)")
    if class_name == "Lambda" or node.get("function_type") == "lambda":
        raise UploadError("the model has a Lambda layer (Python code): only built-in Keras layers are accepted")
    if class_name.startswith("__"):
        if class_name not in DATA_MARKERS:
            raise UploadError(f"the model's configuration holds {class_name!r} (code), which is not accepted")
        return
    registered = node.get("registered_name")
    if isinstance(registered, str) and ">" in registered:
        raise UploadError(f"the model uses the custom object {registered!r}: only built-in Keras layers are accepted")
    module = node.get("module")
    if class_name == "function" or registered == "function":
        raise UploadError(f"the model's configuration refers to a Python function ({node.get('config')!r} from {module!r})")
    if module is not None:
        if module not in ALLOWED_MODULES:
            raise UploadError(f"the model uses {class_name!r} from {module!r}: only built-in Keras layers are accepted")
        if module == "keras" and class_name not in KERAS_ROOT_CLASSES:
            raise UploadError(f"the model uses keras.{class_name}, which is not accepted in an uploaded model")
    if in_layer_list or module == "keras.layers":
        if class_name not in ALLOWED_LAYERS and class_name not in MODEL_CLASSES:
            raise UploadError(f"the model has a {class_name} layer, which is not accepted in an uploaded model")


def check_weights_h5(file) -> None:
    """Refuse an HDF5 weights file whose arrays are too big, stored outside it, or linked elsewhere.

    `file` is a path or a binary file object. HDF5 can compress a huge array into a few
    bytes, keep a dataset's bytes in another file on this server (external storage,
    virtual datasets) or link to other files; Keras would read all of them.
    """
    import h5py

    try:
        h5 = h5py.File(file, "r")
    except Exception as exc:  # h5py raises OSError for most damage, others for odd files
        raise UploadError(f"not a readable HDF5 file ({type(exc).__name__}: {_one_line(exc)})") from None
    total, arrays = 0, 0
    with h5:
        pending = [h5]
        while pending:
            group = pending.pop()
            for key in group.keys():
                link = group.get(key, getlink=True)
                if isinstance(link, h5py.ExternalLink):
                    raise UploadError("the weights file links to another file, which is not accepted")
                if isinstance(link, h5py.SoftLink):
                    continue  # points inside this file: whatever it names is checked where it lives
                item = group[key]
                if isinstance(item, h5py.Group):
                    pending.append(item)
                    continue
                arrays += 1
                if arrays > MAX_WEIGHT_ARRAYS:
                    raise UploadError(f"the weights file holds more than {MAX_WEIGHT_ARRAYS:,} arrays")
                if item.external or item.is_virtual:
                    raise UploadError("the weights file keeps arrays in other files, which is not accepted")
                if item.dtype.kind not in "fiub":  # numbers only: no strings, objects or references
                    raise UploadError(f"the weights file holds a {item.dtype} array, not numbers")
                total += int(np.prod(item.shape, dtype=np.int64)) * item.dtype.itemsize
                if total > MAX_UNPACKED_BYTES:
                    raise UploadError(f"the weights unpack to more than {_size(MAX_UNPACKED_BYTES)}")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] + ("…" if len(text) > 200 else "")


def read_keras_archive(path: Path) -> dict[str, bytes]:
    """Check a `.keras` file (a zip) from its directory before anything is unpacked, then unpack and check it.

    Returns its members' bytes. Each member is unpacked a megabyte at a time and never past
    its declared size (Python's zipfile stops there and checks the CRC), so neither a zip
    bomb nor a directory that lies about sizes can unpack more than was checked; only the
    two methods whose unpacking is bounded that way (stored, deflated) are accepted.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadError(f"not a Keras model file: not a zip archive, which every .keras file is ({_one_line(exc)})") from None
    with archive:
        members = archive.infolist()
        names = [m.filename for m in members]
        unknown = sorted(set(names) - KERAS_MEMBERS)
        if unknown or len(names) != len(set(names)):
            raise UploadError(f"not a Keras model file: unexpected archive members {unknown[:3] or 'repeated'}")
        if "config.json" not in names or "model.weights.h5" not in names:
            raise UploadError("not a Keras model file: config.json or model.weights.h5 is missing")
        total = 0
        for member in members:
            total += member.file_size
            if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(member.compress_size, 1):
                raise UploadError(f"refused as a zip bomb: {member.filename} unpacks {member.file_size / max(member.compress_size, 1):,.0f}"
                                  f" times its packed size")
            if member.flag_bits & 0x1:
                raise UploadError("not a Keras model file: the archive is encrypted")
            if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise UploadError(f"not a Keras model file: {member.filename} is packed with method "
                                  f"{member.compress_type}, not stored or deflated")
        if total > MAX_UNPACKED_BYTES:
            raise UploadError(f"refused as a zip bomb: it unpacks to {_size(total)}, more than {_size(MAX_UNPACKED_BYTES)}")
        if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
            raise UploadError("not a Keras model file: its config.json is implausibly large")
        try:
            contents = {member.filename: _unpack(archive, member) for member in members}
            check_config(json.loads(contents["config.json"]))
            check_weights_h5(io.BytesIO(contents["model.weights.h5"]))
        except UploadError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:  # CRC errors, cut-off members
            raise UploadError(f"the model file is damaged or truncated ({_one_line(exc)})") from None
    return contents


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """A member's bytes, unpacked a megabyte at a time: a deflate stream never expands past that per step."""
    chunks = []
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            chunks.append(chunk)
    return b"".join(chunks)


def check_h5_file(path: Path) -> None:
    """Check a legacy `.h5` model file's configuration and weight arrays before Keras loads it."""
    import h5py
    import keras

    if tuple(int(p) for p in re.findall(r"\d+", keras.__version__)[:3]) < H5_SAFE_MODE_KERAS:
        raise UploadError(f"this server's Keras {keras.__version__} cannot load .h5 files in safe mode; upload a .keras file")
    try:
        with h5py.File(path, "r") as h5:
            raw = h5.attrs.get("model_config")
            if raw is None:
                raise UploadError("the .h5 file holds no model configuration (weights alone cannot be served)")
            if hasattr(raw, "decode"):
                raw = raw.decode("utf-8")
            if not isinstance(raw, str) or len(raw) > MAX_CONFIG_BYTES:
                raise UploadError("the .h5 file's model configuration is malformed or implausibly large")
            config = json.loads(raw)
    except UploadError:
        raise
    except Exception as exc:
        raise UploadError(f"not a readable Keras .h5 model file ({type(exc).__name__}: {_one_line(exc)})") from None
    check_config(config)
    check_weights_h5(path)


def check_loaded(model) -> None:
    """Refuse a loaded model with a layer outside ALLOWED_LAYERS, or not mapping 28x28(x1) images to 10 outputs."""
    import keras

    for layer in _all_layers(model):
        kind = type(layer).__name__
        if not type(layer).__module__.startswith("keras.") or (kind not in ALLOWED_LAYERS and kind not in MODEL_CLASSES):
            raise UploadError(f"the model has a {kind} layer, which is not accepted in an uploaded model")
    if not isinstance(model, keras.Model) or len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UploadError("the model must have one input (a 28x28 image) and one output (10 scores)")
    input_shape, output_shape = tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])
    if input_shape not in ((28, 28, 1), (28, 28)) or output_shape != (10,):
        raise UploadError(f"the model must map 28x28 (x1) images to 10 outputs; this one maps {input_shape} to {output_shape}")


def _all_layers(model) -> list:
    """Every layer of `model`, those of nested models included."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_all_layers(layer))
    return found


def load_checked(path: str | os.PathLike) -> keras.Model:
    """Check a `.keras` or `.h5` file, load it in safe mode without custom objects, check the model.

    Raises UploadError for anything refused. Used on arrival and whenever an uploaded run is loaded.
    """
    import keras

    path = source = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UploadError(f"a model must be a .keras or .h5 file, not {path.suffix or 'a file without extension'}")
    if path.stat().st_size > MAX_UPLOAD_BYTES:
        raise UploadError(f"the file is {_size(path.stat().st_size)}, over the {MAX_UPLOAD_BYTES >> 20} MB limit for models")
    with tempfile.TemporaryDirectory(prefix="digitlab-load-") as scratch:
        if suffix == ".keras":
            # Keras reads a clean archive packed here from the checked members, never the upload's
            # own zip structure (whose streams may run on past their declared sizes).
            path = Path(scratch) / "model.keras"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as clean:
                for member, content in read_keras_archive(Path(source)).items():
                    clean.writestr(member, content)
        else:
            check_h5_file(path)
        try:
            model = keras.saving.load_model(path, custom_objects=None, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises ValueError, TypeError, KeyError, OSError... for bad files
            raise UploadError(f"Keras cannot load this model in safe mode ({type(exc).__name__}: {_one_line(exc)})") from None
    check_loaded(model)
    return model


def servable(model, probe: np.ndarray) -> tuple[keras.Model, list[str]]:
    """The model as the app serves models: (n, 28, 28, 1) float32 in, (n, 10) probabilities out.

    A model taking (28, 28) gets a Reshape in front; one giving scores that are not
    probabilities (logits) gets a Softmax behind (it keeps every reading, and confidences
    mean what they say). `probe` is a few (n, 28, 28, 1) images to tell. Returns the
    model and what was added.
    """
    import keras

    # A Sequential model stays one flat list of layers, so every layer shows (and can be probed) on its
    # own; a functional model taking (28, 28) has to be nested inside the new one.
    added = []
    if tuple(model.inputs[0].shape[1:]) == (28, 28):
        reshape = keras.layers.Reshape((28, 28), name="digitlab_reshape")
        if isinstance(model, keras.Sequential):
            model = keras.Sequential([keras.Input((28, 28, 1), name="image"), reshape, *model.layers], name=model.name)
        else:
            images = keras.Input((28, 28, 1), name="image")
            model = keras.Model(images, model(reshape(images)), name=model.name)
        added.append("Reshape (28, 28, 1) -> (28, 28) in front")
    scores = np.asarray(model(probe, training=False), dtype=np.float64)
    if not np.all(np.isfinite(scores)):
        raise UploadError("the model gives scores that are not numbers (NaN or infinite) on MNIST digits")
    if scores.min() < 0 or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
        softmax = keras.layers.Softmax(name="digitlab_softmax")
        if isinstance(model, keras.Sequential):
            model = keras.Sequential([keras.Input((28, 28, 1), name="image"), *model.layers, softmax], name=model.name)
        else:
            model = keras.Model(model.inputs, softmax(model.outputs[0]), name=model.name)
        added.append("Softmax behind (its outputs were not probabilities)")
    return model, added


def spec_of(model, probe: np.ndarray) -> ArchSpec | None:
    """The ArchSpec whose `build_model` network this is, or None.

    It must be that network layer for layer (names, kinds, weight shapes) and, given the
    model's weights, read `probe` ((n, 28, 28, 1) float32) as the model does.

    A network digitlab built (a `.keras` downloaded from the Models page and uploaded on
    another server) gets its spec back, and with it everything that reads a spec (Learn's
    layer-by-layer lesson, the architecture card); any other architecture keeps none.
    """
    from digitlab.architectures import ACTIVATIONS, ConvSpec, build_model

    convs, dense_units, dropout, position, activation, padding, momentum = [], [], 0.0, "before_dense", None, None, 0.99
    dense_batch_norm = False
    try:
        for layer in model.layers:
            kind, config = type(layer).__name__, layer.get_config()
            if kind == "Conv2D":
                size, stride = config["kernel_size"], config["strides"]
                if size[0] != size[1] or stride[0] != stride[1] or padding not in (None, config["padding"]):
                    return None
                padding = config["padding"]
                convs.append(ConvSpec(config["filters"], size[0], stride[0], batch_norm=False, pool=False))
            elif kind == "BatchNormalization" and dense_units:
                dense_batch_norm = True
            elif kind == "BatchNormalization" and convs:
                convs[-1] = convs[-1].replace(batch_norm=True)
                momentum = config["momentum"]
            elif kind == "MaxPooling2D" and convs:
                convs[-1] = convs[-1].replace(pool=True)
            elif kind == "Activation" and layer.name.startswith("act"):
                activation = config["activation"]
            elif kind == "Dropout":
                dropout, position = config["rate"], "after_dense" if dense_units else "before_dense"
            elif kind == "Dense" and layer.name.startswith("dense"):
                dense_units.append(config["units"])
        if not convs or activation not in ACTIVATIONS:
            return None
        spec = ArchSpec(convs=tuple(convs), dense_units=tuple(dense_units), dropout=dropout, dropout_position=position,
                        activation=activation, padding=padding, bn_momentum=momentum, dense_batch_norm=dense_batch_norm,
                        description="an uploaded network of digitlab's kind")
        rebuilt = build_model(spec)
    except (KeyError, TypeError, ValueError):
        return None

    def layout(network):
        return [(layer.name, type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in network.layers]

    if layout(rebuilt) != layout(model):
        return None
    rebuilt.set_weights(model.get_weights())
    same = np.abs(np.asarray(rebuilt(probe, training=False)) - np.asarray(model(probe, training=False))).max() <= 1e-5
    return spec if same else None


def evaluate(model, images: np.ndarray, labels: np.ndarray, *, progress: ProgressFn | None = None,
             batch_size: int = 500) -> dict:
    """The run's test report on `images` (n, 28, 28, 1) float32, read `batch_size` at a time.

    `progress` gets a ProgressEvent("evaluating") after each batch: `step` images read of
    `steps`, and their `fraction`.
    """
    from digitlab.training import evaluate_probabilities

    parts = []
    for start in range(0, len(labels), batch_size):
        parts.append(np.asarray(model(images[start:start + batch_size], training=False), dtype=np.float32))
        if progress is not None:
            done = min(start + batch_size, len(labels))
            progress(ProgressEvent("evaluating", step=done, steps=len(labels), fraction=done / len(labels)))
    return evaluate_probabilities(np.concatenate(parts), labels)


def name_from_filename(filename: str) -> str:
    """A run name made from an uploaded file's name ("My model (2).keras" -> "My-model-2")."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(filename).stem).strip("-._")[:64].rstrip("-._")
    try:
        return registry.validate_name(stem)
    except registry.RegistryError:
        return "uploaded-model"


@dataclass(frozen=True)
class Upload:
    """An accepted upload: the run it was stored as, its MNIST test accuracy and what was adapted."""

    name: str
    accuracy: float
    adapted: list[str]
    record: RunRecord


def upload_model(data: bytes, filename: str, *, name: str | None = None, progress: ProgressFn | None = None,
                 root: Path | None = None) -> Upload:
    """Check, load (safe mode), evaluate on MNIST's test set and store an uploaded model as run `name`.

    `data` is the file's bytes, `filename` its name (the extension says the format). The
    run is marked `origin: "uploaded"`, has no spec (its model.keras is its architecture)
    and serves, votes and compares like a trained run. Raises UploadError (one line) for
    anything refused, RegistryError for a bad or taken name; nothing is stored then.
    """
    from digitlab import data as data_module
    from digitlab import realworld
    from digitlab.training import library_versions, predict_probabilities

    if not isinstance(data, (bytes, bytearray)):
        raise UploadError("no file received")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"the file is {_size(len(data))}, over the {MAX_UPLOAD_BYTES >> 20} MB limit for models")
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise UploadError(f"a model must be a .keras or .h5 file, not {Path(filename).suffix or 'a file without extension'}")
    name = registry.validate_name(name or name_from_filename(filename))
    root = root or registry.models_dir()
    if registry.run_path(name, root).exists():
        raise registry.RegistryError(f"a run named {name!r} already exists: choose another name")
    # Outside models/: the upload is nobody's run until it has passed every check.
    scratch = Path(tempfile.mkdtemp(prefix="digitlab-upload-"))
    try:
        path = scratch / f"upload{suffix}"
        path.write_bytes(bytes(data))
        model = load_checked(path)
        images, labels = data_module.mnist_test_set()
        model, adapted = servable(model, images[:64])
        report = evaluate(model, images, labels, progress=progress)
        outside = realworld.outside_writers_report(lambda images: predict_probabilities(model, images))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    record = RunRecord(
        name=name, origin=UPLOADED, arch=UPLOADED, spec=spec_of(model, images[:64]), config=None, status="complete",
        command="",  # made elsewhere: the upload's file name and digest say where it came from
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        upload={"filename": Path(filename).name, "format": suffix[1:], "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), "adapted": adapted},
        versions=library_versions(),
        # Scored like the full protocol's runs: MNIST's 10,000 test digits (its training data is unknown).
        data={"protocol": "full", "source": os.environ.get(data_module.ENV_VAR) or "keras.datasets.mnist",
              "sizes": {"test": len(labels)}, "train_size": None},
        params=int(model.count_params()),
        metrics={"test": report, "mnist_test": report, "outside_writers": outside},
    )
    registry.save_run(name, record, model, root=root, replace=False)
    return Upload(name=name, accuracy=report["accuracy"], adapted=adapted, record=record)
