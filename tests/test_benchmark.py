"""`python -m digitlab benchmark`: one drawing through each prediction path, two networks side by side."""

from digitlab import benchmark
from digitlab.cli import main


def test_the_predictor_beats_model_predict_and_another_run_is_timed_in_the_same_rounds():
    result = benchmark.inference("digitlab", repeats=5, against="paper-h")
    times = result["median_ms"]
    assert set(times) == {"preprocessing", "predictor", "model.predict", "eager call", "predictor (paper-h)",
                          "touching pair", "touching triple"}
    assert all(ms > 0 for ms in times.values())
    # model.predict builds a data pipeline per call: tens of ms against about one for the compiled Predictor.
    assert result["predictor_speedup_vs_model_predict"] > 3


def test_the_command_prints_the_ratio_of_the_two_predictors(capsys):
    assert main(["benchmark", "--model", "digitlab", "--against", "paper-h", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    assert "Predictor is" in out and "paper-h's Predictor takes" in out


def test_the_touching_numbers_are_read_right_and_timed_beside_fewer_cuts(capsys):
    from digitlab import preprocessing
    from digitlab.inference import Predictor, read_picture

    reader = Predictor.load("digitlab")
    for digits, seed in benchmark.TOUCHING.values():
        assert read_picture(reader, benchmark.touching_number(digits, seed), number=True).number == digits
    kept = preprocessing.MORE_CUTS, preprocessing.MORE_TRIPLES
    assert main(["benchmark", "--model", "digitlab", "--more-cuts-against", "0", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    assert "the touching pair takes" in out and "the touching triple takes" in out
    assert (preprocessing.MORE_CUTS, preprocessing.MORE_TRIPLES) == kept and min(kept) > 0  # put back after
