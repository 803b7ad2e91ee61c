"""Option types, checks and small helpers shared by several commands."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from archscope.bench.dtypes import RUN_DTYPES
from archscope.cli.application import Format

PNG = (".png",)


ArgOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--arg", metavar="KEY=VALUE", help="key=value for the model's factory, read as a Python literal (e.g. num_classes=10); repeatable."
    ),
]
ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="A zoo name (see 'archscope list'), path/to/file.py:Factory, package.module:Factory, "
        "torchvision:NAME or timm:NAME."
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people; json, csv or markdown for files and scripts.")
]
OutputOption = Annotated[
    Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file (atomically) instead of stdout.")
]


# --dtype's choices for bench and profile: the core's one list.
DType = Enum("DType", [(name, name) for name in RUN_DTYPES], type=str)  # type: ignore[misc]


InputSizeOption = Annotated[
    Optional[str],
    typer.Option(
        "--input-size", "-i", metavar="SIZE",
        help="One input, without the batch, as the first layer takes it: CxHxW (3x224x224); HxW or N for a "
        "square image keep the network's channels; 4x200 for a Conv1d, 3x16x112x112 for a Conv3d, 64 for a "
        "Linear. ':int64' gives the type (tokens: 50:int64); '+' joins several inputs (3x32x32+16). "
        "Default: the network's own.",
    ),
]  # fmt: skip
BatchSizeOption = Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")]
DeviceOption = Annotated[str, typer.Option(metavar="DEVICE", help="cpu, cuda, cuda:N or auto (CUDA when there is one).")]
ThreadsOption = Annotated[
    Optional[int], typer.Option(metavar="N", help="CPU threads for torch (default: torch's own choice).")
]
