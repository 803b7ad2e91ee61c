"""Every command's table output at 80, 100 and 160 columns and piped, as a person sees it.

Issue 11's acceptance: no number is cut, no column is narrower than its header, nothing is
wider than the terminal, a pipe gets everything uncut, and ``archscope list`` at 80 columns
takes a few lines per network. The checks read the text the command prints, not the view:
tables are found by their rule line (``───``), columns by the gaps of spaces that run down
the whole table, and every cell of a numeric column is compared with the same command's
piped output, where nothing is dropped, wrapped or cut.

``bench`` and ``profile`` measure time, so two runs print different figures: each runs once
for real, and every width then renders that same record (the core function is replaced by
one that returns it), so their numbers can be compared too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from archscope.cli import app
from tests import cli_commands

# --- what a person sees --------------------------------------------------------------------

CONTROL = re.compile(r"(\x1b\[[0-9;?]*[A-Za-z]|\r|\n)")


def screen(raw: str) -> list[str]:
    """The lines a terminal shows after ``raw``: colours dropped; erase-line, cursor-up and
    carriage return honoured, so a transient progress bar or spinner leaves nothing behind."""
    rows, r = [""], 0
    for token in CONTROL.split(raw):
        if not token:
            continue
        if token == "\n":
            r += 1
            if r == len(rows):
                rows.append("")
        elif token == "\r" or token == "\x1b[2K":
            rows[r] = ""
        elif token.startswith("\x1b["):
            if token.endswith("A"):
                r = max(0, r - int(token[2:-1] or 1))
        else:
            rows[r] += token
    while rows and not rows[-1]:
        rows.pop()
    return rows


@dataclass
class Shown:
    stdout: list[str]
    stderr: list[str]
    raw_stdout: str


def invoke(args: list[str], width: int | None) -> Shown:
    """Run the CLI as in a terminal ``width`` columns wide, or (None) with stdout a pipe."""
    if width is None:
        # COLUMNS stays set, as it is in a shell: a pipe must ignore it.
        env = {"COLUMNS": "80", "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None, "FORCE_COLOR": None,
               "NO_COLOR": None, "TERM": "dumb"}  # fmt: skip
    else:
        env = {"COLUMNS": str(width), "TTY_COMPATIBLE": "1", "NO_COLOR": "1", "TERM": "xterm"}
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, (args, width, result.output, result.exception)
    return Shown(screen(result.stdout), screen(result.stderr), result.stdout)


# --- reading a table back from the text ------------------------------------------------------

RULE = re.compile(r"^─{3,}$")


@dataclass
class Col:
    header: str  # the header's lines joined by spaces: "Median ms" whether or not it wrapped
    start: int
    end: int
    cells: list[str]  # one per row, a wrapped cell's lines joined again
    right_aligned: bool  # a numeric column (or one whose lines are all as wide as it: checked too)

    @property
    def width(self) -> int:
        return self.end - self.start


@dataclass
class ParsedTable:
    header_lines: list[str]
    rule: str
    row_lines: list[str]
    columns: list[Col]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def column_spans(lines: list[str]) -> list[tuple[int, int]]:
    """[start, end) of each column: text separated by two or more spaces in every line."""
    width = max((len(line) for line in lines), default=0)
    blank = [all(i >= len(line) or line[i] == " " for line in lines) for i in range(width)]
    gap = [False] * width
    i = 0
    while i < width:
        j = i
        while j < width and blank[j]:
            j += 1
        if j - i >= 2 or (j > i and (i == 0 or j == width)):  # one blank inside a column is text
            gap[i:j] = [True] * (j - i)
        i = max(j, i + 1)
    spans, i = [], 0
    while i < width:
        if gap[i]:
            i += 1
            continue
        j = i
        while j < width and not gap[j]:
            j += 1
        spans.append((i, j))
        i = j
    return spans


def join_lines(pieces: list[str]) -> str:
    """A wrapped cell's lines as one cell: words joined by a space (after a hyphen, by nothing)."""
    text = ""
    for piece in filter(None, pieces):
        text += piece if not text or text.endswith("-") else " " + piece
    return text


