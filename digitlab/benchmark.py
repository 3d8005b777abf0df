"""Side-by-side timings: one drawing through each prediction path, and training with and without our engine."""

from __future__ import annotations

import statistics
import time

import numpy as np


def _interleaved(functions: dict, repeats: int) -> dict[str, float]:
    """Median milliseconds of each function, calling them in turn so machine noise hits all alike."""
    for function in functions.values():
        function()  # warm up: tracing, first-call allocation
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def inference(model_name: str = "default", repeats: int = 30, drawing: np.ndarray | None = None) -> dict:
    """Latency of one drawing: preprocessing, the Predictor, `model.predict` and a plain eager call.

    `drawing` is an (h, w, 4) uint8 canvas image; by default a synthetic 400x400 stroke of a 7.
    """
    import cv2

    from digitlab.inference import Predictor
    from digitlab.preprocessing import preprocess_digit

    if drawing is None:
        drawing = np.zeros((400, 400, 4), np.uint8)
        cv2.polylines(drawing, [np.array([[120, 100], [280, 100], [170, 320]])], False, (0, 0, 0, 255), 18)
    predictor = Predictor.load(model_name)
    image = preprocess_digit(drawing).image[None, ..., None]
    timings = _interleaved({
        "preprocessing": lambda: preprocess_digit(drawing),
        "predictor": lambda: predictor.predict(image),
        "model.predict": lambda: predictor.model.predict(image, verbose=0),
        "eager call": lambda: predictor.model(image, training=False).numpy(),
    }, repeats)
    return {"model": predictor.name, "repeats": repeats, "median_ms": timings,
            "predictor_speedup_vs_model_predict": timings["model.predict"] / timings["predictor"]}


def training(arch: str = "paper-s-2", train_size: int = 3000, epochs: int = 2, rounds: int = 2) -> dict:
    """Images/s of a plain `model.fit` against our engine (progress callback attached), float32 and bfloat16.

    Each variant runs `rounds` times in turn; the best round counts (least disturbed by noise).
    """
    import keras

    from digitlab import data
    from digitlab.architectures import build_model, get_preset
    from digitlab.training import CONFIG_PRESETS, train

    spec = get_preset(arch)
    config = CONFIG_PRESETS[arch].replace(epochs=epochs, train_size=train_size, precision="float32")
    split = data.load_split(config.protocol, train_size=train_size)
    n = len(split.y_train) * epochs

    class EpochClock(keras.callbacks.Callback):
        # The same span the engine counts: from an epoch's start to its last training step.
        seconds = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            EpochClock.seconds += time.perf_counter() - self.start

    def plain_fit():
        model = build_model(spec)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        EpochClock.seconds = 0.0
        model.fit(split.x_train, split.y_train, batch_size=config.batch_size, epochs=epochs, verbose=0,
                  callbacks=[EpochClock()])
        return n / EpochClock.seconds

    def engine(precision):
        events = []  # stands in for the live UI: every progress event is received and kept
        result = train(spec, config.replace(precision=precision), split, progress=events.append)
        return result.images_per_s

    variants = {"plain model.fit (float32)": plain_fit,
                "digitlab train, live progress (float32)": lambda: engine("float32"),
                "digitlab train, live progress (bfloat16)": lambda: engine("bfloat16")}
    best = {name: 0.0 for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            keras.backend.clear_session()
            best[name] = max(best[name], run())
    return {"arch": arch, "images": len(split.y_train), "epochs": epochs, "images_per_s": best}
