"""Train and Compare in headless Chromium: a tiny job learns live, survives leaving the page, shows on Compare."""

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout


HEADINGS = {"Draw": "Draw a digit", "Train": "Train", "Compare": "Compare runs"}


def open_page(page, link):
    page.get_by_role("link", name=link, exact=True).click()
    page.get_by_role("heading", name=HEADINGS[link], exact=True).wait_for()


def choose(page, label, option):
    """Pick `option` in the select box `label`, again if a rerun closes the list before the click."""
    for _ in range(5):
        page.get_by_label(label, exact=True).first.click()  # opens the select's list
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def test_a_tiny_job_learns_live_and_lands_on_compare(page, models_copy):
    open_page(page, "Train")
    choose(page, "Preset", "Paper S · 2 conv layers")
    for label, value in (("Training images", "3000"), ("Epochs", "3")):
        box = page.get_by_role("spinbutton", name=label).first
        box.fill(value)
        box.press("Enter")
    name_box = page.get_by_role("textbox", name="Run name")
    name_box.fill("e2e-tiny")
    name_box.press("Enter")
    page.get_by_text(re.compile(r"Estimated .* per epoch")).wait_for()
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Queued e2e-tiny").wait_for()
    # Live: the progress line moves through the epochs and the curves appear.
    # Read the line in the same step that finds it: a tiny job can finish between two calls.
    first = page.wait_for_function(
        r"() => (document.body.innerText.match(/epoch [123]\/3 · step \d+\/\d+/) || [null])[0]",
        timeout=120_000).json_value()
    page.get_by_text("accuracy", exact=True).first.wait_for()
    page.screenshot(path="/tmp/digitlab-train-live.png", full_page=True)
    # Leave the page and come back: the job kept going and finished.
    open_page(page, "Draw")
    open_page(page, "Train")
    page.get_by_text(re.compile(r"e2e-tiny · complete after 3 epochs")).wait_for(timeout=180_000)
    assert (models_copy / "e2e-tiny" / "model.keras").is_file()
    assert re.fullmatch(r"epoch [123]/3 · step \d+/\d+", first)  # a live line was seen before it finished
    open_page(page, "Compare")
    page.get_by_label("Runs to compare").first.click()
    page.get_by_role("option", name="e2e-tiny").wait_for()
    page.keyboard.press("Escape")


def test_compare_shows_the_reference_runs_and_a_confusion_cell(page):
    open_page(page, "Compare")
    for name in ("paper-s-1", "paper-s-4", "paper-h"):
        page.get_by_text(f"{name}", exact=True).first.wait_for()
    page.get_by_role("heading", name="Confusion matrices").wait_for()
    choose(page, "Run", "paper-h")
    choose(page, "True digit", "4")
    choose(page, "Read as", "9")
    page.get_by_text(re.compile(r"paper-h read \d+ test images? of a 4 as 9")).wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"true 4 → read 9")).first.wait_for()
    page.screenshot(path="/tmp/digitlab-compare.png", full_page=True)
