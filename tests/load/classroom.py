"""Play a class on the Draw page: `python -m tests.load.classroom --students 30 --seconds 60`.

Starts the app on a free loopback port (with a copy of models/), opens one protocol-level
session per student (`tests/load/protocol.py`, not a browser each), and has every student
draw an MNIST test digit every 3–6 s: the stroke, a look at the answer, Clear — the three
reruns a browser sends for one drawing. It reports the time from the stroke's message to
`Prediction:` (or `Number:`) reaching that session (p50/p90/p99) — each session then fetches
the pictures shown, as a browser does — the server's CPU seconds
and memory over the measured window, and every error (an exception or error shown, a stroke
not answered within `--answer-timeout`, a closed socket). The figures print as one JSON
object, after a readable summary. The count of students, the time and the answer timeout are
bounded, and every session and the server end with the run.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.load.drawings import Drawing, blank_value, canvas_drawings
from tests.load.protocol import Session

MAX_STUDENTS = 100
MAX_SECONDS = 600
REPO = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Tally:
    """What the students saw, all together."""

    latencies: list[float] = field(default_factory=list)  # stroke sent -> answer received, seconds
    drawings: int = 0
    read_right: int = 0
    pictures: int = 0  # pictures fetched after the answers, as a browser would
    errors: list[str] = field(default_factory=list)


async def student(number: int, url: str, drawings: list[Drawing], blank: str, *, start: float, stop: float,
                  tally: Tally, answer_timeout: float, seed: int, max_drawings: int = 1000) -> None:
    """One student: open the page, then draw, look, Clear, every 3–6 s until `stop`."""
    rng = random.Random(seed * 1000 + number)
    session = Session(url)
    try:
        await session.connect()
        mark = session.rerun()
        opened = await session.wait_for(mark, ("finished",), answer_timeout * 4)
        if opened is None or "canvas" not in session.widgets:
            tally.errors.append(f"student {number}: the Draw page did not open "
                                f"({[e.text for e in session.problems(mark)][:1] or 'timeout'})")
            return
        await asyncio.sleep(max(0.0, start - time.perf_counter()) + (rng.uniform(0, 3) if max_drawings > 1 else 0))
        next_drawing = time.perf_counter()
        for _ in range(max_drawings):
            if next_drawing >= stop:
                break
            await asyncio.sleep(max(0.0, next_drawing - time.perf_counter()))
            drawing = drawings[rng.randrange(len(drawings))]
            canvas = session.widgets["canvas"]
            sent = time.perf_counter()
            mark = session.rerun({"canvas": ("json_value", drawing.value)}, fragment_id=canvas.fragment_id)
            answer = await session.wait_for(mark, ("answer", "finished"), answer_timeout)
            tally.drawings += 1
            if answer is None:
                tally.errors.append(f"student {number}: no answer within {answer_timeout:g} s")
            elif answer.kind != "answer":
                tally.errors.append(f"student {number}: no answer ({answer.kind} {answer.text})")
            else:
                tally.latencies.append(answer.at - sent)
                tally.read_right += answer.text.split(":", 1)[1].strip() == str(drawing.label)
            finished = await session.wait_for(mark, ("finished",), answer_timeout)
            tally.errors += [f"student {number}: {e.kind} {e.text[:200]}" for e in session.problems(mark)
                             if e.kind != "closed"]
            pictures, failures = await session.fetch_media(mark)
            tally.pictures += pictures
            tally.errors += [f"student {number}: {line}" for line in failures]
            if finished is None or finished.kind == "closed":
                if finished is not None:
                    tally.errors.append(f"student {number}: connection closed")
                return
            next_drawing = sent + rng.uniform(3, 6)
            # A look at the answer, then Clear: the button's trigger, then the canvas's emptied value.
            await asyncio.sleep(rng.uniform(0.5, 1.5))
            clear = session.widgets["clear"]
            mark = session.rerun({"canvas": ("json_value", drawing.value), "clear": ("trigger_value", True)},
                                 fragment_id=clear.fragment_id)
            await asyncio.sleep(0.1)
            blank_mark = session.rerun({"canvas": ("json_value", blank)},
                                       fragment_id=session.widgets["canvas"].fragment_id)
            # Two reruns sent 0.1 s apart may run as one (a fragment rerun queued behind another is
            # replaced by the newer): Clear is done when the page says the canvas is empty and that
            # run has finished.
            empty = await session.wait_for(blank_mark, ("empty",), answer_timeout)
            finished = await session.wait_for(session.events.index(empty), ("finished",), answer_timeout) \
                if empty is not None and empty.kind == "empty" else empty
            tally.errors += [f"student {number}: {e.kind} {e.text[:200]}" for e in session.problems(mark)]
            if finished is None:
                tally.errors.append(f"student {number}: Clear not done within {answer_timeout:g} s")
            elif finished.kind == "closed":
                return
    except (OSError, asyncio.TimeoutError) as error:
        tally.errors.append(f"student {number}: {type(error).__name__}: {error}")
    finally:
        if hasattr(session, "_socket"):
            await session.close()


async def warm_up(url: str, drawings: list[Drawing], blank: str, timeout: float) -> float:
    """One drawing before the class starts: the server loads and compiles every model once. Returns seconds."""
    tally = Tally()
    start = time.perf_counter()
    await student(-1, url, drawings[:1], blank, start=start, stop=start + 3600, tally=tally,
                  answer_timeout=timeout, seed=0, max_drawings=1)
    if tally.errors or not tally.latencies:
        raise RuntimeError(f"warm-up failed: {tally.errors[:3] or 'no answer'}")
    return time.perf_counter() - start


async def play(url: str, server_pid: int, *, students: int, seconds: float, answer_timeout: float = 30,
               seed: int = 0) -> dict:
    """Play the class against a running server; returns the figures (see the module docstring)."""
    if not 1 <= students <= MAX_STUDENTS or not 1 <= seconds <= MAX_SECONDS:
        raise ValueError(f"students must be 1–{MAX_STUDENTS} and seconds 1–{MAX_SECONDS}")
    drawings = canvas_drawings(200, seed=seed)
    blank = blank_value()
    warm_up_s = await warm_up(url, drawings, blank, answer_timeout * 4)
    tally = Tally()
    load_before = os.getloadavg()
    client_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter() + 2.0  # every student has the page open before the clock starts
    stop = start + seconds
    tasks = [asyncio.create_task(student(n, url, drawings, blank, start=start, stop=stop, tally=tally,
                                         answer_timeout=answer_timeout, seed=seed))
             for n in range(students)]
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    cpu_start, rss_start = process_cpu_seconds(server_pid), process_rss_mb(server_pid)
    rss_peak = rss_start
    # How late a 50 ms sleep of this process wakes: how long anything waits for a core on this
    # machine just now (other people's work included), to read the latencies against.
    lags = []
    while not all(task.done() for task in tasks):
        for _ in range(10):
            asleep = time.perf_counter()
            await asyncio.sleep(0.05)
            lags.append(time.perf_counter() - asleep - 0.05)
        rss_peak = max(rss_peak, process_rss_mb(server_pid))
    wall = time.perf_counter() - start
    cpu = process_cpu_seconds(server_pid) - cpu_start
    client_after = resource.getrusage(resource.RUSAGE_SELF)
    latencies = np.array(tally.latencies)

    def percentile(q):
        return round(float(np.percentile(latencies, q)), 3) if len(latencies) else None

    return {
        "students": students, "seconds": seconds, "wall_s": round(wall, 1), "warm_up_s": round(warm_up_s, 1),
        "drawings": tally.drawings, "answered": len(latencies), "read_right": tally.read_right,
        "pictures_fetched": tally.pictures,
        "latency_s": {"p50": percentile(50), "p90": percentile(90), "p99": percentile(99),
                      "max": round(float(latencies.max()), 3) if len(latencies) else None,
                      "mean": round(statistics.fmean(latencies), 3) if len(latencies) else None},
        "errors": len(tally.errors), "error_samples": tally.errors[:10],
        "server_cpu_s": round(cpu, 1),
        "server_cpu_per_drawing_s": round(cpu / tally.drawings, 3) if tally.drawings else None,
        "server_cores_busy": round(cpu / wall, 2),
        "server_rss_mb": {"start": round(rss_start), "peak": round(rss_peak), "end": round(process_rss_mb(server_pid))},
        "client_wake_lag_ms": {"p50": round(float(np.percentile(lags, 50)) * 1000, 1),
                               "p99": round(float(np.percentile(lags, 99)) * 1000, 1)},
        "client_cpu_s": round(client_after.ru_utime + client_after.ru_stime
                              - client_before.ru_utime - client_before.ru_stime, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }


def summary(figures: dict) -> str:
    latency = figures["latency_s"]
    return (f"{figures['students']} students, {figures['wall_s']} s: {figures['drawings']} drawings, "
            f"{figures['answered']} answered ({figures['read_right']} read right, {figures['pictures_fetched']} pictures "
            f"fetched), {figures['errors']} errors; "
            f"stroke -> answer p50 {latency['p50']} s, p90 {latency['p90']} s, p99 {latency['p99']} s, "
            f"max {latency['max']} s; server CPU {figures['server_cpu_s']} s "
            f"({figures['server_cpu_per_drawing_s']} s per drawing, {figures['server_cores_busy']} cores busy), "
            f"RSS {figures['server_rss_mb']['start']} -> peak {figures['server_rss_mb']['peak']} MB; "
            f"load test client CPU {figures['client_cpu_s']} s, its 50 ms sleeps woke late by p50 "
            f"{figures['client_wake_lag_ms']['p50']} ms, p99 {figures['client_wake_lag_ms']['p99']} ms; "
            f"load average before {figures['load_average_before']}")


def run_async(coroutine):
    """`asyncio.run(coroutine)` in a thread of its own: the caller may be inside a running event loop
    (pytest after the browser tests: Playwright's sync API keeps one running)."""
    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def start_server(checkout: Path, models: Path, timeout: float = 180) -> tuple[subprocess.Popen, str]:
    """`streamlit run streamlit_app.py` in `checkout` on a free loopback port, with `models` as its models folder."""
    from tests.e2e.conftest import start_app

    return start_app({**os.environ, "DIGITLAB_MODELS": str(models)}, timeout=timeout, cwd=checkout)


@contextlib.contextmanager
def serve(checkout: Path = REPO):
    """The app of `checkout` on a free loopback port with a copy of models/: yields (url, pid); stops it after."""
    with tempfile.TemporaryDirectory(prefix="digitlab-load-") as folder:
        models = Path(folder) / "models"
        shutil.copytree(REPO / "models", models, ignore=shutil.ignore_patterns(".tmp-*", ".trash-*", ".jobs.lock"))
        server, url = start_server(checkout, models)
        try:
            yield url, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def run_class(*, students: int, seconds: float, answer_timeout: float = 30, seed: int = 0,
              checkout: Path = REPO) -> dict:
    """Start the app (of `checkout`), play the class, stop the server; returns the figures."""
    with serve(checkout) as (url, pid):
        return run_async(play(url, pid, students=students, seconds=seconds, answer_timeout=answer_timeout,
                              seed=seed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--answer-timeout", type=float, default=30, help="a stroke not answered by then is an error")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--url", help="play against this running server instead of starting one (needs --pid)")
    parser.add_argument("--pid", type=int, help="the running server's process id, for its CPU and memory")
    parser.add_argument("--checkout", type=Path, default=REPO,
                        help="serve the app of another checkout (e.g. an older commit: git archive C | tar -x -C DIR)")
    args = parser.parse_args()
    if args.url:
        if not args.pid:
            parser.error("--url needs --pid")
        figures = asyncio.run(play(args.url.rstrip("/"), args.pid, students=args.students, seconds=args.seconds,
                                   answer_timeout=args.answer_timeout, seed=args.seed))
    else:
        figures = run_class(students=args.students, seconds=args.seconds, answer_timeout=args.answer_timeout,
                            seed=args.seed, checkout=args.checkout.resolve())
    print(summary(figures))
    print(json.dumps(figures))
    sys.exit(0)


if __name__ == "__main__":
    main()
