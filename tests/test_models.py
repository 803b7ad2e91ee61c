"""Users' own models: files, modules, factory arguments, optional torchvision/timm, and clear errors."""

import importlib.util
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import archscope
from archscope.cli import app
from archscope.errors import ArchscopeError
from archscope.models import parse_kwargs, resolve_model

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "custom_model.py")


def run(*args):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "160"})


def test_a_class_in_a_file_with_its_default_input():
    s = archscope.summarize(f"{EXAMPLE}:TinyResNet")
    assert s.input_shape == [1, 3, 32, 32] and s.output_shape == [1, 10]
    model = resolve_model(f"{EXAMPLE}:TinyResNet").build()
    assert s.totals.params == sum(p.numel() for p in model.parameters())


def test_factory_arguments_are_python_literals():
    assert parse_kwargs(["width=32", "name=wide", "sizes=(1, 2)", "flag=True"]) == {
        "width": 32, "name": "wide", "sizes": (1, 2), "flag": True,
    }  # fmt: skip
    s = archscope.summarize(f"{EXAMPLE}:TinyResNet", "3x64x64", model_kwargs={"width": 32})
    assert s.layers[0].output_shape == [1, 32, 64, 64]


def test_a_function_in_an_importable_module(tmp_path, monkeypatch):
    (tmp_path / "mynets.py").write_text(
        "import torch.nn as nn\n"
        "def build(channels=4):\n"
        "    return nn.Sequential(nn.Conv2d(3, channels, 3), nn.ReLU())\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    s = archscope.summarize("mynets:build", "3x8x8", model_kwargs={"channels": 5})
    assert s.output_shape == [1, 5, 6, 6]


@pytest.mark.parametrize(
    "source, spec_suffix, message",
    [
        ("raise ValueError('no GPU found, giving up')\n", ":Net", "raised on import: ValueError: no GPU found, giving up (broken.py, line 1)"),
        ("import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        raise RuntimeError('width must be even')\n",
         ":Net", "raised while building the model: RuntimeError: width must be even (broken.py, line 4)"),
        ("def Net():\n    return 42\n", ":Net", "returned int, not a torch.nn.Module"),
        ("x = 1\n", ":Missing", "has no attribute 'Missing'"),
        ("def build():\n    pass\n", ":buld", "has no attribute 'buld' (did you mean 'build'?); it has: build"),
        ("x = 1\n", ":", "name the class or function after the colon"),
    ],
)
def test_broken_user_code_is_one_line_naming_the_cause_and_place(tmp_path, source, spec_suffix, message):
    path = tmp_path / "broken.py"
    path.write_text(source)
    result = run("summary", f"{path}{spec_suffix}", "-i", "3x8x8")
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_missing_file_or_module():
    assert "no such file: nowhere/net.py" in run("summary", "nowhere/net.py:Net").output
    assert "no module named 'no_such_package_xyz.models'" in run("summary", "no_such_package_xyz.models:Net").output


def test_a_model_without_a_default_input_asks_for_one(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text("import torch.nn as nn\nclass Net(nn.Sequential):\n    def __init__(self):\n        super().__init__(nn.Conv2d(3, 4, 3))\n")
    result = run("summary", f"{path}:Net")
    assert result.exit_code == 2 and "no default input size" in result.output
    assert run("summary", f"{path}:Net", "-i", "3x16x16").exit_code == 0


def test_debug_shows_the_full_traceback(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("raise ValueError('boom')\n")
    result = run("--debug", "summary", f"{path}:Net")
    assert result.exit_code != 0 and isinstance(result.exception, ArchscopeError)


def test_every_command_takes_a_user_model(tmp_path):
    spec = f"{EXAMPLE}:TinyResNet"
    assert run("summary", spec, "--arg", "width=8").exit_code == 0
    assert run("rf", spec, "--verify").exit_code == 0
    data = json.loads(run("compare", "cifar-resnet20", spec, "-f", "json").output)
    assert data["models"][1]["model"] == spec
    bench = json.loads(run("bench", spec, "--min-time", "0.05", "--warmup", "1", "-f", "json").output)
    assert bench["results"][0]["error"] is None
    assert run("report", spec, "-o", str(tmp_path / "r.html")).exit_code == 0


def test_a_module_instance_in_a_file_is_used_as_is(tmp_path):
    path = tmp_path / "instance.py"
    path.write_text("import torch.nn as nn\nnet = nn.Sequential(nn.Conv2d(3, 2, 1))\nINPUT_SIZE = (3, 4, 4)\n")
    assert archscope.summarize(f"{path}:net").output_shape == [1, 2, 4, 4]


def torchvision_works():
    try:
        import torchvision  # noqa: F401

        return True
    except Exception:  # noqa: BLE001 - absent, or present but not importable beside this torch
        return False


@pytest.mark.skipif(not torchvision_works(), reason="torchvision is not installed (or not importable here)")
def test_torchvision_models_are_counted_as_torchvision_publishes():
    s = archscope.summarize("torchvision:resnet50")
    assert s.totals.params == 25_557_032 and round(s.totals.macs / 1e9, 2) == 4.09


@pytest.mark.skipif(importlib.util.find_spec("timm") is None, reason="timm is not installed")
def test_timm_models_take_their_pretrained_input_size():
    s = archscope.summarize("timm:resnet18")
    assert s.input_shape[1:] == [3, 224, 224]


@pytest.mark.skipif(torchvision_works(), reason="torchvision is importable here")
def test_without_torchvision_the_message_says_how_to_get_it():
    result = run("summary", "torchvision:resnet50")
    assert result.exit_code == 2 and "pip install 'archscope[zoo]'" in result.output


def test_the_example_file_runs_as_a_script():
    import runpy

    runpy.run_path(EXAMPLE, run_name="__main__")


TWO_INPUTS = '''
import torch.nn as nn

class Net(nn.Module):
    """An image and a vector of side information; returns a dict."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.side = nn.Linear(16, 8)
        self.head = nn.Linear(8, 4)

    def forward(self, image, extra):
        features = self.conv(image).mean((2, 3)) + self.side(extra)
        return {"logits": self.head(features), "features": features}
'''


def test_a_model_with_two_inputs_and_a_dict_output(tmp_path):
    path = tmp_path / "two.py"
    path.write_text(TWO_INPUTS)
    s = archscope.summarize(f"{path}:Net", "3x32x32+16", batch_size=2)
    assert s.input_shape == [[2, 3, 32, 32], [2, 16]]
    assert s.output_shape == {"logits": [2, 4], "features": [2, 8]}
    assert s.totals.macs == 2 * (32 * 32 * 8 * 27 + 16 * 8 + 8 * 4)
    assert [x.receptive_field and x.receptive_field.to_dict() for x in s.layers] == [
        {"size": [3, 3], "stride": [1, 1], "padding": [1, 1]}, None, {"whole_input": True}
    ]
    bench = json.loads(run("bench", f"{path}:Net", "-i", "3x32x32+16", "--min-time", "0.05", "-f", "json").output)
    assert bench["results"][0]["input_shape"] == [[1, 3, 32, 32], [1, 16]] and bench["results"][0]["error"] is None
    result = run("rf", f"{path}:Net", "-i", "3x32x32+16", "--verify")
    assert result.exit_code == 2 and "single input" in result.output
    assert "malformed input size" in run("summary", f"{path}:Net", "-i", "3x32x32+").output


@pytest.mark.parametrize(
    "declared, message",
    [
        ("'3x32x32'", "INPUT_SIZE in .*net.py must be a tuple of whole numbers, e.g. (3, 224, 224), without the batch; it is '3x32x32' (str)"),
        ("32", "must be a tuple of whole numbers.*it is 32 (int)"),
        ("(3, -8, 8)", "has a dimension of -8; every dimension must be at least 1"),
        ("object()", "it is <object object at"),
        ("(3, 8.9, 8.9)", "must hold whole numbers.*8.9 is a float"),
        ("(3, True, 8)", "True is a bool"),
        ("()", "is empty"),
        ("(10**9, 10**9)", "more than 1,099,511,627,776 elements"),
    ],
)
def test_an_input_size_declared_in_the_file_is_checked_not_coerced(tmp_path, declared, message):
    path = tmp_path / "net.py"
    path.write_text(f"import torch.nn as nn\nINPUT_SIZE = {declared}\ndef build():\n    return nn.Conv2d(3, 4, 3)\n")
    result = run("summary", f"{path}:build")
    assert result.exit_code == 2, result.output
    assert re.search(message.replace("(", r"\(").replace(")", r"\)").replace("*", "*"), result.output), result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_factorys_own_input_size_is_checked_too(tmp_path):
    path = tmp_path / "net.py"
    path.write_text("import torch.nn as nn\ndef build():\n    return nn.Conv2d(3, 4, 3)\nbuild.input_size = [3, 8, 8]\n")
    assert archscope.summarize(f"{path}:build").input_shape == [1, 3, 8, 8]
    path.write_text("import torch.nn as nn\ndef build():\n    return nn.Conv2d(3, 4, 3)\nbuild.input_size = (3, 7.5, 8)\n")
    assert "build.input_size must hold whole numbers" in run("summary", f"{path}:build").output


DEEP = """
import torch.nn as nn
INPUT_SIZE = (4,)
def build():
    model = nn.Linear(4, 4)
    for _ in range(3000):
        model = nn.Sequential(model)
    return model
"""


@pytest.mark.parametrize("command", [["summary"], ["rf"], ["profile", "--min-time", "0.01"], ["bench", "--min-time", "0.01", "--warmup", "1"]])
def test_a_model_three_thousand_modules_deep_is_one_line(tmp_path, command):
    path = tmp_path / "deep.py"
    path.write_text(DEEP)
    result = run(command[0], f"{path}:build", *command[1:])
    assert result.exit_code == 2, result.output
    assert "is nested too deeply" in result.output and "recursion limit" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("size", ["9" * 5000, "3x" + "9" * 5000 + "x9", "=" + "9" * 5000])
def test_an_input_size_of_thousands_of_digits_is_one_line(size):
    result = run("summary", "lenet5", "-i", size)
    assert result.exit_code == 2 and "has a dimension of 5,000 digits" in result.output
    assert len(result.output.strip().splitlines()) == 1 and len(result.output) < 300


AUDIO = """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 8, kernel_size=10, stride=5)

    def forward(self, samples):  # (B, L): raw audio
        return self.conv(samples.unsqueeze(1))
"""


def test_the_exact_input_form_from_the_command_line(tmp_path):
    path = tmp_path / "audio.py"
    path.write_text(AUDIO)
    data = json.loads(run("summary", f"{path}:Encoder", "-i", "=16000", "-f", "json").output)
    assert data["input_shape"] == [1, 16000] and data["output_shape"] == [1, 8, 3199]
    guessed = run("summary", f"{path}:Encoder", "-i", "16000")
    assert guessed.exit_code == 2 and "give the size exactly as written: -i =16000" in guessed.output
    assert len(guessed.output.strip().splitlines()) == 1


NESTED = """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4 + 4, 2)

    def forward(self, batch):
        x = self.conv(batch["image"]).mean((2, 3))
        meta, weights = batch["meta"]
        return self.head(torch.cat([x, meta * weights], 1))

def example_inputs():
    return ({"image": torch.randn(2, 3, 16, 16), "meta": [torch.randn(2, 4), torch.randn(2, 4)]},)
"""


def test_a_files_example_inputs_feed_a_nested_forward(tmp_path):
    path = tmp_path / "nested.py"
    path.write_text(NESTED)
    data = json.loads(run("summary", f"{path}:Net", "-f", "json").output)
    assert data["input_shape"] == [[2, 3, 16, 16], [2, 4], [2, 4]]
    assert data["totals"]["macs"] == 2 * 4 * 14 * 14 * 27 + 2 * 8 * 2  # conv and head, by hand
    assert run("rf", f"{path}:Net").exit_code == 0
    refused = run("summary", f"{path}:Net", "-b", "4")
    assert refused.exit_code == 2 and "example_inputs() include their batch" in refused.output
    path.write_text(NESTED.replace("return ({", "raise KeyError('no data')\n    return ({"))
    broken = run("summary", f"{path}:Net")
    assert broken.exit_code == 2 and "example_inputs() in" in broken.output and "KeyError" in broken.output


def test_named_inputs_from_the_command_line(tmp_path):
    path = tmp_path / "two.py"
    path.write_text(TWO_INPUTS)
    data = json.loads(run("summary", f"{path}:Net", "-i", "extra=16,image=3x32x32", "-f", "json").output)
    assert data["input_shape"] == [[1, 16], [1, 3, 32, 32]]  # in the order given, passed by name
    assert data["output_shape"] == {"logits": [1, 4], "features": [1, 8]}
    bench = run("bench", f"{path}:Net", "-i", "image=3x32x32+extra=16", "--min-time", "0.01")
    assert bench.exit_code == 2 and "this command passes its inputs in order" in bench.output


@pytest.mark.parametrize(
    "spec, arg",
    [
        ("torchvision:resnet18", "weights='IMAGENET1K_V1'"),
        ("torchvision:resnet18", "weights='DEFAULT'"),
        ("torchvision:fasterrcnn_mobilenet_v3_large_320_fpn", "weights_backbone='IMAGENET1K_V1'"),
        ("timm:resnet18", "pretrained=True"),
        ("timm:resnet18", "checkpoint_path='planted.pth'"),
        ("timm:resnet18", "pretrained_cfg_overlay=dict(file='planted.pth')"),
        ("transformers:DetrModel", "use_pretrained_backbone=True"),
        ("hf:some/model", "trust_remote_code=True"),
    ],
)
def test_an_argument_that_would_load_weights_is_refused_before_anything_is_read(tmp_path, monkeypatch, spec, arg):
    library = spec.partition(":")[0]
    if library in ("torchvision", "timm") and importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed")
    if library in ("transformers", "hf") and importlib.util.find_spec("transformers") is None:
        pytest.skip("transformers is not installed")
    import torch

    (tmp_path / "planted.pth").write_bytes(b"not a checkpoint")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def never(*args, **kwargs):
        raise AssertionError("torch.load was called")

    monkeypatch.setattr(torch, "load", never)
    result = run("summary", spec, "--arg", arg)
    assert result.exit_code == 2, result.output
    key = arg.partition("=")[0]
    assert f"--arg {key}=" in result.output and "never loads a checkpoint" in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.skipif(not torchvision_works(), reason="torchvision is not installed (or not importable here)")
def test_arguments_that_load_nothing_still_work():
    assert archscope.summarize("torchvision:resnet18", model_kwargs={"weights": None, "num_classes": 10}).output_shape == [1, 10]
