"""What two measured times support: which is faster, by how much, and against what the MACs promised.

A ratio of two medians is not a finding until the repeats agree on it. Each time comes with
its p10 and p90 over the runs, so the ratio lies between ``before.p10 / after.p90`` and
``before.p90 / after.p10``; a sentence says only what holds across that whole range, and where
nothing does, says that this run cannot tell. Lesson 9 measures again, longer, until the range
is narrow enough (``measure_until_decided``), and words its conclusion from the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, TypeVar

# The ratio's range is narrow enough to call it "about" the expected one when its ends are
# within this factor of each other (a tenth either side, roughly).
ABOUT = 1.25


@dataclass(frozen=True)
class Timing:
    """One measured time: the median and the 10th and 90th percentiles of its repeats, in ms."""

    median: float
    p10: float
    p90: float


@dataclass(frozen=True)
class Speedup:
    """How many times as fast ``after`` runs as ``before`` (below 1: slower), beside what was expected of it."""

    ratio: float  # before.median / after.median
    low: float  # the least the repeats allow: before.p10 / after.p90
    high: float  # the most: before.p90 / after.p10
    expected: float  # what the MACs promise: before's MACs / after's
    # Other processes kept every CPU busy while it was measured: the two times were taken one
    # after the other, so the load can favour either, and no spread shows it.
    busy: bool = False

    @classmethod
    def of(cls, before: Timing, after: Timing, expected: float, busy: bool = False) -> Speedup:
        return cls(before.median / after.median, before.p10 / after.p90, before.p90 / after.p10, expected, busy)

    @property
    def direction(self) -> Literal["faster", "slower"] | None:
        """Faster or slower across the whole range; None when the range holds both."""
        if self.low > 1:
            return "faster"
        if self.high < 1:
            return "slower"
        return None

    @property
    def against_expected(self) -> Literal["less", "as much", "more"] | None:
        """Less or more than expected across the whole range, or about as much when the range is narrow around it."""
        if self.high < self.expected:
            return "less"
        if self.low > self.expected:
            return "more"
        if self.high / self.low <= ABOUT:
            return "as much"
        return None

    @property
    def decided(self) -> bool:
        return not self.busy and self.direction is not None and self.against_expected is not None


def times_text(ratio: float) -> str:
    """A ratio as a person says it: 1.7x faster for 1.7, 1.7x slower for 0.6 (never "0.6x faster")."""
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def speed_sentence(s: Speedup, subject: str, cause: str) -> str:
    """'the reduced module is 1.7x slower, though its MACs promise 2.4x faster (...)', or what this run cannot tell."""
    spread = f"the repeats put the ratio between {s.low:.2f} and {s.high:.2f}"
    if s.busy:
        return f"{subject} ran {times_text(s.ratio)} while other processes competed for the CPU ({spread}), which says little about it"
    if s.direction is None:
        return f"this run cannot tell which is faster: {spread}"
    said = f"{subject} is {times_text(s.ratio)}"
    promise = f"the {s.expected:.1f}x its {cause} promise"
    if s.direction == "slower":
        return f"{said}, though its {cause} promise {s.expected:.1f}x faster ({spread})"
    return {
        "less": f"{said}, less than {promise} ({spread})",
        "as much": f"{said}, about {promise} ({spread})",
        "more": f"{said}, more than {promise} ({spread})",
        None: f"{said}; whether that is less than {promise}, this run cannot tell ({spread})",
    }[s.against_expected]


def closing_sentence(s: Speedup) -> str:
    """The conclusion the measurement supports, chosen from it."""
    if s.busy:
        return ("The machine was busy, so this run cannot tell how the time compares with the MACs: run it again "
                "on a quiet machine.")  # fmt: skip
    if not s.decided:
        return ("This run cannot tell how the time compares with the MACs: run it again on a quiet machine "
                "to see whether cutting MACs shortened more than the time the MACs took.")  # fmt: skip
    return {
        "less": "Cutting MACs shortens only the time the MACs took.",
        "as much": "Here the time fell about as the MACs did: the convolutions' time was most of it, and the "
        "traffic the reductions add did not show.",
        "more": "Here the time fell more than the MACs did (smaller tensors can stay in a cache): the MACs did not "
        "predict the time either way.",
    }[s.against_expected]


Measured = TypeVar("Measured")


def measure_until_decided(
    measure: Callable[[float], tuple[Measured, Speedup]], min_time: float, rounds: int = 3
) -> tuple[Measured, Speedup, int]:
    """Measure with ``min_time`` seconds, then twice and four times as long, until the speedup is decided.

    Returns the last measurement, its speedup and how many rounds it took; an undecided
    speedup after ``rounds`` is returned as it is (its sentences say this run cannot tell).
    """
    for done in range(1, rounds + 1):
        measured, speedup = measure(min_time * 2 ** (done - 1))
        if speedup.decided:
            break
    return measured, speedup, done
