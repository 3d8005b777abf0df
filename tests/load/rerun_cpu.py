"""Server CPU per Draw rerun with a drawing: `python -m tests.load.rerun_cpu [--reruns 40] [--compare CHECKOUT]`.

Starts the app (on a copy of models/), opens one protocol-level session, and sends `--reruns`
strokes one after another, each a different MNIST test digit, waiting for each run to finish;
the server's CPU (/proc/PID/stat, 10 ms ticks) is read before and after every rerun. A second
pass sends the same drawings again from a second session: what a drawing costs when another
student has already drawn it. The first drawing of each pass (model loading) is not counted.
Then every page of the app is rerun as a whole, app shell included, `--page-reruns` times.

`--compare CHECKOUT` also starts the app from another checkout of digitlab (e.g. an older
commit: `git archive COMMIT | tar -x -C /tmp/before`) and alternates every drawing between
the two servers, so machine noise hits both alike. Prints medians and means in ms, then JSON.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from tests.load.classroom import REPO, process_cpu_seconds, start_server
from tests.load.drawings import canvas_drawings
from tests.load.protocol import Session


async def _rerun(session: Session, pid: int, value: str) -> float:
    before = process_cpu_seconds(pid)
    mark = session.rerun({"canvas": ("json_value", value)}, fragment_id=session.widgets["canvas"].fragment_id)
    finished = await session.wait_for(mark, ("finished",), 180)
    if finished is None or finished.kind != "finished" or session.problems(mark):
        raise RuntimeError(f"rerun failed: {finished} {session.problems(mark)}")
    return process_cpu_seconds(pid) - before


async def measure(servers: dict[str, tuple[str, int]], reruns: int, page_reruns: int = 10) -> dict:
    """servers: label -> (url, pid). Every drawing goes to each server in turn."""
    drawings = canvas_drawings(reruns + 1, seed=1)
    figures = {label: {} for label in servers}
    for case in ("new drawing", "drawing seen before, another session"):
        sessions = {}
        for label, (url, _) in servers.items():
            sessions[label] = Session(url)
            await sessions[label].connect()
            await sessions[label].wait_for(sessions[label].rerun(), ("finished",), 180)
        samples = {label: [] for label in servers}
        for index, drawing in enumerate(drawings):
            for label, (_, pid) in servers.items():
                cpu = await _rerun(sessions[label], pid, drawing.value)
                if index:
                    samples[label].append(cpu)
        for label in servers:
            await sessions[label].close()
            figures[label][case] = _summary(samples[label])
    # Each page opened and rerun as a whole (the app shell included), nothing entered.
    sessions = {}
    for label, (url, _) in servers.items():
        sessions[label] = Session(url)
        await sessions[label].connect()
        await sessions[label].wait_for(sessions[label].rerun(), ("finished",), 180)
    names = list(next(iter(sessions.values())).pages)
    for name in names:
        samples = {label: [] for label in servers}
        for index in range(page_reruns + 1):
            for label, (_, pid) in servers.items():
                session = sessions[label]
                session.page_script_hash = session.pages[name]
                before = process_cpu_seconds(pid)
                mark = session.rerun()
                finished = await session.wait_for(mark, ("finished",), 180)
                if finished is None or finished.kind != "finished" or session.problems(mark):
                    raise RuntimeError(f"{name} page rerun failed: {finished} {session.problems(mark)}")
                if index:  # the first opening computes what its caches then keep
                    samples[label].append(process_cpu_seconds(pid) - before)
        for label in servers:
            figures[label][f"{name} page rerun"] = _summary(samples[label])
    for session in sessions.values():
        await session.close()
    return figures


def _summary(samples: list[float]) -> dict:
    return {"reruns": len(samples), "median_ms": round(statistics.median(samples) * 1000),
            "mean_ms": round(statistics.fmean(samples) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reruns", type=int, default=40)
    parser.add_argument("--page-reruns", type=int, default=10, help="reruns of each page as a whole")
    parser.add_argument("--compare", type=Path, help="another checkout of digitlab to measure side by side")
    args = parser.parse_args()
    checkouts = {"this checkout": REPO, **({f"{args.compare}": args.compare.resolve()} if args.compare else {})}
    servers, processes = {}, []
    with tempfile.TemporaryDirectory(prefix="digitlab-rerun-") as folder:
        try:
            for index, (label, checkout) in enumerate(checkouts.items()):
                models = Path(folder) / f"models-{index}"
                shutil.copytree(REPO / "models", models,
                                ignore=shutil.ignore_patterns(".tmp-*", ".trash-*", ".jobs.lock"))
                server, url = start_server(checkout, models)
                processes.append(server)
                servers[label] = (url, server.pid)
            figures = asyncio.run(measure(servers, args.reruns, args.page_reruns))
        finally:
            for server in processes:
                server.terminate()
                server.wait(timeout=30)
    for label, cases in figures.items():
        for case, values in cases.items():
            print(f"{label}: {case if case.endswith('page rerun') else 'Draw rerun, ' + case}: median {values['median_ms']} ms, mean {values['mean_ms']} ms "
                  f"of server CPU ({values['reruns']} reruns)")
    print(json.dumps({"load_average": [round(x, 2) for x in os.getloadavg()], **figures}))


if __name__ == "__main__":
    main()
