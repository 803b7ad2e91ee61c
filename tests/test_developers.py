"""DEVELOPERS.md's promises: its layout section is the tree as it is."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "archscope"


def layout() -> dict[str, str]:
    """Each part the layout block lists under archscope/ (``zoo/``, ``output.py``), with its text."""
    text = (ROOT / "DEVELOPERS.md").read_text()
    block = re.search(r"## Layout\n\n```\narchscope/\n(.*?)\ntests/", text, re.S).group(1)
    parts: dict[str, str] = {}
    name = None
    for line in block.splitlines():
        head = re.match(r"^  (\S+)\s", line + " ")
        if head:
            name = head.group(1)
            parts[name] = ""
        parts[name] += line + "\n"
    return parts


def test_every_part_of_the_package_is_in_the_layout_and_nothing_else():
    listed = set(layout())
    in_tree = {p.name + "/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    in_tree |= {p.name for p in PACKAGE.glob("*.py") if p.name != "__main__.py"}
    assert listed == in_tree


def test_every_file_the_layout_names_exists_where_it_says():
    missing = []
    for part, text in layout().items():
        if not part.endswith("/"):
            continue
        folder = PACKAGE / part
        for line in text.splitlines():
            sub = re.match(r"^    (\w+/)", line)  # a subpackage's lines: its files are in it
            if sub:
                folder = PACKAGE / part / sub.group(1)
            for file in re.findall(r"\b([a-z_]+(?:/[a-z_]+)*\.py)\b", line):
                if not (folder / file).exists():
                    missing.append(str((folder / file).relative_to(PACKAGE)))
    assert missing == []
