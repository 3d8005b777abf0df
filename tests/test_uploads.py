"""Uploaded models: accepted ones are evaluated, stored and served like trained runs; bad ones refused in one line."""

import io
import json
import struct
import zipfile
import zlib

import h5py
import keras
import numpy as np
import pytest

from digitlab import comparison, data, papers, realworld, registry, uploads
from digitlab.inference import Predictor


def tiny_model(input_shape=(28, 28, 1), outputs=10, activation="softmax", extra=()):
    """A small built-in-layers network; untrained but fixed by the seed, so its readings are reproducible."""
    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input(input_shape), *extra, keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.MaxPooling2D(4), keras.layers.Flatten(),
                             keras.layers.Dense(outputs, activation=activation)])


def saved_bytes(model, tmp_path, suffix=".keras") -> bytes:
    path = tmp_path / f"saved{suffix}"
    model.save(path)
    return path.read_bytes()


def rezip(original: bytes, change) -> bytes:
    """A copy of a .keras archive with `change(members: dict) -> dict` applied to its members."""
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in change(members).items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.fixture(scope="module")
def mnist():
    return data.mnist_test_set()


def test_an_accepted_keras_model_is_evaluated_stored_and_served_like_a_trained_run(models_root, tmp_path, mnist):
    model = tiny_model()
    events = []
    upload = uploads.upload_model(saved_bytes(model, tmp_path), "My model (2).keras", progress=events.append)
    assert upload.name == "My-model-2" and upload.adapted == []

    images, labels = mnist
    expected = np.asarray(model(images, training=False)).argmax(1)
    assert upload.accuracy == pytest.approx(float((expected == labels).mean()), abs=1e-9)
    done = [e.step for e in events if e.kind == "evaluating"]
    assert done == list(range(500, 10_001, 500)) and events[-1].steps == 10_000 and events[-1].fraction == 1.0

    run = registry.get_run(upload.name)
    assert run.uploaded and run.status == "complete" and run.record.spec is None and run.servable
    assert run.record.upload["filename"] == "My model (2).keras" and len(run.record.upload["sha256"]) == 64
    assert [r.name for r in registry.list_runs()[0]] == [upload.name]
    assert registry.list_runs()[0][0].to_json()["origin"] == "uploaded"
    # Beside MNIST's figure, the pen digits of writers outside it, read as the stored runs' are.
    pen = realworld.outside_writers_report(lambda pictures: np.asarray(model(pictures, training=False)))
    stored = run.record.metrics["outside_writers"]
    assert stored["count"] == pen["count"] == 2799 and stored["accuracy"] == pytest.approx(pen["accuracy"], abs=2 / 2799)
    assert registry.list_runs()[0][0].to_json()["outside_writers_accuracy"] == stored["accuracy"]

    registry.set_default(upload.name)  # servable: it can be the default, the Draw page's model
    predictor = Predictor.load("default")
    np.testing.assert_allclose(predictor.predict(images[:50]), np.asarray(model(images[:50])), atol=1e-6)
    assert predictor.spec is None and predictor.conv_layers() == [model.layers[0].name]
    assert comparison.comparable_runs()[0] == [upload.name]
    compared = comparison.compare([upload.name])
    assert compared.rows[0]["accuracy"] == upload.accuracy and compared.reproduction == []
    misread = comparison.misclassified_examples(upload.name, limit=3, predict=predictor.predict)
    assert len(misread) == 3 and all(m.true_label != m.predicted_label for m in misread)


def test_a_model_compiled_with_loss_and_metric_functions_is_accepted(models_root, tmp_path):
    model = tiny_model()
    model.compile("adam", loss=keras.losses.sparse_categorical_crossentropy,
                  metrics=[keras.metrics.sparse_categorical_accuracy])
    config = json.loads(zipfile.ZipFile(io.BytesIO(saved_bytes(model, tmp_path))).read("config.json"))
    assert config["compile_config"]["loss"]["class_name"] == "function"  # what the walk must not refuse
    assert uploads.upload_model(saved_bytes(model, tmp_path), "compiled.keras").name == "compiled"


