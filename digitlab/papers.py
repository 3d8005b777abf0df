"""The two papers' reported figures, and a table of them beside the stored reference runs."""

from __future__ import annotations

from digitlab import presets


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def reproduction_rows(runs) -> list[dict]:
    """One row per reference run present in `runs` (RunInfo objects) with test results: reported beside measured.

    A reference run without them (retrained and stopped early, or failed), or a model uploaded
    under a reference run's name, is left out.
    """
    by_name = {run.name: run for run in runs}
    rows = []
    for name, reported in presets.reported().items():
        run = by_name.get(name)
        if run is None or not run.record.has_test_results or run.record.uploaded:  # an upload under a paper's name
            continue
        record = run.record
        train_curve = record.curve("accuracy")
        rows.append({
            "run": name,
            "paper train": reported.train,
            "paper val": reported.validation,
            "paper test": reported.test,
            # The paper quotes Keras' running training accuracy of its last epoch; so do we.
            "ours train (last epoch)": train_curve[-1] if train_curve else None,
            "ours val": record.report("validation").get("accuracy"),
            "ours test": record.test_accuracy,
            "test images": record.report("test").get("count"),
            "ours MNIST test (10,000)": record.mnist_test_accuracy,
            "params": record.params,
            "epochs": record.epochs_run,
            "train time (s)": record.train_time_s,
            "precision": record.precision,
            "command": record.command,
        })
    return rows


def reproduction_markdown(runs) -> str:
    rows = reproduction_rows(runs)
    header = ("| run | paper train | paper val | paper test | ours train (last epoch) | ours val | ours test "
              "| ours MNIST test (10k) | params | epochs | training time | command |")
    lines = [header, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['run']} | {_pct(r['paper train'])} | {_pct(r['paper val'])} | {_pct(r['paper test'])} "
            f"| {_pct(r['ours train (last epoch)'])} | {_pct(r['ours val'])} "
            f"| {_pct(r['ours test'])} ({r['test images']:,}) | {_pct(r['ours MNIST test (10,000)'])} "
            f"| {r['params'] or 0:,} | {r['epochs']} | {(r['train time (s)'] or 0) / 60:.1f} min ({r['precision']}) "
            f"| `{r['command']}` |"
        )
    return "\n".join(lines)


def why_they_differ(rows) -> str:
    """One sentence on why the papers' figures differ from ours, for the reference runs in `rows`."""
    names = {row["run"] for row in rows}
    parts = []
    if names & {preset.name for preset in presets.of_paper("Paper S")}:
        parts.append("Paper S fed 150×150×3 upscaled images to its networks and reports far lower accuracies "
                     "than the same networks reach on MNIST's own 28×28 pixels")
    by_run = {row["run"]: row for row in rows}
    paper_h = [preset for preset in presets.PRESETS.values() if preset.how and preset.name in by_run]
    ours = [f"{preset.how} {_pct(by_run[preset.name]['ours test'])} after {by_run[preset.name]['epochs']} epochs"
            for preset in paper_h]
    if ours:
        parts.append(f"Paper H reports {_pct(paper_h[0].reported.test)}; " + ", and ".join(ours))
    return "; ".join(parts) + "." if parts else ""
