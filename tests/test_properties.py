"""Property tests: random small conv graphs against independent oracles, and random command lines."""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import archscope
from archscope.analysis.fvcore_counter import fvcore_count
from archscope.analysis.rf.measure import measure_receptive_field
from archscope.cli import app
from archscope.errors import ArchscopeError
from tests import cli_commands

# ---------------------------------------------------------------- random graphs built here


def conv_spec():
    return st.fixed_dictionaries(
        {
            "kind": st.just("conv"),
            "out": st.integers(1, 6),
            "k": st.sampled_from([1, 2, 3, 5]),
            "stride": st.integers(1, 2),
            "dilation": st.integers(1, 2),
            "pad": st.booleans(),
            "groups": st.booleans(),
        }
    )


def layer_spec():
    return st.one_of(
        conv_spec(),
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["maxpool", "avgpool"]), "k": st.integers(2, 3), "stride": st.integers(1, 2)}
        ),
        st.fixed_dictionaries({"kind": st.just("residual"), "k": st.sampled_from([1, 3, 5]), "dilation": st.integers(1, 2)}),
        st.fixed_dictionaries({"kind": st.just("concat"), "k1": st.sampled_from([1, 3]), "k2": st.sampled_from([3, 5]), "out": st.integers(1, 4)}),
        st.just({"kind": "relu"}),
        # Receptive fields through reshapes, tokens, channel groups, borders and upsampling.
        st.fixed_dictionaries({"kind": st.just("channels_last"), "out": st.integers(1, 6)}),
        st.fixed_dictionaries({"kind": st.just("split"), "k": st.sampled_from([1, 3]), "dilation": st.integers(1, 2)}),
        st.just({"kind": "tokens"}),
        st.fixed_dictionaries(
            {"kind": st.just("move"), "how": st.sampled_from(["reflect", "replicate", "flip", "roll"]), "amount": st.integers(1, 2)}
        ),
        st.fixed_dictionaries({"kind": st.just("updown"), "mode": st.sampled_from(["nearest", "bilinear"]), "k": st.sampled_from([2, 3])}),
    )


