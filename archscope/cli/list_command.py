"""``archscope list``: the zoo, with the published figures each network is held to."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from archscope.cli.application import app, check_outputs, guarded, output_format, show
from archscope.cli.options import FormatOption, OutputOption
from archscope.errors import ArchscopeError


@app.command("list", short_help='The zoo, with the published figures each network is held to.')
@guarded
def list_command(
    pattern: Annotated[
        Optional[str], typer.Argument(metavar="PATTERN", help="Shell-style filter on names and aliases, e.g. 'vgg*' or '*bn'.")
    ] = None,
    sources: Annotated[
        bool, typer.Option("--sources", help="Add each network's source: the paper and table it follows (CSV and JSON always have it).")
    ] = False,
    fmt: FormatOption = None,
    output: OutputOption = None,
) -> None:
    """List the zoo, one line per network: its family, default input, reference params and MACs.

    The reference figures are the published ones each network is tested against ('Ref.'):
    'archscope summary NAME' computes the exact counts.
    """
    from archscope.render.views import list_view
    from archscope.zoo import ZooListing, list_entries

    chosen = output_format(fmt, output)
    check_outputs([], output=(output, ()))
    listing = ZooListing(list_entries(pattern))
    if not listing.entries:
        raise ArchscopeError(f"no zoo network matches {pattern!r}; run 'archscope list' to see them all")
    show(chosen, lambda: list_view(listing, sources), output, record=listing)
