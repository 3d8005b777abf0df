"""Measure the Learn page in Chromium, click to finished page, per step: `python -m tests.e2e.learn_latency`.

Starts the app, opens Learn on MNIST test digit #0 and walks every step with Next twice, in two
fresh sessions: the first walk computes every panel, the second finds them in the server's
shared caches (as every student after the first does). Then it edits one kernel cell and
times the convolution lab's answer. Prints seconds from the click until the new step's
heading is on screen and no element is stale any more.
"""

import os
import time

from playwright.sync_api import sync_playwright

from digitlab import lesson
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


def main() -> None:
    env = {**os.environ}
    env.setdefault("DIGITLAB_MNIST", str(REPO.parent / "shared" / "datasets" / "mnist.npz"))
    server, url = start_app(env)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(url)  # the shell's first run
            page.get_by_role("link", name="Learn").wait_for()
            first, second = walk(page, url), walk(page, url)
            print(f"{'step':<34}{'first walk s':>13}{'cached s':>10}")
            for step, a, b in zip(lesson.STEPS[1:], first, second):
                print(f"{step.title:<34}{a:>13.2f}{b:>10.2f}")
            page.goto(url + "/learn?step=conv&source=mnist&digit=0")
            page.wait_for_function(SETTLED, arg=lesson.STEPS[1].title)
            edits = []
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
            print(f"kernel cell edit -> new sum on screen: median {sorted(edits)[2]:.2f} s, worst {max(edits):.2f} s")
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
