"""A lesson as a record: the claim, the figures the engine computed, what they show."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass
class Lesson:
    number: int
    id: str
    title: str
    statement: str  # the claim or question, as the papers (or the course notes) put it
    models: list[str]
    figures: dict[str, int]  # exact counts, by key (the JSON contract)
    finding: str
    measurements: dict[str, float] = field(default_factory=dict)  # measured, so they vary from run to run
    # What a student reads for each key of figures and measurements ("MACs of the 5x5 branch, naive").
    labels: dict[str, str] = field(default_factory=dict)
    # Each compared pair's arithmetic, worked from explain's formulas (lessons.arithmetic):
    # {"sides": [...], "same_layers": [...], "steps": [{"label", "text"}, ...]}.
    arithmetic: list[dict[str, Any]] = field(default_factory=list)

    def label(self, key: str) -> str:
        return self.labels.get(key, key.replace("_", " "))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Worked:
    """What a lesson's function works out; its registration holds the rest (number, id, title,
    claim, models), and the registry joins the two into a ``Lesson``."""

    figures: dict[str, int]  # exact counts, by key (the JSON contract)
    finding: str
    measurements: dict[str, float] = field(default_factory=dict)  # measured, so they vary from run to run


@dataclass
class LessonSet:
    """The lessons ``archscope lessons`` worked through, in order."""

    SCHEMA: ClassVar[str] = "archscope.lessons/1"

    lessons: list[Lesson]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.SCHEMA, "lessons": [x.to_dict() for x in self.lessons]}
