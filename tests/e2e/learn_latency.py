"""Measure the Learn page in Chromium, click to finished page, per step: `python -m tests.e2e.learn_latency`.

Starts the app, opens Learn on MNIST test digit #0 and walks every step with Next twice, in two
fresh sessions: the first walk computes every panel, the second finds them in the server's
shared caches (as every student after the first does). Then it edits one kernel cell and
times the convolution lab's answer. Prints seconds from the click until the new step's
heading is on screen and no element is stale any more.

`--compare CHECKOUT` also starts the app from another checkout of digitlab (e.g. the commit
before a change: `git archive COMMIT | tar -x -C /tmp/before`) on the same stored models, and
times every walk and edit on both servers in turn, so machine noise hits both alike.
"""

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from digitlab import lesson
from tests.load.classroom import process_cpu_seconds
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, REPO, start_app

SETTLED = ("heading => [...document.querySelectorAll('h2')].some(h => h.innerText.startsWith(heading)) && "
           "document.querySelectorAll('[data-stale=\"true\"]').length === 0")


def walk(page, url: str) -> list[float]:
    page.goto(url + "/learn?step=input&source=mnist&digit=0")
    page.get_by_role("heading", name=lesson.STEPS[0].title).wait_for()
    page.wait_for_function(SETTLED, arg=lesson.STEPS[0].title)
    times = []
    for step in lesson.STEPS[1:]:
        start = time.perf_counter()
        page.get_by_role("button", name="Next ▶").click()
        page.wait_for_timeout(50)  # let the click reach the server before checking for stale elements
        page.wait_for_function(SETTLED, arg=step.title)
        times.append(time.perf_counter() - start)
    return times


def start_checkout(checkout: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """The app of another checkout, on this checkout's stored models."""
    return start_app({**env, "DIGITLAB_MODELS": str(REPO / "models")}, timeout=120, cwd=checkout)


def edit_kernel(page, url: str, answered: list[float], pid: int, cpu: list[float]) -> list[float]:
    """Seconds from each edit to the new sum on screen.

    `answered` gets each edit's seconds to the server's last message, `cpu` the server's CPU seconds per edit.
    """
    frames = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda _: frames.append(time.perf_counter())))
    page.goto(url + "/learn?step=conv&source=mnist&digit=0")
    page.wait_for_function(SETTLED, arg=lesson.STEPS[1].title)
    page.wait_for_timeout(500)  # the page's last messages
    edits = []
    cpu_before = process_cpu_seconds(pid)
    for value in ("2", "3", "-1", "4", "0.5"):
        before = page.get_by_text("sum of the 9 products").inner_text()
        start = time.perf_counter()
        cell = page.get_by_label("weight row 2, column 2")
        cell.fill(value)
        cell.press("Enter")
        page.wait_for_function(
            "before => [...document.querySelectorAll('p')].some(p => p.innerText.startsWith('sum of the 9') "
            "&& p.innerText !== before) && document.querySelectorAll('[data-stale=\"true\"]').length === 0",
            arg=before)
        edits.append(time.perf_counter() - start)
        page.wait_for_timeout(300)  # the last messages of this rerun (none come after the sum is drawn)
        answered.append(max(frames) - start)
    cpu.append((process_cpu_seconds(pid) - cpu_before) / len(edits))
    return edits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", type=Path, help="another checkout of digitlab, timed in turn with this one")
    parser.add_argument("--rounds", type=int, default=2, help="cached walks and 5 kernel edits per server")
    args = parser.parse_args()
    env = {**os.environ}
    env.setdefault("DIGITLAB_MNIST", str(REPO.parent / "shared" / "datasets" / "mnist.npz"))
    servers = {"this checkout": start_app(env)}
    try:
        if args.compare:
            servers[str(args.compare)] = start_checkout(args.compare.resolve(), env)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = {}
            for label, (_, url) in servers.items():
                pages[label] = browser.new_page(viewport={"width": 1400, "height": 1000})
                pages[label].set_default_timeout(180_000)
                pages[label].goto(url)  # the shell's first run
                pages[label].get_by_role("link", name="Learn").wait_for()
            first = {label: walk(pages[label], servers[label][1]) for label in servers}
            cached = {label: [] for label in servers}
            edits = {label: [] for label in servers}
            answered = {label: [] for label in servers}
            step_cpu = {label: [] for label in servers}  # the server's CPU seconds per step of a cached walk
            edit_cpu = {label: [] for label in servers}
            for _ in range(args.rounds):  # in turn: noise hits every server alike
                for label in servers:
                    pid = servers[label][0].pid
                    cpu = process_cpu_seconds(pid)
                    cached[label].append(walk(pages[label], servers[label][1]))
                    step_cpu[label].append((process_cpu_seconds(pid) - cpu) / (len(lesson.STEPS) - 1))
                    edits[label] += edit_kernel(pages[label], servers[label][1], answered[label], pid,
                                                edit_cpu[label])
            for label in servers:
                print(f"{label}")
                print(f"{'step':<34}{'first walk s':>13}{'cached s':>10}")
                for n, step in enumerate(lesson.STEPS[1:]):
                    print(f"{step.title:<34}{first[label][n]:>13.2f}"
                          f"{statistics.median(w[n] for w in cached[label]):>10.2f}")
                steps = [t for w in cached[label] for t in w]
                print(f"cached steps: median {statistics.median(steps):.2f} s, worst {max(steps):.2f} s")
                print(f"kernel cell edit -> new sum on screen: median {statistics.median(edits[label]):.2f} s, "
                      f"worst {max(edits[label]):.2f} s ({len(edits[label])} edits); the server's last message "
                      f"after a median {statistics.median(answered[label]):.2f} s")
            for label in servers:
                print(f"server CPU ({label}): {1000 * statistics.mean(step_cpu[label]):.0f} ms per step of a cached "
                      f"walk (page load included), {1000 * statistics.mean(edit_cpu[label]):.0f} ms per kernel edit "
                      "")
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            browser.close()
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
