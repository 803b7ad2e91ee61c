"""``archscope lessons`` as CSV (its JSON is ``LessonSet.to_dict()``, its table a view)."""

from __future__ import annotations

import csv
import io

from archscope.lessons import LessonSet
from archscope.render.safe import csv_row


def lessons_csv(worked: LessonSet) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["lesson", "id", "figure", "value"])
    for x in worked.lessons:
        writer.writerows(csv_row([x.number, x.id, k, v]) for k, v in x.figures.items())
        writer.writerows(csv_row([x.number, x.id, k, f"{v:.6g}"]) for k, v in x.measurements.items())
    return buffer.getvalue()
