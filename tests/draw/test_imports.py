"""draw sits below render: it imports neither render nor the CLI, and the text helpers both use sit below both."""

import ast
from pathlib import Path

import archscope

PACKAGE = Path(archscope.__file__).parent


def imported(module_dir: str) -> dict[str, set[str]]:
    """Each module of ``archscope/<module_dir>`` and the archscope modules it imports, at any level."""
    out = {}
    for path in sorted((PACKAGE / module_dir).glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        out[path.name] = {n for n in names if n.startswith("archscope")}
    return out


def test_draw_imports_no_render_and_no_cli():
    for module, names in imported("draw").items():
        assert not [n for n in names if n.startswith(("archscope.render", "archscope.cli"))], module


def test_the_text_helpers_import_only_records():
    for module, names in imported("text").items():
        assert names <= {"archscope.analysis.records"}, module
