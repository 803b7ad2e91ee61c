"""What a profile's own times say about the run: identical layers that disagree beyond their spread."""

from tests.bench.fake_reports import layer, report


def test_identical_blocks_whose_times_do_not_overlap_are_named_fastest_and_slowest():
    # Issue 18: two identical blocks at 6.7% and 30.6% of the time.
    blocks = [layer("layer3.1", 2.0, 1.9, 2.2), layer("layer3.2", 9.1, 8.5, 9.8), layer("layer3.3", 2.1, 2.0, 2.3)]
    ((fast, slow),) = report(blocks).disagreeing_twins()
    assert (fast.name, slow.name) == ("layer3.1", "layer3.2")


def test_times_within_each_others_spread_or_close_are_no_disagreement():
    overlapping = [layer("a", 2.0, 1.5, 4.0), layer("b", 3.5, 3.1, 6.0)]  # b's p10 is inside a's spread
    close = [layer("a", 2.0, 1.9, 2.1), layer("b", 2.6, 2.5, 2.7)]  # apart, but not 1.5x
    assert report(overlapping).disagreeing_twins() == [] and report(close).disagreeing_twins() == []


def test_layers_doing_different_work_are_not_compared():
    different = [layer("conv", 2.0, 1.9, 2.1, macs=100), layer("other", 9.0, 8.9, 9.1, macs=900)]
    assert report(different).disagreeing_twins() == []