def table_regions(lines: list[str]) -> list[tuple[int, int, int]]:
    """(first header line, rule, end) of each table: the rule line and the lines next to it up to
    a blank line on either side."""
    regions = []
    for k, line in enumerate(lines):
        if RULE.match(line):
            h, end = k, k + 1
            while h > 0 and lines[h - 1].strip():
                h -= 1
            while end < len(lines) and lines[end].strip():
                end += 1
            regions.append((h, k, end))
    return regions


def parse_tables(lines: list[str]) -> list[ParsedTable]:
    """Each table (each stacked page of one) in the printed lines: header lines, rule, rows.

    A row starts on a line whose first column has text; the lines below it with an empty
    first column are the rest of its wrapped cells.
    """
    tables = []
    for h, k, end in table_regions(lines):
        header, rule, rows = lines[h:k], lines[k], lines[k + 1 : end]
        spans = column_spans(header + rows)
        groups: list[list[str]] = []
        for line in rows:
            if not groups or (spans and line[spans[0][0] : spans[0][1]].strip()):
                groups.append([])
            groups[-1].append(line)
        columns = []
        for s, e in spans:
            pieces = [line[s:e] for line in header + rows if line[s:e].strip()]
            columns.append(Col(
                header=join_lines([line[s:e].strip() for line in header]),
                start=s,
                end=e,
                cells=[join_lines([line[s:e].strip() for line in group]) for group in groups],
                right_aligned=all(len(p.rstrip()) == e - s for p in pieces),
            ))  # fmt: skip
        tables.append(ParsedTable(header, rule, rows, columns))
    return tables


# --- the checks ------------------------------------------------------------------------------

NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
CUT_NUMBER = re.compile(r"\d ?…")


def numbers(lines: list[str]) -> set[str]:
    """Every figure a person reads: 25.6, 3,857,973,248, 0.1 (of <0.1%), 0.18 (of x0.18)."""
    return {n for line in lines for n in NUMBER.findall(line)}


def outside_tables(lines: list[str]) -> list[str]:
    """The lines that are not part of a table (header, rule or rows)."""
    inside = {k for h, _, end in table_regions(lines) for k in range(h, end)}
    return [line for k, line in enumerate(lines) if k not in inside]


def check_fits(shown: Shown, width: int) -> None:
    """3. No line the person sees is wider than the terminal, on stdout or stderr."""
    for line in shown.stdout + shown.stderr:
        assert len(line) <= width, f"{len(line)} > {width} columns: {line!r}"


def check_piped_is_whole(shown: Shown) -> None:
    """3. In a pipe nothing is cut (no ellipsis anywhere) and no colour or cursor codes."""
    assert "\x1b" not in shown.raw_stdout, "colour or cursor codes in a pipe"
    for line in shown.stdout:
        assert "…" not in line, f"cut in a pipe: {line!r}"
    for table in parse_tables(shown.stdout):
        assert len(table.header_lines) == 1, f"a header wrapped in a pipe: {table.header_lines}"


def same_figures(table: Any, reference: Any) -> bool:
    """Every cell of the table's numeric columns is one of ``reference``'s in that column."""
    full = {c.header: c for c in reference.columns}
    return all(not cell or cell in full[c.header].cells for c in table.columns if full[c.header].right_aligned for cell in c.cells)


