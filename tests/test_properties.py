"""Property tests: random small conv graphs against independent oracles, and random command lines."""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path

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

HOSTILE_NET = Path(tempfile.gettempdir()) / "archscope-property-net.py"
HOSTILE_NET.write_text(
    "import torch.nn as nn\n"
    "INPUT_SIZE = (3, 16, 16)\n"
    "class Net(nn.Sequential):\n"
    "    def __init__(self, k=3):\n"
    "        super().__init__()\n"
    "        self.add_module('<b>x</b>|=1+1\\n\\x1b[31m', nn.Conv2d(3, 4, k))\n"
    "        self.add_module('$\\\\frac$', nn.ReLU())\n"
)
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
# Numeric options get the values that broke them: huge, negative, non-finite, not numbers.
NUMBERS = {
    "-b": ["1", "2,4", "0", "-1", str(2**63), "99999999999999999999", "x", ",", "1.5"],
    "--threads": ["1", "0", "-1", "50000", str(2**63), "x", "1.5"],
    "--warmup": ["0", "1", "-1", str(10**12), str(2**63), "x"],
    "--min-time": ["0.01", "0", "-1", "inf", "-inf", "nan", "1e309", "1e-9", "x", str(2**63)],
    "--depth": ["1", "2", "0", "-1", str(2**63), "x"],
}
OPTIONS = {
    "summary": ["-i", "-b", "--depth", "-f", "--counter", "--arg", "--train"],
    "compare": ["-i", "-b", "-f", "--layout", "--arg"],
    "rf": ["-i", "-f", "--arg"],
    "lessons": ["-f"],
    "list": ["-f"],
    "bench": ["-i", "-b", "--dtype", "--mode", "--warmup", "--threads", "--min-time", "--device", "-f", "--arg"],
    "report": ["-i", "-b", "--depth", "--arg"],
}
FLAGS = {"--train", "--channels-last", "--auto-batch"}
REPORT_TARGET = str(Path(tempfile.gettempdir()) / "archscope-property-report.html")
OTHER_VALUES = VALUES + ["table", "markdown", "inference", "train", "cpu", "cuda", "k=1", "num_classes=7", "x=" + "-" * 5000 + "1"]


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command]
    if command in ("summary", "rf", "report"):
        argv.append(draw(SPECS))
    if command == "report":
        argv += ["-o", draw(st.sampled_from([REPORT_TARGET, "/nonexistent/dir/r.html", "report.pdf", "r", str(HOSTILE_NET)]))]
    elif command in ("compare", "bench"):
        argv += draw(st.lists(st.one_of(st.sampled_from(MODELS[:5]), SPECS), min_size=0 if command == "bench" else 1, max_size=3))
    elif command == "lessons":
        argv += draw(st.lists(st.sampled_from(["1", "3", "fc-vs-gap", "9", "x"]), max_size=1))
    elif command == "list":
        argv += draw(st.lists(st.sampled_from(["vgg*", "*bn", "nothing", "["]), max_size=1))
    if command == "bench":
        # First, so that a drawn --min-time or --warmup (the last one given wins) is what runs.
        argv += ["--min-time", "0.01", "--warmup", "0"]
        if not any(a in MODELS[:3] or ":" in a for a in argv[1:]):
            argv.insert(1, "lenet5")  # no model would mean the whole default set: too slow for a property test
    for option in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=3)):
        argv.append(option)
        if option not in FLAGS:
            argv.append(draw(st.sampled_from(NUMBERS.get(option, OTHER_VALUES))))
    return argv


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=command_lines())
def test_random_command_lines_never_produce_a_traceback(argv):
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "100"})
    shown = shlex.join(argv)[:300]
    assert "Traceback" not in result.output, shown
    assert result.exit_code in (0, 2), f"{shown} -> {result.exit_code}: {result.output}"
    if result.exit_code == 2:
        assert result.output.strip().startswith("error:") or "Usage" in result.output, shown
    assert result.exception is None or isinstance(result.exception, SystemExit) or isinstance(result.exception, ArchscopeError), shown
    assert HOSTILE_NET.read_text().startswith("import torch.nn"), "the model's own file was written"
