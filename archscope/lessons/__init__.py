"""The worked design comparisons the classic papers teach, one registered lesson each.

``lesson(3)`` or ``lesson("stacked-3x3")`` recomputes one, ``work_through()`` all of them (a
``LessonSet``, whose ``to_dict()`` is the JSON contract ``archscope.lessons/1``); ``LESSONS``
lists them in order.
Every figure comes from the engine (``summarize``, a gradient measurement, ``profile``);
nothing is typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from archscope.errors import ArchscopeError
from archscope.lessons.record import Lesson, LessonSet, Worked


@dataclass(frozen=True)
class LessonEntry:
    number: int
    id: str
    title: str
    claim: str  # the claim or question, as the papers (or the course notes) put it
    models: tuple[str, ...]  # the zoo networks the lesson summarises
    make: Callable[[], Worked]
    measured: bool = False  # measures on this machine (seconds), rather than counting (instant)
    # The zoo networks whose arithmetic the lesson sets side by side (lessons.arithmetic), and
    # whether it also names the operators whose FLOPs differ (the shortcuts' additions).
    compares: tuple[tuple[str, str], ...] = ()
    operators: bool = False

    def __call__(self) -> Lesson:
        from archscope.lessons.arithmetic import extra_operators, work_through_pair
        from archscope.lessons.labels import LABELS

        worked = self.make()
        made = Lesson(self.number, self.id, self.title, self.claim, list(self.models), worked.figures, worked.finding,
                      worked.measurements)  # fmt: skip
        own = LABELS.get(self.id, {})
        made.labels = {k: own.get(k, k.replace("_", " ")) for k in [*made.figures, *made.measurements]}
        for first, second in self.compares:
            working = work_through_pair(first, second).to_dict()
            if self.operators:
                working["steps"] += [{"label": op, "text": text} for op, text in extra_operators(first, second)]
            made.arithmetic.append(working)
        return made


LESSONS: list[LessonEntry] = []


def register_lesson(
    lesson_id: str,
    title: str,
    *,
    models: Sequence[str],
    claim: str,
    measured: bool = False,
    compares: Sequence[tuple[str, str]] = (),
    operators: bool = False,
) -> Callable[[Callable[[], Worked]], Callable[[], Worked]]:
    """Add a lesson, numbered in registration order, under ``lesson_id``: ``models`` are the zoo
    networks it summarises, ``claim`` what the paper says, ``compares`` the pairs whose arithmetic
    it shows, ``operators`` whether to add the operators that differ. The decorated function works
    out the figures and the finding (a ``Worked``).

    The claim is an argument, not the function's docstring: ``python -OO`` strips docstrings.
    """

    def add(make: Callable[[], Worked]) -> Callable[[], Worked]:
        if any(e.id == lesson_id for e in LESSONS):
            raise ValueError(f"lesson {lesson_id!r} is registered twice")
        number = len(LESSONS) + 1
        LESSONS.append(LessonEntry(number, lesson_id, title, claim, tuple(models), make, measured, tuple(compares), operators))
        return make

    return add


def lesson(key: str | int) -> Lesson:
    """One lesson by number (1 to the number of lessons) or id ("stacked-3x3"), worked through."""
    return _entry(key)()


def _entry(key: str | int) -> LessonEntry:
    text = str(key).strip().lower()
    for entry in LESSONS:
        if text == str(entry.number) or text == entry.id:
            return entry
    ids = ", ".join(e.id for e in LESSONS)
    raise ArchscopeError(f"unknown lesson {key!r}; choose 1-{len(LESSONS)} or one of: {ids}")


def work_through(
    keys: Sequence[str | int] | None = None, on_start: Callable[[LessonEntry], None] | None = None
) -> LessonSet:
    """The lessons with these numbers or ids (every lesson when None), in order; ``on_start``
    hears each lesson as its work begins (a measured lesson takes seconds)."""
    chosen = LESSONS if keys is None else [_entry(key) for key in keys]
    done = []
    for entry in chosen:
        if on_start is not None:
            on_start(entry)
        done.append(entry())
    return LessonSet(done)


# Imported for its registrations, in the order a course teaches them.
from archscope.lessons import classic  # noqa: E402, F401

__all__ = ["LESSONS", "Lesson", "LessonEntry", "LessonSet", "Worked", "lesson", "register_lesson", "work_through"]
