"""``archscope lessons`` as JSON, CSV and Markdown."""

from __future__ import annotations

import csv
import io
import json

from archscope.lessons import LESSONS_SCHEMA, Lesson
from archscope.render.safe import csv_row


def lessons_json(lessons: list[Lesson]) -> str:
    return json.dumps({"schema": LESSONS_SCHEMA, "lessons": [x.to_dict() for x in lessons]}, indent=2) + "\n"



def lessons_csv(lessons: list[Lesson]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["lesson", "id", "figure", "value"])
    for x in lessons:
        writer.writerows(csv_row([x.number, x.id, k, v]) for k, v in x.figures.items())
        writer.writerows(csv_row([x.number, x.id, k, f"{v:.6g}"]) for k, v in x.measurements.items())
    return buffer.getvalue()
