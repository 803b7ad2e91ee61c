"""``archscope lessons`` as JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
import json

from archscope.lessons import LESSONS_SCHEMA, Lesson
from archscope.render.markdown import markdown_table
from archscope.render.safe import csv_row, md_text


def lessons_json(lessons: list[Lesson]) -> str:
    return json.dumps({"schema": LESSONS_SCHEMA, "lessons": [x.to_dict() for x in lessons]}, indent=2) + "\n"


def lessons_markdown(lessons: list[Lesson]) -> str:
    lines: list[str] = []
    for x in lessons:
        lines += [f"## {x.number}. {md_text(x.title)}", "", f"*{md_text(x.statement)}*", ""]
        lines += [f"Models: {md_text(', '.join(x.models))}", ""]
        rows = [(k, f"{v:,}") for k, v in x.figures.items()] + [(k, f"{v:,.4g}") for k, v in x.measurements.items()]
        lines += markdown_table(["Figure", "Value"], rows, right=(1,))
        lines += ["", md_text(x.finding), ""]
    return "\n".join(lines)


def lessons_csv(lessons: list[Lesson]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["lesson", "id", "figure", "value"])
    for x in lessons:
        writer.writerows(csv_row([x.number, x.id, k, v]) for k, v in x.figures.items())
        writer.writerows(csv_row([x.number, x.id, k, f"{v:.6g}"]) for k, v in x.measurements.items())
    return buffer.getvalue()
