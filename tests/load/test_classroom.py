"""A short class in CI: 5 students drawing for 20 s on a real server, every stroke answered within a generous bound."""

from tests.load.classroom import run_class


def test_five_students_drawing_for_twenty_seconds_all_get_answers():
    figures = run_class(students=5, seconds=20)
    assert figures["errors"] == 0, figures["error_samples"]
    # Each student draws every 3–6 s: 5 students in 20 s make at least 15 drawings, each answered.
    assert figures["drawings"] >= 15, figures
    assert figures["answered"] == figures["drawings"], figures
    assert figures["latency_s"]["p99"] <= 5.0, figures
    # MNIST test digits drawn large on the canvas: the default model reads nearly all of them.
    assert figures["read_right"] >= 0.8 * figures["answered"], figures