def test_a_legacy_h5_model_loads_in_safe_mode_and_is_stored_as_keras(models_root, tmp_path, mnist):
    model = tiny_model()
    upload = uploads.upload_model(saved_bytes(model, tmp_path, ".h5"), "legacy.h5")
    assert upload.record.upload["format"] == "h5"
    reloaded = registry.load_model("legacy")
    np.testing.assert_allclose(np.asarray(reloaded(mnist[0][:20])), np.asarray(model(mnist[0][:20])), atol=1e-6)


def test_a_28x28_input_and_logits_are_adapted_without_changing_a_reading(models_root, tmp_path, mnist):
    model = tiny_model(input_shape=(28, 28), activation=None, extra=[keras.layers.Reshape((28, 28, 1))])
    upload = uploads.upload_model(saved_bytes(model, tmp_path), "logits.keras")
    assert len(upload.adapted) == 2
    images = mnist[0][:200]
    served = Predictor.load("logits").predict(images)
    np.testing.assert_allclose(served.sum(axis=1), 1.0, atol=1e-5)
    assert (served.argmax(1) == np.asarray(model(images[..., 0])).argmax(1)).all()
    layers = [type(layer).__name__ for layer in registry.load_model("logits").layers]
    assert layers == ["Reshape", "Reshape", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Softmax"]  # flat


def lambda_model():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Lambda(lambda x: x * 2.0),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


def custom_object(members):
    config = json.loads(members["config.json"])
    layer = config["config"]["layers"][1]
    layer.update(module="evil.module", registered_name="Custom>Conv2D")
    return {**members, "config.json": json.dumps(config)}


def tfsm_layer(members):
    config = json.loads(members["config.json"])
    config["config"]["layers"][1].update(class_name="TFSMLayer", config={"filepath": "/etc", "call_endpoint": "serve"})
    return {**members, "config.json": json.dumps(config)}


def h5_with_external_link(tmp_path):
    path = tmp_path / "linked.h5"
    tiny_model().save(path)
    with h5py.File(path, "a") as h5:
        h5["model_weights"]["stolen"] = h5py.ExternalLink("/etc/passwd.h5", "/")
    return path.read_bytes()


def h5_bomb(tmp_path):
    """A few kilobytes of .h5 declaring a 2 GB weight array (compressed zeros)."""
    path = tmp_path / "bomb.h5"
    tiny_model().save(path)
    with h5py.File(path, "a") as h5:
        h5["model_weights"].create_dataset("huge", shape=(500_000_000,), dtype="float32", compression="gzip",
                                           chunks=(1_000_000,))
    return path.read_bytes()


def corrupted(original: bytes) -> bytes:
    """The archive with bytes in the middle of its weights overwritten (their CRC no longer matches)."""
    start = original.index(b"\x89HDF") + 4000
    return original[:start] + b"\xab" * 64 + original[start + 64:]


REFUSED = {
    "lambda layer (.keras)": (lambda tmp: saved_bytes(lambda_model(), tmp), "m.keras", "Lambda"),
    "lambda layer (.h5)": (lambda tmp: saved_bytes(lambda_model(), tmp, ".h5"), "m.h5", "Lambda"),
    "wrong input shape": (lambda tmp: saved_bytes(tiny_model(input_shape=(32, 32, 1)), tmp), "m.keras", "28x28"),
    "wrong number of outputs": (lambda tmp: saved_bytes(tiny_model(outputs=5), tmp), "m.keras", "10 outputs"),
    "text renamed .keras": (lambda tmp: b"I am not a model, honest\n" * 40, "m.keras", "not a zip archive"),
    "truncated .keras": (lambda tmp: saved_bytes(tiny_model(), tmp)[:20_000], "m.keras", "zip"),
    "corrupted .keras (bytes changed inside)": (lambda tmp: corrupted(saved_bytes(tiny_model(), tmp)), "m.keras",
                                                "damaged or truncated"),
    "truncated .h5": (lambda tmp: saved_bytes(tiny_model(), tmp, ".h5")[:9_000], "m.h5", ".h5 model file"),
    "zip bomb": (lambda tmp: rezip(saved_bytes(tiny_model(), tmp),
                                   lambda m: {**m, "model.weights.h5": bytes(60 * 1024 * 1024)}), "m.keras", "zip bomb"),
    "extra archive member": (lambda tmp: rezip(saved_bytes(tiny_model(), tmp),
                                               lambda m: {**m, "assets/payload.py": b"import os"}), "m.keras", "unexpected"),
    "custom object": (lambda tmp: rezip(saved_bytes(tiny_model(), tmp), custom_object), "m.keras", "custom object"),
    "TFSMLayer (loads a SavedModel from a path)": (lambda tmp: rezip(saved_bytes(tiny_model(), tmp), tfsm_layer),
                                                   "m.keras", "TFSMLayer"),
    "h5 external link": (h5_with_external_link, "m.h5", "links to another file"),
    "h5 weight bomb": (h5_bomb, "m.h5", "unpack to more than"),
    "over 50 MB": (lambda tmp: bytes(uploads.MAX_UPLOAD_BYTES + 1), "m.keras", "over the 50 MB limit"),
    "not a model extension": (lambda tmp: saved_bytes(tiny_model(), tmp), "m.pkl", ".keras or .h5"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_uploads_are_refused_in_one_line_and_nothing_is_stored(case, models_root, tmp_path):
    make, filename, reason = REFUSED[case]
    payload = make(tmp_path)
    with pytest.raises(uploads.UploadError) as refused:
        uploads.upload_model(payload, filename, name="upload")
    message = str(refused.value)
    assert reason in message and "\n" not in message and len(message) < 400, message
    assert list(models_root.iterdir()) == []


def test_the_zip_directory_is_judged_before_anything_is_unpacked(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.keras"
    bomb.write_bytes(rezip(saved_bytes(tiny_model(), tmp_path), lambda m: {**m, "model.weights.h5": bytes(60 << 20)}))
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: pytest.fail("unpacked a member of a zip bomb"))
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("unpacked a member of a zip bomb"))
    with pytest.raises(uploads.UploadError, match="zip bomb"):
        uploads.read_keras_archive(bomb)


def lying_stream(original: bytes) -> bytes:
    """The archive with 50 MB of zeros deflated after the real weights, its headers still
    declaring (size and CRC) the real weights alone: a reader that trusts the stream, not the
    directory, unpacks all of it."""
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    weights = members["model.weights.h5"]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content + bytes(50 << 20) if name == "model.weights.h5" else content)
    data = bytearray(out.getvalue())
    name = b"model.weights.h5"
    # (signature, offset of the CRC, of the unpacked size, of the file name) in a local and a central header
    for signature, crc_at, size_at, name_at in ((b"PK\x03\x04", 14, 22, 30), (b"PK\x01\x02", 16, 24, 46)):
        start = data.find(signature)
        while start >= 0:
            if data[start + name_at:start + name_at + len(name)] == name:
                data[start + crc_at:start + crc_at + 4] = struct.pack("<I", zlib.crc32(weights))
                data[start + size_at:start + size_at + 4] = struct.pack("<I", len(weights))
            start = data.find(signature, start + 4)
    return bytes(data)


def test_keras_reads_a_clean_repack_never_the_uploaded_zip(models_root, tmp_path, monkeypatch):
    payload = lying_stream(saved_bytes(tiny_model(), tmp_path))
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        member = archive.getinfo("model.weights.h5")
        assert member.file_size < 1 << 20 and len(archive.read(member)) == member.file_size  # the headers lie
    loaded_from = []
    real_load = keras.saving.load_model
    monkeypatch.setattr(keras.saving, "load_model", lambda path, **kw: loaded_from.append(path) or real_load(path, **kw))
    upload = uploads.upload_model(payload, "lying.keras")
    assert upload.name == "lying" and loaded_from and all("digitlab-load-" in str(path) for path in loaded_from)


def test_a_member_packed_with_an_unbounded_method_is_refused(models_root, tmp_path):
    def bzip2(members):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_BZIP2) as archive:
            for name, content in members.items():
                archive.writestr(name, content)
        return out.getvalue()

    with zipfile.ZipFile(io.BytesIO(saved_bytes(tiny_model(), tmp_path))) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with pytest.raises(uploads.UploadError, match="not stored or deflated"):
        uploads.upload_model(bzip2(members), "bz.keras")
    assert list(models_root.iterdir()) == []


