"""Mouse strokes on the app's canvas, drawn like a person would: the one stroke drawer of the browser tests."""

import time

# Each digit is a list of strokes; each stroke a list of (x, y) points in a 100x150 box.
DIGITS = {
    "1": [[(55, 10), (55, 140)]],
    "7": [[(15, 15), (85, 15), (40, 140)]],
    "0": [[(50, 10), (20, 35), (12, 75), (20, 115), (50, 140), (80, 115), (88, 75), (80, 35), (50, 10)]],
    "2": [[(15, 40), (30, 15), (60, 10), (82, 30), (80, 60), (15, 138), (88, 138)]],
    "4": [[(65, 10), (12, 95), (90, 95)], [(65, 10), (65, 140)]],
    "3": [[(15, 20), (50, 8), (80, 30), (50, 70), (85, 100), (55, 140), (15, 125)]],
}
CANVAS = "canvas.upper-canvas"  # the canvas element that takes the mouse


def wait_stable(page, locator, hold_ms: int = 400, timeout_s: float = 30) -> dict:
    """The element's bounding box once it stays the same for `hold_ms`.

    A canvas still being laid out (or remounted by a rerun) drops strokes.
    """
    deadline = time.time() + timeout_s
    locator.wait_for(state="visible")
    box = locator.bounding_box()
    while time.time() < deadline:
        page.wait_for_timeout(hold_ms)
        new = locator.bounding_box()
        if new is not None and new == box:
            return new
        box = new
    raise TimeoutError("the canvas kept moving")


def draw_strokes(page, strokes, *, box: dict | None = None, steps: int = 6, pause_ms=lambda: 150) -> None:
    """Draw `strokes` (lists of (x, y) in canvas pixels) with the mouse, pausing `pause_ms()` after each."""
    box = box or wait_stable(page, page.locator(CANVAS).first)
    for stroke in strokes:
        points = [(box["x"] + x, box["y"] + y) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=steps)
        page.mouse.up()
        page.wait_for_timeout(int(pause_ms()))


def draw(page, text: str, *, left: float = 40, top: float = 60, scale: float = 1.0, gap: float = 30) -> None:
    """Draw `text` on the page's canvas with the mouse, digit after digit, left to right."""
    strokes, x0 = [], left
    for character in text:
        strokes += [[(x0 + x * scale, top + y * scale) for x, y in stroke] for stroke in DIGITS[character]]
        x0 += 100 * scale + gap
    draw_strokes(page, strokes)
