"""The output formats every command can write: one registered entry each.

An entry names the format (``-f NAME``), the file extensions that mean it (``-o x.json``
chooses json when ``-f`` is not given), the writer that turns a command's ``Content`` into
text, and whether it is a data format that shows every layer (every lesson, ...) rather
than what a person reads first. The command line's ``--format`` choices, its help and every
command's output are read from ``FORMATS``, so a new format is one ``register_format`` call:

    register_format(OutputFormat("yaml", (".yaml", ".yml"), lambda c: yaml_text(c.document()),
                                 every_layer=True))

(before ``archscope.cli`` is imported, which builds its ``--format`` choices from the registry).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Callable

from archscope.render import writers
from archscope.render.view import View


@dataclass(frozen=True)
class Content:
    """What a command has to write, each part made only when a format asks for it.

    ``view`` is what a person reads (render.views); ``document`` the record's JSON document
    (``to_dict()``). ``ascii`` says the destination cannot carry box drawing (a terminal or
    pipe whose encoding is ASCII): table rules become '-' and cut names end in '...'.
    """

    view: Callable[[], View]
    document: Callable[[], dict]
    ascii: bool = False


@dataclass(frozen=True)
class OutputFormat:
    name: str  # as -f takes it
    extensions: tuple[str, ...]  # lower case, with the dot; the first is the one suggested
    write: Callable[[Content], str]
    every_layer: bool  # a data format: every layer, every lesson (summary's --depth defaults to all)


FORMATS: dict[str, OutputFormat] = {}
DEFAULT_FORMAT = "table"  # without -f, and without an -o whose extension names a format


def register_format(fmt: OutputFormat) -> OutputFormat:
    """Add ``fmt``; a name or an extension another format already has is refused."""
    if fmt.name in FORMATS:
        raise ValueError(f"format {fmt.name!r} is registered already")
    for other in FORMATS.values():
        shared = set(fmt.extensions) & set(other.extensions)
        if shared:
            raise ValueError(f"format {fmt.name!r}: {sorted(shared)} already mean {other.name!r}")
    if any(not e.startswith(".") or e != e.lower() for e in fmt.extensions):
        raise ValueError(f"format {fmt.name!r}: extensions are lower case and start with a dot: {fmt.extensions}")
    FORMATS[fmt.name] = fmt
    return fmt


def format_of_path(path: str | None) -> OutputFormat | None:
    """The format a file's extension names (``x.json`` -> json), or None (no extension we know, stdout)."""
    if path is None or path == "-":
        return None
    suffix = PurePath(path).suffix.lower()
    return next((f for f in FORMATS.values() if suffix in f.extensions), None) if suffix else None


# The order here is --format's order in the help.
register_format(OutputFormat("table", (".txt",), lambda c: writers.plain_text(c.view(), None, c.ascii), every_layer=False))
register_format(OutputFormat("json", (".json",), lambda c: writers.json_text(c.document()), every_layer=True))
register_format(OutputFormat("csv", (".csv",), lambda c: writers.csv_text(c.view()), every_layer=True))
register_format(OutputFormat("tsv", (".tsv",), lambda c: writers.csv_text(c.view(), delimiter="\t"), every_layer=True))
register_format(OutputFormat("markdown", (".md", ".markdown"), lambda c: writers.markdown(c.view()), every_layer=False))
register_format(OutputFormat("html", (".html", ".htm"), lambda c: writers.html_page(c.view()), every_layer=False))