def check_no_number_cut(shown: Shown, piped: Shown) -> int:
    """1. No number is cut: nothing ends in '…' next to a digit, every figure is one the pipe
    prints too, and every cell of a numeric column (its lines joined, if it wrapped) is one of
    that column's cells in the pipe."""
    for line in shown.stdout:
        assert not CUT_NUMBER.search(line), f"a number cut: {line!r}"
    # Titles, totals and notes wrap between words: their figures are the pipe's. (In tables,
    # numeric columns are compared cell by cell below; a text column may show a shorter name.)
    prose, piped_prose = outside_tables(shown.stdout), outside_tables(piped.stdout)
    assert numbers(prose) <= numbers(piped_prose), (
        f"figures the pipe does not print (cut or changed): {sorted(numbers(prose) - numbers(piped_prose))}"
    )
    reference = parse_tables(piped.stdout)
    at, compared = 0, 0
    for table in parse_tables(shown.stdout):
        # The table (or stacked page of it) this one shows: its columns are some of those, in order.
        # Several tables may have the same headers (explain's blocks): take the first from here
        # whose figures these are.
        fits = [i for i in range(at, len(reference)) if is_subsequence(table.headers, reference[i].headers)]
        assert fits, f"a table whose headers {table.headers} the pipe does not print"
        at = next((i for i in fits if same_figures(table, reference[i])), fits[0])
        full = {c.header: c for c in reference[at].columns}
        for col in table.columns:
            ref = full[col.header]
            if not ref.right_aligned:  # text: may wrap, and a name may be cut, as a last resort
                continue
            for cell in col.cells:
                assert not cell or cell in ref.cells, (
                    f"{col.header!r}: {cell!r} is not a figure the pipe prints in that column: {ref.cells}"
                )
                compared += bool(cell)
    return compared


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(any(p == w for w in it) for p in part)


def check_columns_as_wide_as_headers(shown: Shown, piped: Shown) -> None:
    """2. Every column is at least as wide as its header's longest word, and each header is
    whole (wrapped between words, never cut): exactly a header the pipe prints."""
    piped_headers = {h for table in parse_tables(piped.stdout) for h in table.headers}
    tables = parse_tables(shown.stdout)
    for table in tables:
        assert table.columns, f"an empty table: {table.header_lines}"
        for col in table.columns:
            assert col.header in piped_headers, (
                f"header {col.header!r} is not one the pipe prints {sorted(piped_headers)} (cut?): {table.header_lines}"
            )
            longest = max((len(word) for word in col.header.split()), default=0)
            assert col.width >= longest, f"column {col.header!r} is {col.width} wide, its header needs {longest}"
        # Rows stay inside the rule: nothing sticks out of the table.
        for line in table.header_lines + table.row_lines:
            assert len(line) <= len(table.rule), f"wider than its rule ({len(table.rule)}): {line!r}"


# --- the commands ----------------------------------------------------------------------------

# Every command that prints a table, as the app lists them (tests/cli_commands.py: a new
# command is checked here without editing this file), then the cases that stress the layout.
COMMANDS = {name: cli_commands.example(name) for name in cli_commands.with_format()}
COMMANDS |= {
    "summary-googlenet": ["summary", "googlenet"],
    "summary-resnet18-depth1": ["summary", "resnet18", "--depth", "1"],
    "compare-five": ["compare", "vgg16", "resnet50", "googlenet", "alexnet", "inception-v4"],
    # Names ending in digits: a cut one ("resnet1…") would hide which network a row is.
    "compare-long-names": ["compare", "vgg16", "resnet152", "googlenet-naive", "alexnet-1gpu", "inception-v4"],
    "compare-columns": ["compare", "vgg16", "resnet50", "googlenet", "alexnet", "inception-v4", "--layout", "columns"],
    "lessons-list": ["lessons"],  # the example ("lessons") works lesson 1 through
    "lesson-2": ["lessons", "2"],
    "rf-vgg16": ["rf", "vgg16"],
    "rf-googlenet": ["rf", "googlenet"],
    "bench": ["bench", "lenet5", "resnet18", "--device", "cpu", "-b", "1,2", "--warmup", "1", "--min-time", "0.05"],
    "profile": ["profile", "lenet5", "--device", "cpu", "--warmup", "1", "--min-time", "0.05"],
    "sweep": ["sweep", "lenet5", "resnet18", "googlenet-naive", "inception-v4", "--jobs", "1", "-q"],
}
WIDTHS = [80, 100, 160, None]
WIDTH_IDS = ["80", "100", "160", "piped"]


@functools.cache
def render(command: str, width: int | None) -> Shown:
    """The command at ``width``; one that measures time (cli_commands.MEASURING) measures once and
    every width renders that same record, so their numbers can be compared too."""
    args = COMMANDS[command]
    with cli_commands.replaying(args) as calls:
        shown = invoke(args, width)
    assert calls, f"'{' '.join(args)}' no longer calls its measuring function at run time: update cli_commands.MEASURING"
    return shown


