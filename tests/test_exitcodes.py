"""The exit-code table: its values and the order in which they outrank each other."""

from harness.exitcodes import ExitCode, worst


def test_values_are_the_documented_ones() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 130]


def test_worst_picks_the_most_serious() -> None:
    assert worst() is ExitCode.OK
    assert worst(ExitCode.OK, ExitCode.INCONCLUSIVE) is ExitCode.INCONCLUSIVE
    assert worst(ExitCode.INCONCLUSIVE, ExitCode.FAILED) is ExitCode.FAILED
    assert worst(ExitCode.FAILED, ExitCode.HARNESS_ERROR) is ExitCode.HARNESS_ERROR
    assert worst(ExitCode.HARNESS_ERROR, ExitCode.STORAGE) is ExitCode.STORAGE
