"""What watching a job live costs its training: `python -m tests.e2e.live_overhead`.

Starts the app on a copy of models/, then trains the same job in pairs, interleaved: once
with nobody watching, once with headless Chromium on the Train page (the page redraws the
curves, confusion matrix and per-digit table every second from the job's files). Prints each
job's wall-clock training time and images/s from its run.json, the CPU seconds the app
server and the browser used meanwhile, and the median of the per-pair ratios.
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from digitlab import jobs, presets, registry
from digitlab.jobs import queue
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, REPO, start_app


def cpu_seconds(server_pid: int) -> float:
    """CPU time used so far by the app server and every Chromium process (the UI's whole cost)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(proc.name) == server_pid or b"chrom" in cmdline.split(b"\0")[0]:
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


def run_job(manager, root: Path, name: str, arch: str, config, server_pid: int) -> dict:
    before = cpu_seconds(server_pid)
    manager.submit(name, arch, presets.get(arch).spec, config)
    while registry.read_record(name, root=root).active:
        time.sleep(0.5)
    record = registry.read_record(name, root=root)
    return {"train_time_s": record.train_time_s, "images_per_s": record.images_per_s,
            "ui_cpu_s": cpu_seconds(server_pid) - before}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--arch", default="paper-s-2")
    parser.add_argument("--train-size", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="digitlab-live-")) / "models"
    shutil.copytree(REPO / "models", root)
    env = {**os.environ, registry.MODELS_ENV_VAR: str(root), queue.MAX_JOBS_ENV: "0"}  # the server only watches
    server, url = start_app(env)
    manager = jobs.JobManager(root, max_running=1)
    config = presets.get(args.arch).config.replace(train_size=args.train_size, epochs=args.epochs)
    results = {"nobody watching": [], "Train page open": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for pair in range(args.pairs):
                record = run_job(manager, root, f"alone-{pair}", args.arch, config, server.pid)
                results["nobody watching"].append(record)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.get_by_role("link", name="Train", exact=True).click()
                page.get_by_role("heading", name="Train", exact=True).wait_for(timeout=120_000)
                record = run_job(manager, root, f"watched-{pair}", args.arch, config, server.pid)
                results["Train page open"].append(record)
                page.close()
            browser.close()
    finally:
        manager.close()
        server.terminate()
        server.wait(timeout=30)
    print(f"{args.arch}, {args.train_size:,} images, {args.epochs} epochs, {args.pairs} interleaved pairs:")
    for label, records in results.items():
        print(f"  {label:<16} " + "  ".join(f"{r['train_time_s']:6.2f} s ({r['images_per_s']:5.0f} img/s, "
                                            f"UI {r['ui_cpu_s']:.1f} CPU s)" for r in records))
    ratios = [w["train_time_s"] / a["train_time_s"] for a, w in zip(*results.values())]
    print(f"  watching live costs {100 * (statistics.median(ratios) - 1):+.1f} % training time "
          f"(median of the per-pair ratios {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
