"""Sweep rows as results files (CSV, JSON Lines, Markdown, Parquet) and as a table to read.

Each format writes one row per line (Parquet: one table), so a results file can grow a row at
a time and be read back: a second run reads what is there to skip it, and ``compare --from``
draws from it. Cells are the exact values (integers, not "3.86 G"); the terminal view rounds.

    format     extension   a row is                          read back
    csv        .csv        one CSV line (``COLUMNS``)        csv.reader
    jsonl      .jsonl      ``SweepRow.to_dict()`` as JSON    json.loads
    markdown   .md         one pipe-table line               split on unescaped '|'
    parquet    .parquet    one row of a pyarrow table        pyarrow.parquet (the 'parquet' extra)

These writers are the sweep's own and small, so that a format registry can take them in.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from archscope.render.units import UNITS
from archscope.text.numbers import human_bytes, human_count, shape_text
from archscope.text.safety import clean, csv_row, md_text
from archscope.render.view import Column as ViewColumn
from archscope.render.view import Note, Table, View
from archscope.sweep.records import (
    BENCH_FIELDS, COLUMNS, FIT_COLUMNS, KEY_COLUMNS, SCHEMA, TRAIN_COLUMNS, BenchFigures, Column, SweepRow, bench_column,
)  # fmt: skip

EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".md": "markdown", ".parquet": "parquet"}
STREAMED = ("csv", "jsonl", "markdown")  # formats that standard output can take a line at a time


class UnreadableRows(ValueError):
    """A results file that is not a sweep's (wrong header, another schema): its first bad line, and why."""


# --- cells ---------------------------------------------------------------------------------

_KNOWN = {c.key: c for c in [*COLUMNS, *TRAIN_COLUMNS, *FIT_COLUMNS, *KEY_COLUMNS]}
_BENCH = re.compile(r"bench_(?P<name>[a-z0-9_]+?)_b(?P<batch>\d+)_(?P<dtype>[a-z0-9]+)")
_BENCH_KINDS = {name: kind for name, kind, _ in BENCH_FIELDS}


def column_kind(key: str) -> str | None:
    """The kind of a tabular column, by its name; None for a column no sweep writes."""
    if key in _KNOWN:
        return _KNOWN[key].kind
    match = _BENCH.fullmatch(key)
    return _BENCH_KINDS.get(match["name"]) if match else None


def _shape_cell(shape: Any) -> str:
    return "" if shape is None else shape_text(shape)


def cells(row: SweepRow, columns: Sequence[Column]) -> list[Any]:
    """The row's exact values for ``columns``: integers as integers, text as text, None as ''."""
    bench = {(b.batch_size, b.dtype): b for b in row.bench}
    out: list[Any] = []
    for column in columns:
        match = _BENCH.fullmatch(column.key) if column.key not in _KNOWN else None
        if match:
            figures = bench.get((int(match["batch"]), match["dtype"]))
            value = getattr(figures, match["name"]) if figures is not None else None
        else:
            value = getattr(row, column.key)
        if column.kind == "shape":
            value = _shape_cell(value)
        elif column.kind == "ops":
            value = ", ".join(f"{op} x{count}" for op, count in value)
        elif column.kind == "float" and value is not None:
            value = float(f"{value:.6g}")
        out.append("" if value is None else value)
    return out


def _parse_shape(text: str) -> Any:
    parts = [p.strip() for p in text.split(",")]
    if not all(re.fullmatch(r"\d+(x\d+)*", p) for p in parts):
        return text  # an output of several named tensors: kept as its text
    shapes = [[int(d) for d in p.split("x")] for p in parts]
    return shapes[0] if len(shapes) == 1 else shapes


def _parse_ops(text: str) -> list[tuple[str, int]]:
    ops = []
    for part in filter(None, (p.strip() for p in text.split(", "))):
        op, _, count = part.rpartition(" x")
        ops.append((op, int(count)) if op and count.isdigit() else (part, 1))
    return ops


def _value(kind: str, raw: Any, key: str) -> Any:
    """One cell read back: '' is None (or '' for a key column), numbers become numbers."""
    if raw is None or raw == "":
        return "" if key in ("model", "input_size", "options") else [] if kind == "ops" else None
    if kind in ("int", "float") and not isinstance(raw, str):
        return raw
    text = str(raw)
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]  # the apostrophe csv_row put before a would-be formula
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise UnreadableRows(f"column {key}: {text!r} is not a number") from None
    if kind == "shape":
        return _parse_shape(text)
    if kind == "ops":
        return _parse_ops(text)
    if kind == "field":
        return int(text) if text.isdigit() else text
    return text


