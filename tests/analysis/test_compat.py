"""analysis/compat.py is the one module that reaches into PyTorch's private code (DEVELOPERS.md)."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "archscope"
PRIVATE = re.compile(r"torch\._|_python_dispatch|_schema")  # issue 20's acceptance, as a grep


def test_no_module_but_compat_names_a_private_part_of_pytorch():
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "compat.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert found == []
