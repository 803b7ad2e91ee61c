"""`archscope list` as a person reads it: one line per network, families together."""

import csv
import io
import re

from typer.testing import CliRunner

from archscope.cli import app
from archscope.zoo import list_entries


def terminal(*args, columns=80):
    env = {"COLUMNS": str(columns), "TTY_COMPATIBLE": "1", "NO_COLOR": "1", "TERM": "xterm"}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines()


def test_at_80_columns_each_network_takes_one_line_and_families_stay_together():
    lines = terminal("list")
    entries = list_entries()
    rows = [line.split() for line in lines if line.split() and line.split()[0] in {e.name for e in entries}]
    assert [r[0] for r in rows] == [e.name for e in sorted(entries, key=lambda e: [x.family for x in entries].index(e.family))]
    families = [r[1] for r in rows]
    runs = [f for i, f in enumerate(families) if i == 0 or families[i - 1] != f]
    assert len(runs) == len(set(runs)), f"each family in one run of lines: {runs}"
    assert len(lines) <= len(entries) + 12 and all(len(line) <= 80 for line in lines)
    assert any("--sources" in line for line in lines)


def test_sources_adds_each_networks_paper_and_csv_always_has_it():
    assert any("LeCun et al. 1998" in line for line in terminal("list", "lenet*", "--sources", columns=200))
    assert not any("LeCun" in line for line in terminal("list", "lenet*", columns=200))
    rows = list(csv.DictReader(io.StringIO(CliRunner().invoke(app, ["list", "lenet*", "-f", "csv"]).stdout)))
    assert rows[0]["source"].startswith("LeCun et al. 1998")