def test_names_are_checked_before_the_work_and_an_existing_run_is_never_replaced(models_root, tmp_path):
    payload = saved_bytes(tiny_model(), tmp_path)
    with pytest.raises(registry.RegistryError, match="reserved"):
        uploads.upload_model(payload, "default.keras", name="default")
    first = uploads.upload_model(payload, "twice.keras")
    stored = (models_root / "twice" / "run.json").read_bytes()
    with pytest.raises(registry.RegistryError, match="already exists"):
        uploads.upload_model(payload, "twice.keras")
    assert (models_root / "twice" / "run.json").read_bytes() == stored and first.name == "twice"


def test_a_stored_uploaded_model_swapped_for_a_lambda_one_does_not_load(models_root, tmp_path):
    uploads.upload_model(saved_bytes(tiny_model(), tmp_path), "swapped.keras")
    lambda_model().save(models_root / "swapped" / "model.keras")
    with pytest.raises(registry.RegistryError, match="Lambda"):
        registry.load_model("swapped")


def test_the_reproduction_table_ignores_an_uploaded_run_under_a_papers_name(models_root, tmp_path):
    uploads.upload_model(saved_bytes(tiny_model(), tmp_path), "paper-h.keras")
    runs, errors = registry.list_runs()
    assert errors == [] and papers.reproduction_rows(runs) == []


