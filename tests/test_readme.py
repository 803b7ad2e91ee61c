"""The README's promises: its set-up commands are the ones CI runs, and its sample is real."""

import re
from pathlib import Path

from typer.testing import CliRunner

from archscope.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = next(block.strip() for block in code_blocks(README) if "pytest" in block and "pip install" in block)
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_the_sample_output_in_the_readme_is_what_archscope_prints():
    sample = next(block for block in code_blocks(README) if block.startswith("$ archscope summary resnet50"))
    command, *expected = sample.splitlines()
    args = command.removeprefix("$ archscope ").split()
    result = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
    printed = [line.rstrip() for line in result.output.splitlines()]
    # The README wraps the source line by hand; compare everything from the table down.
    start = expected.index("")
    assert printed[printed.index("") :] == [line.rstrip() for line in expected[start:]]