class Residual(nn.Module):
    def __init__(self, channels: int, k: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, k, padding=dilation * (k // 2), dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.conv(x))


class Concat(nn.Module):
    def __init__(self, channels: int, k1: int, k2: int, out: int) -> None:
        super().__init__()
        self.a = nn.Conv2d(channels, out, k1, padding=k1 // 2)
        self.b = nn.Conv2d(channels, out, k2, padding=k2 // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.a(x), self.b(x)], dim=1)


class ChannelsLast(nn.Module):
    """ConvNeXt's MLP: channels last, a linear layer per position, channels first again."""

    def __init__(self, channels: int, out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(channels, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Split(nn.Module):
    """Res2Net's groups: half the channels split off and convolved, the rest passed on."""

    def __init__(self, channels: int, k: int, dilation: int) -> None:
        super().__init__()
        self.sizes = [channels // 2, channels - channels // 2]
        self.conv = nn.Conv2d(self.sizes[1], self.sizes[1], k, padding=dilation * (k // 2), dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = torch.split(x, self.sizes, dim=1)
        return torch.cat([a, self.conv(b)], dim=1)


class Tokens(nn.Module):
    """A ViT's tokens: the grid flattened, a class token in front, a linear layer per token, the grid back."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.cls = nn.Parameter(torch.zeros(1, 1, channels))
        self.linear = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        t = torch.cat([self.cls.expand(b, -1, -1), x.flatten(2).transpose(1, 2)], dim=1)
        t = t + self.linear(t)
        return t[:, 1:].transpose(1, 2).reshape(b, c, h, w)


class Move(nn.Module):
    """Positions moved at the border: reflect or replicate padding, a flip, a roll."""

    def __init__(self, how: str, amount: int) -> None:
        super().__init__()
        self.how, self.amount = how, amount

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.how in ("reflect", "replicate"):
            return F.pad(x, (self.amount, 0, 0, self.amount), mode=self.how)
        if self.how == "flip":
            return torch.flip(x, [2, 3][: self.amount])
        return torch.roll(x, (self.amount, -self.amount), (2, 3))


class UpDown(nn.Module):
    """Upsampling by 2, then a stride-2 convolution: the upsampled map's phases meet again."""

    def __init__(self, channels: int, mode: str, k: int) -> None:
        super().__init__()
        self.mode = mode
        self.conv = nn.Conv2d(channels, channels, k, stride=2, padding=k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        options = {} if self.mode == "nearest" else {"align_corners": False}
        return self.conv(F.interpolate(x, scale_factor=2, mode=self.mode, **options))


def build(specs: list[dict], in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = in_channels
    for s in specs:
        if s["kind"] == "conv":
            groups = channels if s["groups"] and s["out"] % channels == 0 else 1
            padding = s["dilation"] * (s["k"] // 2) if s["pad"] else 0
            layers.append(nn.Conv2d(channels, s["out"], s["k"], s["stride"], padding, s["dilation"], groups=groups))
            channels = s["out"]
        elif s["kind"] == "maxpool":
            layers.append(nn.MaxPool2d(s["k"], s["stride"]))
        elif s["kind"] == "avgpool":
            layers.append(nn.AvgPool2d(s["k"], s["stride"]))
        elif s["kind"] == "residual":
            layers.append(Residual(channels, s["k"], s["dilation"]))
        elif s["kind"] == "concat":
            layers.append(Concat(channels, s["k1"], s["k2"], s["out"]))
            channels = 2 * s["out"]
        elif s["kind"] == "channels_last":
            layers.append(ChannelsLast(channels, s["out"]))
            channels = s["out"]
        elif s["kind"] == "split" and channels >= 2:
            layers.append(Split(channels, s["k"], s["dilation"]))
        elif s["kind"] == "tokens":
            layers.append(Tokens(channels))
        elif s["kind"] == "move":
            layers.append(Move(s["how"], s["amount"]))
        elif s["kind"] == "updown":
            layers.append(UpDown(channels, s["mode"], s["k"]))
        else:
            layers.append(nn.ReLU())
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 3)]
    return nn.Sequential(*layers)


GRAPH_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@GRAPH_SETTINGS
@given(specs=st.lists(layer_spec(), min_size=1, max_size=6), size=st.integers(12, 40))
def test_random_graphs_match_torch_fvcore_and_gradients(specs, size):
    torch.manual_seed(0)
    model = build(specs).eval()
    x = torch.randn(1, 3, size, size)
    try:
        with torch.no_grad():
            expected = model(x)
    except RuntimeError:
        assume(False)  # the input is too small for this graph: not an example
    summary = archscope.summarize(model, (3, size, size))

    assert summary.totals.params == sum(p.numel() for p in model.parameters())
    assert summary.output_shape == list(expected.shape)
    shapes: dict[str, list[int]] = {}

    def record(name: str):
        def hook(module, args, output) -> None:  # returns None: the output is left alone
            shapes.setdefault(name, list(output.shape))

        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in model.named_modules() if n]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    assert {layer.name: layer.output_shape for layer in summary.layers} == shapes
    assert summary.totals.macs == fvcore_count(model, summary.input_shape).macs

    if summary.receptive_field is not None and summary.receptive_field.is_window:
        record, measured = measure_receptive_field(model, (3, size, size))
        assert measured.to_dict() == {k: list(getattr(record.receptive_field, k)) for k in ("size", "stride", "padding")}


# ---------------------------------------------------------------- random command lines

# ARCHSCOPE_MAX_EXAMPLES raises the example counts for a nightly run (README, Development).
EXAMPLES = int(os.environ.get("ARCHSCOPE_MAX_EXAMPLES", "80"))

# This process's own folder: other test runs on the machine (other checkouts) fuzz at the same
# time, and a file they share would be rewritten under this one.
FUZZ_DIR = Path(tempfile.mkdtemp(prefix="archscope-fuzz-"))
atexit.register(shutil.rmtree, FUZZ_DIR, True)
HOSTILE_NET = FUZZ_DIR / "archscope-property-net.py"
HOSTILE_SOURCE = (
    "import torch.nn as nn\n"
    "INPUT_SIZE = (3, 16, 16)\n"
    "class Net(nn.Sequential):\n"
    "    def __init__(self, k=3):\n"
    "        super().__init__()\n"
    "        self.add_module('<b>x</b>|=1+1\\n\\x1b[31m', nn.Conv2d(3, 4, k))\n"
    "        self.add_module('$\\\\frac$', nn.ReLU())\n"
)
HOSTILE_NET.write_text(HOSTILE_SOURCE)
MODELS = [
    "lenet5", "vgg-cifar", "cifar-resnet20", "nonexistent", "", "x:y", "bad.py:Net", "torchvision:nope", "VGG_CIFAR",
    ":", ":Net", "a:b:c", ".x:Net", "-", "timm:", "/dev/null:Net", f"{tempfile.gettempdir()}:Net", "\x1b[2J",
    "a" * 300 + "/net.py:Net", "x" * 5000, f"{HOSTILE_NET}:Net", f"{HOSTILE_NET}:Missing", f"{HOSTILE_NET}:",
]  # fmt: skip
# Spec strings from random text: only harmless modules before the colon, anything after it.
SPECS = st.one_of(
    st.sampled_from(MODELS),
    st.text(max_size=12),
    st.builds(
        "{}:{}".format,
        st.sampled_from(["", "x", "net.py", str(HOSTILE_NET), "torchvision", "timm", "a/b.py", "json", "~nobody/x.py"]),
        st.text(max_size=12),
    ),
)
VALUES = ["3x32x32", "1x32x32", "32", "0", "abc", "-1", "1x1", "3x", "2,4", "1", "x", "yaml", "json", "csv",
          "99999999999999999999", str(2**63), "3x2000000000x2000000000", "16:int64", "3x32x32+16"]  # fmt: skip
# Digit strings of any length: '9' * 5000 broke int() (Python's 4,300-digit limit) and every figure printed after it.
DIGITS = st.one_of(st.text("0123456789", min_size=1, max_size=8), st.text("0123456789", min_size=9, max_size=6000))
SHAPES = st.one_of(
    st.sampled_from(VALUES),
    DIGITS,
    st.builds("3x{}x{}".format, DIGITS, DIGITS),
    st.builds("{}x{}:{}".format, DIGITS, DIGITS, st.sampled_from(["int64", "float16", "bool", "x"])),
    st.builds("={}".format, DIGITS),
)
# Numeric options get the values that broke them: huge, negative, non-finite, not numbers.
NUMBERS = {
    "-b": ["1", "2,4", "0", "-1", str(2**63), "99999999999999999999", "x", ",", "1.5"],
    "--threads": ["1", "0", "-1", "50000", str(2**63), "x", "1.5"],
    "--warmup": ["0", "1", "-1", str(10**12), str(2**63), "x"],
    "--min-time": ["0.01", "0", "-1", "inf", "-inf", "nan", "1e309", "1e-9", "x", str(2**63)],
    "--depth": ["1", "2", "0", "-1", str(2**63), "x"],
}
# Options that run the model for real (on the CPU): their runs get small inputs, never random sizes.
REAL_RUN_OPTIONS = {"--verify", "--effective", "--bench", "--profile", "--counter", "--weight", "--device", "--fit", "--train"}
REPORT_TARGET = str(FUZZ_DIR / "archscope-property-report.html")
# Where outputs go: every extension a command might take or refuse, streams, the model's own file.
PATHS = [REPORT_TARGET, *(str(FUZZ_DIR / f"out{ext}") for ext in (".json", ".csv", ".tsv", ".md", ".html", ".svg",
         ".png", ".pdf", ".txt", ".py", "")), "/nonexistent/dir/r.html", "-", "/dev/null", str(FUZZ_DIR), str(HOSTILE_NET)]  # fmt: skip
OTHER_VALUES = VALUES + ["table", "markdown", "inference", "train", "cpu", "cuda", "k=1", "num_classes=7", "x=" + "-" * 5000 + "1"]
ANY_TEXT = st.text(max_size=30)  # any characters: NUL, escapes, newlines, right-to-left marks


@st.composite
def hostile_models(draw) -> str:
    """A model file of the user's: layers named with any characters, nested to any depth."""
    names = draw(st.lists(st.text(max_size=20), min_size=1, max_size=4))
    depth = draw(st.one_of(st.integers(1, 6), st.integers(900, 3200)))
    source = (
        "import torch.nn as nn\n"
        "INPUT_SIZE = (3, 8, 8)\n"
        f"NAMES = {names!r}\n"
        f"DEPTH = {depth}\n"
        "def build():\n"
        "    inner = nn.Sequential()\n"
        "    for i, name in enumerate(NAMES):\n"
        "        inner.add_module(name, nn.Conv2d(3, 3, 3, padding=1) if i % 2 == 0 else nn.ReLU())\n"
        "    for level in range(DEPTH - 1):\n"
        "        outer = nn.Sequential()\n"
        "        outer.add_module(NAMES[level % len(NAMES)] or 'x', inner)\n"
        "        inner = outer\n"
        "    return inner\n"
    )
    path = FUZZ_DIR / f"net_{abs(hash(source)):x}.py"
    path.write_text(source, encoding="utf-8")
    return f"{path}:build"


# Spec strings from random text: only harmless modules before the colon, anything after it.
SPECS = st.one_of(
    st.sampled_from(MODELS),
    st.text(max_size=12),
    st.builds(
        "{}:{}".format,
        st.sampled_from(["", "x", "net.py", str(HOSTILE_NET), "torchvision", "timm", "a/b.py", "json", "~nobody/x.py"]),
        st.text(max_size=12),
    ),
    hostile_models(),
)
# A cheap, valid value for an argument no other rule covers (by its metavar), beside random text.
ARGUMENT_VALUES = {"ID": ["1", "3", "fc-vs-gap", "9", "x"], "PATTERN": ["vgg*", "*bn", "nothing", "["]}


def option_values(draw, p: cli_commands.Param, real: bool) -> str:
    """A value for option ``p``: its choices, the numbers that broke it, shapes, paths or any text."""
    if p.choices:
        valid = st.sampled_from(p.choices)
        return draw(st.one_of(valid, valid, valid, st.sampled_from(OTHER_VALUES), ANY_TEXT))  # mostly valid: deeper runs
    if p.name in NUMBERS:
        return draw(st.sampled_from(NUMBERS[p.name]) if real else st.one_of(st.sampled_from(NUMBERS[p.name]), DIGITS))
    if p.name == "--input-size":
        return draw(st.sampled_from(VALUES[:10]) if real else SHAPES)
    if p.metavar in ("FILE", "PNG"):
        return draw(st.sampled_from(PATHS))
    if p.name == "--device":
        return draw(st.sampled_from(["cpu", "cuda", "auto", "tpu", "cuda:99", ""]))
    if p.name == "--fit":
        return draw(st.one_of(st.sampled_from(["24GiB", "1MB", "0", "-1GiB", "x", "1e400GiB"]),
                              st.builds("{}{}".format, DIGITS, st.sampled_from(["", "GiB", "MB", "B", "KiB"]))))  # fmt: skip
    if p.kind in ("integer", "float"):
        return draw(st.one_of(st.sampled_from(["0", "-1", "1", "x", "nan"]), DIGITS))
    return draw(st.one_of(st.sampled_from(OTHER_VALUES), ANY_TEXT))


@st.composite
def command_lines(draw):
    """Any command the app has (tests/cli_commands.py reads them from it), with random arguments and options."""
    commands = cli_commands.commands()
    command = draw(st.sampled_from(sorted(commands)))
    params = commands[command]
    options = [p for p in params if p.option and p.name not in ("--help",)]
    chosen = draw(st.lists(st.sampled_from(options), max_size=3)) if options else []
    chosen = [p for p in options if p.required and p not in chosen] + chosen
    real = cli_commands.takes(command, "--device") or any(p.name in REAL_RUN_OPTIONS for p in chosen)
    argv = [command]
    for p in params:
        if p.option:
            continue
        if p.name == "MODEL":
            cheap = st.sampled_from(MODELS[:3]) if real else SPECS
            if p.variadic:
                argv += draw(st.lists(st.one_of(cheap, SPECS), min_size=1 if p.required else 0, max_size=3))
            else:
                argv.append(draw(cheap if real else SPECS))
        elif p.required or draw(st.booleans()):
            argv.append(draw(st.one_of(st.sampled_from(ARGUMENT_VALUES.get(p.name, OTHER_VALUES)), ANY_TEXT)))
    # First, so that a drawn --min-time or --warmup (the last one given wins) is what runs.
    for option, value in cli_commands.QUICK_OPTIONS.items():
        if cli_commands.takes(command, option):
            argv += [option, value]
    if real and not any(a in MODELS[:3] or ":" in a for a in argv[1:]):
        argv.insert(1, "lenet5")  # no model would mean the whole default set: too slow for a property test
    for p in chosen:
        argv.append(p.name)
        if not p.flag:
            argv.append(option_values(draw, p, real))
    return argv


@pytest.mark.slow  # the command-line fuzz: a minute
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=command_lines())
def test_random_command_lines_never_produce_a_traceback(argv):
    HOSTILE_NET.write_text(HOSTILE_SOURCE)  # each example starts from the user's file as it was
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "100"})
    shown = shlex.join(argv)[:300]
    assert "Traceback" not in result.output, shown
    # sweep and compare go on past a model that fails to build and then exit 1, saying how many failed;
    # every other command, and every input these two can reject up front, exits 0 or 2.
    many = argv[0] in ("sweep", "compare") and re.search(r"\bmodels? failed\b", result.output)
    assert result.exit_code in (0, 2) or (result.exit_code == 1 and many), f"{shown} -> {result.exit_code}: {result.output}"
    if result.exit_code == 2:
        assert result.output.strip().startswith("error:") or "Usage" in result.output, shown
    assert result.exception is None or isinstance(result.exception, SystemExit) or isinstance(result.exception, ArchscopeError), shown
    assert HOSTILE_NET.read_text() == HOSTILE_SOURCE, f"the model's own file was written: {shown}"
