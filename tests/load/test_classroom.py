"""A class on one real server, over the browser protocol: students drawing at once, and values no canvas sends."""

import io
import json
import time

import pytest
from PIL import Image

from tests.load.classroom import play, process_rss_mb, run_async, serve
from tests.load.drawings import canvas_drawings, canvas_value
from tests.load.protocol import Session


@pytest.fixture(scope="module")
def server():
    with serve() as (url, pid):
        yield url, pid


def test_five_students_drawing_for_twenty_seconds_all_get_answers(server):
    figures = run_async(play(*server, students=5, seconds=20))
    assert figures["errors"] == 0, figures["error_samples"]
    # Each student draws every 3–6 s: 5 students in 20 s make at least 15 drawings, each answered.
    assert figures["drawings"] >= 15, figures
    assert figures["answered"] == figures["drawings"], figures
    assert figures["latency_s"]["p99"] <= 5.0, figures
    # MNIST test digits drawn large on the canvas: the default model reads nearly all of them.
    assert figures["read_right"] >= 0.8 * figures["answered"], figures


def _bomb_value() -> str:
    """A canvas value whose picture is a 12000×12000 one-bit PNG: a few kB that decode to 144 megapixels."""
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000), 1).save(buffer, format="PNG")
    url = "data:image/png;base64," + __import__("base64").b64encode(buffer.getvalue()).decode()
    value = json.loads(canvas_value(None, [{"type": "Path", "path": [["M", 1, 1], ["L", 9, 9]]}]))
    value["drawing"]["data"] = url
    return json.dumps(value)


async def _send(session: Session, value: str, wait_for: tuple[str, ...]):
    mark = session.rerun({"canvas": ("json_value", value)}, fragment_id=session.widgets["canvas"].fragment_id)
    start = time.perf_counter()
    event = await session.wait_for(mark, wait_for, 60)
    finished = await session.wait_for(mark, ("finished",), 60)
    return event, time.perf_counter() - start, session.problems(mark), finished


def test_values_no_canvas_sends_are_refused_with_one_line_and_the_session_goes_on(server):
    url, pid = server

    async def scenario():
        session = Session(url)
        await session.connect()
        await session.wait_for(session.rerun(), ("finished",), 120)
        # Warm: the first drawing loads every model.
        drawing = canvas_drawings(1, seed=5)[0]
        answer, *_ = await _send(session, drawing.value, ("answer",))
        assert answer is not None and answer.kind == "answer", answer
        rss_before = process_rss_mb(pid)

        bomb, seconds, problems, finished = await _send(session, _bomb_value(), ("error",))
        assert bomb is not None and bomb.kind == "error", (bomb, problems)
        assert "the drawing: image too large" in bomb.text
        assert seconds < 3.0
        assert finished is not None and finished.kind == "finished"
        assert process_rss_mb(pid) - rss_before < 100  # decoding it would take gigabytes

        not_base64 = json.dumps({"drawing": {"raw": {"objects": [{"type": "Path"}]}, "data": "data:,x"}})
        refused, _, problems, _ = await _send(session, not_base64, ("error",))
        assert refused is not None and refused.kind == "error" and "the drawing" in refused.text, (refused, problems)

        nonsense = json.dumps({"drawing": {"raw": ["not", "a", "drawing"], "data": None}})
        _, _, problems, finished = await _send(session, nonsense, ("finished",))
        assert not problems and finished is not None and finished.kind == "finished", problems

        # The same session still reads a real drawing.
        answer, *_ = await _send(session, drawing.value, ("answer",))
        assert answer is not None and answer.kind == "answer", answer
        await session.close()

    run_async(scenario())
