"""Side-by-side timings: one drawing through each prediction path, and training with and without our engine."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import cv2
import keras
import numpy as np

from digitlab import data, jobs, preprocessing, presets, registry, strokes
from digitlab.architectures import build_model
from digitlab.inference import Predictor, read_picture
from digitlab.jobs.worker import Checkpointer, ProgressWriter
from digitlab.preprocessing import preprocess_digit
from digitlab.training import make_optimizer, resolve_precision, train


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


def touching_number(digits: str, seed: int) -> np.ndarray:
    """(h, w) uint8 white-on-black `digits` drawn by a simulated writer, each digit touching the next."""
    return strokes.draw_number(digits, np.random.default_rng(seed), gap=-0.04)


TOUCHING = {"touching pair": ("48", 5), "touching triple": ("407", 0)}  # one piece each, read right


def _with_more_cuts(cuts: int, read):
    """`read`'s result with `preprocessing.MORE_CUTS` set to `cuts` meanwhile, and with no pairs of cuts
    for triples when `cuts` is 0 (the reader before further cuts; single-threaded timing only)."""
    kept = preprocessing.MORE_CUTS, preprocessing.MORE_TRIPLES
    preprocessing.MORE_CUTS = cuts
    preprocessing.MORE_TRIPLES = kept[1] if cuts else 0
    try:
        return read()
    finally:
        preprocessing.MORE_CUTS, preprocessing.MORE_TRIPLES = kept


def inference(model_name: str = "default", repeats: int = 30, drawing: np.ndarray | None = None,
              against: str | None = None, more_cuts_against: int | None = None) -> dict:
    """Latency of one drawing: preprocessing, the Predictor, `model.predict` and a plain eager call,
    and of two and three touching digits read as a number (the counter, the cuts tried, the model on each part).

    `drawing` is an (h, w, 4) uint8 canvas image; by default a synthetic 400x400 stroke of a 7.
    `against` names another stored run whose Predictor is timed in the same rounds ("predictor
    (NAME)"), so that two networks' speeds are compared under the same machine noise;
    `more_cuts_against` times the numbers read with that many further cuts beside (0: the thinnest few only).
    """
    if drawing is None:
        drawing = np.zeros((400, 400, 4), np.uint8)
        cv2.polylines(drawing, [np.array([[120, 100], [280, 100], [170, 320]])], False, (0, 0, 0, 255), 18)
    predictor = Predictor.load(model_name)
    other = Predictor.load(against) if against else None
    image = preprocess_digit(drawing).image[None, ..., None]
    numbers = {name: touching_number(*drawn) for name, drawn in TOUCHING.items()}

    def read_number(name: str, more_cuts: int | None = None):
        read = lambda: read_picture(predictor, numbers[name], number=True)  # noqa: E731
        return read() if more_cuts is None else _with_more_cuts(more_cuts, read)

    timings = _interleaved({
        "preprocessing": lambda: preprocess_digit(drawing),
        "predictor": lambda: predictor.predict(image),
        "model.predict": lambda: predictor.model.predict(image, verbose=0),
        "eager call": lambda: predictor.model(image, training=False).numpy(),
        **({f"predictor ({against})": lambda: other.predict(image)} if against else {}),
        **{name: (lambda name=name: read_number(name)) for name in numbers},
        **({f"{name} ({more_cuts_against} more cuts)": (lambda name=name: read_number(name, more_cuts_against))
            for name in numbers} if more_cuts_against is not None else {}),
    }, repeats)
    return {"model": predictor.name, "repeats": repeats, "median_ms": timings,
            "predictor_speedup_vs_model_predict": timings["model.predict"] / timings["predictor"]}


def training(arch: str = "paper-s-2", train_size: int = 3000, epochs: int = 3, rounds: int = 3) -> dict:
    """Wall-clock seconds of the same training three ways, interleaved `rounds` times (median counts).

    - plain `model.fit`: the network compiled with the same optimizer, validation data, no callbacks;
    - `digitlab train` without live updates (progress=None): the engine's own bookkeeping;
    - a background job's exact path: progress.json about twice a second, run.json and the
      best and last checkpoints after every epoch, the live confusion matrix.
    Each variant builds, compiles and trains from scratch with the same seed and precision.
    The overheads are medians of the per-round ratios.
    """
    spec = presets.get(arch).spec
    config = presets.get(arch).config.replace(epochs=epochs, train_size=train_size, restore_best=True)
    precision = resolve_precision(config.precision)
    split = data.load_split(config.protocol, train_size=train_size)
    root = Path(tempfile.mkdtemp(prefix="digitlab-bench-"))
    steps = -(-len(split.y_train) // config.batch_size)

    def plain_fit():
        keras.utils.set_random_seed(config.seed)
        model = build_model(spec, dtype_policy="mixed_bfloat16" if precision == "bfloat16" else None)
        model.compile(make_optimizer(config, steps), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(split.x_train, split.y_train, batch_size=config.batch_size, epochs=epochs, verbose=0,
                  validation_data=(split.x_val, split.y_val))

    def engine():
        train(spec, config, split)

    def job(counter=iter(range(10**6))):
        name = f"bench-{next(counter)}"
        record = jobs.submit(name, arch, spec, config, root=root)
        train(spec, config, split, progress=ProgressWriter(record, root),
              extra_callbacks=[Checkpointer(spec, registry.run_path(name, root))])

    variants = {"plain model.fit": plain_fit, "digitlab train, no live updates": engine,
                "digitlab job, live updates": job}
    seconds = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            keras.backend.clear_session()
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    job_s = seconds["digitlab job, live updates"]

    def overhead(baseline: str) -> float:
        # Ratios within a round: the machine's slow spells hit both sides of each pair alike.
        return statistics.median(j / b for j, b in zip(job_s, seconds[baseline])) - 1

    return {"arch": arch, "images": len(split.y_train), "validation_images": len(split.y_val), "epochs": epochs,
            "precision": precision, "rounds": rounds, "seconds": medians, "all_seconds": seconds,
            "live_overhead_vs_plain_fit": overhead("plain model.fit"),
            "live_overhead_vs_engine": overhead("digitlab train, no live updates")}
