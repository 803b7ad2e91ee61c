"""Dependencies point one way: every import of every module, held to DEVELOPERS.md's layers.

The layer list is read from DEVELOPERS.md, so the document and the check cannot drift apart.
Imports are read from the source (``ast``), those inside function bodies and under
``TYPE_CHECKING`` too: an import deferred to call time is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "archscope"
MODULES = sorted(PACKAGE.rglob("*.py"))


def layers() -> list[set[str]]:
    """DEVELOPERS.md's layers, top first: the indented block after 'the layers, top to bottom'."""
    text = (ROOT / "DEVELOPERS.md").read_text()
    after = text[re.search(r"the layers, top to bottom", text).end() :]
    block = re.search(r"\n\n((?: {4}\S.*\n)+)", after).group(1)
    return [set(line.split()) for line in block.splitlines()]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


KNOWN = {module_name(p) for p in MODULES}


def imported(source: str, name: str, is_package: bool = False) -> set[str]:
    """The archscope modules that the source of module ``name`` imports, anywhere in it.

    ``from a import b`` is module ``a.b`` where that is a module, else ``a`` itself (a name
    that ``a`` defines or re-exports); a relative import is read from ``name``'s package.
    """
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *filter(None, [base])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in KNOWN else base)
    return {m for m in found if m == "archscope" or m.startswith("archscope.")}


def part(module: str) -> str:
    """The part of the package a module belongs to: its subpackage or top-level module."""
    return module.split(".")[1] if "." in module else "archscope"


def test_the_layers_name_every_part_of_the_package_once():
    named = [p for layer in layers() for p in layer]
    assert len(named) == len(set(named))
    parts = {part(m) for m in KNOWN}
    assert parts == set(named), f"not in DEVELOPERS.md: {sorted(parts - set(named))}; not in the package: {sorted(set(named) - parts)}"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_module_imports_from_a_layer_above_or_beside_its_own(path):
    level = {p: i for i, layer in enumerate(layers()) for p in layer}
    name = module_name(path)
    here = part(name)
    wrong = sorted(
        m for m in imported(path.read_text(), name, path.name == "__init__.py")
        if part(m) != here and level.get(part(m), -1) <= level.get(here, len(level))
    )  # fmt: skip
    assert wrong == [], f"{name} ({here}, layer {level[here]}) imports {wrong}"


def test_the_check_reads_imports_inside_functions_relative_ones_and_names_from_a_package():
    source = (
        "import os\n"
        "from archscope.zoo import registry\n"
        "from archscope import summarize\n"
        "def f():\n"
        "    from ..render import views\n"
        "    from . import records, summary\n"
        "    import archscope.errors\n"
    )
    assert imported(source, "archscope.analysis.example") == {
        "archscope.zoo.registry", "archscope", "archscope.render.views", "archscope.analysis.records",
        "archscope.analysis.summary", "archscope.errors",
    }  # fmt: skip