def row_from_cells(record: dict[str, Any]) -> SweepRow:
    """A row from a tabular file's cells (column name -> cell)."""
    fields: dict[str, Any] = {}
    bench: dict[tuple[int, str], dict[str, Any]] = {}
    for key, raw in record.items():
        kind = column_kind(key)
        if kind is None:
            continue
        match = _BENCH.fullmatch(key) if key not in _KNOWN else None
        if match:
            bench.setdefault((int(match["batch"]), match["dtype"]), {})[match["name"]] = _value(kind, raw, key)
        else:
            fields[key] = _value(kind, raw, key)
    if "model" not in fields:
        raise UnreadableRows("it has no 'model' column")
    row = SweepRow(**fields)
    # A configuration with no figure and no error was not timed (the model failed before it).
    row.bench = [BenchFigures(batch, dtype, **values) for (batch, dtype), values in bench.items()
                 if any(v is not None for v in values.values())]  # fmt: skip
    return row


# --- formats -------------------------------------------------------------------------------


def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(csv_row(values))
    return buffer.getvalue()


def _md_line(values: Sequence[Any]) -> str:
    return "| " + " | ".join(md_text(v) for v in values) + " |\n"


_MD_SPLIT = re.compile(r"(?<!\\)\|")
_MD_UNESCAPE = re.compile(r"\\([\\`\[\]*|])")


def _md_cells(line: str) -> list[str]:
    inner = line.strip()
    if not (inner.startswith("|") and inner.endswith("|")):
        raise UnreadableRows(f"{line.strip()[:60]!r} is not a table row")
    return [html.unescape(_MD_UNESCAPE.sub(r"\1", cell.strip())) for cell in _MD_SPLIT.split(inner[1:-1])]


@dataclass(frozen=True)
class LineFormat:
    """A results format written a line at a time: its header lines, a row's line, and the reader of both."""

    name: str
    header: Callable[[Sequence[Column]], str]
    line: Callable[[SweepRow, Sequence[Column]], str]
    read: Callable[[list[str]], tuple[list[str] | None, list[SweepRow], int]]


def _read_csv(lines: list[str]) -> tuple[list[str] | None, list[SweepRow], int]:
    if not lines:
        return None, [], 0
    header = next(csv.reader([lines[0]]))
    rows, bad = [], 0
    for line in lines[1:]:
        values = next(csv.reader([line]), [])
        if len(values) != len(header):
            bad += 1  # half a line (a run killed mid-write) or a line someone edited
            continue
        rows.append(row_from_cells(dict(zip(header, values))))
    return header, rows, bad


def _read_jsonl(lines: list[str]) -> tuple[list[str] | None, list[SweepRow], int]:
    rows, bad = [], 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            shown = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise UnreadableRows(f"line {number} is not an {SCHEMA} row (schema {shown!r})")
        rows.append(SweepRow.from_dict(data))
    return None, rows, bad


def _read_markdown(lines: list[str]) -> tuple[list[str] | None, list[SweepRow], int]:
    table = [line for line in lines if line.strip()]
    if not table:
        return None, [], 0
    header = _md_cells(table[0])
    rows, bad = [], 0
    for line in table[2:]:
        try:
            values = _md_cells(line)
        except UnreadableRows:
            bad += 1
            continue
        if len(values) != len(header):
            bad += 1
            continue
        rows.append(row_from_cells(dict(zip(header, values))))
    return header, rows, bad


FORMATS = {
    "csv": LineFormat("csv", lambda cols: _csv_line([c.key for c in cols]),
                      lambda row, cols: _csv_line(cells(row, cols)), _read_csv),
    "jsonl": LineFormat("jsonl", lambda cols: "", lambda row, cols: json.dumps(row.to_dict()) + "\n", _read_jsonl),
    "markdown": LineFormat(
        "markdown",
        lambda cols: _md_line([c.key for c in cols]) + "| " + " | ".join("---" for _ in cols) + " |\n",
        lambda row, cols: _md_line(cells(row, cols)), _read_markdown,
    ),
}  # fmt: skip


def header_columns(fmt: str, columns: Sequence[Column]) -> list[str] | None:
    """The column names a file of this format names in its header (None: JSON Lines has none)."""
    return None if fmt == "jsonl" else [c.key for c in columns]


