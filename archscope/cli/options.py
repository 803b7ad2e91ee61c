"""Option types, checks and small helpers shared by several commands."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from archscope.cli.application import Format

PNG = (".png",)


ArgOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--arg", metavar="KEY=VALUE", help="key=value for the model's factory, read as a Python literal (e.g. num_classes=10); for "
        "transformers:/hf: a config field (hidden_size=384); repeatable. Arguments that would load "
        "weights (weights=..., pretrained=True, checkpoint_path=...) are refused."
    ),
]
ModelArgument = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="A zoo name (see 'archscope list'), path/to/file.py:Factory, package.module:Factory, "
        "torchvision:NAME, timm:NAME, transformers:CLASS (from its default config) or hf:ORG/NAME or "
        "hf:FOLDER (its config.json only; never weights)."
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="table for people; json, csv or markdown for files and scripts.")
]
OutputOption = Annotated[
    Optional[str], typer.Option("--output", "-o", metavar="FILE", help="Write the report to this file (atomically) instead of stdout.")
]


class DType(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"


InputSizeOption = Annotated[
    Optional[str],
    typer.Option(
        "--input-size", "-i", metavar="SIZE",
        help="One input, without the batch, as the first layer takes it: CxHxW (3x224x224); HxW or N for a "
        "square image keep the network's channels; 4x200 for a Conv1d, 3x16x112x112 for a Conv3d, 64 for a "
        "Linear. A leading '=' takes the size exactly as written, for a model that reshapes its input "
        "itself (=16000: raw audio B x 16000; =1024x128: frames x mel bins). ':int64' gives the type "
        "(tokens: 50:int64); '+' or ',' joins several inputs (3x32x32+16); name=SIZE passes one as a "
        "keyword, a dotted name as a nested dict (image=3x32x32,batch.meta=4). Default: the network's "
        "own (a model file's example_inputs() or INPUT_SIZE).",
    ),
]  # fmt: skip
BatchSizeOption = Annotated[int, typer.Option("--batch-size", "-b", metavar="N", help="Batch size of the input.")]
DeviceOption = Annotated[str, typer.Option(metavar="DEVICE", help="cpu, cuda, cuda:N or auto (CUDA when there is one).")]
ThreadsOption = Annotated[
    Optional[int], typer.Option(metavar="N", help="CPU threads for torch (default: torch's own choice).")
]