@pytest.mark.parametrize("width", WIDTHS, ids=WIDTH_IDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_table_fits_and_cuts_no_number_and_no_header(command, width):
    piped = render(command, None)
    shown = render(command, width)
    assert parse_tables(shown.stdout), f"no table found in: {shown.stdout}"
    if width is None:
        check_piped_is_whole(shown)
    else:
        check_fits(shown, width)
    assert check_no_number_cut(shown, piped) > 0, "no numeric column found to compare"
    check_columns_as_wide_as_headers(shown, piped)


@pytest.mark.parametrize("width", [80, 100, 160])
def test_archscope_list_takes_a_few_lines_per_network(width):
    piped, shown = render("list", None), render("list", width)
    (table,) = parse_tables(piped.stdout)
    (narrow,) = parse_tables(shown.stdout)
    networks = table.columns[0].cells
    assert len(networks) > 40 and all(networks), "one line per network in a pipe"
    assert [c for c in narrow.columns[0].cells if c] == networks, "every network, its name whole, in order"
    assert len(narrow.row_lines) <= 5 * len(networks), f"{len(narrow.row_lines)} lines for {len(networks)} networks"
    assert len(shown.stdout) <= 5 * len(networks) + 10


# --- commands that write files: what they print -----------------------------------------------


@pytest.mark.parametrize("width", WIDTHS, ids=WIDTH_IDS)
@pytest.mark.parametrize("args, written", [
    (["report", "lenet5", "-o", "r.html"], "r.html"),
    (["draw", "lenet5", "-o", "net.svg"], "net.svg"),
])  # fmt: skip
def test_report_and_draw_print_whole_lines_that_fit(args, written, width, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path, so the line can fit 80 columns
    shown = invoke(args, width)
    assert (tmp_path / written).stat().st_size > 0
    text = shown.stdout + shown.stderr
    assert any(line.endswith(written) for line in text), text
    if width is None:
        check_piped_is_whole(shown)
    else:
        check_fits(shown, width)
    for line in text:
        assert "…" not in line, f"cut: {line!r}"


# --- the checks catch what issue 11 saw --------------------------------------------------------


def table(*lines: str) -> Shown:
    return Shown(list(lines), [], "\n".join(lines))


def test_the_checks_fail_on_the_cuts_issue_11_reported():
    piped = table(
        "Model     Params    MACs",
        "────────────────────────",
        "vgg16      138 M  15.5 G",
        "resnet50  25.6 M  3.86 G",
    )
    assert [c.right_aligned for c in parse_tables(piped.stdout)[0].columns] == [False, True, True]
    assert check_no_number_cut(piped, piped) == 4
    check_piped_is_whole(piped)
    check_columns_as_wide_as_headers(piped, piped)
    wrapped = table(
        "Model     Params    MACs",
        "────────────────────────",
        "vgg16      138 M  15.5 G",
        "resnet50    25.6  3.86 G",
        "               M",
    )
    check_no_number_cut(wrapped, piped)  # a figure may wrap between its words
    cut = table("Model   Params    MACs", "──────────────────────", "resne…  25.6 …  3.86 …")
    with pytest.raises(AssertionError, match="number cut"):
        check_no_number_cut(cut, piped)
    with pytest.raises(AssertionError, match="cut in a pipe"):
        check_piped_is_whole(cut)
    unit_lost = table("Model     Params    MACs", "────────────────────────", "vgg16        138  15.5 G")
    with pytest.raises(AssertionError, match="not a figure the pipe prints"):
        check_no_number_cut(unit_lost, piped)
    header_cut = table("Model     Para    MACs", "            ms", "──────────────────────", "vgg16    138 M  15.5 G")
    with pytest.raises(AssertionError, match="not one the pipe prints"):
        check_columns_as_wide_as_headers(header_cut, piped)
    with pytest.raises(AssertionError, match="> 20 columns"):
        check_fits(table("x" * 21), 20)
