"""Mouse strokes of digits, in canvas pixels, for drawing on the page like a person would."""

# Each digit is a list of strokes; each stroke a list of (x, y) points in a 100x150 box.
DIGITS = {
    "1": [[(55, 10), (55, 140)]],
    "7": [[(15, 15), (85, 15), (40, 140)]],
    "0": [[(50, 10), (20, 35), (12, 75), (20, 115), (50, 140), (80, 115), (88, 75), (80, 35), (50, 10)]],
    "2": [[(15, 40), (30, 15), (60, 10), (82, 30), (80, 60), (15, 138), (88, 138)]],
    "4": [[(65, 10), (12, 95), (90, 95)], [(65, 10), (65, 140)]],
    "3": [[(15, 20), (50, 8), (80, 30), (50, 70), (85, 100), (55, 140), (15, 125)]],
}


def draw(page, text: str, *, left: float = 40, top: float = 60, scale: float = 1.0, gap: float = 30) -> None:
    """Draw `text` on the page's canvas with the mouse, digit after digit, left to right."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(state="visible")
    # A canvas still being laid out (or remounted by a rerun) drops strokes: wait until it holds still.
    box = None
    while box != (box := canvas.bounding_box()):
        page.wait_for_timeout(400)
    x0 = box["x"] + left
    for character in text:
        for stroke in DIGITS[character]:
            points = [(x0 + x * scale, box["y"] + top + y * scale) for x, y in stroke]
            page.mouse.move(*points[0])
            page.mouse.down()
            for point in points[1:]:
                page.mouse.move(*point, steps=6)
            page.mouse.up()
            page.wait_for_timeout(150)
        x0 += 100 * scale + gap
