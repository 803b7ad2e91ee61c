"""``archscope lessons`` as JSON and Markdown."""

from __future__ import annotations

import json

from archscope.analysis.lessons import LESSONS_SCHEMA, Lesson


def lessons_json(lessons: list[Lesson]) -> str:
    return json.dumps({"schema": LESSONS_SCHEMA, "lessons": [x.to_dict() for x in lessons]}, indent=2) + "\n"


def lessons_markdown(lessons: list[Lesson]) -> str:
    lines: list[str] = []
    for x in lessons:
        lines += [f"## {x.number}. {x.title}", "", f"*{x.statement}*", "", f"Models: {', '.join(x.models)}", ""]
        lines += ["| Figure | Value |", "| --- | ---: |"]
        lines += [f"| {k} | {v:,} |" for k, v in x.figures.items()]
        lines += [f"| {k} | {v:,.4g} |" for k, v in x.measurements.items()]
        lines += ["", x.finding, ""]
    return "\n".join(lines)


def lessons_csv(lessons: list[Lesson]) -> str:
    rows = ["lesson,id,figure,value"]
    for x in lessons:
        rows += [f"{x.number},{x.id},{k},{v}" for k, v in x.figures.items()]
        rows += [f"{x.number},{x.id},{k},{v:.6g}" for k, v in x.measurements.items()]
    return "\n".join(rows) + "\n"
