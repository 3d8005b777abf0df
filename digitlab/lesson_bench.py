"""How long each Learn panel's computation takes on this machine: `python -m digitlab.lesson_bench`.

Every panel is timed on the same MNIST test digits for each stored model, after a first
call that traces the compiled functions (the page pays that once per server, not per
student). Prints one row per panel: median and slowest call in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def _time(function, inputs) -> list[float]:
    function(inputs[0])  # trace / warm up
    times = []
    for item in inputs:
        start = time.perf_counter()
        function(item)
        times.append((time.perf_counter() - start) * 1000)
    return times


def bench(models: list[str], digits: int = 10) -> list[dict]:
    """Rows {model, panel, median_ms, max_ms, first_ms} for every panel of the Learn page."""
    from digitlab import lesson_charts, perturb, registry
    from digitlab.canvas import render_strokes
    from digitlab.convolution import (KERNEL_PRESETS, architecture_card, convolve, layer_geometry, max_pool,
                                      pixel_arithmetic, unit_region)
    from digitlab.data import mnist_test_set
    from digitlab.explain import Explainer
    from digitlab.preprocessing import preprocess_digit
    from digitlab.softmax import softmax_steps

    images = mnist_test_set()[0][:digits, ..., 0]
    stroke = {"type": "Path", "originX": "center", "originY": "center", "left": 230, "top": 140, "strokeWidth": 18,
              "path": [["M", 190, 60], ["Q", 250, 60, 270, 60], ["L", 215, 220]]}
    rows = []

    def add(model, panel, function, inputs=images):
        start = time.perf_counter()
        times = _time(function, inputs)
        first = (time.perf_counter() - start) * 1000 - sum(times)
        rows.append({"model": model, "panel": panel, "median_ms": statistics.median(times), "max_ms": max(times),
                     "first_ms": first})

    canvases = [render_strokes([dict(stroke, left=230 + i)], width=460, height=280) for i in range(digits)]
    add("-", "drawing -> 28x28 (preprocess)", preprocess_digit, canvases)
    add("-", "convolution lab (3x3 map + one pixel's sum)",
        lambda im: (convolve(im, KERNEL_PRESETS["Sobel x (vertical edges)"]),
                    pixel_arithmetic(im, KERNEL_PRESETS["sharpen"], row=14, col=14)))
    for name in models:
        run = registry.get_run(name)
        spec = run.record.spec
        start = time.perf_counter()
        explainer = Explainer(registry.load_model(name))
        rows.append({"model": name, "panel": "load + compile (once per server)",
                     "median_ms": (time.perf_counter() - start) * 1000, "max_ms": float("nan"), "first_ms": 0.0})
        add(name, "forward: every map layer + logits", explainer.forward)
        forward = explainer.forward(images[0])
        add(name, "ReLU + max pooling of one map", lambda im: max_pool(explainer.forward(im).maps["act1"][..., 0]))
        first_maps = forward.maps[explainer.map_names[1]]
        add(name, "feature-map mosaic (64 maps)",
            lambda im: lesson_charts.mosaic(first_maps[..., :64], columns=16, tile=56))
        add(name, "softmax steps", lambda im: softmax_steps(explainer.forward(im).logits, 2.0))
        add(name, "saliency + Grad-CAM", lambda im: explainer.attribution(im, 3))
        add(name, "occlusion (6x6 patch, stride 3: 64 pictures)", lambda im: explainer.occlusion(im, 3))
        add(name, "smallest flip (gradient attack)", explainer.smallest_flip)
        add(name, "break: rotate sweep (25 pictures)",
            lambda im: explainer.probabilities(perturb.sweep(im, "rotate")[1]))
        geometry = layer_geometry(spec)
        add(name, "receptive field + architecture card",
            lambda im: (unit_region(layer_geometry(spec), geometry[-1].name, 0, 0), architecture_card(spec)))
    return rows


def main(argv: list[str] | None = None) -> None:
    from digitlab import registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="stored runs (default: every servable run)")
    parser.add_argument("--digits", type=int, default=10, help="MNIST test digits timed per panel")
    args = parser.parse_args(argv)
    models = args.models or [r.name for r in registry.list_runs()[0] if r.model_path.is_file()]
    load_before = os.getloadavg()[0]
    rows = bench(models, args.digits)
    print(f"{'model':<16}{'panel':<46}{'median ms':>10}{'max ms':>9}")
    for row in rows:
        print(f"{row['model']:<16}{row['panel']:<46}{row['median_ms']:>10.1f}{row['max_ms']:>9.1f}")
    slowest = max((r for r in rows if not np.isnan(r["max_ms"])), key=lambda r: r["max_ms"])
    print(f"slowest panel: {slowest['panel']} on {slowest['model']}, {slowest['max_ms']:.0f} ms "
          f"({'within' if slowest['max_ms'] <= 300 else 'over'} the 300 ms budget); load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
