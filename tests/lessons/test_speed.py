"""What two measured times support (lessons.speed), with made-up times: nothing here is timed."""

import pytest

from archscope.lessons.speed import Speedup, Timing, closing_sentence, measure_until_decided, speed_sentence, times_text

MACS = 2.4  # module 3a: naive MACs / reduced MACs


def sentence(before, after, expected=MACS):
    s = Speedup.of(Timing(*before), Timing(*after), expected)
    return s, speed_sentence(s, "the reduced module", "MACs"), closing_sentence(s)


def test_a_ratio_below_one_is_said_as_slower_never_as_a_fraction_faster():
    assert times_text(0.6) == "1.7x slower" and times_text(1.7) == "1.7x faster"
    s, said, closing = sentence((60, 59, 61), (100, 98, 102))
    assert s.direction == "slower" and s.decided
    assert said.startswith("the reduced module is 1.7x slower, though its MACs promise 2.4x faster")
    assert "0.6x" not in said
    assert closing == "Cutting MACs shortens only the time the MACs took."


def test_faster_but_less_than_the_macs_promise():
    s, said, closing = sentence((100, 98, 102), (60, 59, 61))
    assert said.startswith("the reduced module is 1.7x faster, less than the 2.4x its MACs promise")
    assert "between 1.61 and 1.73" in said and closing == "Cutting MACs shortens only the time the MACs took."


def test_more_than_the_macs_promise_gets_its_own_conclusion():
    s, said, closing = sentence((300, 295, 305), (100, 99, 101))
    assert said.startswith("the reduced module is 3.0x faster, more than the 2.4x its MACs promise")
    assert closing.startswith("Here the time fell more than the MACs did")


def test_about_as_the_macs_promise_only_when_the_range_is_narrow():
    s, said, closing = sentence((240, 238, 242), (100, 99, 101))
    assert s.against_expected == "as much" and "about the 2.4x its MACs promise" in said
    assert closing.startswith("Here the time fell about as the MACs did")


def test_repeats_that_overlap_say_this_run_cannot_tell():
    # Issue 18's five runs: 0.6x, 5.2x, 2.3x, 0.68x, 1.5x, with one closing sentence for all.
    s, said, closing = sentence((100, 50, 200), (60, 30, 120))
    assert s.direction is None and not s.decided
    assert said.startswith("this run cannot tell which is faster")
    assert closing.startswith("This run cannot tell how the time compares with the MACs")


def test_faster_for_sure_but_not_whether_less_than_the_macs():
    s, said, closing = sentence((200, 150, 260), (100, 95, 105))
    assert s.direction == "faster" and s.against_expected is None
    assert "whether that is less than the 2.4x its MACs promise, this run cannot tell" in said
    assert closing.startswith("This run cannot tell")


def test_on_a_busy_machine_nothing_is_decided_however_narrow_the_repeats():
    s = Speedup.of(Timing(88.6, 85, 90), Timing(500, 480, 510), MACS, busy=True)
    assert s.direction == "slower" and not s.decided
    said = speed_sentence(s, "the reduced module", "MACs")
    assert said.startswith("the reduced module ran 5.6x slower while other processes competed for the CPU")
    assert closing_sentence(s).startswith("The machine was busy, so this run cannot tell")


def test_measuring_goes_on_longer_until_the_repeats_decide():
    asked = []
    answers = iter([Speedup(1.2, 0.5, 3.0, MACS), Speedup(1.7, 1.6, 1.8, MACS), Speedup(9.0, 9.0, 9.0, MACS)])

    def measure(seconds):
        asked.append(seconds)
        return f"run {len(asked)}", next(answers)

    measured, speedup, rounds = measure_until_decided(measure, 0.5)
    assert (measured, rounds, asked) == ("run 2", 2, [0.5, 1.0])
    assert speedup.ratio == 1.7


def test_measuring_stops_after_its_rounds_and_keeps_the_last_undecided_result():
    asked = []

    def measure(seconds):
        asked.append(seconds)
        return len(asked), Speedup(1.0, 0.5, 2.0, MACS)

    measured, speedup, rounds = measure_until_decided(measure, 1.0, rounds=3)
    assert (measured, rounds, asked, speedup.decided) == (3, 3, [1.0, 2.0, 4.0], False)


@pytest.mark.parametrize(
    "times, opening",
    [(((60, 59, 61), (100, 98, 102)), "1.7x slower"), (((100, 98, 102), (60, 59, 61)), "1.7x faster"),
     (((100, 50, 200), (60, 30, 120)), "this run cannot tell which is faster")],
)  # fmt: skip
def test_lesson_9_words_its_finding_from_the_measurement(monkeypatch, times, opening):
    from archscope.lessons import classic
    from tests.bench.fake_reports import layer, machine, report

    def fake_profile(name, depth, min_time, device, ceilings=None):
        naive = name == "inception-naive"
        total = times[0] if naive else times[1]
        convs = [layer("b1", 1.0, 0.9, 1.1, "Conv2d", macs=300 if naive else 40, kernel=[1, 1]),
                 layer("b2", 3.0, 2.9, 3.1, "Conv2d", macs=700 if naive else 380, kernel=[3, 3]),
                 layer("pool", 0.5, 0.4, 0.6, "MaxPool2d", macs=0, kernel=[3, 3])]  # fmt: skip
        return report(convs, total=total, where=machine(load=0.1), model=name)

    monkeypatch.setattr("archscope.bench.profile.profile", fake_profile)
    lesson = classic.macs_are_not_time(min_time=0.01)
    assert opening in lesson.finding and "0.6x" not in lesson.finding
    assert lesson.measurements["time_ratio"] == pytest.approx(times[0][0] / times[1][0])
    expected = Speedup.of(Timing(*times[0]), Timing(*times[1]), 1000 / 420)
    assert closing_sentence(expected) in lesson.finding
    assert lesson.measurements["rounds"] == (1 if expected.decided else 3)


def test_lesson_9_on_a_busy_machine_measures_longer_and_then_says_it_cannot_tell(monkeypatch):
    from archscope.lessons import classic
    from tests.bench.fake_reports import layer, machine, report

    asked = []

    def fake_profile(name, depth, min_time, device, ceilings=None):
        asked.append(min_time)
        naive = name == "inception-naive"
        convs = [layer("b1", 1.0, 0.9, 1.1, "Conv2d", macs=300 if naive else 40, kernel=[1, 1]),
                 layer("pool", 0.5, 0.4, 0.6, "MaxPool2d", macs=0, kernel=[3, 3])]  # fmt: skip
        total = (100, 98, 102) if naive else (60, 59, 61)
        return report(convs, total=total, where=machine(load=5.0, cpus=2), model=name)

    monkeypatch.setattr("archscope.bench.profile.profile", fake_profile)
    lesson = classic.macs_are_not_time(min_time=0.01)
    assert asked == [0.01, 0.01, 0.02, 0.02, 0.04, 0.04]  # both modules, three rounds, each twice as long
    assert "while other processes competed for the CPU" in lesson.finding
    assert "load average 5 on 2 CPUs" in lesson.finding and "The machine was busy, so this run cannot tell" in lesson.finding
    assert "Cutting MACs shortens" not in lesson.finding