@pytest.mark.parametrize("dense_batch_norm", [False, True])
def test_a_network_digitlab_built_gets_its_spec_back_and_teaches(models_root, tmp_path, mnist, dense_batch_norm):
    from digitlab import presets
    from digitlab.architectures import build_model
    from digitlab.explain import Explainer

    # BatchNorm, strides, dropout after the dense layer; and BatchNorm in the dense layer too
    spec = presets.get("paper-h").spec.replace(dense_batch_norm=dense_batch_norm)
    keras.utils.set_random_seed(3)
    model = build_model(spec)
    uploads.upload_model(saved_bytes(model, tmp_path), "downloaded.keras")
    record = registry.get_run("downloaded").record
    assert record.uploaded and record.spec is not None
    assert (record.spec.convs, record.spec.dense_units, record.spec.dropout, record.spec.dropout_position,
            record.spec.dense_batch_norm) == \
        (spec.convs, spec.dense_units, spec.dropout, spec.dropout_position, dense_batch_norm)
    images = mnist[0][:20]
    rebuilt = registry.load_model("downloaded")  # from the spec, as a trained run
    np.testing.assert_allclose(np.asarray(rebuilt(images)), np.asarray(model(images)), atol=1e-6)
    assert Explainer(rebuilt).map_names  # what Learn's layer-by-layer panels read


def test_a_look_alike_network_that_computes_differently_keeps_no_spec(models_root, tmp_path):
    from digitlab import presets
    from digitlab.architectures import build_model

    model = build_model(presets.get("small").spec)
    config = model.get_config()
    for layer in config["layers"]:
        if layer["config"]["name"] == "dense1":
            layer["config"]["activation"] = "tanh"  # same names and shapes, another function
    look_alike = keras.Model.from_config(config)
    look_alike.set_weights(model.get_weights())
    uploads.upload_model(saved_bytes(look_alike, tmp_path), "look-alike.keras")
    assert registry.get_run("look-alike").record.spec is None