def parquet_bytes(rows: Sequence[SweepRow], columns: Sequence[Column]) -> bytes:
    """Every row as one Parquet file (integers int64, figures float64, the rest strings)."""
    pa, pq = _pyarrow()
    types = {"int": pa.int64(), "float": pa.float64()}
    data = [cells(r, columns) for r in rows]
    arrays = []
    for i, column in enumerate(columns):
        kind = types.get(column.kind, pa.string())
        values = [None if row[i] == "" else row[i] if column.kind in types else clean(row[i]) for row in data]
        arrays.append(pa.array(values, type=kind))
    table = pa.Table.from_arrays(arrays, names=[c.key for c in columns])
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def read_parquet(path: str) -> tuple[list[str], list[SweepRow]]:
    _, pq = _pyarrow()
    table = pq.read_table(path)
    return list(table.column_names), [row_from_cells(r) for r in table.to_pylist()]


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from archscope.errors import ArchscopeError

        raise ArchscopeError("Parquet needs pyarrow: pip install 'archscope[parquet]' (or write .csv or .jsonl)") from None
    return pa, pq


# --- the table a person reads ----------------------------------------------------------------


def _field_text(row: SweepRow) -> str:
    rf = row.receptive_field
    return {"whole_input": "whole", "unknown": "?", "no_signal": "-"}.get(rf, str(rf)) if rf is not None else "-"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}" if value < 100 else f"{value:.0f}"


def sweep_view(rows: Sequence[SweepRow], title: str = "archscope sweep") -> View:
    """One line per model: its figures rounded for reading, or its error."""
    trains = any(r.training_memory is not None or r.backward_macs is not None for r in rows)
    fits = any(r.fit_batch is not None for r in rows)
    configurations = sorted({(b.batch_size, b.dtype) for r in rows for b in r.bench}, key=lambda c: (c[1], c[0]))
    columns = [ViewColumn("Model", shrink=True), ViewColumn("Params", numeric=True), ViewColumn("MACs", numeric=True),
               ViewColumn("FLOPs", numeric=True, drop=3), ViewColumn("Param mem", numeric=True, drop=2),
               ViewColumn("Act. mem", numeric=True, drop=2), ViewColumn("Depth", numeric=True, drop=4),
               ViewColumn("RF", numeric=True, drop=4)]  # fmt: skip
    if trains:
        columns += [ViewColumn("Backward MACs", numeric=True, drop=3), ViewColumn("Train mem", numeric=True, drop=1)]
    if fits:
        columns.append(ViewColumn("Fits batch", numeric=True))
    for batch, dtype in configurations:
        suffix = f" b{batch}" + (f" {dtype}" if len({d for _, d in configurations}) > 1 else "")
        columns += [ViewColumn(f"ms{suffix}", numeric=True), ViewColumn(f"/s{suffix}", numeric=True, drop=2)]
    columns.append(ViewColumn("Error", wrap=True))
    table_rows = []
    for r in rows:
        bench = {(b.batch_size, b.dtype): b for b in r.bench}
        cells_ = [r.model, human_count(r.params), human_count(r.macs), human_count(r.flops), human_bytes(r.param_bytes),
                  human_bytes(r.activation_bytes), "-" if r.weighted_depth is None else str(r.weighted_depth),
                  _field_text(r)]  # fmt: skip
        if trains:
            cells_ += [human_count(r.backward_macs), human_bytes(r.training_memory)]
        if fits:
            cells_.append("-" if r.fit_batch is None else str(r.fit_batch))
        for configuration in configurations:
            b = bench.get(configuration)
            failed = b is None or b.error is not None
            cells_ += ["error" if b is not None and b.error else _ms(None if failed else b.latency_ms_median),
                       "-" if failed or b.throughput is None else f"{b.throughput:.3g}"]  # fmt: skip
        cells_.append(r.error or "")
        table_rows.append(cells_)
    blocks: list = [Table(columns, table_rows)]
    for r in rows:
        for b in r.bench:
            if b.error:
                blocks.append(Note(f"{r.model} batch {b.batch_size} {b.dtype}: {b.error}", "warn"))
        if r.data_dependent:
            blocks.append(Note(f"{r.model}: ran on the CPU from {r.data_dependent} (data-dependent)", "dim"))
        if r.uncounted:
            blocks.append(Note(f"{r.model}: uncounted operators " + ", ".join(op for op, _ in r.uncounted), "warn"))
    failed = sum(1 for r in rows if r.error)
    models = f"{len(rows)} model" if len(rows) == 1 else f"{len(rows)} models"
    summary = f"{models}, {failed} failed." if failed else f"{models}."
    timed = "; ms: median latency" if configurations else ""  # said only where an ms column is
    blocks.append(Note(f"{summary} {UNITS} RF: the last spatial map's largest side{timed}.", "dim"))
    return View(title, [], blocks)
