"""Several real browsers drawing on one server at once: `python -m tests.e2e.students --students 6 --seconds 60`.

Starts the app, opens one headless Chromium page per student and lets each draw digits with the
mouse, wait for `Prediction:`, press Clear and pause 1-2 s, over and over. Prints the latency
from mouse-up to the prediction on screen (p50, p90, p99), the server's CPU seconds per drawing
and how many drawings were read right. The browsers run on the same machine as the server, so
their CPU competes with it: a harsher test than a class, where each student has a laptop.
"""

import argparse
import asyncio
import os
import random
import statistics
import time

from playwright.async_api import async_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, start_app
from tests.e2e.strokes import DIGITS

SINGLE_STROKE = [d for d, strokes in DIGITS.items() if len(strokes) == 1]  # one mouse-up each: one clock start


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def draw(page, digit: str, scale: float = 1.3) -> None:
    canvas = page.locator("canvas.upper-canvas").first
    box = await canvas.bounding_box()
    for stroke in DIGITS[digit]:
        points = [(box["x"] + 180 + x * scale, box["y"] + 50 + y * scale) for x, y in stroke]
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for point in points[1:]:
            await page.mouse.move(*point, steps=6)
        await page.mouse.up()


async def student(browser, url: str, until: float, seed: int, results: list) -> None:
    rng = random.Random(seed)
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)
    await page.goto(url)
    await page.get_by_text("Draw a digit on the canvas").wait_for()
    await page.wait_for_timeout(1500)  # the canvas settles
    warm = True
    while time.monotonic() < until:
        digit = rng.choice(SINGLE_STROKE)
        await draw(page, digit)
        start = time.perf_counter()
        await page.get_by_text("Prediction: ").first.wait_for()
        elapsed = time.perf_counter() - start
        if not warm:  # a student's first drawing pays for the page's first load
            results.append((elapsed, await page.get_by_text(f"Prediction: {digit}").count() > 0))
        warm = False
        await page.get_by_role("button", name="Clear").click()
        await page.get_by_text("Draw a digit on the canvas").wait_for()
        await page.wait_for_timeout(rng.randint(1000, 2000))
    await page.close()


async def play(students: int, seconds: float) -> dict:
    server, url = start_app()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            warm: list = []
            await student(browser, url, time.monotonic() + 1, seed=99, results=warm)  # load every model once
            results: list = []
            before = cpu_seconds(server.pid)
            until = time.monotonic() + seconds
            await asyncio.gather(*(student(browser, url, until, seed, results) for seed in range(students)))
            server_cpu = cpu_seconds(server.pid) - before
            await browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies = sorted(seconds for seconds, _ in results)

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return {"students": students, "drawings": len(results), "read_right": sum(right for _, right in results),
            "p50_s": statistics.median(latencies), "p90_s": percentile(0.9), "p99_s": percentile(0.99),
            "server_cpu_s_per_drawing": server_cpu / max(1, len(results)), "load_average": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    figures = asyncio.run(play(args.students, args.seconds))
    print(f"{figures['students']} browsers, {figures['drawings']} drawings ({figures['read_right']} read right): "
          f"mouse-up to Prediction p50 {figures['p50_s']:.2f} s, p90 {figures['p90_s']:.2f} s, "
          f"p99 {figures['p99_s']:.2f} s; server {figures['server_cpu_s_per_drawing']:.3f} CPU-s per drawing "
          f"(includes the Clear rerun); load average {', '.join(f'{v:.1f}' for v in figures['load_average'])}")


if __name__ == "__main__":
    main()
